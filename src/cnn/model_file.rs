//! Model files of the map CNN: `NAME.safetensors` (every parameter and running statistic by
//! its [`super::layout`] name, f32) and `NAME.json` (the sidecar: architecture, slice
//! geometry, input normalisation, target names and min-max ranges, training noise,
//! training-data hash, weights hash, metrics). Loading checks everything and names what is
//! wrong, as the LSTM emulator's model files do.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::config::CnnConfig;
use super::layout::ParamLayout;
use super::noise::NoiseSpec;
use crate::nn::files::model_file_error as err;
pub use crate::nn::files::model_paths;
use crate::nn::files::{
    arrays_from_bytes, arrays_to_bytes, read_checked_weights, weights_hash, write_model_pair,
    NamedArrays,
};
use crate::SpinflipError;

/// Value of [`CnnSidecar::format`].
pub const FORMAT: &str = "spinflip-map-cnn";
/// Current sidecar version.
pub const VERSION: u32 = 1;
/// The four parameters the maps CNN infers, in output order.
pub const PARAM_NAMES: [&str; 4] = ["zeta", "log10_Tvir", "log10_LX", "E0_keV"];

/// Slice geometry the model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliceGeometry {
    /// Cells across the sky (the slice's rows; the architecture's `height`).
    pub cells: usize,
    /// Cells along the line of sight (columns; the architecture's `width`).
    pub n_los: usize,
    /// Comoving cell size in Mpc, if known.
    #[serde(default)]
    pub cell_mpc: Option<f64>,
    /// Redshift range along the line of sight, if known.
    #[serde(default)]
    pub z_range: Option<[f64; 2]>,
}

/// Affine input normalisation applied to every pixel: `x' = (x - mean) / std` (mK).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InputNorm {
    /// Subtracted, mK.
    pub mean: f64,
    /// Divided by, mK.
    pub std: f64,
}

impl InputNorm {
    /// Normalise pixels in place.
    pub fn apply(&self, x: &mut [f32]) {
        let (m, s) = (self.mean as f32, (1.0 / self.std) as f32);
        x.iter_mut().for_each(|v| *v = (*v - m) * s);
    }
}

/// Min-max normalisation of the targets: `y' = (y - min) / (max - min)` per parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetNorm {
    /// Parameter names, in output order.
    pub names: Vec<String>,
    /// Minimum of each parameter (maps to 0).
    pub min: Vec<f64>,
    /// Maximum of each parameter (maps to 1).
    pub max: Vec<f64>,
}

impl TargetNorm {
    /// Normalise physical parameters (`n x d`, row-major) into `out`.
    pub fn normalise(&self, params: &[f64], out: &mut [f32]) {
        let d = self.names.len();
        for (i, (p, o)) in params.iter().zip(out.iter_mut()).enumerate() {
            let j = i % d;
            *o = ((p - self.min[j]) / (self.max[j] - self.min[j])) as f32;
        }
    }

    /// Physical parameters from normalised outputs (`n x d`).
    pub fn denormalise(&self, y: &[f32]) -> Vec<f64> {
        let d = self.names.len();
        y.iter()
            .enumerate()
            .map(|(i, &v)| {
                let j = i % d;
                self.min[j] + f64::from(v) * (self.max[j] - self.min[j])
            })
            .collect()
    }
}

/// The JSON sidecar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CnnSidecar {
    /// Always [`FORMAT`].
    pub format: String,
    /// Sidecar version ([`VERSION`]).
    pub version: u32,
    /// Network shape.
    pub architecture: CnnConfig,
    /// Slice geometry (must match the architecture's input).
    pub geometry: SliceGeometry,
    /// Input normalisation.
    pub input: InputNorm,
    /// Target names and ranges.
    pub targets: TargetNorm,
    /// Noise added to the training slices, if any.
    #[serde(default)]
    pub noise: Option<NoiseSpec>,
    /// Hash of the training data.
    pub data_hash: String,
    /// FNV-1a hash of the weights file's bytes (recomputed on save).
    pub weights_hash: String,
    /// Metrics on held-out data, if measured.
    #[serde(default)]
    pub metrics: Option<serde_json::Value>,
    /// Training settings and history, if trained here.
    #[serde(default)]
    pub training: Option<serde_json::Value>,
}

