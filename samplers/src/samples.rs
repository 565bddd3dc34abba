//! Weighted posterior samples and their summary statistics.

use crate::error::SamplerError;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Posterior samples with (unnormalised) weights, as a nested sampler or an MCMC produces.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WeightedSamples {
    /// Parameter names (columns of `theta`).
    pub names: Vec<String>,
    /// LaTeX labels, same order.
    pub latex: Vec<String>,
    /// Row-major samples, `len() * names.len()` values.
    pub theta: Vec<f64>,
    /// Weight of each sample (not necessarily normalised).
    pub weights: Vec<f64>,
    /// Log-likelihood of each sample.
    pub log_likelihood: Vec<f64>,
}

impl WeightedSamples {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.weights.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// Number of parameters.
    pub fn n_params(&self) -> usize {
        self.names.len()
    }

    /// Sample `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        let d = self.n_params();
        &self.theta[i * d..(i + 1) * d]
    }

    /// Column `j` (one parameter over all samples).
    pub fn column(&self, j: usize) -> Vec<f64> {
        (0..self.len()).map(|i| self.row(i)[j]).collect()
    }

    /// Kish's effective sample size, (sum w)^2 / sum w^2.
    pub fn effective_sample_size(&self) -> f64 {
        kish_ess(&self.weights)
    }

    /// Weighted mean of every parameter.
    pub fn mean(&self) -> Vec<f64> {
        let d = self.n_params();
        let wsum: f64 = self.weights.iter().sum();
        let mut m = vec![0.0; d];
        for (i, &w) in self.weights.iter().enumerate() {
            for (mj, &x) in m.iter_mut().zip(self.row(i)) {
                *mj += w * x;
            }
        }
        m.iter_mut().for_each(|x| *x /= wsum);
        m
    }

    /// Weighted covariance matrix, row-major `d x d`.
    pub fn covariance(&self) -> Vec<f64> {
        let d = self.n_params();
        let m = self.mean();
        let wsum: f64 = self.weights.iter().sum();
        let mut c = vec![0.0; d * d];
        for (i, &w) in self.weights.iter().enumerate() {
            let r = self.row(i);
            for a in 0..d {
                for b in 0..d {
                    c[a * d + b] += w * (r[a] - m[a]) * (r[b] - m[b]);
                }
            }
        }
        c.iter_mut().for_each(|x| *x /= wsum);
        c
    }

    /// Weighted quantile `q` of parameter `j` (linear in the cumulative weight).
    pub fn quantile(&self, j: usize, q: f64) -> f64 {
        weighted_quantile(&self.column(j), &self.weights, q)
    }

    /// Equal-weight resampling: draws with probability proportional to weight, keeping
    /// about the effective sample size, without replacement of the systematic kind.
    pub fn resample_equal<R: Rng + ?Sized>(&self, rng: &mut R) -> WeightedSamples {
        let n = self.len();
        let wsum: f64 = self.weights.iter().sum();
        let n_out = self.effective_sample_size().floor().max(1.0) as usize;
        let mut out = WeightedSamples {
            names: self.names.clone(),
            latex: self.latex.clone(),
            ..Default::default()
        };
        if n == 0 || wsum <= 0.0 {
            return out;
        }
        // Systematic resampling: one uniform offset, evenly spaced pointers.
        let step = wsum / n_out as f64;
        let mut u = rng.random::<f64>() * step;
        let mut cum = 0.0;
        let mut i = 0;
        for _ in 0..n_out {
            while i < n - 1 && cum + self.weights[i] < u {
                cum += self.weights[i];
                i += 1;
            }
            out.theta.extend_from_slice(self.row(i));
            out.weights.push(1.0);
            out.log_likelihood.push(self.log_likelihood[i]);
            u += step;
        }
        out
    }

    /// Check that all vectors have consistent lengths and finite values.
    pub fn validate(&self) -> Result<(), SamplerError> {
        let n = self.len();
        if self.latex.len() != self.names.len() {
            return Err(SamplerError::Dimension {
                what: "latex labels".into(),
                expected: self.names.len(),
                got: self.latex.len(),
            });
        }
        if self.theta.len() != n * self.n_params() {
            return Err(SamplerError::Dimension {
                what: "sample values".into(),
                expected: n * self.n_params(),
                got: self.theta.len(),
            });
        }
        if self.log_likelihood.len() != n {
            return Err(SamplerError::Dimension {
                what: "log-likelihoods".into(),
                expected: n,
                got: self.log_likelihood.len(),
            });
        }
        Ok(())
    }

    /// Summary statistics of every parameter.
    pub fn summary(&self) -> PosteriorSummary {
        let mean = self.mean();
        let cov = self.covariance();
        let d = self.n_params();
        let params = (0..d)
            .map(|j| ParamSummary {
                name: self.names[j].clone(),
                mean: mean[j],
                std: cov[j * d + j].max(0.0).sqrt(),
                median: self.quantile(j, 0.5),
                ci68: [
                    self.quantile(j, 0.158_655_253_9),
                    self.quantile(j, 0.841_344_746_1),
                ],
                ci95: [
                    self.quantile(j, 0.022_750_131_9),
                    self.quantile(j, 0.977_249_868_1),
                ],
            })
            .collect();
        PosteriorSummary {
            params,
            n_samples: self.len(),
            effective_sample_size: self.effective_sample_size(),
        }
    }
}

