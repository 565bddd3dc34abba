//! Summaries of light-cones as model kinds: `[model] kind = "maps_cnn"` (the map CNN's
//! slice-mean estimates), `"maps_ps"` (binned power spectra) and `"maps_joint"` (both, in
//! [`super::joint`]). All take the four map
//! parameters with the Gillet et al. (2019) box as priors, the bundle's summary emulator as
//! the forward model, and make mocks the way real data would be made: a light-cone simulated
//! at the truth (seed `[data.mock] seed`) and summarised; the Gaussian likelihood's covariance
//! comes from the bundle.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use spinflip_likelihoods::{CovarianceModel, ForwardModel, Noise};
use spinflip_samplers::Prior;

use super::bundle::SummaryBundle;
use crate::config::{MockConfig, ModelConfig};
use crate::lightcone::lightcone::LightCone;
use crate::lightcone::params::{MapParams, MAP_PARAM_NAMES, MAP_PARAM_RANGES};
use crate::lightcone::simulator::{MapSimulator, MapTables};
use crate::models::{MockData, ModelKind, OutputSpace, SharedModel};
use crate::SpinflipError;

/// Where the shipped CNN likelihood lives, relative to the repository root.
pub const DEFAULT_CNN_BUNDLE: &str = "models/maps_cnn_likelihood.json";
/// Where the shipped power-spectrum likelihood lives.
pub const DEFAULT_PS_BUNDLE: &str = "models/maps_ps_likelihood.json";
/// Where the shipped compressed power-spectrum likelihood lives.
pub const DEFAULT_PS_COMPRESSED_BUNDLE: &str = "models/maps_ps_compressed_likelihood.json";

/// A shipped bundle ([`crate::models::shipped::shipped_path`]: `SPINFLIP_MODELS`, the working
/// directory, the source tree).
pub fn shipped(rel: &str) -> PathBuf {
    crate::models::shipped::shipped_path(rel, Path::exists)
}

/// What a map likelihood on disk gives its kind: the emulated mean, the data (from a
/// light-cone file or a mock light-cone), and the noise. [`SummaryBundle`] (one summary) and
/// [`super::joint::JointBundle`] (several of one light-cone) implement it; a new summary
/// implements it in its own file and becomes a kind with a [`MapSummaryKind`] constant.
pub trait MapBundle: Send {
    /// The forward model: the emulated mean summary.
    fn emulator(&self) -> SharedModel;
    /// The summary of the first light-cone in a file from `spinflip simulate maps`.
    fn summary_from_file(&mut self, path: &Path) -> Result<Vec<f64>, SpinflipError>;
    /// The summary of a light-cone simulated at `truth` with `mock`'s seed and noise.
    fn mock_summary(&mut self, truth: &[f64], mock: &MockConfig)
        -> Result<Vec<f64>, SpinflipError>;
    /// The likelihood's noise at `theta` (for reports, and the likelihood when it is fixed).
    fn noise_at(&self, theta: &[f64]) -> Result<Noise, SpinflipError>;
    /// The point whose noise a data file is reported with.
    fn fiducial(&self) -> Vec<f64>;
    /// A parameter-dependent covariance, if the likelihood has one.
    fn into_covariance_model(self: Box<Self>) -> Option<Box<dyn CovarianceModel>>;
    /// Expect white thermal noise of `sigma_mk` per cell in the data (`[model]
    /// thermal_noise_mk`); a likelihood without an analytic noise term refuses it.
    fn set_thermal_noise(&mut self, sigma_mk: f64) -> Result<(), SpinflipError> {
        let _ = sigma_mk;
        Err(SpinflipError::config(
            "model.thermal_noise_mk",
            "this likelihood has no thermal-noise term (the 144-bin power spectrum, maps_ps, has)",
        ))
    }
}

impl MapBundle for SummaryBundle {
    fn emulator(&self) -> SharedModel {
        self.mean_model()
    }

    fn summary_from_file(&mut self, path: &Path) -> Result<Vec<f64>, SpinflipError> {
        summary_from_file(self, path)
    }

    fn mock_summary(
        &mut self,
        truth: &[f64],
        mock: &MockConfig,
    ) -> Result<Vec<f64>, SpinflipError> {
        check_mock_noise(self, mock)?;
        let mut lc = simulate_mock(self, truth, mock)?;
        if let Some(t) = &self.thermal {
            t.noise().add_to(&mut lc, mock.seed)?;
        }
        summarize_mock(self, &lc, mock)
    }

    fn noise_at(&self, theta: &[f64]) -> Result<Noise, SpinflipError> {
        SummaryBundle::noise_at(self, theta)
    }

    fn fiducial(&self) -> Vec<f64> {
        self.file.fiducial.clone()
    }

    fn into_covariance_model(self: Box<Self>) -> Option<Box<dyn CovarianceModel>> {
        self.covariance_model()
    }

    fn set_thermal_noise(&mut self, sigma_mk: f64) -> Result<(), SpinflipError> {
        SummaryBundle::set_thermal_noise(self, sigma_mk)
    }
}

