//! Run configuration (TOML, cobaya-like): parameters with priors, data, model, sampler, output.
//!
//! ```toml
//! [output]
//! root = "out/global_fit"          # chains are written as out/global_fit_dead-birth.txt, ...
//!
//! [model]
//! kind = "emulator"                # a registered model kind: "emulator" (default: the shipped
//!                                  # model) or "simulator"; see spinflip::models
//! # path = "models/global_lstm"    # another emulator model file
//!
//! [data]
//! band = [50.0, 200.0]             # optional frequency cut, MHz
//! # file = "spectrum.txt"          # measured data instead of the mock: nu_MHz T_mK [sigma_mK]
//! # sigma = 25.0                   # mK, for a file without a sigma column (or to override it)
//! # covariance = "cov.npy"         # or a full noise covariance: n x n, mK^2, over the n lines
//! #                                # of `file` (the band cut is applied to it too)
//! [data.mock]                      # a mock from known parameters (or: file = "spectrum.txt")
//! noise = 25.0                     # mK
//! seed = 1
//! truth = { f_star = 0.05, V_c = 16.5, f_X = 1.0, tau = 0.055, alpha_X = 1.3, nu_min = 0.5, R_mfp = 30.0 }
//!
//! [params.f_star]                  # optional: override the default 21cmGEM prior
//! prior = { dist = "log_uniform", min = 1e-3, max = 0.5 }
//! latex = 'f_\star'
//!
//! [sampler]
//! kind = "nested"                  # or "ensemble", "nuts", "map"
//! n_live = 400
//! seed = 42
//! ```

use crate::SpinflipError;
use serde::Deserialize;
use spinflip_samplers::Prior;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A whole run configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Where results go.
    pub output: OutputConfig,
    /// The forward model.
    #[serde(default)]
    pub model: ModelConfig,
    /// The data to fit.
    pub data: DataConfig,
    /// Prior overrides and extra (foreground) parameters, by name.
    #[serde(default)]
    pub params: BTreeMap<String, ParamConfig>,
    /// Optional log-polynomial foreground fitted with the signal.
    #[serde(default)]
    pub foreground: Option<ForegroundConfig>,
    /// The sampler and its settings.
    #[serde(default)]
    pub sampler: SamplerConfig,
}

/// `[output]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// File root (a prefix, e.g. `out/run`; the directory is created).
    pub root: PathBuf,
    /// Write PNG plots (corner, posterior predictive).
    #[serde(default = "yes")]
    pub plots: bool,
}

fn yes() -> bool {
    true
}

/// `[model]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Which forward model: a registered kind (see [`crate::models`]); default `"emulator"`.
    #[serde(default = "default_kind")]
    pub kind: String,
    /// A model file (emulator) instead of the shipped one.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Let the emulator extrapolate outside its training range instead of rejecting points.
    #[serde(default)]
    pub allow_extrapolation: bool,
    /// Cut priors that reach outside the model's valid range to it (the prior mass lost is
    /// reported) instead of refusing the configuration.
    #[serde(default)]
    pub truncate_priors: bool,
    /// `maps_ps`: white thermal noise per cell of the observed light-cone, rms mK; the
    /// power-spectrum likelihood adds its power and variance to every bin (0: none). A mock
    /// then needs `[data.mock] noise` equal to it.
    #[serde(default)]
    pub thermal_noise_mk: f64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            kind: default_kind(),
            path: None,
            allow_extrapolation: false,
            truncate_priors: false,
            thermal_noise_mk: 0.0,
        }
    }
}

impl ModelConfig {
    /// The model of kind `kind` with default options.
    pub fn of_kind(kind: impl Into<String>) -> Self {
        ModelConfig {
            kind: kind.into(),
            ..Default::default()
        }
    }
}

fn default_kind() -> String {
    "emulator".into()
}

/// `[data]`: a file or a mock, an optional band and noise override.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Text file with columns `nu_MHz  T_mK  [sigma_mK]` (`#` comments).
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// A mock from known parameters.
    #[serde(default)]
    pub mock: Option<MockConfig>,
    /// Keep channels in `[lo, hi]` MHz.
    #[serde(default)]
    pub band: Option<[f64; 2]>,
    /// Noise for a file without a sigma column (mK), or to override it.
    #[serde(default)]
    pub sigma: Option<f64>,
    /// A full noise covariance: an NPY file holding an `n x n` array (mK^2, float64 or
    /// float32) over the `n` lines of `file`, in the same order. It replaces `sigma` and the
    /// file's sigma column; `band` cuts it as it cuts the data. Must be symmetric and positive
    /// definite.
    #[serde(default)]
    pub covariance: Option<PathBuf>,
}

