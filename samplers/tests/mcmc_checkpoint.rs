//! Checkpoint/resume: a run killed part-way and resumed from its checkpoint gives the same
//! chain, bit for bit, as an uninterrupted run.

use spinflip_samplers::mcmc::{CheckpointSettings, EnsembleSampler, EnsembleSettings, Stop};
use spinflip_samplers::{LikelihoodError, LogLikelihood, ParameterSet, Prior, SamplerError};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A correlated 3-D Gaussian that can "crash" (fatal error) after a number of calls,
/// standing in for a killed process.
struct Crashy {
    calls: AtomicUsize,
    crash_after: usize,
}

impl LogLikelihood for Crashy {
    fn n_params(&self) -> usize {
        3
    }
    fn log_likelihood(&self, t: &[f64]) -> Result<f64, LikelihoodError> {
        if self.calls.fetch_add(1, Ordering::Relaxed) >= self.crash_after {
            return Err(LikelihoodError::Fatal("killed".into()));
        }
        let (a, b) = (t[0] + t[1], t[1] - t[2]);
        Ok(-0.5 * (a * a / 0.1 + b * b + t[2] * t[2]))
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mcmc_checkpoint");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    let _ = std::fs::remove_file(&p);
    p
}

fn settings(path: PathBuf) -> EnsembleSettings {
    EnsembleSettings {
        n_walkers: 10,
        // The adaptive rule makes the resumed run depend on the saved tau history too.
        stop: Stop::AutoCorr {
            max_steps: 600,
            check_every: 40,
            n_tau: 50.0,
            tau_rtol: 0.01,
        },
        seed: 99,
        progress: false,
        checkpoint: Some(CheckpointSettings {
            path,
            every: 50,
            resume: true,
        }),
        ..Default::default()
    }
}

#[test]
fn killed_and_resumed_run_equals_uninterrupted_run() {
    let params = ParameterSet::iid(3, Prior::uniform(-10.0, 10.0).unwrap()).unwrap();
    let never = Crashy {
        calls: AtomicUsize::new(0),
        crash_after: usize::MAX,
    };
    let whole = EnsembleSampler::new(&params, &never, settings(scratch("whole.ckpt")))
        .unwrap()
        .run()
        .unwrap();

    let path = scratch("killed.ckpt");
    // ~ step 230 of 10 walkers: the last checkpoint was written at step 200.
    let crashy = Crashy {
        calls: AtomicUsize::new(0),
        crash_after: 2300,
    };
    let e = EnsembleSampler::new(&params, &crashy, settings(path.clone()))
        .unwrap()
        .run()
        .err()
        .unwrap();
    assert!(matches!(e, SamplerError::Likelihood(_)));
    assert!(path.exists());

    let fresh = Crashy {
        calls: AtomicUsize::new(0),
        crash_after: usize::MAX,
    };
    let resumed = EnsembleSampler::new(&params, &fresh, settings(path.clone()))
        .unwrap()
        .run()
        .unwrap();
    // The resumed session only evaluated the steps after the checkpoint.
    assert!(fresh.calls.load(Ordering::Relaxed) < never.calls.load(Ordering::Relaxed));
    assert_eq!(resumed.n_steps, whole.n_steps);
    assert_eq!(resumed.chain, whole.chain);
    assert_eq!(resumed.log_prob, whole.log_prob);
    assert_eq!(resumed.log_likelihood, whole.log_likelihood);
    assert_eq!(resumed.acceptance_fraction, whole.acceptance_fraction);
    assert_eq!(resumed.n_calls, whole.n_calls);
    assert_eq!(resumed.tau, whole.tau);
    assert_eq!(resumed.converged, whole.converged);

    // Resuming a finished run returns the same result without new likelihood calls.
    let idle = Crashy {
        calls: AtomicUsize::new(0),
        crash_after: 0,
    };
    let again = EnsembleSampler::new(&params, &idle, settings(path.clone()))
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(again.chain, whole.chain);
}

#[test]
fn checkpoint_from_other_settings_is_refused() {
    let params = ParameterSet::iid(3, Prior::uniform(-10.0, 10.0).unwrap()).unwrap();
    let l = Crashy {
        calls: AtomicUsize::new(0),
        crash_after: usize::MAX,
    };
    let path = scratch("other.ckpt");
    let mut s = settings(path.clone());
    s.stop = Stop::Steps(60);
    EnsembleSampler::new(&params, &l, s.clone())
        .unwrap()
        .run()
        .unwrap();
    s.seed = 100;
    let e = EnsembleSampler::new(&params, &l, s.clone())
        .unwrap()
        .run()
        .err()
        .unwrap();
    assert!(matches!(e, SamplerError::Checkpoint { .. }), "{e}");
    // A damaged file is refused too.
    std::fs::write(&path, b"SFMCMC01garbage").unwrap();
    s.seed = 99;
    let e = EnsembleSampler::new(&params, &l, s)
        .unwrap()
        .run()
        .err()
        .unwrap();
    assert!(matches!(e, SamplerError::Checkpoint { .. }), "{e}");
}