/// A light-cone summary kind: its name, where its shipped likelihood lives and how to load it.
#[derive(Debug, Clone, Copy)]
pub struct MapSummaryKind {
    /// The `[model] kind` name.
    pub name: &'static str,
    /// The shipped likelihood file, relative to the repository root.
    pub default_bundle: &'static str,
    /// What its data are, for `describe`.
    pub what: &'static str,
    /// Its outputs.
    pub output: fn() -> OutputSpace,
    /// Load the likelihood file.
    pub load: fn(&Path) -> Result<Box<dyn MapBundle>, SpinflipError>,
}

fn load_summary_bundle(path: &Path) -> Result<Box<dyn MapBundle>, SpinflipError> {
    Ok(Box::new(SummaryBundle::load(path)?))
}

/// The map CNN summary kind (`maps_cnn`).
pub const MAPS_CNN: MapSummaryKind = MapSummaryKind {
    name: "maps_cnn",
    default_bundle: DEFAULT_CNN_BUNDLE,
    what: "CNN summaries of 21-cm light-cones",
    output: || OutputSpace::Vector {
        names: MAP_PARAM_NAMES.iter().map(|n| format!("t_{n}")).collect(),
        unit: "CNN estimate".into(),
    },
    load: load_summary_bundle,
};

/// The power-spectrum kind (`maps_ps`).
pub const MAPS_PS: MapSummaryKind = MapSummaryKind {
    name: "maps_ps",
    default_bundle: DEFAULT_PS_BUNDLE,
    what: "binned power spectra of 21-cm light-cones",
    output: || OutputSpace::Vector {
        names: vec!["log10(Delta^2 + floor) per (z chunk, k bin)".into()],
        unit: "log10 mK^2".into(),
    },
    load: load_summary_bundle,
};

/// The compressed power-spectrum kind (`maps_ps_compressed`): the same bins through a
/// network that estimates the parameters, a Gaussian likelihood of its outputs.
pub const MAPS_PS_COMPRESSED: MapSummaryKind = MapSummaryKind {
    name: "maps_ps_compressed",
    default_bundle: DEFAULT_PS_COMPRESSED_BUNDLE,
    what:
        "binned power spectra of 21-cm light-cones compressed by a network to parameter estimates",
    output: || OutputSpace::Vector {
        names: MAP_PARAM_NAMES.iter().map(|n| format!("t_{n}")).collect(),
        unit: "network estimate from the power spectrum".into(),
    },
    load: load_summary_bundle,
};

impl MapSummaryKind {
    /// The likelihood `[model] path` names, or the shipped one.
    pub fn bundle(&self, cfg: &ModelConfig) -> Result<Box<dyn MapBundle>, SpinflipError> {
        let mut b = (self.load)(
            &cfg.path
                .clone()
                .unwrap_or_else(|| shipped(self.default_bundle)),
        )?;
        if cfg.thermal_noise_mk != 0.0 {
            b.set_thermal_noise(cfg.thermal_noise_mk)?;
        }
        Ok(b)
    }
}

impl ModelKind for MapSummaryKind {
    fn name(&self) -> &str {
        self.name
    }

    fn describe(&self) -> String {
        format!(
            "{} with an emulated mean and a simulated covariance ({}, or [model] path)",
            self.what, self.default_bundle
        )
    }

    fn param_names(&self) -> Vec<String> {
        MAP_PARAM_NAMES.iter().map(|s| s.to_string()).collect()
    }

    fn param_latex(&self) -> Vec<String> {
        map_param_latex()
    }

    fn default_priors(&self) -> Vec<Prior> {
        map_default_priors()
    }

    fn fiducial(&self) -> Vec<f64> {
        MapParams::fiducial().to_array().to_vec()
    }

    fn preferred_batch(&self) -> usize {
        16
    }

    fn takes_thermal_noise(&self) -> bool {
        true
    }

    fn output(&self) -> OutputSpace {
        (self.output)()
    }

    fn load(&self, cfg: &ModelConfig) -> Result<SharedModel, SpinflipError> {
        Ok(self.bundle(cfg)?.emulator())
    }

    /// A light-cone set from `spinflip simulate maps` (its first light-cone; the geometry
    /// must be the likelihood's), summarised; its noise is reported at the fiducial point.
    fn data_from_file(
        &self,
        path: &Path,
        _model: &dyn ForwardModel,
        cfg: &ModelConfig,
    ) -> Result<Option<(Vec<f64>, Noise)>, SpinflipError> {
        if path.extension().and_then(|e| e.to_str()) != Some("npz") {
            return Ok(None);
        }
        let mut b = self.bundle(cfg)?;
        let data = b.summary_from_file(path)?;
        let noise = b.noise_at(&b.fiducial())?;
        Ok(Some((data, noise)))
    }

