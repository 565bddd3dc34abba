//! Bad input gives clear errors; rejected points and seeds behave as documented.

mod nested_problems;
use nested_problems as common;

use spinflip_samplers::nested::{Method, NestedSampler, NestedSettings};
use spinflip_samplers::{
    FnLikelihood, LikelihoodError, LogLikelihood, Parameter, ParameterSet, Prior, SamplerError,
};

fn quick(seed: u64) -> NestedSettings {
    NestedSettings {
        n_live: 50,
        seed,
        ..Default::default()
    }
}

#[test]
fn nan_and_plus_inf_stop_the_run() {
    let p = ParameterSet::iid(2, Prior::uniform(0.0, 1.0).unwrap()).unwrap();
    for bad in [f64::NAN, f64::INFINITY] {
        let l = FnLikelihood::new(2, move |t: &[f64]| if t[0] > 0.9 { bad } else { -t[1] });
        let e = NestedSampler::new(&p, &l, quick(1))
            .unwrap()
            .run()
            .unwrap_err();
        match e {
            SamplerError::NonFiniteLikelihood { theta, .. } => assert!(theta[0] > 0.9),
            other => panic!("{other}"),
        }
    }
}

#[test]
fn minus_inf_and_recoverable_errors_are_rejected_points() {
    // A narrow Gaussian (sigma 0.1, peak 1) at (0.25, 0.5) inside the half x < 0.5; the other
    // half gives -inf or a recoverable error. Z = 2 pi sigma^2, ln Z = -2.767. About half the
    // initial points sit on the -inf plateau: treating their deaths as ordinary shrinkage
    // (X -> X e^{-1/n} each) overestimates ln Z by ~0.2; the plateau rule gets it right.
    let p = ParameterSet::iid(2, Prior::uniform(0.0, 1.0).unwrap()).unwrap();
    struct Half(bool);
    impl LogLikelihood for Half {
        fn n_params(&self) -> usize {
            2
        }
        fn log_likelihood(&self, t: &[f64]) -> Result<f64, LikelihoodError> {
            if t[0] < 0.5 {
                Ok(-0.5 * ((t[0] - 0.25).powi(2) + (t[1] - 0.5).powi(2)) / 0.01)
            } else if self.0 {
                Err(LikelihoodError::Recoverable(
                    "outside the emulator range".into(),
                ))
            } else {
                Ok(f64::NEG_INFINITY)
            }
        }
    }
    let exact = (2.0 * std::f64::consts::PI * 0.01f64).ln();
    for (recoverable, seed) in [(false, 3), (true, 4)] {
        let s = NestedSettings {
            n_live: 200,
            seed,
            ..Default::default()
        };
        let r = NestedSampler::new(&p, &Half(recoverable), s)
            .unwrap()
            .run()
            .unwrap();
        let dev = (r.log_evidence - exact).abs();
        assert!(
            dev < 3.0 * r.log_evidence_err && dev < 0.3,
            "{} vs {exact}",
            r.log_evidence
        );
        // The k initial points on the plateau die together with k/n of the prior volume.
        let k = r
            .dead
            .log_l
            .iter()
            .filter(|l| **l == f64::NEG_INFINITY)
            .count();
        assert!(k > 70 && k < 130, "{k}");
        let mass: f64 = r.dead.log_dx[..k].iter().map(|x| x.exp()).sum();
        assert!((mass - k as f64 / 200.0).abs() < 1e-12, "{mass}");
        let post = r.posterior();
        assert!((0..post.len()).all(|i| post.weights[i] == 0.0 || post.row(i)[0] < 0.5));
        assert!((post.mean()[0] - 0.25).abs() < 0.02);
    }
}

#[test]
fn invalid_settings_and_dimensions_are_errors() {
    let (p, l, _) = common::gaussian(4);
    let few = NestedSettings {
        n_live: 4,
        ..quick(1)
    };
    let e = NestedSampler::new(&p, &l, few).err().unwrap();
    assert!(matches!(e, SamplerError::InvalidSetting { .. }), "{e}");
    let rej = NestedSettings {
        n_live: 7,
        method: Method::Rejection,
        ..quick(1)
    };
    assert!(NestedSampler::new(&p, &l, rej)
        .err()
        .unwrap()
        .to_string()
        .contains("2 d"));
    let neg = NestedSettings {
        dlogz: -0.1,
        ..quick(1)
    };
    assert!(NestedSampler::new(&p, &l, neg).is_err());
    let no_chains = NestedSettings {
        slice_chains: 0,
        ..quick(1)
    };
    let e = NestedSampler::new(&p, &l, no_chains).err().unwrap();
    assert!(e.to_string().contains("slice_chains"), "{e}");
    // A likelihood over 3 parameters with a 4-parameter set.
    let l3 = FnLikelihood::new(3, |_: &[f64]| 0.0);
    let e = NestedSampler::new(&p, &l3, quick(1)).err().unwrap();
    assert!(matches!(e, SamplerError::Dimension { .. }), "{e}");
    // resume without a checkpoint path
    let e = NestedSampler::new(&p, &l, quick(1))
        .unwrap()
        .resume()
        .unwrap_err();
    assert!(e.to_string().contains("checkpoint"));
}

#[test]
fn same_seed_same_run_other_seed_other_run() {
    let (p, l, _) = common::gaussian(2);
    let a = NestedSampler::new(&p, &l, quick(7)).unwrap().run().unwrap();
    let b = NestedSampler::new(&p, &l, quick(7)).unwrap().run().unwrap();
    let c = NestedSampler::new(&p, &l, quick(8)).unwrap().run().unwrap();
    assert_eq!(a.log_evidence.to_bits(), b.log_evidence.to_bits());
    assert_eq!(a.n_calls, b.n_calls);
    assert_eq!(a.dead, b.dead);
    assert_ne!(a.log_evidence, c.log_evidence);
}

