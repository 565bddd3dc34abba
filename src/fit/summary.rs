//! The fit summary (`root_fit.json`): per-parameter statistics with the truth when known,
//! and for log-uniform parameters the same statistics of log10 of the parameter.
//!
//! The intervals (`ci68`, `ci95`) are equal-tailed: the 15.87/84.13% and 2.275/97.725%
//! weighted quantiles, the central intervals. They are not highest-density intervals: for a
//! skewed marginal they sit off the mode, and they transform with the parameter (the log10
//! interval is the log10 of the linear one), which HPD intervals do not.

use crate::config::RunConfig;
use crate::problem::Problem;
use crate::SpinflipError;
use serde::Serialize;
use spinflip_samplers::samples::ParamSummary;
use spinflip_samplers::{Prior, WeightedSamples};
use std::path::Path;

/// What kind of intervals `ci68` and `ci95` are, as the summary JSON says it.
pub const INTERVAL_KIND: &str = "equal-tailed";

/// Marginal statistics of log10 of a parameter (a log-uniform one), where its posterior is
/// usually closer to symmetric than in the parameter itself.
#[derive(Debug, Clone, Serialize)]
pub struct Log10Stats {
    /// Posterior mean of log10 of the parameter.
    pub mean: f64,
    /// Its standard deviation.
    pub std: f64,
    /// Its median.
    pub median: f64,
    /// Equal-tailed 68.27% interval of log10 of the parameter.
    pub ci68: [f64; 2],
    /// Equal-tailed 95.45% interval.
    pub ci95: [f64; 2],
}

