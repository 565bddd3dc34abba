//! Checkpoint and resume: a run stopped midway and resumed ends bit-identical to an
//! uninterrupted run with the same seed and settings.

mod nested_problems;
use nested_problems as common;

use spinflip_samplers::nested::{
    CheckpointSettings, Method, NestedResult, NestedSampler, NestedSettings,
};
use spinflip_samplers::{LikelihoodError, LogLikelihood, SamplerError};
use std::cell::Cell;
use std::path::{Path, PathBuf};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spinflip-ckpt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn settings(method: Method, path: &Path) -> NestedSettings {
    NestedSettings {
        n_live: 60,
        method,
        seed: 11,
        checkpoint: Some(CheckpointSettings {
            path: path.to_path_buf(),
            every: 50,
        }),
        ..Default::default()
    }
}

fn assert_identical(a: &NestedResult, b: &NestedResult) {
    assert_eq!(a.log_evidence.to_bits(), b.log_evidence.to_bits());
    assert_eq!(a.log_evidence_err.to_bits(), b.log_evidence_err.to_bits());
    assert_eq!(a.n_calls, b.n_calls);
    assert_eq!(a.n_iterations, b.n_iterations);
    assert_eq!(a.dead, b.dead);
    assert_eq!(a.live, b.live);
}

fn resume_after_iteration_limit(method: Method, name: &str) {
    let (p, l, _) = common::gaussian(3);
    let path = tmp(name);
    let full = NestedSampler::new(&p, &l, settings(method, &path))
        .unwrap()
        .run()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    let stopped = NestedSampler::new(
        &p,
        &l,
        NestedSettings {
            max_iterations: Some(333),
            ..settings(method, &path)
        },
    )
    .unwrap()
    .run()
    .unwrap();
    assert!(!stopped.converged);
    assert_eq!(stopped.n_iterations, 333);
    let resumed = NestedSampler::new(&p, &l, settings(method, &path))
        .unwrap()
        .resume()
        .unwrap();
    assert!(resumed.converged);
    assert_identical(&full, &resumed);
}

#[test]
fn resume_after_iteration_limit_rejection() {
    resume_after_iteration_limit(Method::Rejection, "rej.json");
}

#[test]
fn resume_after_iteration_limit_slice() {
    resume_after_iteration_limit(Method::Slice, "slice.json");
}

/// A likelihood that fails fatally after a number of calls, like a crashed simulator.
struct Crashing<L> {
    inner: L,
    calls_left: Cell<u64>,
}

impl<L: LogLikelihood> LogLikelihood for Crashing<L> {
    fn n_params(&self) -> usize {
        self.inner.n_params()
    }
    fn log_likelihood(&self, theta: &[f64]) -> Result<f64, LikelihoodError> {
        if self.calls_left.get() == 0 {
            return Err(LikelihoodError::Fatal("simulated crash".into()));
        }
        self.calls_left.set(self.calls_left.get() - 1);
        self.inner.log_likelihood(theta)
    }
}

#[test]
fn resume_after_a_fatal_error_midway() {
    let (p, l, _) = common::gaussian(2);
    let path = tmp("crash.json");
    let full = NestedSampler::new(&p, &l, settings(Method::Rejection, &path))
        .unwrap()
        .run()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    let crashing = Crashing {
        inner: &l,
        calls_left: Cell::new(full.n_calls / 2),
    };
    let err = NestedSampler::new(&p, &crashing, settings(Method::Rejection, &path))
        .unwrap()
        .run()
        .unwrap_err();
    assert!(matches!(
        err,
        SamplerError::Likelihood(LikelihoodError::Fatal(_))
    ));
    assert!(
        path.exists(),
        "periodic checkpoint written before the crash"
    );
    let resumed = NestedSampler::new(&p, &l, settings(Method::Rejection, &path))
        .unwrap()
        .resume()
        .unwrap();
    assert_identical(&full, &resumed);
}

#[test]
fn mismatched_checkpoint_is_refused_with_a_reason() {
    let (p, l, _) = common::gaussian(2);
    let path = tmp("mismatch.json");
    NestedSampler::new(
        &p,
        &l,
        NestedSettings {
            max_iterations: Some(10),
            ..settings(Method::Rejection, &path)
        },
    )
    .unwrap()
    .run()
    .unwrap();
    let other = NestedSettings {
        n_live: 70,
        ..settings(Method::Rejection, &path)
    };
    let e = NestedSampler::new(&p, &l, other)
        .unwrap()
        .resume()
        .unwrap_err();
    assert!(matches!(e, SamplerError::Checkpoint { .. }));
    assert!(e.to_string().contains("n_live"), "{e}");
    let other_seed = NestedSettings {
        seed: 12,
        ..settings(Method::Rejection, &path)
    };
    let e = NestedSampler::new(&p, &l, other_seed)
        .unwrap()
        .resume()
        .unwrap_err();
    assert!(e.to_string().contains("seed"), "{e}");
    // Another problem (3 parameters) cannot resume it either.
    let (p3, l3, _) = common::gaussian(3);
    let e = NestedSampler::new(&p3, &l3, settings(Method::Rejection, &path))
        .unwrap()
        .resume()
        .unwrap_err();
    assert!(e.to_string().contains("names"), "{e}");
    // Garbage file.
    std::fs::write(&path, b"{not json").unwrap();
    let e = NestedSampler::new(&p, &l, settings(Method::Rejection, &path))
        .unwrap()
        .resume()
        .unwrap_err();
    assert!(matches!(e, SamplerError::Checkpoint { .. }), "{e}");
}