#[test]
fn batches_keep_the_first_accepted_and_count_all_calls() {
    // With batches the run follows another random path but stays correct; every evaluated
    // candidate is counted, the batch adapts to the acceptance rate up to the cap, and the
    // adaptive batches spend few calls more than one-at-a-time sampling.
    use spinflip_samplers::{LikelihoodError, LogLikelihood};
    use std::sync::Mutex;
    struct Recording<L> {
        inner: L,
        sizes: Mutex<Vec<usize>>,
    }
    impl<L: LogLikelihood> LogLikelihood for Recording<L> {
        fn n_params(&self) -> usize {
            self.inner.n_params()
        }
        fn log_likelihood(&self, t: &[f64]) -> Result<f64, LikelihoodError> {
            self.inner.log_likelihood(t)
        }
        fn log_likelihood_batch(
            &self,
            pts: &[f64],
            out: &mut [f64],
        ) -> Result<(), LikelihoodError> {
            self.sizes.lock().unwrap().push(out.len());
            self.inner.log_likelihood_batch(pts, out)
        }
    }
    let (p, l, exact) = common::gaussian(2);
    let rec = Recording {
        inner: l,
        sizes: Mutex::new(Vec::new()),
    };
    let s = NestedSettings {
        n_live: 100,
        batch_size: 16,
        seed: 4,
        ..Default::default()
    };
    let r = NestedSampler::new(&p, &rec, s.clone())
        .unwrap()
        .run()
        .unwrap();
    assert!((r.log_evidence - exact).abs() < 3.0 * r.log_evidence_err);
    let sizes = rec.sizes.lock().unwrap();
    assert_eq!(sizes.iter().sum::<usize>() as u64, r.n_calls);
    assert_eq!(sizes[0], 100, "the initial live points are one batch");
    assert!(sizes[1..].iter().all(|&b| (1..=16).contains(&b)));
    assert!(
        sizes[1..].iter().any(|&b| b > 1),
        "the batch grows as the acceptance rate falls"
    );
    assert!(r.n_calls >= (r.n_iterations + 100) as u64);
    let one = NestedSampler::new(&p, &rec.inner, NestedSettings { batch_size: 1, ..s })
        .unwrap()
        .run()
        .unwrap();
    common::assert_calls_near_one_at_a_time(r.n_calls, one.n_calls, 1.5);
}

#[test]
fn fixed_parameters_reach_the_likelihood() {
    let p = ParameterSet::new(vec![
        Parameter::new("a", "a", Prior::uniform(-10.0, 10.0).unwrap()).unwrap(),
        Parameter::new("b", "b", Prior::fixed(3.0).unwrap()).unwrap(),
    ])
    .unwrap();
    let l = FnLikelihood::new(2, |t: &[f64]| {
        assert_eq!(t[1], 3.0);
        -0.5 * t[0] * t[0] - 0.5 * (2.0 * std::f64::consts::PI).ln()
    });
    let r = NestedSampler::new(&p, &l, quick(2)).unwrap().run().unwrap();
    assert!((r.log_evidence + 20f64.ln()).abs() < 3.0 * r.log_evidence_err);
    assert_eq!(r.posterior().row(0)[1], 3.0);
}

#[test]
fn parallel_batches_give_the_same_run_as_serial_batches() {
    use spinflip_samplers::Parallel;
    let (p, l, _) = common::gaussian(3);
    let s = NestedSettings {
        n_live: 60,
        batch_size: 8,
        seed: 9,
        ..Default::default()
    };
    let serial = NestedSampler::new(&p, &l, s.clone())
        .unwrap()
        .run()
        .unwrap();
    let par = Parallel(&l);
    let parallel = NestedSampler::new(&p, &par, s).unwrap().run().unwrap();
    assert_eq!(
        serial.log_evidence.to_bits(),
        parallel.log_evidence.to_bits()
    );
    assert_eq!(serial.n_calls, parallel.n_calls);
    assert_eq!(serial.dead, parallel.dead);
}

#[test]
fn call_limit_stops_the_run_unconverged() {
    let (p, l, _) = common::gaussian(2);
    let s = NestedSettings {
        max_calls: Some(500),
        ..quick(1)
    };
    let r = NestedSampler::new(&p, &l, s).unwrap().run().unwrap();
    assert!(!r.converged);
    assert!(r.n_calls >= 500 && r.n_calls < 520, "{}", r.n_calls);
}

#[test]
fn batches_are_multiples_of_the_preferred_batch() {
    // A likelihood that prefers groups of 16 gets only multiples of 16 after the initial
    // live points, even when the cap or the adaptive batch is smaller; the run stays correct
    // and every candidate is counted.
    let (p, l, exact) = common::gaussian(2);
    for (cap, largest) in [(1, 16), (8, 16), (40, 32), (64, 64)] {
        let lanes = common::Lanes::new(&l, 16);
        let s = NestedSettings {
            n_live: 100,
            batch_size: cap,
            seed: 4,
            ..Default::default()
        };
        let r = NestedSampler::new(&p, &lanes, s).unwrap().run().unwrap();
        assert!((r.log_evidence - exact).abs() < 3.0 * r.log_evidence_err);
        let sizes = lanes.sizes();
        assert_eq!(sizes[0], 100, "the initial live points are one batch");
        assert!(
            sizes[1..].iter().all(|&b| b % 16 == 0 && b <= largest),
            "cap {cap}: {:?}",
            &sizes[1..sizes.len().min(40)]
        );
        assert_eq!(sizes.iter().sum::<usize>() as u64, r.n_calls);
    }
}
