//! Model files of an MLP: `NAME.safetensors` (`dense{l}.weight`, `dense{l}.bias`, f32) and
//! `NAME.json` (architecture, input and output blocks with their transforms and
//! standardisation, training-data hash, weights hash, metrics), validated on load.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::features::Features;
use super::network::{Mlp64, MlpSpec};
use crate::nn::files::model_file_error as err;
use crate::nn::files::{
    arrays_from_bytes, arrays_to_bytes, model_paths, read_checked_weights, weights_hash,
    write_model_pair, NamedArrays,
};
use crate::SpinflipError;

/// Value of [`MlpSidecar::format`].
pub const FORMAT: &str = "spinflip-mlp";
/// Current sidecar version.
pub const VERSION: u32 = 1;

/// The JSON sidecar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlpSidecar {
    /// Always [`FORMAT`].
    pub format: String,
    /// Sidecar version ([`VERSION`]).
    pub version: u32,
    /// Layer widths and activation.
    pub architecture: MlpSpec,
    /// What the network reads.
    pub inputs: Features,
    /// What it predicts.
    pub outputs: Features,
    /// Hash of the training data.
    pub data_hash: String,
    /// FNV-1a hash of the weights file's bytes (recomputed on save).
    pub weights_hash: String,
    /// Metrics on held-out data, if measured.
    #[serde(default)]
    pub metrics: Option<serde_json::Value>,
    /// Training settings and history.
    #[serde(default)]
    pub training: Option<serde_json::Value>,
}

impl MlpSidecar {
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
        self.architecture.validate().map_err(|e| e.to_string())?;
        self.inputs.validate()?;
        self.outputs.validate()?;
        if self.inputs.len() != self.architecture.inputs()
            || self.outputs.len() != self.architecture.outputs()
        {
            return Err(format!(
                "blocks of {} inputs and {} outputs do not match the architecture {:?}",
                self.inputs.len(),
                self.outputs.len(),
                self.architecture.sizes
            ));
        }
        Ok(())
    }
}

/// Weights and sidecar.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpModel {
    /// The sidecar.
    pub sidecar: MlpSidecar,
    /// Flat parameters ([`MlpSpec::layout`] order).
    pub params: Vec<f32>,
}

impl MlpModel {
    /// The `f64` single-point network.
    pub fn network64(&self) -> Result<Mlp64, SpinflipError> {
        Mlp64::new(self.sidecar.architecture.clone(), &self.params)
    }

    /// Physical outputs for physical inputs (any number of rows).
    pub fn predict(&self, raw: &[f64]) -> Result<Vec<f64>, SpinflipError> {
        let net = self.network64()?;
        let z = self.sidecar.inputs.encode(raw)?;
        let d = self.sidecar.inputs.len();
        let mut out = Vec::with_capacity(z.len() / d * self.sidecar.outputs.len());
        for row in z.chunks(d) {
            out.extend(self.sidecar.outputs.decode(&net.predict(row)?));
        }
        Ok(out)
    }
}

/// Write `model` to `path` (`models/NAME`, with or without an extension).
pub fn save_mlp(path: &Path, model: &MlpModel) -> Result<(PathBuf, PathBuf), SpinflipError> {
    let (wp, sp) = model_paths(path);
    model.sidecar.validate().map_err(|r| err(&sp, r))?;
    let spec = &model.sidecar.architecture;
    if model.params.len() != spec.n_params() {
        return Err(err(
            &wp,
            format!(
                "{} parameters, the architecture has {}",
                model.params.len(),
                spec.n_params()
            ),
        ));
    }
    let mut at = 0;
    let arrays: NamedArrays = spec
        .layout()
        .into_iter()
        .map(|(n, s)| {
            let k: usize = s.iter().product();
            at += k;
            (n, s, model.params[at - k..at].to_vec())
        })
        .collect();
    let bytes = arrays_to_bytes(&arrays).map_err(|r| err(&wp, r))?;
    let mut sidecar = model.sidecar.clone();
    sidecar.weights_hash = weights_hash(&bytes);
    let json = serde_json::to_string_pretty(&sidecar).map_err(|e| err(&sp, e.to_string()))?;
    write_model_pair(&wp, &sp, &bytes, &json)?;
    Ok((wp, sp))
}

/// Read and validate the MLP at `path`.
pub fn load_mlp(path: &Path) -> Result<MlpModel, SpinflipError> {
    let (wp, sp) = model_paths(path);
    let text =
        std::fs::read_to_string(&sp).map_err(|e| err(&sp, format!("cannot read sidecar: {e}")))?;
    let sidecar: MlpSidecar = serde_json::from_str(&text)
        .map_err(|e| err(&sp, format!("sidecar is not a valid MLP description: {e}")))?;
    sidecar.validate().map_err(|r| err(&sp, r))?;
    let bytes = read_checked_weights(&wp, &sidecar.weights_hash)?;
    let mut map = arrays_from_bytes(&bytes).map_err(|r| err(&wp, r))?;
    let mut params = Vec::with_capacity(sidecar.architecture.n_params());
    for (name, shape) in sidecar.architecture.layout() {
        let (s, v) = map
            .remove(&name)
            .ok_or_else(|| err(&wp, format!("missing tensor '{name}'")))?;
        if s != shape {
            return Err(err(
                &wp,
                format!("tensor '{name}' has shape {s:?}, the architecture needs {shape:?}"),
            ));
        }
        if v.iter().any(|x| !x.is_finite()) {
            return Err(err(&wp, format!("tensor '{name}' has non-finite values")));
        }
        params.extend(v);
    }
    if let Some(name) = map.keys().next() {
        return Err(err(&wp, format!("unexpected tensor '{name}'")));
    }
    Ok(MlpModel { sidecar, params })
}
