//! Both summaries of one light-cone in one likelihood (`[model] kind = "maps_joint"`): the
//! CNN summary and the power spectrum side by side, `t = (t_cnn, t_ps)`, with their emulated
//! means stacked and a covariance that keeps their correlation,
//! `C(theta)_ij = sigma_i(theta) sigma_j(theta) R_ij + m_i^2 delta_ij`: each part's own sigma
//! (the CNN's fixed, the power spectrum's from its scatter model), the parts' modelling terms,
//! and `R` the correlation of the standardised residuals of both emulators on the same
//! held-out light-cones. The two summaries see the same initial conditions, so their errors
//! are not independent; multiplying two separate likelihoods would count shared
//! information twice.
//!
//! On disk, one JSON (`models/maps_joint_likelihood.json`) names the part bundles and the
//! correlation file, paths relative to it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use spinflip_likelihoods::{CovarianceModel, ForwardModel, ModelError, Noise};

use super::bundle::SummaryBundle;
use super::kind::{
    check_mock_noise, simulate_mock, summarize_mock, summary_from_file, MapBundle, MapSummaryKind,
};
use super::scatter::SummaryScatter;
use super::summary_emulator::SummaryEmulator;
use crate::config::MockConfig;
use crate::io::npz::NpzReader;
use crate::models::{OutputSpace, SharedModel};
use crate::nn::files::model_file_error as bad;
use crate::SpinflipError;

/// The file format tag.
pub const JOINT_FORMAT: &str = "spinflip-map-joint-likelihood";
/// Where the shipped joint likelihood lives, relative to the repository root.
pub const DEFAULT_JOINT_BUNDLE: &str = "models/maps_joint_likelihood.json";

/// The joint likelihood's JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JointFile {
    /// [`JOINT_FORMAT`].
    pub format: String,
    /// The part bundles, in the order their summaries are stacked.
    pub parts: Vec<PathBuf>,
    /// NPZ with `correlation`, `p x p` over all stacked summaries.
    pub correlation: PathBuf,
    /// How the correlation was made.
    #[serde(default)]
    pub note: Option<String>,
    /// Commands that rebuild it.
    #[serde(default)]
    pub recipe: Vec<String>,
}

/// One part's sigma.
#[derive(Debug, Clone)]
enum PartSigma {
    /// The square root of the fixed covariance's diagonal, without the modelling term.
    Fixed(Vec<f64>),
    /// From the part's scatter model.
    Scatter(Box<SummaryScatter>),
}

/// The joint covariance `C(theta)`; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct JointScatter {
    parts: Vec<(PartSigma, f64)>,
    corr: Vec<f64>,
    p: usize,
}

impl JointScatter {
    fn sigma(&self, theta: &[f64]) -> Result<(Vec<f64>, Vec<f64>), ModelError> {
        let (mut sd, mut m2) = (Vec::with_capacity(self.p), Vec::with_capacity(self.p));
        for (part, var) in &self.parts {
            let s = match part {
                PartSigma::Fixed(s) => s.clone(),
                PartSigma::Scatter(sc) => sc.sigma(theta)?,
            };
            m2.extend(std::iter::repeat_n(*var, s.len()));
            sd.extend(s);
        }
        Ok((sd, m2))
    }
}

impl CovarianceModel for JointScatter {
    fn noise_at(&self, theta: &[f64]) -> Result<Noise, ModelError> {
        let (sd, m2) = self.sigma(theta)?;
        let p = self.p;
        let mut c = vec![0.0; p * p];
        for i in 0..p {
            for j in 0..p {
                c[i * p + j] = sd[i] * sd[j] * self.corr[i * p + j];
            }
            c[i * p + i] += m2[i];
        }
        Noise::covariance(&c, p)
    }
}

/// The stacked means of the parts' summary emulators. It has no vector-Jacobian product:
/// with the parameter-dependent covariance the likelihood's gradient comes from central
/// differences anyway.
#[derive(Debug, Clone)]
pub struct JointEmulator {
    parts: Vec<SummaryEmulator>,
    grid: Vec<f64>,
}

