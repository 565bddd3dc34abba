//! The covariance of a summary from simulations: the unbiased sample covariance of `n`
//! realisations of `p` summaries, scaled by the Hartlap et al. (2007, A&A 464, 399, eq. 17)
//! factor `(n - 1) / (n - p - 2)` so that its inverse is an unbiased estimate of the
//! precision matrix. Fewer than `p + 3` simulations leave the inverse undefined (or with
//! infinite variance) and are an error.

use crate::SpinflipError;

/// A covariance estimated from simulations.
#[derive(Debug, Clone, PartialEq)]
pub struct SimCovariance {
    /// Summaries.
    pub p: usize,
    /// Simulations.
    pub n: usize,
    /// Mean summary, `p`.
    pub mean: Vec<f64>,
    /// Sample covariance with the Hartlap factor applied, `p x p` row-major.
    pub cov: Vec<f64>,
    /// The factor applied, `(n - 1) / (n - p - 2)`.
    pub hartlap: f64,
}

impl SimCovariance {
    /// From `rows` (`n x p`, row-major) of simulated summaries; `what` names them in errors.
    pub fn from_rows(rows: &[f64], p: usize, what: &str) -> Result<Self, SpinflipError> {
        if p == 0 || !rows.len().is_multiple_of(p) {
            return Err(SpinflipError::shape(
                what,
                format!("{} values are not whole rows of {p} summaries", rows.len()),
            ));
        }
        let n = rows.len() / p;
        if n < p + 3 {
            return Err(SpinflipError::config(
                what,
                format!(
                    "{n} simulations cannot estimate the precision matrix of {p} summaries: \
                     need at least {} (p + 3; Hartlap et al. 2007), and in practice many more \
                     (simulate more light-cones at the fiducial point)",
                    p + 3
                ),
            ));
        }
        if rows.iter().any(|v| !v.is_finite()) {
            return Err(SpinflipError::shape(
                what,
                "simulated summaries must be finite",
            ));
        }
        let mut mean = vec![0.0; p];
        for r in rows.chunks(p) {
            mean.iter_mut().zip(r).for_each(|(m, v)| *m += v / n as f64);
        }
        let hartlap = (n - 1) as f64 / (n - p - 2) as f64;
        let mut cov = vec![0.0; p * p];
        for r in rows.chunks(p) {
            for i in 0..p {
                for j in 0..p {
                    cov[i * p + j] += (r[i] - mean[i]) * (r[j] - mean[j]);
                }
            }
        }
        cov.iter_mut().for_each(|c| *c *= hartlap / (n - 1) as f64);
        Ok(SimCovariance {
            p,
            n,
            mean,
            cov,
            hartlap,
        })
    }

    /// Standard deviation of each summary.
    pub fn sigma(&self) -> Vec<f64> {
        (0..self.p)
            .map(|i| self.cov[i * self.p + i].sqrt())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows built so the sample covariance is known exactly: +-a and +-b in two independent
    /// blocks around (1, 2).
    #[test]
    fn covariance_and_hartlap_factor() {
        let (a, b) = (0.5, 2.0);
        let mut rows = Vec::new();
        for _ in 0..5 {
            for (x, y) in [(a, b), (-a, b), (a, -b), (-a, -b)] {
                rows.extend([1.0 + x, 2.0 + y]);
            }
        }
        let c = SimCovariance::from_rows(&rows, 2, "test").unwrap();
        let n = 20.0;
        let h = (n - 1.0) / (n - 2.0 - 2.0);
        assert!((c.hartlap - h).abs() < 1e-15);
        assert!((c.mean[0] - 1.0).abs() < 1e-12 && (c.mean[1] - 2.0).abs() < 1e-12);
        // Sample variance of +-a with n - 1 in the denominator: a^2 n / (n - 1).
        assert!((c.cov[0] - h * a * a * n / (n - 1.0)).abs() < 1e-12);
        assert!((c.cov[3] - h * b * b * n / (n - 1.0)).abs() < 1e-12);
        assert!(c.cov[1].abs() < 1e-12 && c.cov[2].abs() < 1e-12);
    }

    #[test]
    fn too_few_simulations_are_an_error() {
        let e = SimCovariance::from_rows(&[0.0; 8], 2, "sims")
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least 5"), "{e}");
        assert!(SimCovariance::from_rows(&[0.0; 7], 2, "sims").is_err());
    }
}
