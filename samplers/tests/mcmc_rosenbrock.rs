//! The ensemble sampler on the Rosenbrock density of Goodman & Weare (2010, eq. 15),
//! `log L = -((1 - x)^2 + 100 (y - x^2)^2) / 20` on a box prior, against marginal means and
//! variances from numerical quadrature on a fine grid.

use spinflip_samplers::mcmc::{EnsembleSampler, EnsembleSettings, Stop};
use spinflip_samplers::{FnLikelihood, Parameter, ParameterSet, Prior};

const X_RANGE: (f64, f64) = (-2.0, 3.0);
const Y_RANGE: (f64, f64) = (-1.0, 10.0);

fn log_l(x: f64, y: f64) -> f64 {
    -((1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)) / 20.0
}

/// Posterior moments of x and y by the midpoint rule on a grid much finer than the ridge
/// width (std of y given x is sqrt(0.1) = 0.32): `[mean, variance, 4th central moment]`.
fn quadrature() -> [[f64; 3]; 2] {
    let (nx, ny) = (2000, 5500);
    let hx = (X_RANGE.1 - X_RANGE.0) / nx as f64;
    let hy = (Y_RANGE.1 - Y_RANGE.0) / ny as f64;
    let mut z = 0.0;
    // Raw moments E[v^k], k = 1..4, for v = x and v = y.
    let mut raw = [[0.0; 4]; 2];
    for i in 0..nx {
        let x = X_RANGE.0 + (i as f64 + 0.5) * hx;
        // Only the ridge contributes: skip y more than 12 conditional sigmas away.
        let (lo, hi) = (x * x - 12.0 * 0.1f64.sqrt(), x * x + 12.0 * 0.1f64.sqrt());
        let j0 = ((lo - Y_RANGE.0) / hy).floor().max(0.0) as usize;
        let j1 = (((hi - Y_RANGE.0) / hy).ceil().max(0.0) as usize).min(ny);
        for j in j0..j1 {
            let y = Y_RANGE.0 + (j as f64 + 0.5) * hy;
            let p = log_l(x, y).exp();
            z += p;
            for (r, v) in raw.iter_mut().zip([x, y]) {
                let mut vk = 1.0;
                for m in r.iter_mut() {
                    vk *= v;
                    *m += p * vk;
                }
            }
        }
    }
    raw.map(|r| {
        let [e1, e2, e3, e4] = r.map(|m| m / z);
        let var = e2 - e1 * e1;
        let mu4 = e4 - 4.0 * e1 * e3 + 6.0 * e1 * e1 * e2 - 3.0 * e1.powi(4);
        [e1, var, mu4]
    })
}

#[test]
fn rosenbrock_marginals_match_quadrature() {
    let reference = quadrature();
    // Sanity of the reference: x ~ N(1, 10) cut to [-2, 3], nearly uniform there
    // (uniform: mean 0.5, variance 25/12).
    assert!((0.5..0.7).contains(&reference[0][0]) && (1.7..25.0 / 12.0).contains(&reference[0][1]));

    let params = ParameterSet::new(vec![
        Parameter::new("x", "x", Prior::uniform(X_RANGE.0, X_RANGE.1).unwrap()).unwrap(),
        Parameter::new("y", "y", Prior::uniform(Y_RANGE.0, Y_RANGE.1).unwrap()).unwrap(),
    ])
    .unwrap();
    let like = FnLikelihood::new(2, |t: &[f64]| log_l(t[0], t[1]));
    let settings = EnsembleSettings {
        n_walkers: 32,
        // The ridge is long and curved: tau ~ 250-450 steps. At 50 tau the estimate of tau
        // is ~15% low here (runs of 300 tau give 420-450 for x), which shrinks the error
        // bars below; 100 tau halves that. Checks cost an FFT of every walker's history, so
        // check less often than the default for this cheap likelihood.
        stop: Stop::AutoCorr {
            max_steps: 100_000,
            check_every: 2000,
            n_tau: 100.0,
            tau_rtol: 0.01,
        },
        seed: 2010,
        progress: false,
        ..Default::default()
    };
    let r = EnsembleSampler::new(&params, &like, settings)
        .unwrap()
        .run()
        .unwrap();
    eprintln!(
        "Rosenbrock: {} steps, {} calls, acceptance {:.3}, tau {:?}, R-hat {:?}, {:.2} s; reference {:?}",
        r.n_steps,
        r.n_calls,
        r.mean_acceptance_fraction(),
        r.tau,
        r.r_hat,
        r.wall_time_s,
        reference
    );
    assert!(r.converged);
    let post = r.posterior();
    let mean = post.mean();
    let cov = post.covariance();
    let n_kept = ((r.n_steps - r.burn_in) * r.n_walkers) as f64;
    for (j, &[ref_mean, ref_var, ref_mu4]) in reference.iter().enumerate() {
        let n_eff = n_kept / r.tau[j];
        let se_mean = (ref_var / n_eff).sqrt();
        let se_var = ((ref_mu4 - ref_var * ref_var) / n_eff).sqrt();
        eprintln!(
            "param {j}: mean off by {:.2} se, variance off by {:.2} se",
            (mean[j] - ref_mean) / se_mean,
            (cov[j * 2 + j] - ref_var) / se_var
        );
        assert!(
            (mean[j] - ref_mean).abs() < 5.0 * se_mean,
            "mean {j}: {} vs {ref_mean} (se {se_mean})",
            mean[j]
        );
        // Standard error of a sample variance: sqrt((mu4 - var^2) / n).
        assert!(
            (cov[j * 2 + j] - ref_var).abs() < 5.0 * se_var,
            "var {j}: {} vs {ref_var} (se {se_var})",
            cov[j * 2 + j]
        );
    }
}