impl CnnSidecar {
    /// A sidecar for `architecture` with the four standard parameter names, the given
    /// ranges and input normalisation; hashes empty until saved.
    pub fn new(architecture: CnnConfig, input: InputNorm, min: Vec<f64>, max: Vec<f64>) -> Self {
        let geometry = SliceGeometry {
            cells: architecture.height,
            n_los: architecture.width,
            cell_mpc: None,
            z_range: None,
        };
        CnnSidecar {
            format: FORMAT.into(),
            version: VERSION,
            architecture,
            geometry,
            input,
            targets: TargetNorm {
                names: PARAM_NAMES.iter().map(|s| s.to_string()).collect(),
                min,
                max,
            },
            noise: None,
            data_hash: String::new(),
            weights_hash: String::new(),
            metrics: None,
            training: None,
        }
    }

    /// Check the sidecar on its own.
    pub fn validate(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("format is '{}', expected '{FORMAT}'", self.format));
        }
        if self.version != VERSION {
            return Err(format!(
                "sidecar version {} is not supported (this build reads {VERSION})",
                self.version
            ));
        }
        let a = &self.architecture;
        a.validate().map_err(|e| e.to_string())?;
        let g = &self.geometry;
        if g.cells != a.height || g.n_los != a.width {
            return Err(format!(
                "geometry {} x {} differs from the architecture's input {} x {}",
                g.cells, g.n_los, a.height, a.width
            ));
        }
        if let Some(c) = g.cell_mpc {
            if !(c > 0.0 && c.is_finite()) {
                return Err(format!("cell_mpc {c} must be positive"));
            }
        }
        let t = &self.targets;
        let d = t.names.len();
        if d != a.n_outputs {
            return Err(format!(
                "{d} target names but the architecture has {} outputs",
                a.n_outputs
            ));
        }
        if t.min.len() != d || t.max.len() != d {
            return Err(format!("target ranges must have {d} entries"));
        }
        for i in 0..d {
            let (lo, hi) = (t.min[i], t.max[i]);
            if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                return Err(format!(
                    "bad range [{lo}, {hi}] for '{}' (need min < max)",
                    t.names[i]
                ));
            }
        }
        let n = &self.input;
        if !(n.mean.is_finite() && n.std.is_finite() && n.std > 0.0) {
            return Err(format!(
                "input normalisation mean {} std {}: std must be positive",
                n.mean, n.std
            ));
        }
        if let Some(noise) = &self.noise {
            noise.validate().map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// Weights and sidecar of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct CnnModel {
    /// The sidecar (its `weights_hash` is recomputed on save).
    pub sidecar: CnnSidecar,
    /// Flat parameters ([`ParamLayout::params`] order).
    pub params: Vec<f32>,
    /// Flat batch-norm running statistics ([`ParamLayout::buffers`] order).
    pub buffers: Vec<f32>,
}

impl CnnModel {
    /// The hand-written CPU network with this model's running statistics (predict with
    /// `self.params`).
    pub fn cpu_network(&self) -> Result<super::CpuCnn, SpinflipError> {
        let mut net = super::CpuCnn::new(&self.sidecar.architecture)?;
        net.set_buffers(&self.buffers)?;
        Ok(net)
    }

    /// The candle network on `device` (e.g. a GPU) with this model's weights.
    pub fn candle_network(
        &self,
        device: &candle_core::Device,
    ) -> Result<super::CnnNetwork, SpinflipError> {
        super::CnnNetwork::from_flat(
            &self.sidecar.architecture,
            &self.params,
            &self.buffers,
            device,
        )
    }

    /// Check that a data set's slices (`cells x n_los`) fit this model.
    pub fn check_geometry(
        &self,
        cells: usize,
        n_los: usize,
        what: &str,
    ) -> Result<(), SpinflipError> {
        let g = &self.sidecar.geometry;
        if (cells, n_los) != (g.cells, g.n_los) {
            return Err(SpinflipError::Data {
                path: what.to_string(),
                reason: format!(
                    "slices are {cells} x {n_los} (cells x N_los) but the model was trained on {} x {}; \
                     simulate or cut the data to the model's geometry, or train a model for this one",
                    g.cells, g.n_los
                ),
            });
        }
        Ok(())
    }
}

