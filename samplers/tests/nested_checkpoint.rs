//! Checkpoint and resume: a run stopped midway and resumed ends bit-identical to an
//! uninterrupted run with the same seed and settings.

mod nested_problems;
use nested_problems as common;

use spinflip_samplers::driver::SamplerState;
use spinflip_samplers::nested::settings::{restart_taper, RESTART_TAPER};
use spinflip_samplers::nested::state::State;
use spinflip_samplers::nested::{
    CheckpointSettings, Method, NestedResult, NestedSampler, NestedSettings,
};
use spinflip_samplers::{FnLikelihood, ParameterSet, Prior};
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
    resume_after_iteration_limit_with(method, name, |s| s);
}

fn resume_after_iteration_limit_with(
    method: Method,
    name: &str,
    tweak: impl Fn(NestedSettings) -> NestedSettings,
) {
    let (p, l, _) = common::gaussian(3);
    resume_on(&p, &l, method, name, tweak, 333);
}

fn resume_on<L: LogLikelihood>(
    p: &spinflip_samplers::ParameterSet,
    l: &L,
    method: Method,
    name: &str,
    tweak: impl Fn(NestedSettings) -> NestedSettings,
    stop_at: usize,
) -> NestedResult {
    let settings = |m: Method, path: &Path| tweak(settings(m, path));
    let path = tmp(name);
    let full = NestedSampler::new(p, l, settings(method, &path))
        .unwrap()
        .run()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    let stopped = NestedSampler::new(
        p,
        l,
        NestedSettings {
            max_iterations: Some(stop_at),
            ..settings(method, &path)
        },
    )
    .unwrap()
    .run()
    .unwrap();
    assert!(!stopped.converged);
    assert_eq!(stopped.n_iterations, stop_at);
    let resumed = NestedSampler::new(p, l, settings(method, &path))
        .unwrap()
        .resume()
        .unwrap();
    assert!(resumed.converged);
    assert_identical(&full, &resumed);
    full
}

/// The state a run with `settings(path)` checkpoints when stopped at iteration `stop_at`,
/// read back from the file (what a resumed run starts from).
fn state_at<L: LogLikelihood>(
    p: &spinflip_samplers::ParameterSet,
    l: &L,
    name: &str,
    stop_at: usize,
    settings: impl Fn(&Path) -> NestedSettings,
) -> State {
    let probe = tmp(name);
    let _ = std::fs::remove_file(&probe);
    NestedSampler::new(
        p,
        l,
        NestedSettings {
            max_iterations: Some(stop_at),
            ..settings(&probe)
        },
    )
    .unwrap()
    .run()
    .unwrap();
    let (_, bytes) = spinflip_samplers::driver::checkpoint::read(&probe).unwrap();
    <State as SamplerState>::decode(&bytes).unwrap()
}

#[test]
fn resume_after_a_restart_for_separated_modes() {
    // Two shells separate early: the run starts again with 8 x 60 live points tapering over
    // 12 e-folds, and iteration 333 of the second attempt falls in its taper.
    let (p, l, _) = common::shells();
    let full = resume_on(&p, &l, Method::Rejection, "restart.json", |s| s, 333);
    let r = full.restart.expect("the shells restart");
    assert!(r.n_calls > 0 && r.n_calls < full.n_calls);
    assert_eq!(full.settings.n_live_start(), 480);
    // The shells' ln Z converges before the 12 e-folds end: mid-taper live points remain.
    assert!((60..=480).contains(&full.live.len()));
}

