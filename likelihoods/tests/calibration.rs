//! Calibration: over many mock observations of a linear model, the truth falls inside the
//! nested sampler's central 68% interval 68% of the time.
//!
//! With a flat prior much wider than the likelihood, the posterior of a linear-Gaussian model
//! is exactly Gaussian, so its central 68.27% interval covers the truth with probability
//! 0.6827. Over K mocks and P parameters the observed coverage of each parameter is binomial:
//! sigma = sqrt(p (1 - p) / K). The tolerance is 3.5 sigma of that plus 0.02 for the sampler's
//! own quantile noise (ESS ~ a few hundred per run), so a correct pipeline fails this test
//! with probability well under 1e-3, while intervals 25% too narrow or too wide fail it (coverage 0.55 or 0.79).

use spinflip_likelihoods::spectrum::freq_of_z;
use spinflip_likelihoods::*;
use spinflip_samplers::nested::{NestedSampler, NestedSettings};
use spinflip_samplers::{Parameter, ParameterSet, Prior};

/// T(z) = a + b (z - 15) in mK.
struct Line {
    z: Vec<f64>,
}

impl ForwardModel for Line {
    fn param_names(&self) -> Vec<String> {
        vec!["a".into(), "b".into()]
    }
    fn grid(&self) -> &[f64] {
        &self.z
    }
    fn predict(&self, th: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
        self.check_shapes(th.len(), out.len())?;
        for (o, z) in out.iter_mut().zip(&self.z) {
            *o = th[0] + th[1] * (z - 15.0);
        }
        Ok(())
    }
}

#[test]
fn truth_in_68_percent_interval_68_percent_of_the_time() {
    let z: Vec<f64> = (0..30).map(|i| 10.0 + 0.33 * i as f64).collect();
    let params = ParameterSet::new(vec![
        Parameter::new("a", "a", Prior::uniform(-200.0, 200.0).unwrap()).unwrap(),
        Parameter::new("b", "b", Prior::uniform(-50.0, 50.0).unwrap()).unwrap(),
    ])
    .unwrap();
    let k = 500;
    let mut inside = [0usize; 2];
    for m in 0..k {
        // Truths spread over the inner half of the prior so it never truncates the posterior.
        let truth = [
            -100.0 + 200.0 * ((m * 37 % 101) as f64 / 100.0) * 0.5,
            10.0 * ((m * 17 % 23) as f64 / 22.0 - 0.5),
        ];
        let noise = Noise::white(20.0, z.len()).unwrap();
        let data = mock_spectrum(&Line { z: z.clone() }, &truth, &noise, 1000 + m as u64).unwrap();
        assert_eq!(data.freq_mhz[0], freq_of_z(z[0]));
        let like = GlobalSignalLikelihood::new(Line { z: z.clone() }, data, noise, None).unwrap();
        let settings = NestedSettings {
            n_live: 150,
            seed: m as u64,
            ..Default::default()
        };
        let r = NestedSampler::new(&params, &like, settings)
            .unwrap()
            .run()
            .unwrap();
        let s = r.posterior().summary();
        for j in 0..2 {
            let [lo, hi] = s.params[j].ci68;
            if lo <= truth[j] && truth[j] <= hi {
                inside[j] += 1;
            }
        }
    }
    let p = 0.682_689_5;
    let sigma = (p * (1.0 - p) / k as f64).sqrt();
    let tol = 3.5 * sigma + 0.02;
    for (j, &n) in inside.iter().enumerate() {
        let cov = n as f64 / k as f64;
        println!("parameter {j}: coverage {cov:.3} (expected {p:.3} +- {tol:.3})");
        assert!(
            (cov - p).abs() < tol,
            "parameter {j}: coverage {cov:.3} vs {p:.3} +- {tol:.3}"
        );
    }
}
