//! The CNN summary of light-cones as a model kind (`[model] kind = "maps_cnn"`): the four
//! map parameters with the Gillet et al. (2019) box as priors, the summary emulator as the
//! forward model, and mocks made the way real data would be: a light-cone simulated at the
//! truth (seed `[data.mock] seed`), its slices through the CNN, the Gaussian likelihood's
//! covariance from the bundle's simulations.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use spinflip_likelihoods::{ForwardModel, Noise};
use spinflip_samplers::Prior;

use super::bundle::SummaryBundle;
use crate::config::{MockConfig, ModelConfig};
use crate::lightcone::params::{MapParams, MAP_PARAM_NAMES, MAP_PARAM_RANGES};
use crate::lightcone::simulator::{MapSimulator, MapTables};
use crate::models::{MockData, ModelKind, OutputSpace, SharedModel};
use crate::SpinflipError;

/// Where the shipped CNN likelihood lives, relative to the repository root.
pub const DEFAULT_CNN_BUNDLE: &str = "models/maps_cnn_likelihood.json";

/// The shipped bundle: in the working directory, else in the source tree of this binary.
pub fn default_bundle_path() -> PathBuf {
    let rel = Path::new(DEFAULT_CNN_BUNDLE);
    if rel.exists() {
        return rel.to_path_buf();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_CNN_BUNDLE)
}

/// The map CNN summary kind.
#[derive(Debug, Clone, Copy, Default)]
pub struct MapsCnnKind;

impl MapsCnnKind {
    /// The bundle `[model] path` names, or the shipped one.
    pub fn bundle(cfg: &ModelConfig) -> Result<SummaryBundle, SpinflipError> {
        SummaryBundle::load(&cfg.path.clone().unwrap_or_else(default_bundle_path))
    }
}

impl ModelKind for MapsCnnKind {
    fn name(&self) -> &str {
        "maps_cnn"
    }

    fn describe(&self) -> String {
        format!(
            "CNN summaries of 21-cm light-cones with an emulated mean and a simulated covariance ({DEFAULT_CNN_BUNDLE}, or [model] path)"
        )
    }

    fn param_names(&self) -> Vec<String> {
        MAP_PARAM_NAMES.iter().map(|s| s.to_string()).collect()
    }

    fn param_latex(&self) -> Vec<String> {
        [
            r"\zeta",
            r"\log_{10} T_{\rm vir}/{\rm K}",
            r"\log_{10} L_X/{\rm SFR}",
            r"E_0/{\rm keV}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn default_priors(&self) -> Vec<Prior> {
        MAP_PARAM_RANGES
            .iter()
            .map(|&(min, max)| Prior::Uniform { min, max })
            .collect()
    }

    fn fiducial(&self) -> Vec<f64> {
        MapParams::fiducial().to_array().to_vec()
    }

    fn preferred_batch(&self) -> usize {
        16
    }

    fn output(&self) -> OutputSpace {
        OutputSpace::Vector {
            names: MAP_PARAM_NAMES.iter().map(|n| format!("t_{n}")).collect(),
            unit: "CNN estimate".into(),
        }
    }

    fn load(&self, cfg: &ModelConfig) -> Result<SharedModel, SpinflipError> {
        Ok(Arc::new(Self::bundle(cfg)?.emulator))
    }

    /// A light-cone simulated at `truth` (initial conditions from `mock.seed`) through the
    /// CNN; `mock.noise` is white pixel noise in mK and must be what the bundle's
    /// simulations carry (the covariance depends on it).
    fn mock(
        &self,
        model: &dyn ForwardModel,
        truth: &[f64],
        mock: &MockConfig,
        cfg: &ModelConfig,
    ) -> Result<MockData, SpinflipError> {
        let mut b = Self::bundle(cfg)?;
        if (mock.noise - b.file.pixel_noise_mk).abs() > 1e-12 {
            return Err(SpinflipError::config(
                "data.mock.noise",
                format!(
                    "{} mK of pixel noise, but the likelihood's covariance and emulator were made with {} mK: \
                     set `noise = {}` or build a bundle for this noise level",
                    mock.noise, b.file.pixel_noise_mk, b.file.pixel_noise_mk
                ),
            ));
        }
        let params = MapParams::from_slice(truth)?;
        let sim = MapSimulator::new(Arc::new(MapTables::planck18(
            b.file.geometry.map_geometry(),
        )?));
        let out = sim.simulate(&params, mock.seed)?;
        let noise_spec = b.pixel_noise();
        let k = b.file.geometry.slices;
        let data = b.summarizer.summarize_light_cone(
            &out.light_cone,
            k,
            noise_spec.as_ref(),
            mock.seed,
        )?;
        let mut clean = vec![0.0; model.n_outputs()];
        model.predict(truth, &mut clean)?;
        let noise = Noise::covariance(&b.covariance.cov, b.covariance.p)?;
        Ok(MockData { data, noise, clean })
    }
}
