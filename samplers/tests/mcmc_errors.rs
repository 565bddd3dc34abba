//! Bad input gives clear errors; rejection rules; determinism under a seed.

use spinflip_samplers::mcmc::{EnsembleSampler, EnsembleSettings, Init, Stop};
use spinflip_samplers::{
    FnLikelihood, LikelihoodError, LogLikelihood, ParameterSet, Prior, SamplerError,
};
use std::sync::atomic::{AtomicUsize, Ordering};

fn box2() -> ParameterSet {
    ParameterSet::iid(2, Prior::uniform(-5.0, 5.0).unwrap()).unwrap()
}

fn gauss(t: &[f64]) -> f64 {
    -0.5 * (t[0] * t[0] + t[1] * t[1])
}

fn quick(n_steps: usize, seed: u64) -> EnsembleSettings {
    EnsembleSettings {
        n_walkers: 8,
        stop: Stop::Steps(n_steps),
        seed,
        progress: false,
        ..Default::default()
    }
}

fn setting_of(e: SamplerError) -> String {
    match e {
        SamplerError::InvalidSetting { setting, reason } => {
            assert!(!reason.is_empty());
            setting
        }
        other => panic!("expected InvalidSetting, got {other:?}"),
    }
}

#[test]
fn invalid_settings_name_the_setting() {
    let p = box2();
    let l = FnLikelihood::new(2, gauss);
    let bad = |s: EnsembleSettings| setting_of(EnsembleSampler::new(&p, &l, s).err().unwrap());
    assert_eq!(
        bad(EnsembleSettings {
            n_walkers: 7,
            ..quick(100, 0)
        }),
        "n_walkers"
    );
    assert_eq!(
        bad(EnsembleSettings {
            n_walkers: 2,
            ..quick(100, 0)
        }),
        "n_walkers"
    );
    let p10 = ParameterSet::iid(10, Prior::uniform(0.0, 1.0).unwrap()).unwrap();
    let l10 = FnLikelihood::new(10, |_: &[f64]| 0.0);
    let e = EnsembleSampler::new(
        &p10,
        &l10,
        EnsembleSettings {
            n_walkers: 18,
            ..quick(100, 0)
        },
    );
    let msg = e.err().unwrap().to_string();
    assert!(msg.contains("n_walkers") && msg.contains("20"), "{msg}");
    assert_eq!(
        bad(EnsembleSettings {
            stretch_scale: 1.0,
            ..quick(100, 0)
        }),
        "stretch_scale"
    );
    assert_eq!(
        bad(EnsembleSettings {
            stretch_scale: f64::NAN,
            ..quick(100, 0)
        }),
        "stretch_scale"
    );
    assert_eq!(bad(quick(3, 0)), "stop");
    let auto = |check_every, n_tau, tau_rtol| Stop::AutoCorr {
        max_steps: 1000,
        check_every,
        n_tau,
        tau_rtol,
    };
    assert_eq!(
        bad(EnsembleSettings {
            stop: auto(0, 50.0, 0.01),
            ..quick(100, 0)
        }),
        "stop.check_every"
    );
    assert_eq!(
        bad(EnsembleSettings {
            stop: auto(100, -1.0, 0.01),
            ..quick(100, 0)
        }),
        "stop.n_tau"
    );
    assert_eq!(
        bad(EnsembleSettings {
            stop: auto(100, 50.0, 0.0),
            ..quick(100, 0)
        }),
        "stop.tau_rtol"
    );
    assert_eq!(
        bad(EnsembleSettings {
            burn_in: Some(100),
            ..quick(100, 0)
        }),
        "burn_in"
    );
    assert_eq!(
        bad(EnsembleSettings {
            thin: Some(0),
            ..quick(100, 0)
        }),
        "thin"
    );
    assert_eq!(
        bad(EnsembleSettings {
            tau_window: 0.0,
            ..quick(100, 0)
        }),
        "tau_window"
    );
    let ball = |center: Vec<f64>, scale: Vec<f64>| Init::Ball { center, scale };
    assert_eq!(
        bad(EnsembleSettings {
            init: ball(vec![0.0], vec![1.0]),
            ..quick(100, 0)
        }),
        "init"
    );
    assert_eq!(
        bad(EnsembleSettings {
            init: ball(vec![0.0, 0.0], vec![1.0, 0.0]),
            ..quick(100, 0)
        }),
        "init"
    );
    assert_eq!(
        bad(EnsembleSettings {
            init: Init::Walkers(vec![0.0; 15]),
            ..quick(100, 0)
        }),
        "init"
    );

    // The likelihood must take as many values as the parameter set has.
    let l3 = FnLikelihood::new(3, |_: &[f64]| 0.0);
    assert!(matches!(
        EnsembleSampler::new(&p, &l3, quick(100, 0)).err().unwrap(),
        SamplerError::Dimension {
            expected: 2,
            got: 3,
            ..
        }
    ));
}

