//! The ensemble sampler on a correlated 5-D Gaussian: posterior mean and covariance within
//! five Monte Carlo standard errors, the errors computed from the measured autocorrelation
//! times.

use spinflip_samplers::mcmc::{EnsembleSampler, EnsembleSettings, Stop};
use spinflip_samplers::{LikelihoodError, LogLikelihood, Parallel, Parameter, ParameterSet, Prior};

const MU: [f64; 5] = [1.0, -2.0, 0.5, 3.0, 0.0];
const SIGMA: [f64; 5] = [1.0, 2.0, 0.5, 3.0, 1.5];
const RHO: f64 = 0.8;
/// Index of the fixed parameter in theta (between free parameters 1 and 2).
const FIXED_AT: usize = 2;
const FIXED_VALUE: f64 = 2.5;

/// Covariance `Sigma_ij = s_i s_j RHO^|i-j|` (positive definite: an AR(1) correlation).
fn covariance() -> [[f64; 5]; 5] {
    let mut c = [[0.0; 5]; 5];
    for i in 0..5 {
        for j in 0..5 {
            c[i][j] = SIGMA[i] * SIGMA[j] * RHO.powi((i as i32 - j as i32).abs());
        }
    }
    c
}

/// Lower Cholesky factor.
fn cholesky(a: &[[f64; 5]; 5]) -> [[f64; 5]; 5] {
    let mut l = [[0.0; 5]; 5];
    for i in 0..5 {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            l[i][j] = if i == j {
                (a[i][i] - s).sqrt()
            } else {
                (a[i][j] - s) / l[j][j]
            };
        }
    }
    l
}

/// Gaussian log-likelihood over 6 parameters, one of them fixed; NaN if the fixed value is
/// not passed through (which the sampler turns into an error).
struct Gauss {
    l: [[f64; 5]; 5],
}

impl LogLikelihood for Gauss {
    fn n_params(&self) -> usize {
        6
    }
    fn log_likelihood(&self, theta: &[f64]) -> Result<f64, LikelihoodError> {
        if theta[FIXED_AT] != FIXED_VALUE {
            return Ok(f64::NAN);
        }
        let x: Vec<f64> = theta
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != FIXED_AT)
            .map(|(_, v)| *v)
            .collect();
        // Solve L y = x - mu; log L = -|y|^2 / 2.
        let mut y = [0.0; 5];
        for i in 0..5 {
            let s: f64 = (0..i).map(|k| self.l[i][k] * y[k]).sum();
            y[i] = (x[i] - MU[i] - s) / self.l[i][i];
        }
        Ok(-0.5 * y.iter().map(|v| v * v).sum::<f64>())
    }
}