impl Log10Stats {
    /// The statistics of log10 of column `j` of `s` (non-positive values, which a
    /// log-uniform prior never gives, are left out).
    pub fn of(s: &WeightedSamples, j: usize) -> Option<Self> {
        let (mut theta, mut weights) = (Vec::new(), Vec::new());
        for (v, w) in s.column(j).into_iter().zip(&s.weights) {
            if v > 0.0 && v.is_finite() {
                theta.push(v.log10());
                weights.push(*w);
            }
        }
        if weights.iter().sum::<f64>() <= 0.0 {
            return None;
        }
        let n = theta.len();
        let col = WeightedSamples {
            names: vec![format!("log10_{}", s.names[j])],
            latex: vec![String::new()],
            theta,
            weights,
            log_likelihood: vec![0.0; n],
        };
        let p = col.summary().params.into_iter().next()?;
        Some(Log10Stats {
            mean: p.mean,
            std: p.std,
            median: p.median,
            ci68: p.ci68,
            ci95: p.ci95,
        })
    }
}

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
    /// For a log-uniform prior: the statistics of log10 of the parameter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log10: Option<Log10Stats>,
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
    /// The kind of the parameters' `ci68` and `ci95` intervals: `equal-tailed` (central
    /// quantiles; see the module docs).
    pub interval_kind: String,
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
                let log_uniform = problem
                    .params
                    .params()
                    .get(j)
                    .is_some_and(|q| matches!(q.prior, Prior::LogUniform { .. }));
                ParamFit {
                    stats: p.clone(),
                    truth,
                    truth_in_68: truth.map(|t| p.ci68[0] <= t && t <= p.ci68[1]),
                    truth_in_95: truth.map(|t| p.ci95[0] <= t && t <= p.ci95[1]),
                    log10: log_uniform.then(|| Log10Stats::of(posterior, j)).flatten(),
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
            interval_kind: INTERVAL_KIND.into(),
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
            "{:<16} {:>12} {:>12} {:^26} {:>12}\n",
            "param", "mean", "std", "68% interval", "truth"
        );
        let row = |name: &str, mean: f64, std: f64, ci: [f64; 2], truth: Option<f64>| {
            let t = truth
                .map(|t| format!("{t:.4}"))
                .unwrap_or_else(|| "-".into());
            format!(
                "{:<16} {:>12.4} {:>12.4} {:>12.4}..{:<12.4} {:>12}\n",
                name, mean, std, ci[0], ci[1], t
            )
        };
        for f in &self.params {
            let p = &f.stats;
            s += &row(&p.name, p.mean, p.std, p.ci68, f.truth);
        }
        // Log-uniform parameters again in log10, where their posteriors are compared.
        for f in &self.params {
            if let Some(l) = &f.log10 {
                let truth = f.truth.filter(|t| *t > 0.0).map(f64::log10);
                s += &row(
                    &format!("log10 {}", f.stats.name),
                    l.mean,
                    l.std,
                    l.ci68,
                    truth,
                );
            }
        }
        s += &format!("intervals are {INTERVAL_KIND} (central quantiles), not highest-density\n");
        for n in &self.notes {
            s += &format!("note: {n}\n");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A simulator mock: f_star, V_c and f_X are log-uniform by default, the rest uniform.
    fn problem() -> (RunConfig, Problem) {
        let cfg = RunConfig::from_toml_str(
            "[output]\nroot = 'out/x'\n[model]\nkind = 'simulator'\n\
             [data.mock]\nnoise = 25.0\nseed = 1\ntruth = { f_star = 0.05 }\n",
            "test",
        )
        .unwrap();
        let p = Problem::from_config(&cfg).unwrap();
        (cfg, p)
    }

    /// Draws at the truth, with f_star spread log-normally (0.3 dex) and weighted.
    fn posterior(p: &Problem) -> WeightedSamples {
        let truth = p.truth.clone().unwrap();
        let n = 400;
        let mut theta = Vec::new();
        for i in 0..n {
            let mut t = truth.clone();
            let u = (i as f64 + 0.5) / n as f64;
            // A spread of log10 f_star symmetric about log10(0.05).
            t[0] = 0.05 * 10f64.powf(0.6 * (u - 0.5));
            theta.extend(t);
        }
        WeightedSamples {
            names: p.params.params().iter().map(|q| q.name.clone()).collect(),
            latex: p.params.params().iter().map(|q| q.latex.clone()).collect(),
            theta,
            weights: (0..n).map(|i| 1.0 + (i % 3) as f64).collect(),
            log_likelihood: vec![0.0; n],
        }
    }

    #[test]
    fn log_uniform_parameters_get_log10_statistics() {
        let (cfg, p) = problem();
        let post = posterior(&p);
        let s = FitSummary::new(&cfg, &p, &post, None, 10, 1.0, "nested");
        let json: serde_json::Value = serde_json::to_value(&s).unwrap();
        assert_eq!(json["interval_kind"], "equal-tailed");
        let params = json["params"].as_array().unwrap();
        // The fields users read are all still there.
        for k in ["name", "mean", "std", "median", "ci68", "ci95", "truth"] {
            assert!(params[0].get(k).is_some(), "{k}");
        }
        let logs: Vec<bool> = params.iter().map(|q| q.get("log10").is_some()).collect();
        assert_eq!(logs, [true, true, true, false, false, false, false]);
        // f_star: log10 spread uniformly over log10(0.05) +- 0.3, so its mean is there and
        // its std is 0.6 / sqrt(12), while the linear mean is pulled up by the long tail.
        let l = s.params[0].log10.as_ref().unwrap();
        assert!((l.mean - 0.05f64.log10()).abs() < 0.01, "{l:?}");
        assert!((l.std - 0.6 / 12f64.sqrt()).abs() < 0.01, "{l:?}");
        assert!(s.params[0].stats.mean > 0.053, "{:?}", s.params[0].stats);
        // Equal-tailed intervals map through the log10 (up to the quantiles' interpolation
        // between neighbouring draws, 0.0015 dex apart here).
        let lin = s.params[0].stats.ci68;
        assert!((l.ci68[0] - lin[0].log10()).abs() < 2e-3, "{l:?} {lin:?}");
        assert!((l.ci68[1] - lin[1].log10()).abs() < 2e-3, "{l:?} {lin:?}");
        // A point mass in log10 too.
        let v = s.params[1].log10.as_ref().unwrap();
        assert!(v.std < 1e-9 && (v.mean - p.truth.as_ref().unwrap()[1].log10()).abs() < 1e-9);
        let t = s.table();
        assert!(
            t.contains("log10 f_star") && t.contains("equal-tailed"),
            "{t}"
        );
        assert!(!t.contains("log10 tau"), "{t}");
    }
}