    /// A light-cone simulated at `truth` (initial conditions from `mock.seed`) and summarised;
    /// `mock.noise` is white pixel noise in mK and must be what the likelihood's simulations
    /// carry (the covariance depends on it).
    fn mock(
        &self,
        model: &dyn ForwardModel,
        truth: &[f64],
        mock: &MockConfig,
        cfg: &ModelConfig,
    ) -> Result<MockData, SpinflipError> {
        let mut b = self.bundle(cfg)?;
        let data = b.mock_summary(truth, mock)?;
        let mut clean = vec![0.0; model.n_outputs()];
        model.predict(truth, &mut clean)?;
        let noise = b.noise_at(truth)?;
        Ok(MockData { data, noise, clean })
    }

    /// The likelihood's parameter-dependent covariance, if it has one.
    fn covariance_model(
        &self,
        cfg: &ModelConfig,
    ) -> Result<Option<Box<dyn CovarianceModel>>, SpinflipError> {
        Ok(self.bundle(cfg)?.into_covariance_model())
    }
}

/// The summary of the first light-cone in a set from `spinflip simulate maps` (checked
/// against the bundle's geometry): the CNN summary of its slices, or the power spectrum it
/// stores.
pub fn summary_from_file(b: &mut SummaryBundle, path: &Path) -> Result<Vec<f64>, SpinflipError> {
    let what = path.display().to_string();
    let bad = |reason: String| SpinflipError::Data {
        path: what.clone(),
        reason,
    };
    let mut r = crate::io::npz::NpzReader::open(path)?;
    if r.has("geometry") {
        let g = r.array("geometry")?.data;
        let w = b.file.geometry;
        let want = [w.box_mpc, w.cells as f64, w.z_min, w.z_max];
        if g.len() != 4
            || g.iter()
                .zip(&want)
                .any(|(a, b)| (a - b).abs() > 1e-9 * b.abs().max(1.0))
        {
            return Err(bad(format!(
                    "light-cones of geometry (box Mpc, cells, z_min, z_max) = {g:?}; the likelihood was built for {want:?}"
                )));
        }
    }
    let data = match &mut b.summarizer {
        super::bundle::Summarizer::Cnn(c) => {
            let (_, shape) = r.header("slices")?;
            let [_, k, cells, n_los] = shape[..] else {
                return Err(bad(format!(
                    "'slices' has shape {shape:?}; expected (N, K, cells, N_los)"
                )));
            };
            let mut first = Vec::with_capacity(k * cells * n_los);
            r.f32_rows("slices", |i, row| {
                if i == 0 {
                    first.extend_from_slice(row);
                }
                Ok(())
            })?;
            // Observed slices carry their own noise: none is added.
            c.summarize(&first, cells, n_los, None, 0)?
        }
        super::bundle::Summarizer::Ps(p) => p.from_array(&first_ps(&mut r)?)?,
        super::bundle::Summarizer::PsCompressed(c) => c.from_array(&first_ps(&mut r)?)?,
    };
    Ok(data)
}

/// The `ps` array of the first light-cone in a set.
fn first_ps(r: &mut crate::io::npz::NpzReader) -> Result<Vec<f64>, SpinflipError> {
    let mut a = r.array("ps")?;
    let per: usize = a.shape.iter().skip(1).product();
    a.data.truncate(per);
    Ok(a.data)
}

/// The mock's pixel noise must be the one the bundle's covariance was made with, or the
/// thermal noise its likelihood expects.
pub fn check_mock_noise(b: &SummaryBundle, mock: &MockConfig) -> Result<(), SpinflipError> {
    if let Some(t) = &b.thermal {
        if (mock.noise - t.noise().sigma_mk()).abs() > 1e-12 {
            return Err(SpinflipError::config(
                "data.mock.noise",
                format!(
                    "{} mK of pixel noise in the mock, but the likelihood's thermal-noise term \
                     ([model] thermal_noise_mk) is {} mK: make them equal",
                    mock.noise,
                    t.noise().sigma_mk()
                ),
            ));
        }
        return Ok(());
    }
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
    Ok(())
}

/// A light-cone simulated at `truth` in the bundle's geometry, initial conditions from
/// `mock.seed`.
pub fn simulate_mock(
    b: &SummaryBundle,
    truth: &[f64],
    mock: &MockConfig,
) -> Result<LightCone, SpinflipError> {
    let params = MapParams::from_slice(truth)?;
    let sim = MapSimulator::new(Arc::new(MapTables::planck18(
        b.file.geometry.map_geometry(),
    )?));
    Ok(sim.simulate(&params, mock.seed)?.light_cone)
}

/// The bundle's summary of a mock light-cone (with the bundle's pixel noise, seeded).
pub fn summarize_mock(
    b: &mut SummaryBundle,
    lc: &LightCone,
    mock: &MockConfig,
) -> Result<Vec<f64>, SpinflipError> {
    let noise_spec = b.pixel_noise();
    let k = b.file.geometry.slices;
    b.summarizer
        .summarize_light_cone(lc, k, noise_spec.as_ref(), mock.seed)
}

/// LaTeX labels of the four map parameters.
pub fn map_param_latex() -> Vec<String> {
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

/// The Gillet et al. (2019) box as uniform priors.
pub fn map_default_priors() -> Vec<Prior> {
    MAP_PARAM_RANGES
        .iter()
        .map(|&(min, max)| Prior::Uniform { min, max })
        .collect()
}
