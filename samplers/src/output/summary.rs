//! `root.json`: a machine-readable run summary (evidence, posterior statistics, cost,
//! settings) for scripts and for comparing runs.

use super::files::{ensure_parent, with_suffix, write_atomic};
use crate::error::SamplerError;
use crate::nested::NestedResult;
use crate::samples::PosteriorSummary;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Summary of one sampler run, as written to `root.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSummary {
    /// Sampler name, e.g. `"nested"`.
    pub sampler: String,
    /// ln Z (nested sampling only).
    pub log_evidence: Option<f64>,
    /// Error of ln Z.
    pub log_evidence_err: Option<f64>,
    /// Information H in nats.
    pub information: Option<f64>,
    /// Posterior means, standard deviations, medians, 68% and 95% intervals.
    pub posterior: PosteriorSummary,
    /// Likelihood calls.
    pub n_calls: u64,
    /// Iterations.
    pub n_iterations: usize,
    /// Wall time in seconds.
    pub wall_time_s: f64,
    /// Live points (nested sampling only).
    pub n_live: Option<usize>,
    /// New points drawn by slice sampling, the rest by rejection (nested sampling only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_sliced: Option<usize>,
    /// Whether the stopping criterion was met.
    pub converged: bool,
    /// Seed.
    pub seed: u64,
    /// The sampler's settings as given.
    pub settings: serde_json::Value,
}

impl RunSummary {
    /// Summary of a nested-sampling result.
    pub fn from_nested(r: &NestedResult) -> Self {
        RunSummary {
            sampler: "nested".into(),
            log_evidence: Some(r.log_evidence),
            log_evidence_err: Some(r.log_evidence_err),
            information: Some(r.information),
            posterior: r.posterior().summary(),
            n_calls: r.n_calls,
            n_iterations: r.n_iterations,
            wall_time_s: r.wall_time.as_secs_f64(),
            n_live: Some(r.settings.n_live),
            n_sliced: Some(r.n_sliced),
            converged: r.converged,
            seed: r.settings.seed,
            settings: serde_json::to_value(&r.settings).unwrap_or(serde_json::Value::Null),
        }
    }

    /// Writes `root.json` (pretty-printed).
    pub fn write(&self, root: &Path) -> Result<(), SamplerError> {
        ensure_parent(root)?;
        let path = with_suffix(root, ".json");
        let text = serde_json::to_string_pretty(self).map_err(|e| SamplerError::Io {
            path: path.display().to_string(),
            source: std::io::Error::other(e),
        })?;
        write_atomic(&path, text.as_bytes())
    }
}
