//! Samplers side by side on one problem (`spinflip bench samplers`): each runs the same
//! configuration with only `[sampler] kind` changed, and the table reports wall time,
//! likelihood calls, the smallest per-parameter effective sample size, ESS per second and
//! per call, and how far each posterior mean sits from nested sampling's in units of its
//! posterior standard deviation.

use std::path::Path;

use serde::Serialize;

use super::{run_fit, FitSummary};
use crate::config::{RunConfig, SamplerKind};
use crate::problem::Problem;
use crate::SpinflipError;

/// One sampler's row.
#[derive(Debug, Clone, Serialize)]
pub struct SamplerRow {
    /// Sampler.
    pub sampler: String,
    /// Wall time, s.
    pub wall_time_s: f64,
    /// Likelihood calls (value + gradient for NUTS).
    pub n_calls: u64,
    /// Smallest per-parameter ESS.
    pub ess_min: f64,
    /// `ess_min / wall_time_s`.
    pub ess_per_second: f64,
    /// `ess_min / n_calls`.
    pub ess_per_call: f64,
    /// Largest |mean - nested mean| / nested std over the parameters (0 for nested).
    pub max_mean_shift_sigma: Option<f64>,
    /// Posterior means, by parameter.
    pub means: Vec<(String, f64)>,
}

fn row(s: &FitSummary) -> SamplerRow {
    let ess = s.ess_min.unwrap_or(f64::NAN);
    SamplerRow {
        sampler: s.sampler.clone(),
        wall_time_s: s.wall_time_s,
        n_calls: s.n_calls,
        ess_min: ess,
        ess_per_second: ess / s.wall_time_s,
        ess_per_call: ess / s.n_calls as f64,
        max_mean_shift_sigma: None,
        means: s
            .params
            .iter()
            .map(|p| (p.stats.name.clone(), p.stats.mean))
            .collect(),
    }
}

/// Run `kinds` on the problem of `cfg`, writing each run under `out/KIND`; the shifts are
/// measured against the first nested-sampling run in `kinds`.
pub fn compare_samplers(
    cfg: &RunConfig,
    kinds: &[SamplerKind],
    out: &Path,
) -> Result<Vec<SamplerRow>, SpinflipError> {
    if let Some(k) = kinds.iter().find(|k| **k == SamplerKind::Map) {
        return Err(SpinflipError::config(
            "--kinds",
            format!("{k:?} gives a point and a Laplace approximation, not samples with an ESS: compare nested, ensemble and nuts"),
        ));
    }
    if kinds.is_empty() {
        return Err(SpinflipError::config(
            "--kinds",
            "name at least one sampler",
        ));
    }
    let problem = Problem::from_config(cfg)?;
    let mut rows = Vec::new();
    let mut nested: Option<FitSummary> = None;
    for &k in kinds {
        let mut c = cfg.clone();
        c.sampler.kind = k;
        let name = format!("{k:?}").to_lowercase();
        c.output.root = out.join(&name).join("run");
        c.output.plots = false;
        c.sampler.checkpoint_seconds = Some(0.0);
        let o = run_fit(&c, &problem, true)?;
        if k == SamplerKind::Nested && nested.is_none() {
            nested = Some(o.summary.clone());
        }
        let mut r = row(&o.summary);
        if let Some(n) = &nested {
            let free: Vec<usize> = problem.params.free_indices().to_vec();
            r.max_mean_shift_sigma = Some(
                free.iter()
                    .map(|&j| {
                        let (a, b) = (&o.summary.params[j].stats, &n.params[j].stats);
                        (a.mean - b.mean).abs() / b.std
                    })
                    .fold(0.0, f64::max),
            );
        }
        rows.push(r);
    }
    Ok(rows)
}

/// The table for the terminal, with ESS per second relative to the ensemble sampler's.
pub fn table(rows: &[SamplerRow]) -> String {
    let ens = rows
        .iter()
        .find(|r| r.sampler == "ensemble")
        .map(|r| r.ess_per_second);
    let mut s = format!(
        "{:<9} {:>9} {:>10} {:>8} {:>9} {:>10} {:>11} {:>12}\n",
        "sampler", "wall s", "calls", "ESS min", "ESS/s", "ESS/call", "vs ensemble", "mean shift"
    );
    for r in rows {
        let rel = ens
            .map(|e| format!("{:.1}x", r.ess_per_second / e))
            .unwrap_or_else(|| "-".into());
        let shift = r
            .max_mean_shift_sigma
            .map(|v| format!("{v:.3} sigma"))
            .unwrap_or_else(|| "-".into());
        s += &format!(
            "{:<9} {:>9.2} {:>10} {:>8.0} {:>9.1} {:>10.2e} {:>11} {:>12}\n",
            r.sampler,
            r.wall_time_s,
            r.n_calls,
            r.ess_min,
            r.ess_per_second,
            r.ess_per_call,
            rel,
            shift
        );
    }
    s
}
