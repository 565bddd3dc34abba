//! Model files: `NAME.safetensors` (weights, f32) and `NAME.json` (the sidecar:
//! architecture, normalisation, grid, parameter names and ranges, training-data hash,
//! weights hash, metrics). Loading checks everything and names what is wrong.

use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

use super::config::LstmConfig;
use super::preprocessing::Normalisation;
use super::weights::LstmWeights;
use crate::io::hash::Fnv1a;
use crate::samplers::output::{ensure_parent, write_atomic};
use crate::SpinflipError;

/// Value of [`ModelSidecar::format`].
pub const FORMAT: &str = "spinflip-lstm-emulator";
/// Current sidecar version.
pub const VERSION: u32 = 1;

/// The JSON sidecar of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSidecar {
    /// Always [`FORMAT`].
    pub format: String,
    /// Sidecar version ([`VERSION`]).
    pub version: u32,
    /// Network shape.
    pub architecture: LstmConfig,
    /// Input/output normalisation.
    pub normalisation: Normalisation,
    /// Output grid: redshifts, ascending.
    pub redshifts: Vec<f64>,
    /// Parameter names, in input order.
    pub param_names: Vec<String>,
    /// Lower edge of each parameter's valid range: the box the training data were drawn
    /// from (the training values' minimum when the data did not store their box).
    pub param_min: Vec<f64>,
    /// Upper edge of each parameter's valid range.
    pub param_max: Vec<f64>,
    /// FNV-1a hash of the training data (see [`super::train::TrainData::hash`]).
    pub data_hash: String,
    /// FNV-1a hash of the weights file's bytes (catches a sidecar paired with other weights).
    pub weights_hash: String,
    /// Error metrics on held-out data, if measured.
    #[serde(default)]
    pub metrics: Option<serde_json::Value>,
    /// Training settings and history, if trained here.
    #[serde(default)]
    pub training: Option<serde_json::Value>,
}

/// Weights and sidecar of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct EmulatorModel {
    /// The sidecar (its `weights_hash` is recomputed on save).
    pub sidecar: ModelSidecar,
    /// The weights.
    pub weights: LstmWeights,
}

pub use crate::nn::files::model_paths;

/// Serialise weights to safetensors bytes.
pub fn weights_to_bytes(w: &LstmWeights) -> Result<Vec<u8>, String> {
    let tensors = w.tensors();
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, shape, _), b)| {
            TensorView::new(Dtype::F32, shape.clone(), b).map(|v| (name.clone(), v))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    safetensors::tensor::serialize(views, None).map_err(|e| e.to_string())
}

/// Parse and check safetensors bytes against `config`: every expected tensor present, f32,
/// right shape, finite; no extra tensors.
pub fn weights_from_bytes(config: LstmConfig, bytes: &[u8]) -> Result<LstmWeights, String> {
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| format!("weights file is truncated or not safetensors ({e})"))?;
    let expected = LstmWeights::expected_shapes(&config);
    for name in st.names() {
        if !expected.iter().any(|(n, _)| n == name) {
            return Err(format!(
                "unexpected tensor '{name}' (architecture {} layers x {} units)",
                config.layers, config.hidden
            ));
        }
    }
    let mut values = std::collections::HashMap::new();
    for (name, shape) in &expected {
        let t = st
            .tensor(name)
            .map_err(|_| format!("missing tensor '{name}'"))?;
        if t.dtype() != Dtype::F32 {
            return Err(format!("tensor '{name}' is {:?}, expected F32", t.dtype()));
        }
        if t.shape() != shape.as_slice() {
            return Err(format!(
                "tensor '{name}' has shape {:?}, the sidecar's architecture needs {shape:?}",
                t.shape()
            ));
        }
        let v: Vec<f32> = t
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if v.iter().any(|x| !x.is_finite()) {
            return Err(format!("tensor '{name}' has non-finite values"));
        }
        values.insert(name.clone(), v);
    }
    Ok(LstmWeights::from_named(config, |n| {
        values.remove(n).unwrap_or_default()
    }))
}

