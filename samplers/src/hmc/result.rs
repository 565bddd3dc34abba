//! The outcome of a NUTS run: the draws of every chain, their diagnostics, posterior samples
//! and chain files.

use super::settings::NutsSettings;
use super::state::NutsState;
use crate::diagnostics::{ess_bulk, ess_tail, rank_normalized_r_hat};
use crate::driver::WriteChains;
use crate::error::SamplerError;
use crate::output::{ensure_parent, with_suffix, write_atomic, write_getdist};
use crate::parameters::ParameterSet;
use crate::samples::{PosteriorSummary, WeightedSamples};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The draws of a NUTS run and their diagnostics.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NutsResult {
    /// Parameter names (all parameters, fixed ones included).
    pub names: Vec<String>,
    /// Their LaTeX labels.
    pub latex: Vec<String>,
    /// Indices of the free parameters.
    pub free: Vec<usize>,
    /// Number of chains.
    pub n_chains: usize,
    /// Kept draws per chain.
    pub n_samples: usize,
    /// Draws, `[chain][draw][param]` row-major.
    pub draws: Vec<f64>,
    /// Log-likelihood of each draw, `[chain][draw]`.
    pub log_likelihood: Vec<f64>,
    /// Divergent transitions after warmup, per chain: each is a place the sampler could not
    /// follow the posterior (a funnel, a sharp ridge); the draws may be biased there.
    pub divergences: Vec<u64>,
    /// Divergent transitions during warmup, per chain (expected while the step size adapts).
    pub divergences_warmup: Vec<u64>,
    /// Kept transitions that hit the depth limit, per chain.
    pub max_depth_hits: Vec<u64>,
    /// Adapted step size of each chain.
    pub step_size: Vec<f64>,
    /// Mean tree depth of the kept transitions, per chain.
    pub mean_depth: Vec<f64>,
    /// Mean acceptance statistic of the kept transitions, per chain.
    pub mean_accept: Vec<f64>,
    /// Rank-normalised split R-hat of each free parameter.
    pub r_hat: Vec<f64>,
    /// Bulk effective sample size of each free parameter.
    pub ess_bulk: Vec<f64>,
    /// Tail effective sample size of each free parameter.
    pub ess_tail: Vec<f64>,
    /// Gradient evaluations (value + gradient) over all chains, warmup included.
    pub n_calls: u64,
    /// Wall time, seconds.
    pub wall_time_s: f64,
    /// The seed.
    pub seed: u64,
}

/// One free parameter's diagnostics in the JSON summary.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NutsParamDiagnostics {
    /// Parameter name.
    pub name: String,
    /// Rank-normalised split R-hat.
    pub r_hat: f64,
    /// Bulk ESS.
    pub ess_bulk: f64,
    /// Tail ESS.
    pub ess_tail: f64,
}

/// What `root.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NutsSummary {
    /// Which sampler.
    pub sampler: String,
    /// The seed.
    pub seed: u64,
    /// Chains.
    pub n_chains: usize,
    /// Kept draws per chain.
    pub n_samples: usize,
    /// Divergent transitions after warmup (all chains).
    pub divergences: u64,
    /// Kept transitions at the depth limit (all chains).
    pub max_depth_hits: u64,
    /// Adapted step sizes.
    pub step_size: Vec<f64>,
    /// Gradient evaluations.
    pub n_calls: u64,
    /// Wall time, seconds.
    pub wall_time_s: f64,
    /// Per-parameter diagnostics.
    pub diagnostics: Vec<NutsParamDiagnostics>,
    /// Posterior statistics.
    pub posterior: PosteriorSummary,
}

