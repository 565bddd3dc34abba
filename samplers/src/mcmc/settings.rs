//! Settings of the ensemble sampler: ensemble size, stopping rule, initialisation, burn-in,
//! thinning, checkpointing.

use crate::error::SamplerError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// When to stop sampling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// Run exactly this many ensemble steps.
    Steps(usize),
    /// Stop once the chain is longer than `n_tau` autocorrelation times in every dimension
    /// and the estimate of tau changed by less than `tau_rtol` since the previous check
    /// (checks every `check_every` steps), or at `max_steps` (emcee-documentation rule).
    AutoCorr {
        /// Hard cap on the number of steps.
        max_steps: usize,
        /// Steps between convergence checks (each costs an FFT of every walker's history);
        /// past `40 check_every` steps the interval doubles with the chain
        /// ([`check_interval`](crate::mcmc::ensemble::check_interval)).
        #[serde(default = "default_check_every")]
        check_every: usize,
        /// Required chain length in units of the largest tau (50 is customary).
        #[serde(default = "default_n_tau")]
        n_tau: f64,
        /// Required relative stability of every tau between checks (0.01 is customary).
        #[serde(default = "default_tau_rtol")]
        tau_rtol: f64,
    },
}

fn default_check_every() -> usize {
    100
}
fn default_n_tau() -> f64 {
    50.0
}
fn default_tau_rtol() -> f64 {
    0.01
}

impl Stop {
    /// The adaptive rule with the customary constants: check every 100 steps, stop at
    /// 50 tau with tau stable to 1%.
    ///
    /// ```
    /// use spinflip_samplers::mcmc::Stop;
    /// // The same rule in a configuration file: only max_steps is required.
    /// let s: Stop = serde_json::from_str(r#"{"auto_corr": {"max_steps": 5000}}"#).unwrap();
    /// assert_eq!(s, Stop::autocorr(5000));
    /// ```
    pub fn autocorr(max_steps: usize) -> Self {
        Stop::AutoCorr {
            max_steps,
            check_every: default_check_every(),
            n_tau: default_n_tau(),
            tau_rtol: default_tau_rtol(),
        }
    }

    /// The largest number of steps this rule allows.
    pub fn max_steps(&self) -> usize {
        match *self {
            Stop::Steps(n) => n,
            Stop::AutoCorr { max_steps, .. } => max_steps,
        }
    }
}

/// How the walkers start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// Independent draws from the prior (prior transform of uniform unit-cube points).
    Prior,
    /// A Gaussian ball: free parameter `i` drawn from `N(center[i], scale[i]^2)`; draws
    /// outside the prior are redrawn.
    Ball {
        /// Centre, one value per free parameter.
        center: Vec<f64>,
        /// Standard deviation, one value (> 0) per free parameter.
        scale: Vec<f64>,
    },
    /// Explicit starting positions, row-major `n_walkers x n_free`.
    Walkers(Vec<f64>),
}

/// Periodic checkpointing (and resuming) of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointSettings {
    /// The checkpoint file.
    pub path: PathBuf,
    /// Steps between checkpoints.
    pub every: usize,
    /// Continue from `path` if it exists (it must come from the same problem and settings).
    pub resume: bool,
}

/// Settings of [`EnsembleSampler`](super::EnsembleSampler).
///
/// `EnsembleSettings { n_walkers: 64, seed: 7, ..Default::default() }` changes a few.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnsembleSettings {
    /// Number of walkers: even and at least twice the number of free parameters.
    pub n_walkers: usize,
    /// Stopping rule.
    pub stop: Stop,
    /// Stretch-move scale `a > 1` (Goodman & Weare 2010 use 2).
    pub stretch_scale: f64,
    /// Seed of the random number generator: the same seed gives the same chain.
    pub seed: u64,
    /// Starting positions.
    pub init: Init,
    /// Steps discarded as burn-in in [`posterior`](super::EnsembleResult::posterior);
    /// `None` means twice the largest autocorrelation time. Capped at half the steps
    /// actually run (an adaptive run may stop early).
    pub burn_in: Option<usize>,
    /// Keep every `thin`-th step; `None` means half the smallest autocorrelation time.
    pub thin: Option<usize>,
    /// Sokal window constant `c` for the autocorrelation time (5).
    pub tau_window: f64,
    /// Draws allowed per walker to find a starting point inside the prior with a finite
    /// likelihood.
    pub max_init_attempts: usize,
    /// Show a progress bar on stderr (never drawn when stderr is not a terminal).
    pub progress: bool,
    /// Periodic checkpoint, if any.
    pub checkpoint: Option<CheckpointSettings>,
}

