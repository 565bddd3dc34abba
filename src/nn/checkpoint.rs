//! Training checkpoints: `NAME.ckpt.safetensors` (current weights, best weights, optimiser
//! moments, as `w.*`, `best.*`, `m.*`, `v.*`) and `NAME.ckpt.json` (epoch, schedule state,
//! settings, data hash, history), written every epoch so `--resume` continues exactly.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::files::{model_paths, read_arrays, write_arrays};
pub use super::files::{ArrayMap, NamedArrays};
use crate::samplers::output::write_atomic;
use crate::SpinflipError;

/// One epoch of training history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch number (0-based).
    pub epoch: usize,
    /// Mean training loss.
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
    /// Optimiser steps taken.
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

/// Write a checkpoint (arrays first, then the state that refers to them; both atomic).
pub fn save_checkpoint(
    out: &Path,
    arrays: &NamedArrays,
    state: &CheckpointState,
) -> Result<(), SpinflipError> {
    let (tp, sp) = checkpoint_paths(out);
    let json = serde_json::to_string_pretty(state).map_err(|e| SpinflipError::ModelFile {
        path: sp.display().to_string(),
        reason: e.to_string(),
    })?;
    write_arrays(&tp, arrays)?;
    write_atomic(&sp, json.as_bytes())?;
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
    let map = read_arrays(&tp)?;
    Ok((map, state))
}