#[test]
fn impossible_starts_are_errors() {
    let p = box2();
    let l = FnLikelihood::new(2, gauss);
    let run = |init| {
        let s = EnsembleSettings {
            init,
            max_init_attempts: 20,
            ..quick(100, 0)
        };
        setting_of(
            EnsembleSampler::new(&p, &l, s)
                .unwrap()
                .run()
                .err()
                .unwrap(),
        )
    };
    // A ball far outside the prior.
    assert_eq!(
        run(Init::Ball {
            center: vec![50.0, 50.0],
            scale: vec![0.1, 0.1]
        }),
        "init"
    );
    // All walkers at one point: the stretch move could never leave it.
    assert_eq!(run(Init::Walkers(vec![1.0; 16])), "init");
    // Walkers on a line x1 = 0 are also stuck on it.
    let line: Vec<f64> = (0..8).flat_map(|k| [k as f64 * 0.1, 0.0]).collect();
    assert_eq!(run(Init::Walkers(line)), "init");
    // A likelihood that is zero everywhere.
    let zero = FnLikelihood::new(2, |_: &[f64]| f64::NEG_INFINITY);
    let s = EnsembleSettings {
        max_init_attempts: 5,
        ..quick(100, 0)
    };
    let e = EnsembleSampler::new(&p, &zero, s)
        .unwrap()
        .run()
        .err()
        .unwrap();
    assert_eq!(setting_of(e), "init");
}

#[test]
fn nan_and_plus_infinity_stop_the_run() {
    let p = box2();
    for bad in [f64::NAN, f64::INFINITY] {
        // Finite near the start, bad once a walker reaches x0 > 1.
        let l = FnLikelihood::new(2, move |t: &[f64]| if t[0] > 1.0 { bad } else { gauss(t) });
        let s = EnsembleSettings {
            init: Init::Ball {
                center: vec![0.0, 0.0],
                scale: vec![0.1, 0.1],
            },
            ..quick(1000, 1)
        };
        match EnsembleSampler::new(&p, &l, s).unwrap().run() {
            Err(SamplerError::NonFiniteLikelihood { value, theta }) => {
                assert!(theta[0] > 1.0);
                assert!(value.is_nan() == bad.is_nan());
            }
            other => panic!("expected NonFiniteLikelihood, got {other:?}"),
        }
    }
}

/// Gaussian likelihood that rejects x0 < 0 with a recoverable error (or -inf) and counts
/// calls made outside the prior box [-5, 5]^2.
struct HalfPlane {
    recoverable: bool,
    outside_prior: AtomicUsize,
}

impl LogLikelihood for HalfPlane {
    fn n_params(&self) -> usize {
        2
    }
    fn log_likelihood(&self, t: &[f64]) -> Result<f64, LikelihoodError> {
        if t.iter().any(|x| x.abs() > 5.0) {
            self.outside_prior.fetch_add(1, Ordering::Relaxed);
        }
        if t[0] < 0.0 {
            if self.recoverable {
                return Err(LikelihoodError::Recoverable("x0 < 0".into()));
            }
            return Ok(f64::NEG_INFINITY);
        }
        // A wide Gaussian centred at the prior edge: many proposals land outside the box.
        Ok(-0.5 * ((t[0] - 4.5).powi(2) + (t[1] - 4.5).powi(2)) / 4.0)
    }
}

