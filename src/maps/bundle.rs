//! A map-summary likelihood on disk: one JSON file that names the pieces, paths relative to
//! it — how the summary is made from a light-cone (the map CNN on its slices, or the binned
//! power spectrum), the MLP that emulates the mean summary `mu(theta)`, and the rows whose
//! covariance is the likelihood's — with the light-cone geometry and pixel noise they all
//! assume. The shipped ones are `models/maps_cnn_likelihood.json` and
//! `models/maps_ps_likelihood.json`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::cnn_summary::CnnSummarizer;
use super::covariance::SimCovariance;
use super::ps_compressed::PsCompressor;
use super::ps_noise::{BaseCovariance, NoisyPsCovariance, NoisyPsEmulator, PsThermalNoise};
use super::ps_summary::{PsSpec, PsSummarizer};
use super::scatter::SummaryScatter;
use super::summary_emulator::SummaryEmulator;
use crate::cnn::noise::NoiseSpec;
use crate::io::npz::NpzReader;
use crate::lightcone::geometry::MapGeometry;
use crate::lightcone::params::{MAP_PARAM_NAMES, MAP_PARAM_RANGES};
use crate::nn::files::model_file_error as bad;
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
    /// Which summary: `cnn` or `ps`.
    pub summary: String,
    /// `cnn`: the map CNN (model path without extension, relative to this file).
    #[serde(default)]
    pub cnn: Option<PathBuf>,
    /// `ps`: the bins and their transform.
    #[serde(default)]
    pub ps: Option<PsSpec>,
    /// `ps`: a network (MLP file stem) that compresses the kept bins to a few numbers
    /// ([`PsCompressor`]); the likelihood is then Gaussian in those, and `emulator` predicts
    /// them.
    #[serde(default)]
    pub compressor: Option<PathBuf>,
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
    /// A parameter-dependent covariance ([`SummaryScatter`]): it replaces `covariance` in
    /// the likelihood, which then only serves plots and reports.
    #[serde(default)]
    pub scatter: Option<ScatterSpec>,
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

/// The files of a [`SummaryScatter`], relative to the bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScatterSpec {
    /// The MLP of `ln r^2` (file stem).
    pub network: PathBuf,
    /// NPZ with `scale` and `correlation`.
    pub file: PathBuf,
    /// How it was made.
    #[serde(default)]
    pub note: Option<String>,
}

/// How a light-cone becomes a summary.
#[derive(Debug)]
pub enum Summarizer {
    /// The map CNN's slice-mean estimates.
    Cnn(Box<CnnSummarizer>),
    /// Binned power spectra.
    Ps(PsSummarizer),
    /// Binned power spectra compressed by a network.
    PsCompressed(Box<PsCompressor>),
}

impl Summarizer {
    /// The summary of a simulated light-cone (`slices` planes for the CNN, with `noise`
    /// seeded by `seed`).
    pub fn summarize_light_cone(
        &mut self,
        lc: &crate::lightcone::lightcone::LightCone,
        slices: usize,
        noise: Option<&NoiseSpec>,
        seed: u64,
    ) -> Result<Vec<f64>, SpinflipError> {
        match self {
            Summarizer::Cnn(c) => c.summarize_light_cone(lc, slices, noise, seed),
            Summarizer::Ps(p) => {
                if noise.is_some() {
                    return Err(SpinflipError::config(
                        "pixel_noise_mk",
                        "the power-spectrum summary takes no pixel noise (set pixel_noise_mk = 0)",
                    ));
                }
                p.summarize_light_cone(lc)
            }
            Summarizer::PsCompressed(c) => {
                if noise.is_some() {
                    return Err(SpinflipError::config(
                        "pixel_noise_mk",
                        "the power-spectrum summary takes no pixel noise (set pixel_noise_mk = 0)",
                    ));
                }
                c.summarize_light_cone(lc)
            }
        }
    }
}