/// Marginal statistics of one parameter.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParamSummary {
    /// Parameter name.
    pub name: String,
    /// Posterior mean.
    pub mean: f64,
    /// Posterior standard deviation.
    pub std: f64,
    /// Posterior median.
    pub median: f64,
    /// Central 68.27% credible interval.
    pub ci68: [f64; 2],
    /// Central 95.45% credible interval.
    pub ci95: [f64; 2],
}

/// Marginal statistics of all parameters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PosteriorSummary {
    /// One entry per parameter.
    pub params: Vec<ParamSummary>,
    /// Number of (weighted) samples.
    pub n_samples: usize,
    /// Kish effective sample size.
    pub effective_sample_size: f64,
}

impl std::fmt::Display for PosteriorSummary {
    /// A table: name, mean, standard deviation, central 68% interval.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{:<10} {:>12} {:>12} {:>27}",
            "param", "mean", "std", "68% interval"
        )?;
        for p in &self.params {
            writeln!(
                f,
                "{:<10} {:>12.4} {:>12.4} {:>13.4}..{:<13.4}",
                p.name, p.mean, p.std, p.ci68[0], p.ci68[1]
            )?;
        }
        Ok(())
    }
}

/// Kish's effective sample size of `weights`, (sum w)^2 / sum w^2 (0 for no weight).
pub fn kish_ess(weights: &[f64]) -> f64 {
    let (s, s2) = weights
        .iter()
        .fold((0.0, 0.0), |a, &w| (a.0 + w, a.1 + w * w));
    if s2 > 0.0 {
        s * s / s2
    } else {
        0.0
    }
}

/// Weighted quantile `q` of the values `x` with weights `w`, linear in the cumulative weight
/// (each value sits at the midpoint of its weight interval). NaN for no values.
pub fn weighted_quantile(x: &[f64], w: &[f64], q: f64) -> f64 {
    let mut pairs: Vec<(f64, f64)> = x.iter().copied().zip(w.iter().copied()).collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = pairs.iter().map(|p| p.1).sum();
    let target = q.clamp(0.0, 1.0) * total;
    let mut cum = 0.0;
    let mut prev: Option<(f64, f64)> = None;
    for &(x, w) in &pairs {
        let mid = cum + 0.5 * w;
        if mid >= target {
            return match prev {
                Some((px, pm)) if mid > pm => px + (x - px) * (target - pm) / (mid - pm),
                _ => x,
            };
        }
        prev = Some((x, mid));
        cum += w;
    }
    pairs.last().map(|p| p.0).unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn uniform_grid() -> WeightedSamples {
        // 1001 equally weighted points on [0, 1]
        let theta: Vec<f64> = (0..=1000).map(|i| i as f64 / 1000.0).collect();
        WeightedSamples {
            names: vec!["x".into()],
            latex: vec!["x".into()],
            weights: vec![1.0; theta.len()],
            log_likelihood: vec![0.0; theta.len()],
            theta,
        }
    }

    #[test]
    fn moments_and_quantiles_of_a_uniform_grid() {
        let s = uniform_grid();
        let sm = s.summary();
        assert!((sm.params[0].mean - 0.5).abs() < 1e-12);
        // Var of the discrete uniform grid on [0,1] with 1001 points = (n+1)/(12(n-1)) * h^2 (n-1)^2 ~ 1/12
        assert!((sm.params[0].std - (1.0f64 / 12.0).sqrt()).abs() < 1e-3);
        assert!((sm.params[0].ci68[0] - 0.1587).abs() < 2e-3);
        assert!((sm.params[0].ci95[1] - 0.9772).abs() < 2e-3);
    }

    #[test]
    fn resampling_keeps_the_mean() {
        let mut s = uniform_grid();
        // weights proportional to x: mean becomes E[x^2]/E[x] = 2/3
        s.weights = s.theta.clone();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let r = s.resample_equal(&mut rng);
        let m = r.mean()[0];
        assert!((m - 2.0 / 3.0).abs() < 0.01, "{m}");
        assert!(r.validate().is_ok());
    }
}
