//! Training checkpoints: `NAME.ckpt.safetensors` (current weights, best weights, Adam
//! moments) and `NAME.ckpt.json` (epoch, schedule state, history), written every epoch so
//! `--resume` continues exactly.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

use super::model_file::model_paths;
use crate::samplers::output::{ensure_parent, write_atomic};
use crate::SpinflipError;

/// One epoch of training history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch number (0-based).
    pub epoch: usize,
    /// Mean training loss (MSE of the normalised signal).
    pub train_loss: f64,
    /// Validation loss (same units).
    pub val_loss: f64,
    /// Learning rate used.
    pub lr: f64,
    /// Wall-clock seconds of the epoch.
    pub seconds: f64,
}

/// Scalar state of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Epochs completed.
    pub epochs_done: usize,
    /// Current learning rate.
    pub lr: f64,
    /// Adam steps taken.
    pub adam_step: u64,
    /// Best validation loss so far.
    pub best_val: f64,
    /// Epoch of the best validation loss.
    pub best_epoch: usize,
    /// Epochs since the validation loss last improved.
    pub bad_epochs: usize,
    /// Epochs since the last improvement or learning-rate drop.
    pub plateau_epochs: usize,
    /// Early stopping triggered.
    pub stopped: bool,
    /// Settings the run was started with (must match on resume).
    pub settings: serde_json::Value,
    /// Hash of the training data (must match on resume).
    pub data_hash: String,
    /// Per-epoch history.
    pub history: Vec<EpochRecord>,
}

/// Paths `(tensors, state)` of the checkpoint of the model at `out`.
pub fn checkpoint_paths(out: &Path) -> (PathBuf, PathBuf) {
    let (w, _) = model_paths(out);
    let base = w.with_extension("");
    let with = |ext: &str| {
        let mut s = base.clone().into_os_string();
        s.push(ext);
        PathBuf::from(s)
    };
    (with(".ckpt.safetensors"), with(".ckpt.json"))
}

/// Arrays by name, with their shapes.
pub type ArrayMap = HashMap<String, (Vec<usize>, Vec<f32>)>;

/// Named `f32` arrays with shapes.
pub type NamedArrays = Vec<(String, Vec<usize>, Vec<f32>)>;

/// Write a checkpoint.
pub fn save_checkpoint(
    out: &Path,
    arrays: &NamedArrays,
    state: &CheckpointState,
) -> Result<(), SpinflipError> {
    let (tp, sp) = checkpoint_paths(out);
    let err = |p: &Path, r: String| SpinflipError::ModelFile {
        path: p.display().to_string(),
        reason: r,
    };
    let bytes: Vec<Vec<u8>> = arrays
        .iter()
        .map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let views = arrays
        .iter()
        .zip(&bytes)
        .map(|((n, s, _), b)| TensorView::new(Dtype::F32, s.clone(), b).map(|v| (n.clone(), v)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(&tp, e.to_string()))?;
    let data = safetensors::tensor::serialize(views, None).map_err(|e| err(&tp, e.to_string()))?;
    let json = serde_json::to_string_pretty(state).map_err(|e| err(&sp, e.to_string()))?;
    ensure_parent(&tp).map_err(|e| err(&tp, e.to_string()))?;
    write_atomic(&tp, &data).map_err(|e| err(&tp, e.to_string()))?;
    write_atomic(&sp, json.as_bytes()).map_err(|e| err(&sp, e.to_string()))?;
    Ok(())
}

/// Read a checkpoint: arrays by name (with shapes) and the state.
pub fn load_checkpoint(out: &Path) -> Result<(ArrayMap, CheckpointState), SpinflipError> {
    let (tp, sp) = checkpoint_paths(out);
    let err = |p: &Path, r: String| SpinflipError::ModelFile {
        path: p.display().to_string(),
        reason: r,
    };
    let text = std::fs::read_to_string(&sp)
        .map_err(|e| err(&sp, format!("cannot read checkpoint state: {e}")))?;
    let state: CheckpointState =
        serde_json::from_str(&text).map_err(|e| err(&sp, format!("bad checkpoint state: {e}")))?;
    let bytes = std::fs::read(&tp).map_err(|e| err(&tp, format!("cannot read checkpoint: {e}")))?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| {
        err(
            &tp,
            format!("checkpoint is truncated or not safetensors ({e})"),
        )
    })?;
    let mut map = HashMap::new();
    for (name, t) in st.tensors() {
        if t.dtype() != Dtype::F32 {
            return Err(err(&tp, format!("tensor '{name}' is not F32")));
        }
        let v = t
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        map.insert(name, (t.shape().to_vec(), v));
    }
    Ok((map, state))
}