/// `[data.mock]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MockConfig {
    /// Parameter values of the truth, by name (missing ones take the fiducial value).
    #[serde(default)]
    pub truth: BTreeMap<String, f64>,
    /// Noise level in mK: white noise on every output of a spectrum or vector mock (must
    /// then be positive); pixel noise of a simulated light-cone for the map kinds.
    #[serde(default)]
    pub noise: f64,
    /// Seed of the noise realisation.
    #[serde(default)]
    pub seed: u64,
    /// Which model kind makes the mock (default: the fit model kind's truth model, e.g.
    /// the simulator for the emulator).
    #[serde(default)]
    pub model: Option<String>,
}

/// `[params.NAME]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamConfig {
    /// The prior (`{ dist = "uniform", min = .., max = .. }`, ...).
    #[serde(default)]
    pub prior: Option<Prior>,
    /// LaTeX label.
    #[serde(default)]
    pub latex: Option<String>,
}

/// `[foreground]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForegroundConfig {
    /// Polynomial order N (coefficients fg_a0..fg_aN, each needs a `[params.fg_aI]` prior).
    pub order: usize,
    /// Reference frequency in MHz.
    #[serde(default = "nu0_default")]
    pub nu0: f64,
}

fn nu0_default() -> f64 {
    75.0
}

/// `[sampler]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplerConfig {
    /// `nested`, `ensemble`, `nuts` or `map`.
    #[serde(default)]
    pub kind: SamplerKind,
    /// Seed of every random draw of the sampler.
    #[serde(default)]
    pub seed: u64,
    /// Nested: number of live points.
    #[serde(default)]
    pub n_live: Option<usize>,
    /// Nested: live points at the start, tapered down to `n_live` over the first `taper`
    /// e-folds of prior volume (default `n_live`, no taper; setting it replaces the restart
    /// for separated modes by this taper from the start).
    #[serde(default)]
    pub n_live_start: Option<usize>,
    /// Nested: e-folds of prior volume over which `n_live_start` tapers (default 5).
    #[serde(default)]
    pub taper: Option<f64>,
    /// Nested: `auto` (default: at each bound update, rejection from the ellipsoids or slice
    /// sampling, whichever is predicted to need fewer calls per new point), `rejection` or
    /// `slice`.
    #[serde(default)]
    pub method: Option<spinflip_samplers::nested::Method>,
    /// Nested: start again with `8 * n_live` live points tapering over 12 e-folds (or three
    /// times the e-folds at which the modes separated, if more) when the bounds first hold
    /// separated modes (default true; only without `n_live_start`, not
    /// for `method = "slice"`, and up to 10 free parameters).
    #[serde(default)]
    pub restart_on_modes: Option<bool>,
    /// Nested: slice-sampling steps per new point, whenever points are slice sampled (default
    /// `ceil(1.5 d)`; `2 d` above ~40 free parameters, see the README).
    #[serde(default)]
    pub n_repeats: Option<usize>,
    /// Nested: step slice intervals out before shrinking them (default false: one interval
    /// of adapted width, ~0.7x the calls at the same accuracy; see samplers/README.md).
    #[serde(default)]
    pub step_out: Option<bool>,
    /// Nested: slice chains run in lockstep, each round's proposals evaluated in one batched
    /// call (default 1; the number of cores for a threaded simulator; see the README).
    #[serde(default)]
    pub slice_chains: Option<usize>,
    /// Nested: stop when the remaining evidence is below this (ln units).
    #[serde(default)]
    pub dlogz: Option<f64>,
    /// Nested: most candidates evaluated per batched call (rejection sampling); the batch
    /// adapts to the acceptance rate. Default 64 for the emulator, 8 for the simulator.
    #[serde(default)]
    pub batch_size: Option<usize>,
    /// Ensemble: number of walkers, even and at least 2 x the free parameters (default
    /// 4 x the free parameters, at least 32).
    #[serde(default)]
    pub n_walkers: Option<usize>,
    /// Ensemble: fixed number of steps (default: stop at 50 autocorrelation times).
    #[serde(default)]
    pub n_steps: Option<usize>,
    /// Ensemble: cap on the number of steps when stopping on the autocorrelation time
    /// (default 100,000).
    #[serde(default)]
    pub max_steps: Option<usize>,
    /// NUTS: chains (default 4, run in parallel).
    #[serde(default)]
    pub n_chains: Option<usize>,
    /// NUTS: warmup iterations per chain (default 1000).
    #[serde(default)]
    pub n_warmup: Option<usize>,
    /// NUTS: kept iterations per chain (default 1000).
    #[serde(default)]
    pub n_samples: Option<usize>,
    /// NUTS: target acceptance statistic (default 0.8; raise toward 0.95 on divergences).
    #[serde(default)]
    pub target_accept: Option<f64>,
    /// NUTS: `diag` (default), `dense`, or `transport` (a nonlinear map fitted to the warmup
    /// draws, for curved posteriors) metric.
    #[serde(default)]
    pub metric: Option<spinflip_samplers::hmc::MetricKind>,
    /// MAP (and NUTS's starting point): optimiser starts (default 4).
    #[serde(default)]
    pub n_starts: Option<usize>,
    /// Also write the checkpoint (`root.checkpoint`) every this many iterations.
    #[serde(default)]
    pub checkpoint_every: Option<usize>,
    /// Write the checkpoint every this many seconds of wall time (default 10; 0: only when
    /// the run stops). A killed run loses at most this much work.
    #[serde(default)]
    pub checkpoint_seconds: Option<f64>,
    /// Require a checkpoint to resume from (`spinflip fit --resume`). Without it, an
    /// unfinished checkpoint of the same run is resumed anyway and none means a fresh start.
    #[serde(default)]
    pub resume: bool,
    /// Hide the progress (a status line on a terminal, a line every 10 s otherwise).
    #[serde(default)]
    pub quiet: bool,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        SamplerConfig {
            kind: SamplerKind::Nested,
            seed: 0,
            n_live: None,
            n_live_start: None,
            taper: None,
            restart_on_modes: None,
            n_repeats: None,
            step_out: None,
            slice_chains: None,
            method: None,
            dlogz: None,
            batch_size: None,
            n_walkers: None,
            n_steps: None,
            max_steps: None,
            n_chains: None,
            n_warmup: None,
            n_samples: None,
            target_accept: None,
            metric: None,
            n_starts: None,
            checkpoint_every: None,
            checkpoint_seconds: None,
            resume: false,
            quiet: false,
        }
    }
}

