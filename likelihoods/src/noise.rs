//! Gaussian noise models: one sigma, a sigma per channel, or a full covariance.

use crate::error::ModelError;
use std::f64::consts::PI;

/// The covariance of Gaussian noise on `n` channels, prepared for repeated chi-square evaluations.
#[derive(Debug, Clone)]
pub enum Noise {
    /// The same sigma on every channel.
    White {
        /// Sigma in mK.
        sigma: f64,
        /// Number of channels.
        n: usize,
    },
    /// Independent channels with their own sigma.
    Diagonal {
        /// Sigma per channel.
        sigma: Vec<f64>,
    },
    /// A full covariance, stored as its lower Cholesky factor L (C = L L^T), row-major.
    Full {
        /// Lower-triangular factor, n x n row-major.
        chol: Vec<f64>,
        /// Number of channels.
        n: usize,
    },
}

/// `a . b` with four partial sums: the compiler vectorises it, a single running sum it may not
/// reorder. A parameter-dependent covariance factorises once per likelihood call.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    let mut acc = [0.0f64; 4];
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

fn invalid(reason: String) -> ModelError {
    ModelError::Invalid {
        field: "noise".into(),
        reason,
    }
}

impl Noise {
    /// One sigma on `n` channels.
    pub fn white(sigma: f64, n: usize) -> Result<Self, ModelError> {
        if !(sigma.is_finite() && sigma > 0.0) {
            return Err(invalid(format!(
                "sigma must be finite and > 0 mK, got {sigma}"
            )));
        }
        Ok(Noise::White { sigma, n })
    }

    /// A sigma per channel.
    pub fn diagonal(sigma: Vec<f64>) -> Result<Self, ModelError> {
        if let Some((i, s)) = sigma
            .iter()
            .enumerate()
            .find(|(_, s)| !(s.is_finite() && **s > 0.0))
        {
            return Err(invalid(format!(
                "sigma of channel {i} is {s}; every sigma must be finite and > 0 mK"
            )));
        }
        Ok(Noise::Diagonal { sigma })
    }

