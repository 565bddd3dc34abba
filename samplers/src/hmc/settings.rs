//! Settings of the NUTS sampler.

use super::metric::MetricKind;
use crate::error::SamplerError;
use serde::{Deserialize, Serialize};

/// Settings of [`NutsSampler`](super::NutsSampler).
///
/// `NutsSettings { n_chains: 4, seed: 7, ..Default::default() }` changes a few.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NutsSettings {
    /// Independent chains (run in parallel).
    pub n_chains: usize,
    /// Warmup iterations per chain (step size and metric adaptation; not kept).
    pub n_warmup: usize,
    /// Kept iterations per chain.
    pub n_samples: usize,
    /// Target acceptance statistic of the step-size adaptation (Stan: 0.8; raise it toward
    /// 0.95 when divergences appear).
    pub target_accept: f64,
    /// Largest tree depth: at most `2^max_depth` leapfrog steps per iteration.
    pub max_depth: usize,
    /// Diagonal or dense metric.
    pub metric: MetricKind,
    /// Seed: chain `k` uses a stream derived from `(seed, k)`; same seed, same chains.
    pub seed: u64,
    /// Starting point (all parameters, physical units); `None`: each chain starts at a
    /// random point with unconstrained coordinates in (-2, 2), as Stan does.
    pub init: Option<Vec<f64>>,
    /// The metric to start from: a covariance of the free parameters' unconstrained
    /// coordinates (row-major `d x d`), such as the Laplace covariance at their mode
    /// ([`MapResult::covariance_unconstrained`](crate::map::MapResult)); `None`: the unit
    /// metric, as Stan. A start that fits the posterior's scales saves most of the first
    /// windows' cost, where a unit metric on parameters of very different widths needs
    /// hundreds of steps per iteration.
    pub init_inv_metric: Option<Vec<f64>>,
    /// Show a progress line.
    pub progress: bool,
}

impl Default for NutsSettings {
    fn default() -> Self {
        NutsSettings {
            n_chains: 4,
            n_warmup: 1000,
            n_samples: 1000,
            target_accept: 0.8,
            max_depth: 10,
            metric: MetricKind::Diag,
            seed: 0,
            init: None,
            init_inv_metric: None,
            progress: false,
        }
    }
}

fn invalid(setting: &str, reason: String) -> SamplerError {
    SamplerError::InvalidSetting {
        setting: setting.into(),
        reason,
    }
}

impl NutsSettings {
    /// Checks the settings for `n_params` parameters.
    pub fn validate(&self, n_params: usize) -> Result<(), SamplerError> {
        if self.n_chains == 0 {
            return Err(invalid("n_chains", "need at least one chain".into()));
        }
        if self.n_samples < 4 {
            return Err(invalid(
                "n_samples",
                format!(
                    "need at least 4 kept draws per chain for the diagnostics, got {}",
                    self.n_samples
                ),
            ));
        }
        if !(self.target_accept > 0.0 && self.target_accept < 1.0) {
            return Err(invalid(
                "target_accept",
                format!("must be in (0, 1), got {}", self.target_accept),
            ));
        }
        if !(1..=20).contains(&self.max_depth) {
            return Err(invalid(
                "max_depth",
                format!("must be 1..=20, got {}", self.max_depth),
            ));
        }
        if let Some(init) = &self.init {
            if init.len() != n_params {
                return Err(invalid(
                    "init",
                    format!("{} values for {n_params} parameters", init.len()),
                ));
            }
        }
        Ok(())
    }

    /// Checks [`init_inv_metric`](Self::init_inv_metric) for `d` free parameters: `d x d`,
    /// finite, symmetric and positive definite.
    pub fn validate_inv_metric(&self, d: usize) -> Result<(), SamplerError> {
        let Some(c) = &self.init_inv_metric else {
            return Ok(());
        };
        if c.len() != d * d {
            return Err(invalid(
                "init_inv_metric",
                format!("{} values for a {d} x {d} matrix", c.len()),
            ));
        }
        let symmetric = (0..d).all(|a| {
            (0..a).all(|b| {
                (c[a * d + b] - c[b * d + a]).abs() <= 1e-9 * (c[a * d + a] * c[b * d + b]).sqrt()
            })
        });
        if c.iter().any(|v| !v.is_finite())
            || !symmetric
            || crate::nested::linalg::cholesky(c, d).is_none()
        {
            return Err(invalid(
                "init_inv_metric",
                "must be a finite, symmetric, positive definite covariance".into(),
            ));
        }
        Ok(())
    }
}