/// A loaded map-summary likelihood: everything a fit or a mock needs.
#[derive(Debug)]
pub struct SummaryBundle {
    /// The file as read.
    pub file: BundleFile,
    /// Where it was read from.
    pub path: PathBuf,
    /// How a light-cone becomes the summary.
    pub summarizer: Summarizer,
    /// The emulator of the mean summary.
    pub emulator: SummaryEmulator,
    /// The covariance from simulations.
    pub covariance: SimCovariance,
    /// The parameter-dependent covariance, if the bundle has one.
    pub scatter: Option<SummaryScatter>,
    /// The mean with thermal noise in the data (`[model] thermal_noise_mk`; power spectra
    /// only).
    pub thermal: Option<NoisyPsEmulator>,
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
        let dir = path.parent().unwrap_or(Path::new("."));
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
        let mlp = crate::mlp::load_mlp(&dir.join(&file.emulator))?;
        let mut emulator = SummaryEmulator::new(mlp, &MAP_PARAM_NAMES, &MAP_PARAM_RANGES)?;
        let summarizer = match (file.summary.as_str(), &file.cnn, &file.ps) {
            ("cnn", Some(cnn), _) => {
                let cnn = crate::cnn::load_model(&dir.join(cnn))?;
                if cnn.sidecar.geometry.cells != g.cells {
                    return Err(bad(
                        path,
                        format!(
                            "the CNN reads slices {} cells across, the bundle's light-cones have {}",
                            cnn.sidecar.geometry.cells, g.cells
                        ),
                    ));
                }
                Summarizer::Cnn(Box::new(CnnSummarizer::new(cnn)?))
            }
            ("ps", _, Some(spec)) => {
                let tables = crate::lightcone::simulator::MapTables::planck18(g.map_geometry())
                    .map_err(|e| bad(path, format!("geometry: {e}")))?;
                let n_chunks = tables.layout.n_los() / g.cells;
                let ps = PsSummarizer::new(spec.clone(), g.box_mpc, g.cells, n_chunks)?;
                match &file.compressor {
                    Some(c) => compressed(path, &dir.join(c), spec, ps, &emulator)?,
                    None => {
                        emulator = binned(path, spec, &ps, n_chunks, emulator)?;
                        Summarizer::Ps(ps)
                    }
                }
            }
            (s, ..) => {
                return Err(bad(
                    path,
                    format!(
                        "summary '{s}' needs its own field ('cnn' with a `cnn` model, 'ps' with a `ps` table)"
                    ),
                ))
            }
        };
        let p = emulator.summary_names().len();
        if let Summarizer::Cnn(c) = &summarizer {
            if p != c.names().len() {
                return Err(bad(
                    path,
                    format!(
                        "the emulator predicts {p} summaries, the CNN makes {}",
                        c.names().len()
                    ),
                ));
            }
        }
        let cov_path = dir.join(&file.covariance);
        let mut r = NpzReader::open(&cov_path)?;
        let a = r.array(&file.covariance_key)?;
        let width = emulator.model().sidecar.outputs.len();
        let rows: Vec<f64> = match a.shape.as_slice() {
            [_, w] if *w == p => a.data,
            // Rows over every emulator output: keep the likelihood's.
            [_, w] if *w == width => a
                .data
                .chunks(width)
                .flat_map(|r| emulator.kept().iter().map(move |&i| r[i]))
                .collect(),
            _ => {
                return Err(bad(
                    &cov_path,
                    format!(
                        "'{}' has shape {:?}; expected (n, {p}) or (n, {width})",
                        file.covariance_key, a.shape
                    ),
                ))
            }
        };
        let mut covariance = SimCovariance::from_rows(&rows, p, &cov_path.display().to_string())?;
        let modelling_var = modelling_var(&file);
        for i in 0..p {
            covariance.cov[i * p + i] += modelling_var;
        }
        let scatter = match &file.scatter {
            None => None,
            Some(s) => Some(SummaryScatter::load(
                &dir.join(&s.network),
                &dir.join(&s.file),
                p,
                modelling_var,
            )?),
        };
        if file.fiducial.len() != MAP_PARAM_NAMES.len() {
            return Err(bad(path, "fiducial needs the four map parameters".into()));
        }
        Ok(SummaryBundle {
            file,
            path: path.to_path_buf(),
            summarizer,
            emulator,
            covariance,
            scatter,
            thermal: None,
        })
    }

    /// Expect white thermal noise of `sigma_mk` per cell in the data: the 144-bin power
    /// spectrum's mean gains the noise power and its covariance the noise variance
    /// ([`PsThermalNoise`]). The networks of the other summaries were trained on noise-free
    /// light-cones, so they refuse it.
    pub fn set_thermal_noise(&mut self, sigma_mk: f64) -> Result<(), SpinflipError> {
        let Summarizer::Ps(ps) = &self.summarizer else {
            return Err(SpinflipError::config(
                "model.thermal_noise_mk",
                "only the 144-bin power-spectrum likelihood (maps_ps) has an analytic thermal-noise \
                 term; a network summary (the CNN, the compressed spectrum) must be trained on noisy \
                 light-cones instead (pixel_noise_mk of its likelihood file, as \
                 models/maps_cnn_noise5 was)",
            ));
        };
        let g = self.file.geometry;
        let noise = PsThermalNoise::white(sigma_mk, ps, g.box_mpc, g.cells)?;
        self.thermal = Some(NoisyPsEmulator::new(
            self.emulator.clone(),
            Arc::new(noise),
        )?);
        Ok(())
    }

    /// The likelihood's mean: the emulator, with the noise power if there is thermal noise.
    pub fn mean_model(&self) -> crate::models::SharedModel {
        match &self.thermal {
            Some(t) => Arc::new(t.clone()),
            None => Arc::new(self.emulator.clone()),
        }
    }

    /// The parameter-dependent covariance, if there is one: the scatter model's, plus the
    /// thermal noise's variance if there is noise (then always parameter-dependent).
    pub fn covariance_model(&self) -> Option<Box<dyn spinflip_likelihoods::CovarianceModel>> {
        match &self.thermal {
            Some(t) => {
                let base = match &self.scatter {
                    Some(s) => BaseCovariance::Scatter(Box::new(s.clone())),
                    None => BaseCovariance::Fixed(self.covariance.cov.clone()),
                };
                Some(Box::new(NoisyPsCovariance::new(base, t.clone())))
            }
            None => self
                .scatter
                .clone()
                .map(|s| Box::new(s) as Box<dyn spinflip_likelihoods::CovarianceModel>),
        }
    }

    /// The variance added to every summary's diagonal for modelling uncertainty.
    pub fn modelling_var(&self) -> f64 {
        modelling_var(&self.file)
    }

    /// The likelihood's noise at `theta`: the scatter model's, or the fixed covariance.
    pub fn noise_at(&self, theta: &[f64]) -> Result<spinflip_likelihoods::Noise, SpinflipError> {
        Ok(match self.covariance_model() {
            Some(c) => c.noise_at(theta)?,
            None => {
                spinflip_likelihoods::Noise::covariance(&self.covariance.cov, self.covariance.p)?
            }
        })
    }

    /// The pixel noise the bundle's simulations carry, if any.
    pub fn pixel_noise(&self) -> Option<NoiseSpec> {
        (self.file.pixel_noise_mk > 0.0).then_some(NoiseSpec::White {
            rms_mk: self.file.pixel_noise_mk,
        })
    }
}