impl Default for EnsembleSettings {
    fn default() -> Self {
        EnsembleSettings {
            n_walkers: 32,
            stop: Stop::autocorr(100_000),
            stretch_scale: 2.0,
            seed: 0,
            init: Init::Prior,
            burn_in: None,
            thin: None,
            tau_window: crate::diagnostics::DEFAULT_WINDOW_C,
            max_init_attempts: 1000,
            progress: true,
            checkpoint: None,
        }
    }
}

/// Fewest steps a run may have: split R-hat needs 4 draws per chain after burn-in.
pub const MIN_STEPS: usize = 10;

fn bad(setting: &str, reason: String) -> SamplerError {
    SamplerError::InvalidSetting {
        setting: setting.into(),
        reason,
    }
}

impl EnsembleSettings {
    /// Check every setting for a problem with `n_free` free parameters; the error says how
    /// to fix it.
    pub fn validate(&self, n_free: usize) -> Result<(), SamplerError> {
        let w = self.n_walkers;
        if w < 2 * n_free || !w.is_multiple_of(2) || w == 0 {
            return Err(bad(
                "n_walkers",
                format!(
                    "got {w}; use an even number of at least 2 x {n_free} free parameters = {}",
                    2 * n_free
                ),
            ));
        }
        if !(self.stretch_scale.is_finite() && self.stretch_scale > 1.0) {
            return Err(bad(
                "stretch_scale",
                format!(
                    "got {}; use a finite value > 1 (2 is standard)",
                    self.stretch_scale
                ),
            ));
        }
        match self.stop {
            Stop::Steps(n) if n < MIN_STEPS => {
                return Err(bad(
                    "stop",
                    format!("Steps({n}) is too short; use at least {MIN_STEPS} steps"),
                ))
            }
            Stop::AutoCorr {
                max_steps,
                check_every,
                n_tau,
                tau_rtol,
            } => {
                if max_steps < MIN_STEPS {
                    return Err(bad(
                        "stop.max_steps",
                        format!("got {max_steps}; use at least {MIN_STEPS}"),
                    ));
                }
                if check_every < 2 {
                    return Err(bad(
                        "stop.check_every",
                        format!("got {check_every}; use at least 2 (100 is customary)"),
                    ));
                }
                if !(n_tau.is_finite() && n_tau > 0.0) {
                    return Err(bad(
                        "stop.n_tau",
                        format!("got {n_tau}; use a positive number (50 is customary)"),
                    ));
                }
                if !(tau_rtol.is_finite() && tau_rtol > 0.0) {
                    return Err(bad(
                        "stop.tau_rtol",
                        format!("got {tau_rtol}; use a positive number (0.01 is customary)"),
                    ));
                }
            }
            _ => {}
        }
        if let Some(b) = self.burn_in {
            if b >= self.stop.max_steps() {
                return Err(bad(
                    "burn_in",
                    format!(
                        "{b} steps would discard the whole run of at most {} steps; lower it or leave it unset (2 tau)",
                        self.stop.max_steps()
                    ),
                ));
            }
        }
        if self.thin == Some(0) {
            return Err(bad(
                "thin",
                "0; use 1 to keep every step, or leave it unset (tau / 2)".into(),
            ));
        }
        if !(self.tau_window.is_finite() && self.tau_window > 0.0) {
            return Err(bad(
                "tau_window",
                format!(
                    "got {}; use a positive number (5 is customary)",
                    self.tau_window
                ),
            ));
        }
        if self.max_init_attempts == 0 {
            return Err(bad("max_init_attempts", "0; use at least 1".into()));
        }
        match &self.init {
            Init::Prior => {}
            Init::Ball { center, scale } => {
                if center.len() != n_free || scale.len() != n_free {
                    return Err(bad(
                        "init",
                        format!(
                            "ball needs {n_free} centre and scale values (one per free parameter), got {} and {}",
                            center.len(),
                            scale.len()
                        ),
                    ));
                }
                if center.iter().any(|c| !c.is_finite())
                    || scale.iter().any(|s| !(s.is_finite() && *s > 0.0))
                {
                    return Err(bad(
                        "init",
                        "ball centre must be finite and every scale finite and > 0".into(),
                    ));
                }
            }
            Init::Walkers(x) => {
                if x.len() != w * n_free {
                    return Err(bad(
                        "init",
                        format!(
                            "explicit walkers need n_walkers x n_free = {} values, got {}",
                            w * n_free,
                            x.len()
                        ),
                    ));
                }
            }
        }
        if let Some(c) = &self.checkpoint {
            if c.every == 0 {
                return Err(bad("checkpoint.every", "0; use at least 1 step".into()));
            }
        }
        Ok(())
    }
}