impl NutsResult {
    /// Builds the result and its diagnostics from the final state.
    pub(crate) fn from_state(
        params: &ParameterSet,
        settings: &NutsSettings,
        st: NutsState,
    ) -> Result<Self, SamplerError> {
        let p = params.n_params();
        let n = st
            .chains
            .iter()
            .map(|c| c.draws_log_like.len())
            .min()
            .unwrap_or(0);
        let free = params.free_indices().to_vec();
        let (mut r_hat, mut bulk, mut tail) = (Vec::new(), Vec::new(), Vec::new());
        if n >= 4 {
            for &j in &free {
                let cols: Vec<Vec<f64>> = st
                    .chains
                    .iter()
                    .map(|c| (0..n).map(|i| c.draws[i * p + j]).collect())
                    .collect();
                let s: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
                r_hat.push(rank_normalized_r_hat(&s)?);
                bulk.push(ess_bulk(&s)?);
                tail.push(ess_tail(&s)?);
            }
        }
        let kept = n.max(1) as f64;
        Ok(NutsResult {
            names: params.names(),
            latex: params.params().iter().map(|q| q.latex.clone()).collect(),
            free,
            n_chains: st.chains.len(),
            n_samples: n,
            draws: st
                .chains
                .iter()
                .flat_map(|c| c.draws[..n * p].to_vec())
                .collect(),
            log_likelihood: st
                .chains
                .iter()
                .flat_map(|c| c.draws_log_like[..n].to_vec())
                .collect(),
            divergences: st.chains.iter().map(|c| c.divergences[1]).collect(),
            divergences_warmup: st.chains.iter().map(|c| c.divergences[0]).collect(),
            max_depth_hits: st.chains.iter().map(|c| c.max_depth_hits).collect(),
            step_size: st.chains.iter().map(|c| c.step_size).collect(),
            mean_depth: st
                .chains
                .iter()
                .map(|c| c.depth_sum as f64 / kept)
                .collect(),
            mean_accept: st.chains.iter().map(|c| c.accept_sum / kept).collect(),
            r_hat,
            ess_bulk: bulk,
            ess_tail: tail,
            n_calls: st.chains.iter().map(|c| c.n_calls).sum(),
            wall_time_s: st.elapsed,
            seed: settings.seed,
        })
    }

    /// Total divergent transitions after warmup.
    pub fn total_divergences(&self) -> u64 {
        self.divergences.iter().sum()
    }

    /// Equal-weight posterior samples (every parameter), all chains pooled.
    pub fn posterior(&self) -> WeightedSamples {
        let total = self.n_chains * self.n_samples;
        WeightedSamples {
            names: self.names.clone(),
            latex: self.latex.clone(),
            theta: self.draws.clone(),
            weights: vec![1.0; total],
            log_likelihood: self.log_likelihood.clone(),
        }
    }

    /// The JSON summary.
    pub fn summary(&self) -> NutsSummary {
        NutsSummary {
            sampler: "NUTS (Hoffman & Gelman 2014; multinomial, Stan's adaptation)".into(),
            seed: self.seed,
            n_chains: self.n_chains,
            n_samples: self.n_samples,
            divergences: self.total_divergences(),
            max_depth_hits: self.max_depth_hits.iter().sum(),
            step_size: self.step_size.clone(),
            n_calls: self.n_calls,
            wall_time_s: self.wall_time_s,
            diagnostics: self
                .free
                .iter()
                .enumerate()
                .filter(|(k, _)| *k < self.r_hat.len())
                .map(|(k, &j)| NutsParamDiagnostics {
                    name: self.names[j].clone(),
                    r_hat: self.r_hat[k],
                    ess_bulk: self.ess_bulk[k],
                    ess_tail: self.ess_tail[k],
                })
                .collect(),
            posterior: self.posterior().summary(),
        }
    }

    /// Write `root.txt` and `root.paramnames` (getdist) and `root.json`.
    pub fn write_chains(&self, root: impl AsRef<Path>) -> Result<(), SamplerError> {
        let root = root.as_ref();
        ensure_parent(root)?;
        write_getdist(root, &self.posterior())?;
        let path = with_suffix(root, ".json");
        let json = serde_json::to_vec_pretty(&self.summary()).map_err(|e| {
            SamplerError::io(
                &path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })?;
        write_atomic(&path, &json)
    }
}

impl WriteChains for NutsResult {
    fn write_chains(&self, root: &Path) -> Result<(), SamplerError> {
        NutsResult::write_chains(self, root)
    }
}
