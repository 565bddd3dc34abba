//! The outcome of an ensemble run: the chain, its diagnostics, posterior samples and files.

use super::settings::{EnsembleSettings, Stop};
use super::state::ChainState;
use crate::diagnostics::{
    acceptance_fraction, effective_sample_size, ensemble_autocorr_time, rank_normalized_r_hat,
};
use crate::error::SamplerError;
use crate::output::{ensure_parent, with_suffix, write_atomic, write_getdist};
use crate::parameters::ParameterSet;
use crate::samples::{PosteriorSummary, WeightedSamples};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The chain of an ensemble run and its diagnostics. All arrays cover the **free**
/// parameters only, in [`ParameterSet`] order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnsembleResult {
    /// Names of the free parameters.
    pub names: Vec<String>,
    /// Their LaTeX labels.
    pub latex: Vec<String>,
    /// Steps taken.
    pub n_steps: usize,
    /// Number of walkers.
    pub n_walkers: usize,
    /// Number of free parameters.
    pub n_dim: usize,
    /// Positions, row-major `[step][walker][dim]`.
    pub chain: Vec<f64>,
    /// Log posterior (log prior + log-likelihood), `[step][walker]`.
    pub log_prob: Vec<f64>,
    /// Log-likelihood, `[step][walker]`.
    pub log_likelihood: Vec<f64>,
    /// Fraction of accepted proposals of each walker.
    pub acceptance_fraction: Vec<f64>,
    /// Integrated autocorrelation time of each free parameter, in steps, over the whole chain.
    pub tau: Vec<f64>,
    /// Rank-normalised split R-hat of each free parameter over the walkers, after burn-in.
    pub r_hat: Vec<f64>,
    /// Effective sample size of each free parameter after burn-in,
    /// `(n_steps - burn_in) * n_walkers / tau`.
    pub effective_sample_size: Vec<f64>,
    /// Steps discarded by [`posterior`](Self::posterior).
    pub burn_in: usize,
    /// Step stride of [`posterior`](Self::posterior).
    pub thin: usize,
    /// With [`Stop::AutoCorr`]: the stopping rule was met before `max_steps`. With
    /// [`Stop::Steps`]: the chain is longer than 50 times the largest tau.
    pub converged: bool,
    /// Points sent to the likelihood (proposals outside the prior are not counted).
    pub n_calls: u64,
    /// Wall time in seconds (summed over resumed sessions).
    pub wall_time_s: f64,
    /// The seed.
    pub seed: u64,
}

/// Diagnostics of one parameter in the JSON summary.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParamDiagnostics {
    /// Parameter name.
    pub name: String,
    /// Integrated autocorrelation time (steps).
    pub tau: f64,
    /// Rank-normalised split R-hat.
    pub r_hat: f64,
    /// Effective sample size.
    pub effective_sample_size: f64,
}

/// What `root.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EnsembleSummary {
    /// Which sampler made the chain.
    pub sampler: String,
    /// The seed.
    pub seed: u64,
    /// Number of walkers.
    pub n_walkers: usize,
    /// Steps taken.
    pub n_steps: usize,
    /// Steps discarded.
    pub burn_in: usize,
    /// Stride of the kept steps.
    pub thin: usize,
    /// Whether the stopping rule was met (see [`EnsembleResult::converged`]).
    pub converged: bool,
    /// Likelihood evaluations.
    pub n_calls: u64,
    /// Wall time in seconds.
    pub wall_time_s: f64,
    /// Mean acceptance fraction over walkers.
    pub acceptance_fraction: f64,
    /// Per-parameter diagnostics.
    pub diagnostics: Vec<ParamDiagnostics>,
    /// Means, standard deviations and 68/95% intervals of the kept samples.
    pub posterior: PosteriorSummary,
}