    /// A full covariance (row-major n x n, mK^2). Factorised once here; must be symmetric
    /// positive definite.
    pub fn covariance(cov: &[f64], n: usize) -> Result<Self, ModelError> {
        if cov.len() != n * n {
            return Err(ModelError::Dimension {
                what: "covariance matrix (n x n)".into(),
                expected: n * n,
                got: cov.len(),
            });
        }
        if let Some(v) = cov.iter().find(|v| !v.is_finite()) {
            return Err(invalid(format!("covariance has a non-finite entry {v}")));
        }
        for i in 0..n {
            for j in 0..i {
                let (a, b) = (cov[i * n + j], cov[j * n + i]);
                if (a - b).abs() > 1e-10 * (a.abs() + b.abs()).max(f64::MIN_POSITIVE) {
                    return Err(invalid(format!(
                        "covariance is not symmetric at ({i}, {j}): {a} vs {b}"
                    )));
                }
            }
        }
        // Cholesky-Banachiewicz (row i against the finished rows j < i).
        let mut l = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let s = dot(&l[i * n..i * n + j], &l[j * n..j * n + j]);
                if i == j {
                    let d = cov[i * n + i] - s;
                    if d.is_nan() || d <= 0.0 {
                        return Err(invalid(format!(
                            "covariance is not positive definite (pivot {i} = {d}); check for duplicated or zero-variance channels"
                        )));
                    }
                    l[i * n + i] = d.sqrt();
                } else {
                    l[i * n + j] = (cov[i * n + j] - s) / l[j * n + j];
                }
            }
        }
        Ok(Noise::Full { chol: l, n })
    }

    /// Number of channels.
    pub fn len(&self) -> usize {
        match self {
            Noise::White { n, .. } | Noise::Full { n, .. } => *n,
            Noise::Diagonal { sigma } => sigma.len(),
        }
    }

    /// The standard deviation of each channel (for a full covariance, the square root of
    /// its diagonal: `C_ii = sum_j L_ij^2`).
    pub fn sigma_diagonal(&self) -> Vec<f64> {
        match self {
            Noise::White { sigma, n } => vec![*sigma; *n],
            Noise::Diagonal { sigma } => sigma.clone(),
            Noise::Full { chol, n } => (0..*n)
                .map(|i| {
                    chol[i * n..i * n + i + 1]
                        .iter()
                        .map(|l| l * l)
                        .sum::<f64>()
                        .sqrt()
                })
                .collect(),
        }
    }

    /// `C^-1 r` (what the gradient of the log-likelihood needs).
    pub fn solve(&self, r: &[f64]) -> Vec<f64> {
        match self {
            Noise::White { sigma, .. } => r.iter().map(|x| x / (sigma * sigma)).collect(),
            Noise::Diagonal { sigma } => r.iter().zip(sigma).map(|(x, s)| x / (s * s)).collect(),
            Noise::Full { chol, n } => {
                let n = *n;
                // L z = r, then L^T w = z.
                let mut z = r.to_vec();
                for i in 0..n {
                    let mut v = z[i];
                    for k in 0..i {
                        v -= chol[i * n + k] * z[k];
                    }
                    z[i] = v / chol[i * n + i];
                }
                for i in (0..n).rev() {
                    let mut v = z[i];
                    for k in i + 1..n {
                        v -= chol[k * n + i] * z[k];
                    }
                    z[i] = v / chol[i * n + i];
                }
                z
            }
        }
    }

    /// Whether there are no channels.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keep only the listed channels (a band cut).
    pub fn select(&self, keep: &[usize]) -> Result<Noise, ModelError> {
        match self {
            Noise::White { sigma, .. } => Noise::white(*sigma, keep.len()),
            Noise::Diagonal { sigma } => Noise::diagonal(keep.iter().map(|&i| sigma[i]).collect()),
            Noise::Full { chol, n } => {
                // Rebuild the covariance of the kept channels, then refactorise.
                let n = *n;
                let c = |i: usize, j: usize| {
                    (0..=i.min(j))
                        .map(|k| chol[i * n + k] * chol[j * n + k])
                        .sum::<f64>()
                };
                let m = keep.len();
                let mut sub = vec![0.0; m * m];
                for (a, &i) in keep.iter().enumerate() {
                    for (b, &j) in keep.iter().enumerate() {
                        sub[a * m + b] = c(i, j);
                    }
                }
                Noise::covariance(&sub, m)
            }
        }
    }

    /// ln det C.
    pub fn log_det(&self) -> f64 {
        match self {
            Noise::White { sigma, n } => 2.0 * *n as f64 * sigma.ln(),
            Noise::Diagonal { sigma } => sigma.iter().map(|s| 2.0 * s.ln()).sum(),
            Noise::Full { chol, n } => (0..*n).map(|i| 2.0 * chol[i * n + i].ln()).sum(),
        }
    }

    /// chi^2 = r^T C^{-1} r for a residual `r`.
    pub fn chi2(&self, r: &[f64]) -> f64 {
        match self {
            Noise::White { sigma, .. } => r.iter().map(|x| x * x).sum::<f64>() / (sigma * sigma),
            Noise::Diagonal { sigma } => r.iter().zip(sigma).map(|(x, s)| (x / s) * (x / s)).sum(),
            Noise::Full { chol, n } => {
                // Solve L y = r by forward substitution; chi^2 = |y|^2.
                let n = *n;
                let mut y = vec![0.0; n];
                let mut chi2 = 0.0;
                for i in 0..n {
                    let s: f64 = (0..i).map(|k| chol[i * n + k] * y[k]).sum();
                    y[i] = (r[i] - s) / chol[i * n + i];
                    chi2 += y[i] * y[i];
                }
                chi2
            }
        }
    }

    /// Gaussian log-likelihood of residual `r`: -chi^2/2 - ln det C / 2 - n ln(2 pi)/2.
    pub fn log_likelihood(&self, r: &[f64]) -> f64 {
        -0.5 * (self.chi2(r) + self.log_det() + self.len() as f64 * (2.0 * PI).ln())
    }

    /// Draw one noise realisation (for mocks) from standard normals `z` (length n).
    pub fn correlate(&self, z: &[f64]) -> Vec<f64> {
        match self {
            Noise::White { sigma, .. } => z.iter().map(|x| x * sigma).collect(),
            Noise::Diagonal { sigma } => z.iter().zip(sigma).map(|(x, s)| x * s).collect(),
            Noise::Full { chol, n } => (0..*n)
                .map(|i| (0..=i).map(|k| chol[i * n + k] * z[k]).sum())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_forms_agree_on_a_diagonal_covariance() {
        let sig = vec![1.0, 2.0, 0.5];
        let cov: Vec<f64> = (0..9)
            .map(|k| {
                if k % 4 == 0 {
                    sig[k / 4] * sig[k / 4]
                } else {
                    0.0
                }
            })
            .collect();
        let r = [0.3, -1.0, 0.2];
        let d = Noise::diagonal(sig).unwrap();
        let f = Noise::covariance(&cov, 3).unwrap();
        assert!((d.log_likelihood(&r) - f.log_likelihood(&r)).abs() < 1e-12);
        let w = Noise::white(2.0, 3).unwrap();
        let w2 = Noise::diagonal(vec![2.0; 3]).unwrap();
        assert!((w.log_likelihood(&r) - w2.log_likelihood(&r)).abs() < 1e-12);
    }

    #[test]
    fn correlated_chi2_matches_explicit_inverse() {
        // C = [[4, 2], [2, 3]], C^-1 = [[3, -2], [-2, 4]] / 8, det = 8
        let f = Noise::covariance(&[4.0, 2.0, 2.0, 3.0], 2).unwrap();
        let r = [1.0, 2.0];
        let chi2 = (3.0 * 1.0 - 2.0 * 2.0 * 1.0 * 2.0 + 4.0 * 4.0) / 8.0;
        assert!((f.chi2(&r) - chi2).abs() < 1e-12);
        assert!((f.log_det() - 8f64.ln()).abs() < 1e-12);
        // selecting both channels gives back the same matrix
        let g = f.select(&[0, 1]).unwrap();
        assert!((g.chi2(&r) - chi2).abs() < 1e-12);
        // C^-1 r by hand: [[3, -2], [-2, 4]] / 8 times (1, 2) = (-1/8, 6/8).
        let w = f.solve(&r);
        assert!(
            (w[0] + 0.125).abs() < 1e-12 && (w[1] - 0.75).abs() < 1e-12,
            "{w:?}"
        );
        // The per-channel sigmas are the square roots of the diagonal, 2 and sqrt(3).
        let s = f.sigma_diagonal();
        assert!((s[0] - 2.0).abs() < 1e-12 && (s[1] - 3f64.sqrt()).abs() < 1e-12);
        assert_eq!(Noise::white(2.0, 2).unwrap().sigma_diagonal(), [2.0, 2.0]);
    }

    #[test]
    fn bad_covariances_are_rejected() {
        assert!(Noise::white(0.0, 3).is_err());
        assert!(Noise::diagonal(vec![1.0, -1.0]).is_err());
        assert!(Noise::covariance(&[1.0, 2.0, 2.0, 1.0], 2).is_err()); // indefinite
        assert!(Noise::covariance(&[1.0, 0.5, 0.0, 1.0], 2).is_err()); // asymmetric
        assert!(Noise::covariance(&[1.0, 0.0, 0.0], 2).is_err());
    }
}