/// The sampler family.
#[derive(Debug, Clone, Copy, Deserialize, Default, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum SamplerKind {
    /// Nested sampling (evidence and posterior).
    #[default]
    Nested,
    /// Affine-invariant ensemble MCMC.
    Ensemble,
    /// The No-U-Turn Sampler (gradients of the likelihood; chains started at the MAP).
    Nuts,
    /// The maximum a posteriori point and the Laplace approximation around it.
    Map,
}

/// Priors whose values are wrong (min > max, a negative width) are checked here, before the
/// typed parse, so the error names the parameter and the field rather than a TOML position
/// with an empty name. Syntax errors are left to the typed parse.
fn check_priors(s: &str) -> Result<(), SpinflipError> {
    let Ok(doc) = s.parse::<toml::Table>() else {
        return Ok(());
    };
    let Some(params) = doc.get("params").and_then(|p| p.as_table()) else {
        return Ok(());
    };
    for (name, p) in params {
        let Some(prior) = p.get("prior") else {
            continue;
        };
        if let Ok(spec) = prior
            .clone()
            .try_into::<spinflip_samplers::prior::PriorSpec>()
        {
            Prior::try_from(spec).map_err(|e| {
                let reason = match e {
                    spinflip_samplers::SamplerError::InvalidPrior { reason, .. } => reason,
                    other => other.to_string(),
                };
                SpinflipError::config(format!("params.{name}.prior"), reason)
            })?;
        }
    }
    Ok(())
}