#[test]
fn rejections_never_enter_the_chain_and_prior_guards_the_likelihood() {
    let p = box2();
    for recoverable in [true, false] {
        let l = HalfPlane {
            recoverable,
            outside_prior: AtomicUsize::new(0),
        };
        let r = EnsembleSampler::new(&p, &l, quick(400, 2))
            .unwrap()
            .run()
            .unwrap();
        assert_eq!(l.outside_prior.load(Ordering::Relaxed), 0);
        assert!(r.chain.chunks(2).all(|x| x[0] >= 0.0 && x[1].abs() <= 5.0));
        assert!(r.log_prob.iter().all(|v| v.is_finite()));
        // Points outside the prior were proposed but not evaluated.
        assert!(r.n_calls < 8 + 400 * 8, "{}", r.n_calls);
        assert!(r.mean_acceptance_fraction() > 0.05);
    }
}

#[test]
fn fatal_likelihood_error_stops_the_run() {
    struct Broken;
    impl LogLikelihood for Broken {
        fn n_params(&self) -> usize {
            2
        }
        fn log_likelihood(&self, _: &[f64]) -> Result<f64, LikelihoodError> {
            Err(LikelihoodError::Fatal("emulator file missing".into()))
        }
    }
    let e = EnsembleSampler::new(&box2(), &Broken, quick(100, 0))
        .unwrap()
        .run()
        .err()
        .unwrap();
    assert!(
        matches!(e, SamplerError::Likelihood(LikelihoodError::Fatal(_))),
        "{e:?}"
    );
}

#[test]
fn same_seed_same_chain_other_seed_other_chain() {
    let p = box2();
    let l = FnLikelihood::new(2, gauss);
    let a = EnsembleSampler::new(&p, &l, quick(200, 7))
        .unwrap()
        .run()
        .unwrap();
    let b = EnsembleSampler::new(&p, &l, quick(200, 7))
        .unwrap()
        .run()
        .unwrap();
    let c = EnsembleSampler::new(&p, &l, quick(200, 8))
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(a.chain, b.chain);
    assert_eq!(a.log_prob, b.log_prob);
    assert_eq!(a.n_calls, b.n_calls);
    assert_ne!(a.chain, c.chain);
    // Fixed number of steps: exactly as asked, every step recorded.
    assert_eq!(a.n_steps, 200);
    assert_eq!(a.chain.len(), 200 * 8 * 2);
}

/// Records the size of every batch it is given.
struct BatchSizes(std::sync::Mutex<Vec<usize>>);

impl LogLikelihood for BatchSizes {
    fn n_params(&self) -> usize {
        2
    }
    fn log_likelihood(&self, t: &[f64]) -> Result<f64, LikelihoodError> {
        Ok(gauss(t))
    }
    fn log_likelihood_batch(&self, points: &[f64], out: &mut [f64]) -> Result<(), LikelihoodError> {
        self.0.lock().unwrap().push(out.len());
        for (t, o) in points.chunks_exact(2).zip(out.iter_mut()) {
            *o = gauss(t);
        }
        Ok(())
    }
}

#[test]
fn each_half_ensemble_is_one_batch() {
    let l = BatchSizes(std::sync::Mutex::new(Vec::new()));
    let s = EnsembleSettings {
        n_walkers: 12,
        ..quick(50, 4)
    };
    let r = EnsembleSampler::new(&box2(), &l, s).unwrap().run().unwrap();
    let sizes = l.0.into_inner().unwrap();
    // One initial batch of all walkers, then two half-ensemble batches per step (fewer
    // points when some proposals fall outside the prior).
    assert_eq!(sizes[0], 12);
    assert_eq!(sizes.len(), 1 + 2 * 50);
    assert!(sizes[1..].iter().all(|&n| (1..=6).contains(&n)));
    assert_eq!(r.n_calls, sizes.iter().sum::<usize>() as u64);
}
