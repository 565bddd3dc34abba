//! The fit summary (`root_fit.json`): per-parameter statistics with the truth when known.

use crate::config::RunConfig;
use crate::problem::Problem;
use crate::SpinflipError;
use serde::Serialize;
use spinflip_samplers::samples::ParamSummary;
use spinflip_samplers::WeightedSamples;
use std::path::Path;

/// One parameter's marginal posterior, and where the truth falls in it.
#[derive(Debug, Clone, Serialize)]
pub struct ParamFit {
    /// Name, mean, std, median, 68% and 95% intervals.
    #[serde(flatten)]
    pub stats: ParamSummary,
    /// The true value (mock data).
    pub truth: Option<f64>,
    /// Whether the truth lies in the 68% interval.
    pub truth_in_68: Option<bool>,
    /// Whether the truth lies in the 95% interval.
    pub truth_in_95: Option<bool>,
}

/// Summary of a fit.
#[derive(Debug, Clone, Serialize)]
pub struct FitSummary {
    /// `nested` or `ensemble`.
    pub sampler: String,
    /// Forward model used for the fit.
    pub model: String,
    /// ln Z (nested sampling only).
    pub log_evidence: Option<f64>,
    /// Its error.
    pub log_evidence_err: Option<f64>,
    /// Likelihood calls.
    pub n_calls: u64,
    /// Wall time of the sampler in seconds.
    pub wall_time_s: f64,
    /// Number of data channels fitted.
    pub n_channels: usize,
    /// Kish effective sample size of the posterior's weights (for MCMC, where every draw
    /// weighs the same, the number of draws: see `ess_min`).
    pub effective_sample_size: f64,
    /// Smallest effective sample size over the sampled parameters, the number to compare
    /// samplers by: the Kish size for nested sampling (independent weighted points), the
    /// autocorrelation-time ESS for the ensemble, the bulk ESS for NUTS; none for MAP.
    pub ess_min: Option<f64>,
    /// Per-parameter results.
    pub params: Vec<ParamFit>,
    /// Warnings about the run (divergences, unmixed chains, no Laplace covariance).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl FitSummary {
    /// Build from the posterior.
    pub fn new(
        cfg: &RunConfig,
        problem: &Problem,
        posterior: &WeightedSamples,
        log_z: Option<(f64, f64)>,
        n_calls: u64,
        wall_time_s: f64,
        sampler: &str,
    ) -> Self {
        let s = posterior.summary();
        let params = s
            .params
            .iter()
            .enumerate()
            .map(|(j, p)| {
                let truth = problem
                    .truth
                    .as_ref()
                    .and_then(|t| t.get(j).copied())
                    .filter(|v| v.is_finite());
                ParamFit {
                    stats: p.clone(),
                    truth,
                    truth_in_68: truth.map(|t| p.ci68[0] <= t && t <= p.ci68[1]),
                    truth_in_95: truth.map(|t| p.ci95[0] <= t && t <= p.ci95[1]),
                }
            })
            .collect();
        FitSummary {
            sampler: sampler.into(),
            model: match (&cfg.model.kind, &cfg.model.path) {
                (k, Some(p)) => format!("{k} ({})", p.display()),
                (k, None) => k.clone(),
            },
            log_evidence: log_z.map(|z| z.0),
            log_evidence_err: log_z.map(|z| z.1),
            n_calls,
            wall_time_s,
            n_channels: problem.likelihood.data().len(),
            effective_sample_size: s.effective_sample_size,
            ess_min: None,
            params,
            notes: Vec::new(),
        }
    }

    /// Write as pretty JSON, atomically.
    pub fn write(&self, path: &Path) -> Result<(), SpinflipError> {
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| SpinflipError::config("summary", e.to_string()))?;
        spinflip_samplers::output::write_atomic(path, json.as_bytes())?;
        Ok(())
    }

    /// A human-readable table for the terminal.
    pub fn table(&self) -> String {
        let mut s = String::new();
        match (self.log_evidence, self.log_evidence_err) {
            (Some(z), Some(e)) if e.is_finite() => s += &format!("ln Z = {z:.3} +- {e:.3}\n"),
            (Some(z), _) => s += &format!("ln Z ~ {z:.3} (Laplace approximation)\n"),
            _ => {}
        }
        s += &format!(
            "{} likelihood calls, {:.1} s, {} channels, ESS {:.0}\n",
            self.n_calls,
            self.wall_time_s,
            self.n_channels,
            self.ess_min.unwrap_or(self.effective_sample_size)
        );
        s += &format!(
            "{:<10} {:>12} {:>12} {:>25} {:>12}\n",
            "param", "mean", "std", "68% interval", "truth"
        );
        for f in &self.params {
            let p = &f.stats;
            let t = f
                .truth
                .map(|t| format!("{t:.4}"))
                .unwrap_or_else(|| "-".into());
            s += &format!(
                "{:<10} {:>12.4} {:>12.4} {:>12.4}..{:<12.4} {:>12}\n",
                p.name, p.mean, p.std, p.ci68[0], p.ci68[1], t
            );
        }
        for n in &self.notes {
            s += &format!("note: {n}\n");
        }
        s
    }
}