impl ModelSidecar {
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
        let d = self.param_names.len();
        if d != a.n_params {
            return Err(format!(
                "{d} parameter names but the architecture takes {}",
                a.n_params
            ));
        }
        if self.param_min.len() != d || self.param_max.len() != d {
            return Err(format!("parameter ranges must have {d} entries"));
        }
        for i in 0..d {
            let (lo, hi) = (self.param_min[i], self.param_max[i]);
            if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                return Err(format!(
                    "bad range [{lo}, {hi}] for '{}'",
                    self.param_names[i]
                ));
            }
        }
        if self.redshifts.len() != a.n_outputs() {
            return Err(format!(
                "{} redshifts but the architecture has {} outputs ({} steps x {} per step)",
                self.redshifts.len(),
                a.n_outputs(),
                a.n_steps,
                a.outputs_per_step
            ));
        }
        if self.redshifts.windows(2).any(|w| w[1] <= w[0]) {
            return Err("redshifts are not strictly ascending".into());
        }
        self.normalisation.validate()?;
        if self.normalisation.param_names != self.param_names {
            return Err("normalisation parameter names differ from param_names".into());
        }
        Ok(())
    }
}

/// Write `model` to `path` (see [`model_paths`]); returns the two paths.
pub fn save_model(path: &Path, model: &EmulatorModel) -> Result<(PathBuf, PathBuf), SpinflipError> {
    let (wp, sp) = model_paths(path);
    let err = |p: &Path, reason: String| SpinflipError::ModelFile {
        path: p.display().to_string(),
        reason,
    };
    if model.weights.config != model.sidecar.architecture {
        return Err(err(&sp, "weights and sidecar architectures differ".into()));
    }
    model.sidecar.validate().map_err(|r| err(&sp, r))?;
    let bytes = weights_to_bytes(&model.weights).map_err(|r| err(&wp, r))?;
    let mut sidecar = model.sidecar.clone();
    sidecar.weights_hash = Fnv1a::default().bytes(&bytes).hex();
    let json = serde_json::to_string_pretty(&sidecar).map_err(|e| err(&sp, e.to_string()))?;
    ensure_parent(&wp).map_err(|e| err(&wp, e.to_string()))?;
    write_atomic(&wp, &bytes).map_err(|e| err(&wp, e.to_string()))?;
    write_atomic(&sp, json.as_bytes()).map_err(|e| err(&sp, e.to_string()))?;
    Ok((wp, sp))
}

/// Read and validate the model at `path` (see [`model_paths`]).
pub fn load_model(path: &Path) -> Result<EmulatorModel, SpinflipError> {
    let (wp, sp) = model_paths(path);
    let err = |p: &Path, reason: String| SpinflipError::ModelFile {
        path: p.display().to_string(),
        reason,
    };
    let text =
        std::fs::read_to_string(&sp).map_err(|e| err(&sp, format!("cannot read sidecar: {e}")))?;
    let sidecar: ModelSidecar = serde_json::from_str(&text).map_err(|e| {
        err(
            &sp,
            format!("sidecar is not a valid model description: {e}"),
        )
    })?;
    sidecar.validate().map_err(|r| err(&sp, r))?;
    let bytes = std::fs::read(&wp).map_err(|e| err(&wp, format!("cannot read weights: {e}")))?;
    let weights = weights_from_bytes(sidecar.architecture, &bytes).map_err(|r| err(&wp, r))?;
    let hash = Fnv1a::default().bytes(&bytes).hex();
    if hash != sidecar.weights_hash {
        return Err(err(
            &wp,
            format!(
                "weights hash {hash} differs from the sidecar's {}: the files belong to different models",
                sidecar.weights_hash
            ),
        ));
    }
    Ok(EmulatorModel { sidecar, weights })
}