/// A `ps` summary through the bundle's compressor; the emulator must predict its outputs.
fn compressed(
    path: &Path,
    net: &Path,
    spec: &PsSpec,
    ps: PsSummarizer,
    emulator: &SummaryEmulator,
) -> Result<Summarizer, SpinflipError> {
    if spec.modelling_error != 0.0 {
        return Err(bad(
            path,
            "modelling_error is a fraction of Delta^2 per bin; a compressed power spectrum's \
             covariance comes from simulations only: set it to 0"
                .into(),
        ));
    }
    let compressor = PsCompressor::new(ps, crate::mlp::load_mlp(net)?)
        .map_err(|e| bad(path, format!("compressor: {e}")))?;
    let (n_t, n_mu) = (
        compressor.names().len(),
        emulator.model().sidecar.outputs.len(),
    );
    if n_t != n_mu {
        return Err(bad(
            path,
            format!("the emulator predicts {n_mu} values, the compressor makes {n_t}"),
        ));
    }
    Ok(Summarizer::PsCompressed(Box::new(compressor)))
}

/// The emulator of every `(chunk, k bin)` of a `ps` summary, checked and cut to the kept bins.
fn binned(
    path: &Path,
    spec: &PsSpec,
    ps: &PsSummarizer,
    n_chunks: usize,
    emulator: SummaryEmulator,
) -> Result<SummaryEmulator, SpinflipError> {
    let bins = n_chunks * super::ps_summary::PS_K_BINS;
    let o = &emulator.model().sidecar.outputs;
    if o.len() != bins {
        return Err(bad(
            path,
            format!(
                "the emulator predicts {} values; a power spectrum of {n_chunks} chunks x {} bins has {bins}",
                o.len(),
                super::ps_summary::PS_K_BINS
            ),
        ));
    }
    if o.transform != crate::mlp::Transform::Log10 || o.floor != spec.floor {
        return Err(bad(
            path,
            format!(
                "the emulator's outputs must be log10(Delta^2 + {}): train it with --y-transform log10 --y-floor {}",
                spec.floor, spec.floor
            ),
        ));
    }
    emulator.select(ps.keep().to_vec())
}

/// Modelling uncertainty of a power spectrum: a fraction of Delta^2, i.e. log10(1 + frac) dex;
/// none for the CNN summary (and a compressed spectrum, whose load insists on 0).
fn modelling_var(file: &BundleFile) -> f64 {
    file.ps
        .as_ref()
        .map_or(0.0, |spec| (1.0 + spec.modelling_error).log10().powi(2))
}
