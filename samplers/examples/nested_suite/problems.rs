//! Test problems with known evidences for the nested-sampling benchmark suite.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::f64::consts::PI;

/// A log-likelihood of the parameters.
pub type LogL = Box<dyn Fn(&[f64]) -> f64 + Send + Sync>;
/// Whether a point belongs to a part of the posterior (a mode).
pub type Membership = Box<dyn Fn(&[f64]) -> bool + Send + Sync>;

/// A problem: dimension, a uniform prior box `[lo, hi]^d`, a log-likelihood and its exact ln Z.
pub struct Problem {
    pub name: String,
    pub d: usize,
    pub lo: f64,
    pub hi: f64,
    pub log_z: f64,
    pub log_l: LogL,
    /// Parts of the posterior mass to check (name, mass, membership test), e.g. modes.
    pub parts: Vec<(String, f64, Membership)>,
    /// Mode centres, where known (for tracing a run).
    pub centres: Vec<Vec<f64>>,
    /// The problem as data (kind and numbers), for peers in other languages to rebuild it.
    pub spec: serde_json::Value,
}

fn logsumexp(v: &[f64]) -> f64 {
    let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// ln of the mass of N(mu, s^2) inside [lo, hi].
fn log_mass_1d(mu: f64, s: f64, lo: f64, hi: f64) -> f64 {
    let phi = |x: f64| 0.5 * statrs::function::erf::erfc(-x / std::f64::consts::SQRT_2);
    (phi((hi - mu) / s) - phi((lo - mu) / s)).ln()
}

/// A mixture of isotropic Gaussians `sum_k w_k N(c_k, s_k^2 I)` in `U[-6, 6]^d`, with the
/// heaviest mode the narrowest: the class on which bounds that follow the live points lose
/// the heavy mode when no live point sits in it. Centres are drawn with `layout_seed`,
/// at least 3 units apart and 2 units inside the box.
pub fn mixture(d: usize, weights: &[f64], widths: &[f64], layout_seed: u64) -> Problem {
    let (lo, hi) = (-6.0f64, 6.0f64);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(layout_seed);
    let mut centres: Vec<Vec<f64>> = Vec::new();
    while centres.len() < weights.len() {
        let c: Vec<f64> = (0..d).map(|_| rng.random_range(-4.0..4.0)).collect();
        let far = centres.iter().all(|o| {
            o.iter()
                .zip(&c)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>()
                .sqrt()
                >= 3.0
        });
        if far {
            centres.push(c);
        }
    }
    let wsum: f64 = weights.iter().sum();
    let log_w: Vec<f64> = weights.iter().map(|w| (w / wsum).ln()).collect();
    let log_prior = -(d as f64) * (hi - lo).ln();
    let terms: Vec<f64> = (0..weights.len())
        .map(|k| {
            log_w[k]
                + centres[k]
                    .iter()
                    .map(|&c| log_mass_1d(c, widths[k], lo, hi))
                    .sum::<f64>()
        })
        .collect();
    let log_z = logsumexp(&terms) + log_prior;
    let (c2, s2, lw2) = (centres.clone(), widths.to_vec(), log_w.clone());
    let log_l = move |t: &[f64]| {
        let v: Vec<f64> = (0..c2.len())
            .map(|k| {
                let r2: f64 = t.iter().zip(&c2[k]).map(|(x, c)| (x - c).powi(2)).sum();
                lw2[k]
                    - 0.5 * r2 / (s2[k] * s2[k])
                    - 0.5 * d as f64 * (2.0 * PI * s2[k] * s2[k]).ln()
            })
            .collect();
        logsumexp(&v)
    };
    let zt = logsumexp(&terms);
    let parts = (0..weights.len())
        .map(|k| {
            let (c, s) = (centres[k].clone(), widths[k]);
            let f: Membership = Box::new(move |t: &[f64]| {
                t.iter()
                    .zip(&c)
                    .map(|(x, c)| (x - c).powi(2))
                    .sum::<f64>()
                    .sqrt()
                    < 6.0 * s * (d as f64).sqrt()
            });
            (
                format!("mode {k} (w {}, s {})", weights[k], widths[k]),
                (terms[k] - zt).exp(),
                f,
            )
        })
        .collect();
    Problem {
        name: format!("mixture{d}d/{layout_seed}"),
        d,
        lo,
        hi,
        log_z,
        log_l: Box::new(log_l),
        parts,
        spec: serde_json::json!({
            "kind": "mixture", "d": d, "lo": lo, "hi": hi, "log_z": log_z,
            "weights": weights, "widths": widths, "centres": centres,
        }),
        centres,
    }
}

/// Unit-variance Gaussian with correlation `rho` between all pairs, in a box `n_sigma` (at
/// least 8) standard deviations of its widest direction wide each side (truncation below
/// 1e-14): ln Z = -d ln(2 L).
pub fn correlated_gaussian(d: usize, rho: f64, n_sigma: f64) -> Problem {
    // Covariance (1 - rho) I + rho 11^T: inverse and log-determinant in closed form.
    let a = 1.0 - rho;
    let b = rho;
    let log_det = (d as f64 - 1.0) * a.ln() + (a + d as f64 * b).ln();
    let inv_diag = 1.0 / a;
    let inv_off = -b / (a * (a + d as f64 * b));
    let norm = -0.5 * d as f64 * (2.0 * PI).ln() - 0.5 * log_det;
    let half = n_sigma * (a + d as f64 * b).sqrt();
    let log_l = move |t: &[f64]| {
        let s: f64 = t.iter().sum();
        let q: f64 = t.iter().map(|x| x * x).sum();
        norm - 0.5 * (inv_diag * q + inv_off * s * s)
    };
    Problem {
        name: if n_sigma == 8.0 {
            format!("gauss{d}d/rho{rho}")
        } else {
            format!("gauss{d}d/rho{rho}/box{n_sigma}")
        },
        d,
        lo: -half,
        hi: half,
        log_z: -(d as f64) * (2.0 * half).ln(),
        log_l: Box::new(log_l),
        parts: Vec::new(),
        centres: Vec::new(),
        spec: serde_json::json!({
            "kind": "correlated_gaussian", "d": d, "rho": rho, "lo": -half, "hi": half,
            "log_z": -(d as f64) * (2.0 * half).ln(),
        }),
    }
}