#[test]
fn resume_after_a_late_restart_keeps_its_longer_taper() {
    // Two Gaussians (sd 0.1) one unit apart in U[-10, 10]^2: their contours part only once
    // each is smaller than a disc of radius 0.5 (ln X ~ ln(2 pi 0.25 / 400) = -5.5), so the
    // restart tapers over 3 x those e-folds, not 12; a resumed run (stopped in that taper)
    // must work out the same taper from the state.
    let p = ParameterSet::iid(2, Prior::uniform(-10.0, 10.0).unwrap()).unwrap();
    let l = FnLikelihood::new(2, |t: &[f64]| {
        let g = |c: f64| -0.5 * ((t[0] - c).powi(2) + t[1] * t[1]) / 0.01;
        let (a, b) = (g(-0.5), g(0.5));
        a.max(b) + (-(a - b).abs()).exp().ln_1p()
    });
    let full = resume_on(&p, &l, Method::Rejection, "late.json", |s| s, 1500);
    let r = full.restart.expect("the two modes restart");
    eprintln!(
        "separated at ln X {:.2}, taper {:.2}",
        r.log_x, full.settings.taper
    );
    assert!(r.log_x < -4.5, "{}", r.log_x);
    assert_eq!(full.settings.taper, restart_taper(r.log_x));
    assert!(full.settings.taper > RESTART_TAPER);
    // The cut fell after the restart, with the taper's extra live points still there.
    let cut = state_at(&p, &l, "late_probe.json", 1500, |path| {
        settings(Method::Rejection, path)
    });
    assert!(
        cut.restart.is_some() && cut.live.len() > 60,
        "{}",
        cut.live.len()
    );
}

#[test]
fn resume_after_iteration_limit_rejection() {
    resume_after_iteration_limit(Method::Rejection, "rej.json");
}

#[test]
fn resume_in_the_middle_of_a_taper() {
    // 240 live points tapering to 60 over 3 e-folds: iteration 333 falls in the taper, with
    // a live-point count between the two.
    let taper = |s| NestedSettings {
        n_live_start: Some(240),
        taper: 3.0,
        ..s
    };
    resume_after_iteration_limit_with(Method::Rejection, "taper.json", taper);
}

#[test]
fn resume_after_iteration_limit_slice() {
    resume_after_iteration_limit(Method::Slice, "slice.json");
}

