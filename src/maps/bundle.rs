//! A map-summary likelihood on disk: one JSON file that names the pieces, paths relative to
//! it — the map CNN that makes the summary from slices, the MLP that emulates the mean
//! summary `mu(theta)`, and the simulated summaries at a fiducial point that give the
//! covariance — with the light-cone geometry and pixel noise they all assume. The shipped
//! one is `models/maps_cnn_likelihood.json`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::cnn_summary::CnnSummarizer;
use super::covariance::SimCovariance;
use super::summary_emulator::SummaryEmulator;
use crate::cnn::noise::NoiseSpec;
use crate::io::npz::NpzReader;
use crate::lightcone::geometry::MapGeometry;
use crate::lightcone::params::{MAP_PARAM_NAMES, MAP_PARAM_RANGES};
use crate::SpinflipError;

/// Value of [`BundleFile::format`].
pub const FORMAT: &str = "spinflip-map-summary-likelihood";

/// Light-cone geometry as stored (what `simulate maps --box-mpc --cells --z-min --z-max
/// --slices` set).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StoredGeometry {
    /// Box side, Mpc.
    pub box_mpc: f64,
    /// Cells per side.
    pub cells: usize,
    /// Lowest redshift.
    pub z_min: f64,
    /// Highest redshift.
    pub z_max: f64,
    /// Slices per light-cone the summary averages over.
    pub slices: usize,
}

impl StoredGeometry {
    /// As the simulator's geometry.
    pub fn map_geometry(&self) -> MapGeometry {
        MapGeometry {
            box_mpc: self.box_mpc,
            cells: self.cells,
            z_min: self.z_min,
            z_max: self.z_max,
        }
    }
}

/// The JSON file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// Which summary (`cnn`).
    pub summary: String,
    /// The map CNN (model path without extension, relative to this file).
    pub cnn: PathBuf,
    /// The summary emulator (MLP, relative path).
    pub emulator: PathBuf,
    /// NPZ of the rows whose covariance is the likelihood's (relative path): simulated
    /// summaries at one point (sample variance there), or the emulator's residuals on
    /// held-out light-cones (emulator error + sample variance, averaged over the prior).
    pub covariance: PathBuf,
    /// Array of rows in that NPZ (`n x p`).
    pub covariance_key: String,
    /// What the covariance rows are, for reports.
    #[serde(default)]
    pub covariance_note: Option<String>,
    /// NPZ of summaries simulated at [`Self::fiducial`] (`t_cnn`, `n_sims x p`): the
    /// sample variance the emulator's error is compared with.
    #[serde(default)]
    pub fiducial_sims: Option<PathBuf>,
    /// The fiducial point of those simulations.
    pub fiducial: Vec<f64>,
    /// Geometry of every light-cone involved.
    pub geometry: StoredGeometry,
    /// White pixel noise (mK) in the simulations behind the covariance and the emulator.
    pub pixel_noise_mk: f64,
    /// How the pieces were made (commands).
    #[serde(default)]
    pub recipe: Vec<String>,
}

/// A loaded map-summary likelihood: everything a fit or a mock needs.
#[derive(Debug)]
pub struct SummaryBundle {
    /// The file as read.
    pub file: BundleFile,
    /// Where it was read from.
    pub path: PathBuf,
    /// The CNN summary.
    pub summarizer: CnnSummarizer,
    /// The emulator of the mean summary.
    pub emulator: SummaryEmulator,
    /// The covariance from simulations.
    pub covariance: SimCovariance,
}

fn bad(path: &Path, reason: String) -> SpinflipError {
    SpinflipError::ModelFile {
        path: path.display().to_string(),
        reason,
    }
}

impl SummaryBundle {
    /// Read the bundle at `path` and everything it names; check that the pieces agree.
    pub fn load(path: &Path) -> Result<Self, SpinflipError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
        let file: BundleFile = serde_json::from_str(&text).map_err(|e| {
            bad(
                path,
                format!("not a map-summary likelihood description: {e}"),
            )
        })?;
        if file.format != FORMAT {
            return Err(bad(
                path,
                format!("format '{}', expected '{FORMAT}'", file.format),
            ));
        }
        if file.summary != "cnn" {
            return Err(bad(
                path,
                format!("summary '{}': this build knows 'cnn'", file.summary),
            ));
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        let cnn = crate::cnn::load_model(&dir.join(&file.cnn))?;
        let g = file.geometry;
        g.map_geometry()
            .validate()
            .map_err(|e| bad(path, format!("geometry: {e}")))?;
        if g.slices == 0 || g.slices > g.cells {
            return Err(bad(
                path,
                format!("{} slices of {} cells", g.slices, g.cells),
            ));
        }
        if cnn.sidecar.geometry.cells != g.cells {
            return Err(bad(
                path,
                format!(
                    "the CNN reads slices {} cells across, the bundle's light-cones have {}",
                    cnn.sidecar.geometry.cells, g.cells
                ),
            ));
        }
        let summarizer = CnnSummarizer::new(cnn)?;
        let mlp = crate::mlp::load_mlp(&dir.join(&file.emulator))?;
        let emulator = SummaryEmulator::new(mlp, &MAP_PARAM_NAMES, &MAP_PARAM_RANGES)?;
        let p = emulator.summary_names().len();
        if p != summarizer.names().len() {
            return Err(bad(
                path,
                format!(
                    "the emulator predicts {p} summaries, the CNN makes {}",
                    summarizer.names().len()
                ),
            ));
        }
        let cov_path = dir.join(&file.covariance);
        let mut r = NpzReader::open(&cov_path)?;
        let a = r.array(&file.covariance_key)?;
        if a.shape.len() != 2 || a.shape[1] != p {
            return Err(bad(
                &cov_path,
                format!(
                    "'{}' has shape {:?}; expected (n_sims, {p})",
                    file.covariance_key, a.shape
                ),
            ));
        }
        let covariance = SimCovariance::from_rows(&a.data, p, &cov_path.display().to_string())?;
        if file.fiducial.len() != MAP_PARAM_NAMES.len() {
            return Err(bad(path, "fiducial needs the four map parameters".into()));
        }
        Ok(SummaryBundle {
            file,
            path: path.to_path_buf(),
            summarizer,
            emulator,
            covariance,
        })
    }

    /// The pixel noise of the bundle's simulations, if any.
    pub fn pixel_noise(&self) -> Option<NoiseSpec> {
        (self.file.pixel_noise_mk > 0.0).then_some(NoiseSpec::White {
            rms_mk: self.file.pixel_noise_mk,
        })
    }
}