impl ForwardModel for JointEmulator {
    fn param_names(&self) -> Vec<String> {
        self.parts[0].param_names()
    }

    fn grid(&self) -> &[f64] {
        &self.grid
    }

    fn predict(&self, theta: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
        self.check_shapes(theta.len(), out.len())?;
        let mut at = 0;
        for e in &self.parts {
            let n = e.n_outputs();
            e.predict(theta, &mut out[at..at + n])?;
            at += n;
        }
        Ok(())
    }

    fn preferred_batch(&self) -> usize {
        16
    }

    /// Where every part is valid.
    fn valid_box(&self) -> Option<Vec<(f64, f64)>> {
        let mut boxes = self.parts.iter().filter_map(|p| p.valid_box());
        let first = boxes.next()?;
        Some(boxes.fold(first, |acc, b| {
            acc.iter()
                .zip(&b)
                .map(|(&(a0, a1), &(b0, b1))| (a0.max(b0), a1.min(b1)))
                .collect()
        }))
    }
}

/// A loaded joint likelihood.
#[derive(Debug)]
pub struct JointBundle {
    /// The file as read.
    pub file: JointFile,
    /// The parts, in stacking order.
    pub parts: Vec<SummaryBundle>,
    /// The joint covariance.
    pub scatter: JointScatter,
}

impl JointBundle {
    /// Load and check: the parts must share the light-cone geometry and pixel noise, and
    /// the correlation must cover every stacked summary.
    pub fn load(path: &Path) -> Result<Self, SpinflipError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
        let file: JointFile = serde_json::from_str(&text)
            .map_err(|e| bad(path, format!("not a joint map likelihood description: {e}")))?;
        if file.format != JOINT_FORMAT {
            return Err(bad(
                path,
                format!("format '{}', expected '{JOINT_FORMAT}'", file.format),
            ));
        }
        if file.parts.len() < 2 {
            return Err(bad(
                path,
                "a joint likelihood needs two or more parts".into(),
            ));
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        let parts = file
            .parts
            .iter()
            .map(|p| SummaryBundle::load(&dir.join(p)))
            .collect::<Result<Vec<_>, _>>()?;
        let first = &parts[0].file;
        for (b, name) in parts.iter().zip(&file.parts).skip(1) {
            if b.file.geometry != first.geometry || b.file.pixel_noise_mk != first.pixel_noise_mk {
                return Err(bad(
                    path,
                    format!(
                        "part '{}' was made on light-cones of {:?} with {} mK pixel noise, '{}' on {:?} with {} mK: \
                         the parts must summarise the same light-cones",
                        name.display(),
                        b.file.geometry,
                        b.file.pixel_noise_mk,
                        file.parts[0].display(),
                        first.geometry,
                        first.pixel_noise_mk
                    ),
                ));
            }
        }
        let mut sigma_parts = Vec::new();
        for b in &parts {
            let var = b.modelling_var();
            let sd = match &b.scatter {
                Some(s) => PartSigma::Scatter(Box::new(s.clone())),
                None => {
                    let c = &b.covariance;
                    PartSigma::Fixed(
                        (0..c.p)
                            .map(|i| (c.cov[i * c.p + i] - var).max(0.0).sqrt())
                            .collect(),
                    )
                }
            };
            sigma_parts.push((sd, var));
        }
        let p: usize = parts.iter().map(|b| b.emulator.n_outputs()).sum();
        let corr_path = dir.join(&file.correlation);
        let corr = NpzReader::open(&corr_path)?.array("correlation")?;
        if corr.shape != [p, p] {
            return Err(bad(
                &corr_path,
                format!(
                    "'correlation' has shape {:?}; the parts stack {p} summaries: expected [{p}, {p}]",
                    corr.shape
                ),
            ));
        }
        if corr.data.iter().any(|c| !c.is_finite()) {
            return Err(bad(&corr_path, "'correlation' must be finite".into()));
        }
        let scatter = JointScatter {
            parts: sigma_parts,
            corr: corr.data,
            p,
        };
        scatter.noise_at(&parts[0].file.fiducial).map_err(|e| {
            bad(
                &corr_path,
                format!("the covariance at the fiducial point: {e}"),
            )
        })?;
        Ok(JointBundle {
            file,
            parts,
            scatter,
        })
    }

