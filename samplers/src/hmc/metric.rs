//! The Euclidean metric of Hamiltonian Monte Carlo: momenta `p ~ N(0, M)` with the inverse
//! metric `M^-1` an estimate of the posterior covariance (diagonal or dense), kinetic energy
//! `K(p) = p^T M^-1 p / 2`, velocity `dq/dt = M^-1 p`.

use crate::nested::linalg::cholesky_jitter;
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// Diagonal or dense metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// `M^-1` diagonal: the posterior variances (Stan's default).
    #[default]
    Diag,
    /// `M^-1` a full covariance: for correlated posteriors.
    Dense,
    /// A unit metric in the coordinates of a [transport map](super::transport) fitted to
    /// the warmup draws: for curved ridges (bananas), which no linear metric fits.
    Transport,
}

/// The inverse metric and what sampling momenta needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// Dimension.
    pub dim: usize,
    /// `M^-1`: `dim` variances (diagonal) or a row-major `dim x dim` covariance (dense).
    #[serde(with = "crate::exact_f64::vec")]
    pub inv: Vec<f64>,
    /// Dense: the lower Cholesky factor `L` of `M^-1` (`M^-1 = L L^T`).
    #[serde(with = "crate::exact_f64::vec")]
    chol: Vec<f64>,
}

impl Metric {
    /// The unit metric.
    pub fn unit(dim: usize, kind: MetricKind) -> Self {
        match kind {
            MetricKind::Diag | MetricKind::Transport => Metric::diag(vec![1.0; dim]),
            MetricKind::Dense => {
                let mut inv = vec![0.0; dim * dim];
                for i in 0..dim {
                    inv[i * dim + i] = 1.0;
                }
                Metric::dense(inv, dim)
            }
        }
    }

    /// A diagonal inverse metric.
    pub fn diag(var: Vec<f64>) -> Self {
        Metric {
            dim: var.len(),
            inv: var,
            chol: Vec::new(),
        }
    }

    /// A dense inverse metric (symmetric positive definite; jitter is added if needed).
    pub fn dense(cov: Vec<f64>, dim: usize) -> Self {
        let chol = cholesky_jitter(&cov, dim);
        Metric {
            dim,
            inv: cov,
            chol,
        }
    }

    /// Whether the metric is dense.
    pub fn is_dense(&self) -> bool {
        !self.chol.is_empty()
    }

    /// Draw `p ~ N(0, M)`: `p = L^-T z` for the dense metric, `z / sqrt(M^-1_ii)` for the
    /// diagonal one.
    pub fn sample_momentum<R: Rng + ?Sized>(&self, rng: &mut R, p: &mut [f64]) {
        for x in p.iter_mut() {
            *x = rng.sample(StandardNormal);
        }
        if self.is_dense() {
            // Solve L^T p = z (back substitution on the transpose).
            let d = self.dim;
            for i in (0..d).rev() {
                let mut s = p[i];
                for k in i + 1..d {
                    s -= self.chol[k * d + i] * p[k];
                }
                p[i] = s / self.chol[i * d + i];
            }
        } else {
            for (x, v) in p.iter_mut().zip(&self.inv) {
                *x /= v.sqrt();
            }
        }
    }

    /// `v = M^-1 p`.
    pub fn velocity(&self, p: &[f64], v: &mut [f64]) {
        let d = self.dim;
        if self.is_dense() {
            for i in 0..d {
                v[i] = (0..d).map(|k| self.inv[i * d + k] * p[k]).sum();
            }
        } else {
            for ((v, p), m) in v.iter_mut().zip(p).zip(&self.inv) {
                *v = m * p;
            }
        }
    }

    /// `K(p) = p^T M^-1 p / 2`.
    pub fn kinetic(&self, p: &[f64]) -> f64 {
        let mut v = vec![0.0; self.dim];
        self.velocity(p, &mut v);
        0.5 * p.iter().zip(&v).map(|(a, b)| a * b).sum::<f64>()
    }

    /// `ln det M^-1` (for checks).
    pub fn log_det_inv(&self) -> f64 {
        if self.is_dense() {
            2.0 * (0..self.dim)
                .map(|i| self.chol[i * self.dim + i].ln())
                .sum::<f64>()
        } else {
            self.inv.iter().map(|v| v.ln()).sum()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn momenta_have_covariance_m() {
        // M^-1 = [[4, 1.2], [1.2, 1]]: M = inverse, and cov(p) must equal M.
        let inv = vec![4.0, 1.2, 1.2, 1.0];
        let det = 4.0 - 1.44;
        let m = [1.0 / det, -1.2 / det, -1.2 / det, 4.0 / det];
        let metric = Metric::dense(inv, 2);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let n = 200_000;
        let mut c = [0.0; 4];
        let mut p = [0.0; 2];
        for _ in 0..n {
            metric.sample_momentum(&mut rng, &mut p);
            c[0] += p[0] * p[0];
            c[1] += p[0] * p[1];
            c[3] += p[1] * p[1];
        }
        // Sample covariance error ~ sqrt(2/n) relative: 0.3%; allow 2%.
        for (k, want) in [(0, m[0]), (1, m[1]), (3, m[3])] {
            let got = c[k] / n as f64;
            assert!(
                (got - want).abs() < 0.02 * m[0].abs().max(m[3]),
                "{k}: {got} vs {want}"
            );
        }
        // The kinetic energy of p is p^T M^-1 p / 2.
        assert!((metric.kinetic(&[1.0, 2.0]) - 0.5 * (4.0 + 2.0 * 2.4 + 4.0)).abs() < 1e-12);
        let diag = Metric::diag(vec![4.0, 9.0]);
        assert!((diag.kinetic(&[1.0, 1.0]) - 6.5).abs() < 1e-12);
    }
}