/// Serialise flat parameters and buffers to safetensors bytes, by name.
pub fn weights_to_bytes(
    layout: &ParamLayout,
    params: &[f32],
    buffers: &[f32],
) -> Result<Vec<u8>, String> {
    let arrays: NamedArrays = layout
        .params
        .iter()
        .map(|t| (t, &params[t.range()]))
        .chain(layout.buffers.iter().map(|t| (t, &buffers[t.range()])))
        .map(|(t, v)| (t.name.clone(), t.shape.clone(), v.to_vec()))
        .collect();
    arrays_to_bytes(&arrays)
}

/// Parse safetensors bytes against `layout`: every tensor present, f32, right shape,
/// finite; no extras. Returns `(params, buffers)`.
pub fn weights_from_bytes(
    layout: &ParamLayout,
    bytes: &[u8],
) -> Result<(Vec<f32>, Vec<f32>), String> {
    let mut map = arrays_from_bytes(bytes).map_err(|e| format!("weights file: {e}"))?;
    if let Some(name) = map
        .keys()
        .find(|n| layout.param(n).is_none() && layout.buffer(n).is_none())
    {
        return Err(format!(
            "unexpected tensor '{name}' (not in the sidecar's architecture)"
        ));
    }
    let mut p = vec![0.0f32; layout.n_params];
    let mut b = vec![0.0f32; layout.n_buffers];
    let all = layout
        .params
        .iter()
        .map(|t| (t, true))
        .chain(layout.buffers.iter().map(|t| (t, false)));
    for (t, is_param) in all {
        let (shape, v) = map
            .remove(&t.name)
            .ok_or_else(|| format!("missing tensor '{}'", t.name))?;
        if shape != t.shape {
            return Err(format!(
                "tensor '{}' has shape {shape:?}, the sidecar's architecture needs {:?}",
                t.name, t.shape
            ));
        }
        if v.iter().any(|x| !x.is_finite()) {
            return Err(format!("tensor '{}' has non-finite values", t.name));
        }
        let dst = if is_param { &mut p } else { &mut b };
        dst[t.range()].copy_from_slice(&v);
    }
    Ok((p, b))
}

/// Write `model` to `path` (`models/NAME`, with or without an extension); returns the
/// weights and sidecar paths.
pub fn save_model(path: &Path, model: &CnnModel) -> Result<(PathBuf, PathBuf), SpinflipError> {
    let (wp, sp) = model_paths(path);
    model.sidecar.validate().map_err(|r| err(&sp, r))?;
    let layout = ParamLayout::new(&model.sidecar.architecture)?;
    layout.check_params("params", &model.params)?;
    layout.check_buffers("buffers", &model.buffers)?;
    let bytes =
        weights_to_bytes(&layout, &model.params, &model.buffers).map_err(|r| err(&wp, r))?;
    let mut sidecar = model.sidecar.clone();
    sidecar.weights_hash = weights_hash(&bytes);
    let json = serde_json::to_string_pretty(&sidecar).map_err(|e| err(&sp, e.to_string()))?;
    write_model_pair(&wp, &sp, &bytes, &json)?;
    Ok((wp, sp))
}

/// Read and validate the model at `path`.
pub fn load_model(path: &Path) -> Result<CnnModel, SpinflipError> {
    let (wp, sp) = model_paths(path);
    let text =
        std::fs::read_to_string(&sp).map_err(|e| err(&sp, format!("cannot read sidecar: {e}")))?;
    let sidecar: CnnSidecar = serde_json::from_str(&text).map_err(|e| {
        err(
            &sp,
            format!("sidecar is not a valid map-CNN description: {e}"),
        )
    })?;
    sidecar.validate().map_err(|r| err(&sp, r))?;
    let layout = ParamLayout::new(&sidecar.architecture).map_err(|e| err(&sp, e.to_string()))?;
    let bytes = read_checked_weights(&wp, &sidecar.weights_hash)?;
    let (params, buffers) = weights_from_bytes(&layout, &bytes).map_err(|r| err(&wp, r))?;
    Ok(CnnModel {
        sidecar,
        params,
        buffers,
    })
}