impl RunConfig {
    /// Parse a TOML string; `base` resolves relative paths in it (the config file's directory
    /// is *not* used: paths are relative to the working directory, as on the command line).
    pub fn from_toml_str(s: &str, origin: &str) -> Result<Self, SpinflipError> {
        check_priors(s)?;
        let cfg: RunConfig = toml::from_str(s).map_err(|e| SpinflipError::Config {
            field: origin.to_string(),
            reason: e.to_string(),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Read and parse a TOML file.
    pub fn load(path: &Path) -> Result<Self, SpinflipError> {
        let s = std::fs::read_to_string(path).map_err(|e| SpinflipError::io(path, e))?;
        Self::from_toml_str(&s, &path.display().to_string())
    }

    /// Checks that do not need the model: exactly one data source, positive noise, ...
    pub fn validate(&self) -> Result<(), SpinflipError> {
        match (&self.data.file, &self.data.mock) {
            (None, None) => {
                return Err(SpinflipError::config(
                    "data",
                    "give either `file = \"spectrum.txt\"` or a `[data.mock]` table",
                ))
            }
            (Some(_), Some(_)) => {
                return Err(SpinflipError::config(
                    "data",
                    "give `file` or `[data.mock]`, not both",
                ))
            }
            _ => {}
        }
        if let Some(m) = &self.data.mock {
            // Zero is for kinds whose mocks carry their own scatter (a simulated light-cone);
            // white-noise mocks refuse it when they build the noise.
            if !(m.noise.is_finite() && m.noise >= 0.0) {
                return Err(SpinflipError::config(
                    "data.mock.noise",
                    format!("noise must be a finite number of mK >= 0, got {}", m.noise),
                ));
            }
            for (k, v) in &m.truth {
                if !v.is_finite() {
                    return Err(SpinflipError::config(
                        format!("data.mock.truth.{k}"),
                        format!("value {v} is not finite"),
                    ));
                }
            }
        }
        if self.data.covariance.is_some() {
            // The covariance is over the file's channels; a mock has its own white noise.
            if self.data.mock.is_some() {
                return Err(SpinflipError::config(
                    "data.covariance",
                    "a covariance goes with `file`; a `[data.mock]` has white noise of `noise` mK",
                ));
            }
            if self.data.sigma.is_some() {
                return Err(SpinflipError::config(
                    "data.covariance",
                    "give `sigma` or `covariance`, not both",
                ));
            }
        }
        if let Some(s) = self.data.sigma {
            if !(s.is_finite() && s > 0.0) {
                return Err(SpinflipError::config(
                    "data.sigma",
                    format!("sigma must be > 0 mK, got {s}"),
                ));
            }
        }
        if let Some([lo, hi]) = self.data.band {
            if !(lo.is_finite() && hi.is_finite() && lo < hi && lo > 0.0) {
                return Err(SpinflipError::config(
                    "data.band",
                    format!("need [lo, hi] MHz with 0 < lo < hi, got [{lo}, {hi}]"),
                ));
            }
        }
        if let Some(n) = self.sampler.n_live {
            if n < 2 {
                return Err(SpinflipError::config(
                    "sampler.n_live",
                    "need at least 2 live points",
                ));
            }
        }
        if let Some(d) = self.sampler.dlogz {
            if !(d.is_finite() && d > 0.0) {
                return Err(SpinflipError::config(
                    "sampler.dlogz",
                    format!("must be > 0, got {d}"),
                ));
            }
        }
        if let Some(t) = self.sampler.checkpoint_seconds {
            if !(t.is_finite() && t >= 0.0) {
                return Err(SpinflipError::config(
                    "sampler.checkpoint_seconds",
                    format!("must be >= 0 seconds (0: only when the run stops), got {t}"),
                ));
            }
        }
        if self.output.root.as_os_str().is_empty() {
            return Err(SpinflipError::config("output.root", "must not be empty"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[output]
root = "out/x"
[data.mock]
noise = 25.0
truth = { f_star = 0.05 }
[params.f_star]
prior = { dist = "log_uniform", min = 1e-3, max = 0.5 }
[sampler]
n_live = 100
"#;

    #[test]
    fn parses_a_good_config() {
        let c = RunConfig::from_toml_str(GOOD, "test").unwrap();
        assert_eq!(c.model.kind, "emulator");
        assert_eq!(c.data.mock.as_ref().unwrap().model, None);
        assert_eq!(
            c.params["f_star"].prior,
            Some(Prior::LogUniform {
                min: 1e-3,
                max: 0.5
            })
        );
    }

    #[test]
    fn errors_name_the_field() {
        let e = RunConfig::from_toml_str(&GOOD.replace("noise = 25.0", "noise = -1.0"), "t")
            .unwrap_err();
        assert!(e.to_string().contains("data.mock.noise"), "{e}");
        let e = RunConfig::from_toml_str(&GOOD.replace("n_live", "nlive"), "t").unwrap_err();
        assert!(e.to_string().contains("nlive"), "{e}");
        let e =
            RunConfig::from_toml_str(&GOOD.replace("min = 1e-3", "min = 0.0"), "t").unwrap_err();
        assert!(e.to_string().contains("min > 0"), "{e}");
        // min > max: the error names the parameter's prior, and is no "parse error".
        let e = RunConfig::from_toml_str(&GOOD.replace("min = 1e-3", "min = 0.9"), "t")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("params.f_star.prior") && e.contains("min < max") && !e.contains("parse"),
            "{e}"
        );
        let e = RunConfig::from_toml_str("[output]\nroot='x'\n[data]\n", "t").unwrap_err();
        assert!(e.to_string().contains("[data.mock]"), "{e}");
        assert!(RunConfig::from_toml_str("not toml [", "t").is_err());
    }
}