    /// The stacked emulators.
    pub fn emulator(&self) -> JointEmulator {
        let parts: Vec<SummaryEmulator> = self.parts.iter().map(|b| b.emulator.clone()).collect();
        let n: usize = parts.iter().map(|e| e.n_outputs()).sum();
        JointEmulator {
            parts,
            grid: (0..n).map(|i| i as f64).collect(),
        }
    }
}

fn load_joint(path: &Path) -> Result<Box<dyn MapBundle>, SpinflipError> {
    Ok(Box::new(JointBundle::load(path)?))
}

/// The joint kind (`maps_joint`).
pub const MAPS_JOINT: MapSummaryKind = MapSummaryKind {
    name: "maps_joint",
    default_bundle: DEFAULT_JOINT_BUNDLE,
    what: "CNN summaries and power spectra of 21-cm light-cones together, with their correlation,",
    output: || OutputSpace::Vector {
        names: vec!["CNN estimates, then log10(Delta^2 + floor) per (z chunk, k bin)".into()],
        unit: "summary".into(),
    },
    load: load_joint,
};

/// Where the shipped CNN + compressed power-spectrum likelihood lives.
pub const DEFAULT_JOINT_COMPRESSED_BUNDLE: &str = "models/maps_joint_compressed_likelihood.json";

/// The CNN summary and the compressed power spectrum together (`maps_joint_compressed`):
/// eight numbers, both parts' covariances fixed, their correlation kept.
pub const MAPS_JOINT_COMPRESSED: MapSummaryKind = MapSummaryKind {
    name: "maps_joint_compressed",
    default_bundle: DEFAULT_JOINT_COMPRESSED_BUNDLE,
    what: "CNN summaries and network-compressed power spectra of 21-cm light-cones together, with their correlation,",
    output: || OutputSpace::Vector {
        names: ["cnn", "ps"]
            .iter()
            .flat_map(|s| {
                crate::lightcone::params::MAP_PARAM_NAMES
                    .iter()
                    .map(move |n| format!("t_{s}_{n}"))
            })
            .collect(),
        unit: "network estimate".into(),
    },
    load: load_joint,
};

impl MapBundle for JointBundle {
    fn emulator(&self) -> SharedModel {
        Arc::new(JointBundle::emulator(self))
    }

    /// Each part's summary of the first light-cone in the file, stacked.
    fn summary_from_file(&mut self, path: &Path) -> Result<Vec<f64>, SpinflipError> {
        let mut data = Vec::new();
        for part in &mut self.parts {
            data.extend(summary_from_file(part, path)?);
        }
        Ok(data)
    }

    /// One light-cone simulated at `truth`, summarised by every part.
    fn mock_summary(
        &mut self,
        truth: &[f64],
        mock: &MockConfig,
    ) -> Result<Vec<f64>, SpinflipError> {
        check_mock_noise(&self.parts[0], mock)?;
        let lc = simulate_mock(&self.parts[0], truth, mock)?;
        let mut data = Vec::new();
        for part in &mut self.parts {
            data.extend(summarize_mock(part, &lc, mock)?);
        }
        Ok(data)
    }

    fn noise_at(&self, theta: &[f64]) -> Result<Noise, SpinflipError> {
        Ok(self.scatter.noise_at(theta)?)
    }

    fn fiducial(&self) -> Vec<f64> {
        self.parts[0].file.fiducial.clone()
    }

    fn into_covariance_model(self: Box<Self>) -> Option<Box<dyn CovarianceModel>> {
        Some(Box::new(self.scatter))
    }
}