#[test]
fn resume_slice_chains_in_lockstep_with_their_points_queued() {
    // Four chains per batch: the first end replaces the dead point, three wait in the
    // queue. Cut where the queue holds some (checked on the checkpoint), the resumed run
    // uses them as the uninterrupted one did.
    let chains = |s| NestedSettings {
        slice_chains: 4,
        ..s
    };
    let (p, l, _) = common::gaussian(3);
    let stop_at = 333;
    let cut = state_at(&p, &l, "chains_probe.json", stop_at, |path| {
        chains(settings(Method::Slice, path))
    });
    assert!(!cut.queue.is_empty(), "nothing queued at the cut");
    let full = resume_on(&p, &l, Method::Slice, "chains.json", chains, stop_at);
    assert!(full.n_sliced >= full.n_iterations && full.n_sliced % 4 == 0);
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
    fn preferred_batch(&self) -> usize {
        self.inner.preferred_batch()
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
    // A slice run's checkpoint names the move: one with stepping out is not resumed by a
    // run without it.
    let slice_path = tmp("mismatch_slice.json");
    let (p12, l12, _) = common::gaussian(12);
    NestedSampler::new(
        &p12,
        &l12,
        NestedSettings {
            max_iterations: Some(10),
            step_out: true,
            ..settings(Method::Slice, &slice_path)
        },
    )
    .unwrap()
    .run()
    .unwrap();
    let e = NestedSampler::new(&p12, &l12, settings(Method::Slice, &slice_path))
        .unwrap()
        .resume()
        .unwrap_err();
    assert!(e.to_string().contains("step_out"), "{e}");
    // Nor by one running another number of slice chains in lockstep.
    let e = NestedSampler::new(
        &p12,
        &l12,
        NestedSettings {
            step_out: true,
            slice_chains: 4,
            ..settings(Method::Slice, &slice_path)
        },
    )
    .unwrap()
    .resume()
    .unwrap_err();
    assert!(e.to_string().contains("slice_chains"), "{e}");
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

#[test]
fn resume_with_a_preferred_batch_is_bit_identical() {
    // Batches rounded up to the likelihood's preferred 16 depend on the run state and on the
    // likelihood alone, so a stopped and resumed run matches an uninterrupted one, and so
    // does one resumed after a crash.
    let (p, l, _) = common::gaussian(3);
    let lanes = common::Lanes::new(&l, 16);
    let path = tmp("lanes.json");
    let s = NestedSettings {
        batch_size: 64,
        ..settings(Method::Rejection, &path)
    };
    let full = NestedSampler::new(&p, &lanes, s.clone())
        .unwrap()
        .run()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    let stopped = NestedSampler::new(
        &p,
        &lanes,
        NestedSettings {
            max_iterations: Some(333),
            ..s.clone()
        },
    )
    .unwrap()
    .run()
    .unwrap();
    assert!(!stopped.converged);
    // The stop falls where batches have left candidates queued for later points, so the
    // queue goes through the checkpoint.
    let (_, bytes) = spinflip_samplers::driver::checkpoint::read(&path).unwrap();
    let state = <State as SamplerState>::decode(&bytes).unwrap();
    assert!(!state.queue.is_empty(), "nothing queued at the stop");
    let resumed = NestedSampler::new(&p, &lanes, s.clone())
        .unwrap()
        .resume()
        .unwrap();
    assert_identical(&full, &resumed);

    let _ = std::fs::remove_file(&path);
    let crashing = Crashing {
        inner: &lanes,
        calls_left: Cell::new(full.n_calls / 2),
    };
    assert!(NestedSampler::new(&p, &crashing, s.clone())
        .unwrap()
        .run()
        .is_err());
    let resumed = NestedSampler::new(&p, &lanes, s.clone())
        .unwrap()
        .resume()
        .unwrap();
    assert_identical(&full, &resumed);

    // A likelihood with another preferred batch would batch differently: refused.
    let e = NestedSampler::new(&p, &l, s).unwrap().resume().unwrap_err();
    assert!(e.to_string().contains("preferred_batch"), "{e}");
}

#[test]
fn a_checkpoint_of_another_sampler_or_format_is_refused_by_name() {
    use spinflip_samplers::mcmc::{self, EnsembleSampler, EnsembleSettings, Stop};
    let (p, l, _) = common::gaussian(2);
    let path = tmp("ensemble.ckpt");
    EnsembleSampler::new(
        &p,
        &l,
        EnsembleSettings {
            n_walkers: 8,
            stop: Stop::Steps(20),
            checkpoint: Some(mcmc::CheckpointSettings {
                path: path.clone(),
                every: 10,
                resume: false,
            }),
            ..Default::default()
        },
    )
    .unwrap()
    .run()
    .unwrap();
    let e = NestedSampler::new(&p, &l, settings(Method::Rejection, &path))
        .unwrap()
        .resume()
        .unwrap_err();
    assert!(e.to_string().contains("ensemble sampler"), "{e}");
    // A checkpoint of the format before the common one (a bare JSON state).
    std::fs::write(&path, br#"{"version": 1, "fingerprint": {}, "state": {}}"#).unwrap();
    let e = NestedSampler::new(&p, &l, settings(Method::Rejection, &path))
        .unwrap()
        .resume()
        .unwrap_err();
    assert!(e.to_string().contains("older version"), "{e}");
}

#[test]
fn resume_an_automatic_run_after_it_turned_to_slice_sampling() {
    // A 10-D Laplace product (cross-polytope contours): Method::Auto rejects at first and
    // slice samples once the ellipsoids bound the contours badly. Cut after the switch, the
    // resumed run ends bit-identical (the move in force, the slice calls' running mean and
    // the cost estimate's own generator all resume).
    let d = 10;
    let like = spinflip_samplers::FnLikelihood::new(d, |x: &[f64]| {
        -x.iter().map(|v| v.abs()).sum::<f64>()
    });
    let p = spinflip_samplers::ParameterSet::iid(
        d,
        spinflip_samplers::Prior::uniform(-10.0, 10.0).unwrap(),
    )
    .unwrap();
    // Mid-way between two refits (every 6 iterations) and inside a slicing stretch, so the
    // move in force must come from the file: checked on the checkpoint itself.
    let stop_at = 949;
    let cut = state_at(&p, &like, "auto_probe.json", stop_at, |path| {
        settings(Method::Auto, path)
    });
    assert!(cut.slicing && cut.n_sliced > 0 && cut.calls_per_slice_point > 0.0);
    assert_ne!(cut.iteration % 6, 0);
    let full = resume_on(&p, &like, Method::Auto, "auto.json", |s| s, stop_at);
    assert!(
        full.n_sliced > 0 && full.n_sliced < full.n_iterations,
        "{} of {} sliced",
        full.n_sliced,
        full.n_iterations
    );
}