#[test]
fn correlated_gaussian_mean_and_covariance() {
    let wide = Prior::uniform(-50.0, 50.0).unwrap();
    let mut params: Vec<Parameter> = (0..5)
        .map(|i| Parameter::new(format!("x{i}"), format!("x_{i}"), wide).unwrap())
        .collect();
    params.insert(
        FIXED_AT,
        Parameter::new("f", "f", Prior::fixed(FIXED_VALUE).unwrap()).unwrap(),
    );
    let params = ParameterSet::new(params).unwrap();
    let cov = covariance();
    let like = Parallel(Gauss { l: cholesky(&cov) });
    let settings = EnsembleSettings {
        n_walkers: 32,
        stop: Stop::autocorr(50_000),
        seed: 42,
        progress: false,
        ..Default::default()
    };
    let r = EnsembleSampler::new(&params, &like, settings)
        .unwrap()
        .run()
        .unwrap();
    let tau_max = r.tau.iter().cloned().fold(0.0, f64::max);
    eprintln!(
        "5-D Gaussian: {} steps, {} calls, acceptance {:.3}, tau {:?}, R-hat {:?}, ESS {:?}, {:.2} s",
        r.n_steps,
        r.n_calls,
        r.mean_acceptance_fraction(),
        r.tau,
        r.r_hat,
        r.effective_sample_size,
        r.wall_time_s
    );
    assert!(r.converged, "did not meet the 50-tau rule");
    assert!(r.n_steps as f64 > 50.0 * tau_max);
    // Stretch move (a = 2) on a 5-D Gaussian: acceptance about one half.
    let acc = r.mean_acceptance_fraction();
    assert!((0.3..0.7).contains(&acc), "acceptance {acc}");
    // With ~35 independent draws per half-walker, R-hat^2 - 1 ~ 1/35 even when mixed, so
    // R-hat ~ 1.015-1.03 is noise here; a stuck walker would give far more.
    assert!(r.r_hat.iter().all(|&x| x < 1.05), "R-hat {:?}", r.r_hat);
    assert_eq!(r.burn_in, (2.0 * tau_max).ceil() as usize);
    assert_eq!(r.names, ["x0", "x1", "x2", "x3", "x4"]);

    let post = r.posterior();
    let expected_rows = (r.n_steps - r.burn_in).div_ceil(r.thin) * r.n_walkers;
    assert_eq!(post.len(), expected_rows);
    let mean = post.mean();
    let c = post.covariance();
    // Monte Carlo error with n_eff = (kept draws) / tau, computed from all kept draws.
    let n_kept = ((r.n_steps - r.burn_in) * r.n_walkers) as f64;
    let z_mean: Vec<f64> = (0..5)
        .map(|i| (mean[i] - MU[i]) / (cov[i][i] * r.tau[i] / n_kept).sqrt())
        .collect();
    eprintln!("mean errors in standard errors: {z_mean:.2?}");
    for i in 0..5 {
        let n_eff = n_kept / r.tau[i];
        assert!(n_eff > 1000.0, "n_eff {n_eff} too small to test anything");
        let se = (cov[i][i] / n_eff).sqrt();
        assert!(
            (mean[i] - MU[i]).abs() < 5.0 * se,
            "mean {i}: {} vs {} (se {se})",
            mean[i],
            MU[i]
        );
        for j in 0..5 {
            // Var of a sample covariance of Gaussian draws: (S_ij^2 + S_ii S_jj) / n.
            let n_eff = n_kept / r.tau[i].max(r.tau[j]);
            let se = ((cov[i][j].powi(2) + cov[i][i] * cov[j][j]) / n_eff).sqrt();
            assert!(
                (c[i * 5 + j] - cov[i][j]).abs() < 5.0 * se,
                "cov {i}{j}: {} vs {} (se {se})",
                c[i * 5 + j],
                cov[i][j]
            );
        }
    }
}

#[test]
fn flat_likelihood_samples_the_prior() {
    // The log prior is part of the target: with a flat likelihood the chain samples the prior.
    let a = Prior::normal(1.0, 2.0).unwrap();
    let b = Prior::log_uniform(0.1, 10.0).unwrap();
    let params = ParameterSet::new(vec![
        Parameter::new("a", "a", a).unwrap(),
        Parameter::new("b", "b", b).unwrap(),
    ])
    .unwrap();
    let like = spinflip_samplers::FnLikelihood::new(2, |_: &[f64]| 0.0);
    let settings = EnsembleSettings {
        n_walkers: 16,
        stop: Stop::Steps(4000),
        seed: 3,
        progress: false,
        ..Default::default()
    };
    let r = EnsembleSampler::new(&params, &like, settings)
        .unwrap()
        .run()
        .unwrap();
    let post = r.posterior();
    let mean = post.mean();
    let cov = post.covariance();
    // Log-uniform on [0.1, 10]: E b^k = (max^k - min^k) / (k ln(max / min)).
    let ln_r = 100f64.ln();
    let e = |k: i32| (10f64.powi(k) - 0.1f64.powi(k)) / (k as f64 * ln_r);
    let b_mean = e(1);
    let b_var = e(2) - b_mean * b_mean;
    let b_mu4 = e(4) - 4.0 * b_mean * e(3) + 6.0 * b_mean * b_mean * e(2) - 3.0 * b_mean.powi(4);
    let n_kept = ((r.n_steps - r.burn_in) * r.n_walkers) as f64;
    // (mean, variance, 4th central moment); N(1, 2) has mu4 = 3 sigma^4.
    let exact = [(1.0, 4.0, 48.0), (b_mean, b_var, b_mu4)];
    for (j, (m, v, mu4)) in exact.into_iter().enumerate() {
        let n_eff = n_kept / r.tau[j];
        let se = (v / n_eff).sqrt();
        assert!(
            (mean[j] - m).abs() < 5.0 * se,
            "mean {j}: {} vs {m}",
            mean[j]
        );
        let se_v = ((mu4 - v * v) / n_eff).sqrt();
        assert!(
            (cov[j * 3] - v).abs() < 5.0 * se_v,
            "var {j}: {} vs {v}",
            cov[j * 3]
        );
    }
}