impl EnsembleResult {
    /// Builds the result and its diagnostics from the final state.
    pub(crate) fn from_state(
        params: &ParameterSet,
        settings: &EnsembleSettings,
        st: ChainState,
    ) -> Result<Self, SamplerError> {
        let (w, d, n) = (settings.n_walkers, params.n_free(), st.step);
        let tau = ensemble_autocorr_time(&st.chain, n, w, d, settings.tau_window)?;
        let tau_max = tau.iter().cloned().fold(0.0, f64::max);
        let tau_min = tau.iter().cloned().fold(f64::INFINITY, f64::min);
        // Burn-in never takes more than half the run (split R-hat needs draws to work on).
        let burn_in = settings
            .burn_in
            .unwrap_or((2.0 * tau_max).ceil() as usize)
            .min(n / 2);
        let thin = settings
            .thin
            .unwrap_or(((0.5 * tau_min).floor() as usize).max(1));
        let kept = n - burn_in;
        let mut series = vec![vec![0.0; kept]; w];
        let mut r_hat = Vec::with_capacity(d);
        for j in 0..d {
            for (k, s) in series.iter_mut().enumerate() {
                for (t, v) in s.iter_mut().enumerate() {
                    *v = st.chain[((burn_in + t) * w + k) * d + j];
                }
            }
            let refs: Vec<&[f64]> = series.iter().map(Vec::as_slice).collect();
            r_hat.push(rank_normalized_r_hat(&refs)?);
        }
        let effective_sample_size = tau
            .iter()
            .map(|&t| effective_sample_size(kept * w, t))
            .collect();
        let converged = match settings.stop {
            Stop::AutoCorr { .. } => st.converged,
            Stop::Steps(_) => n as f64 > 50.0 * tau_max,
        };
        let free = params.free_indices();
        Ok(EnsembleResult {
            names: free
                .iter()
                .map(|&i| params.params()[i].name.clone())
                .collect(),
            latex: free
                .iter()
                .map(|&i| params.params()[i].latex.clone())
                .collect(),
            n_steps: n,
            n_walkers: w,
            n_dim: d,
            acceptance_fraction: st
                .accepted
                .iter()
                .map(|&a| acceptance_fraction(a, n as u64))
                .collect(),
            chain: st.chain,
            log_prob: st.chain_log_prob,
            log_likelihood: st.chain_log_like,
            tau,
            r_hat,
            effective_sample_size,
            burn_in,
            thin,
            converged,
            n_calls: st.n_calls,
            wall_time_s: st.elapsed_s,
            seed: settings.seed,
        })
    }

    /// Mean acceptance fraction over walkers (0.2-0.5 is healthy for the stretch move).
    pub fn mean_acceptance_fraction(&self) -> f64 {
        self.acceptance_fraction.iter().sum::<f64>() / self.n_walkers.max(1) as f64
    }

    /// Position of `walker` at `step`.
    pub fn position(&self, step: usize, walker: usize) -> &[f64] {
        let i = (step * self.n_walkers + walker) * self.n_dim;
        &self.chain[i..i + self.n_dim]
    }

    /// Equal-weight posterior samples of the free parameters (fixed parameters are left
    /// out: they carry no information): every walker at steps `burn_in, burn_in + thin, ...`.
    pub fn posterior(&self) -> WeightedSamples {
        let mut s = WeightedSamples {
            names: self.names.clone(),
            latex: self.latex.clone(),
            ..Default::default()
        };
        for step in (self.burn_in..self.n_steps).step_by(self.thin.max(1)) {
            for k in 0..self.n_walkers {
                s.theta.extend_from_slice(self.position(step, k));
                s.weights.push(1.0);
                s.log_likelihood
                    .push(self.log_likelihood[step * self.n_walkers + k]);
            }
        }
        s
    }

    /// The JSON summary: diagnostics and posterior statistics.
    pub fn summary(&self) -> EnsembleSummary {
        EnsembleSummary {
            sampler: "affine-invariant ensemble (stretch move, Goodman & Weare 2010)".into(),
            seed: self.seed,
            n_walkers: self.n_walkers,
            n_steps: self.n_steps,
            burn_in: self.burn_in,
            thin: self.thin,
            converged: self.converged,
            n_calls: self.n_calls,
            wall_time_s: self.wall_time_s,
            acceptance_fraction: self.mean_acceptance_fraction(),
            diagnostics: (0..self.n_dim)
                .map(|j| ParamDiagnostics {
                    name: self.names[j].clone(),
                    tau: self.tau[j],
                    r_hat: self.r_hat[j],
                    effective_sample_size: self.effective_sample_size[j],
                })
                .collect(),
            posterior: self.posterior().summary(),
        }
    }

    /// Write `root.txt` and `root.paramnames` (getdist, from [`posterior`](Self::posterior))
    /// and `root.json` ([`summary`](Self::summary)), each atomically.
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

impl crate::driver::WriteChains for EnsembleResult {
    fn write_chains(&self, root: &Path) -> Result<(), SamplerError> {
        EnsembleResult::write_chains(self, root)
    }
}
