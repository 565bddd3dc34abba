//! `BIAS.toml`: the posterior-emulation-bias experiment of Dorigo Jones et al. (2023).
//!
//! ```toml
//! [output]
//! root = "out/bias"
//! [emulator]                 # the emulator under test (default: the shipped model)
//! # path = "models/global_lstm"
//! [mocks]
//! n_truths = 5               # truths drawn from the prior with `seed` (or give `truths`)
//! noise = [5.0, 10.0, 25.0, 50.0]
//! seed = 1
//! floor = true             # fit each mock a second time with the simulator (other seed)
//! # truths = [{ f_star = 0.05, V_c = 16.5, f_X = 1.0, tau = 0.055, alpha_X = 1.3, nu_min = 0.5, R_mfp = 30.0 }]
//! [sampler]                  # as in a fit configuration (nested sampling)
//! n_live = 300
//! ```

use crate::config::{ModelConfig, ParamConfig, SamplerConfig};
use crate::SpinflipError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The whole bias configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BiasConfig {
    /// Where results go.
    pub output: BiasOutput,
    /// The emulator under test.
    #[serde(default)]
    pub emulator: ModelConfig,
    /// The mock observations.
    #[serde(default)]
    pub mocks: MocksConfig,
    /// Prior overrides.
    #[serde(default)]
    pub params: BTreeMap<String, ParamConfig>,
    /// Sampler settings (nested sampling is used; `kind` must be `nested`).
    #[serde(default)]
    pub sampler: SamplerConfig,
}

/// `[output]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BiasOutput {
    /// File root: `root.md`, `root.csv`, `root.json`, `root_bias.png`, chains under `root_runs/`.
    pub root: PathBuf,
}

/// `[mocks]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MocksConfig {
    /// Number of truths drawn from the prior (ignored when `truths` is given).
    #[serde(default = "default_n")]
    pub n_truths: usize,
    /// Explicit truths (parameter name -> value; missing names take the fiducial value).
    #[serde(default)]
    pub truths: Vec<BTreeMap<String, f64>>,
    /// White-noise levels in mK.
    #[serde(default = "default_noise")]
    pub noise: Vec<f64>,
    /// Seed for the truths and the noise realisations.
    #[serde(default)]
    pub seed: u64,
    /// Draw truths from the central fraction of the prior cube (1 = whole prior), keeping
    /// them away from prior edges where the two posteriors are cut alike.
    #[serde(default = "default_central")]
    pub central_fraction: f64,
    /// Fit each mock a second time with the simulator (another sampler seed) and report
    /// that sim-vs-sim difference, the measurement's own Monte-Carlo floor, next to each
    /// bias. Costs a third fit per case.
    #[serde(default = "default_floor")]
    pub floor: bool,
}

fn default_n() -> usize {
    5
}
fn default_noise() -> Vec<f64> {
    vec![5.0, 10.0, 25.0, 50.0]
}
fn default_central() -> f64 {
    0.9
}
fn default_floor() -> bool {
    true
}

impl Default for MocksConfig {
    fn default() -> Self {
        MocksConfig {
            n_truths: default_n(),
            truths: Vec::new(),
            noise: default_noise(),
            seed: 0,
            central_fraction: default_central(),
            floor: default_floor(),
        }
    }
}

impl BiasConfig {
    /// Read, parse and validate.
    pub fn load(path: &Path) -> Result<Self, SpinflipError> {
        let s = std::fs::read_to_string(path).map_err(|e| SpinflipError::io(path, e))?;
        let c: BiasConfig = toml::from_str(&s).map_err(|e| SpinflipError::Config {
            field: path.display().to_string(),
            reason: e.to_string(),
        })?;
        c.validate()?;
        Ok(c)
    }

    /// Checks that do not need the models.
    pub fn validate(&self) -> Result<(), SpinflipError> {
        if self.mocks.noise.is_empty() {
            return Err(SpinflipError::config(
                "mocks.noise",
                "give at least one noise level in mK",
            ));
        }
        if let Some(s) = self
            .mocks
            .noise
            .iter()
            .find(|s| !(s.is_finite() && **s > 0.0))
        {
            return Err(SpinflipError::config(
                "mocks.noise",
                format!("noise levels must be > 0 mK, got {s}"),
            ));
        }
        if self.mocks.truths.is_empty() && self.mocks.n_truths == 0 {
            return Err(SpinflipError::config(
                "mocks.n_truths",
                "need at least one truth",
            ));
        }
        let f = self.mocks.central_fraction;
        if !(f > 0.0 && f <= 1.0) {
            return Err(SpinflipError::config(
                "mocks.central_fraction",
                format!("must be in (0, 1], got {f}"),
            ));
        }
        if self.sampler.kind != crate::config::SamplerKind::Nested {
            return Err(SpinflipError::config(
                "sampler.kind",
                "the bias experiment uses nested sampling (ln Z is compared)",
            ));
        }
        Ok(())
    }
}
