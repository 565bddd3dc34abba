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
    /// Which of the two array files holds this state's arrays (`None`: the first; older
    /// checkpoints). Epochs alternate between them, so a run killed after writing one
    /// epoch's arrays but before its state still has the previous epoch's pair intact.
    #[serde(default)]
    pub arrays_slot: Option<u8>,
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

/// The array file of `slot` (0: the `.ckpt.safetensors` of [`checkpoint_paths`], 1: beside it).
fn slot_path(out: &Path, slot: u8) -> PathBuf {
    let (tp, _) = checkpoint_paths(out);
    if slot == 0 {
        return tp;
    }
    let mut s = tp.with_extension("").into_os_string();
    s.push(".b.safetensors");
    PathBuf::from(s)
}

/// Write a checkpoint: the arrays (atomically) into the slot the current state does not
/// use, then the state that names it (atomically). A kill at any moment leaves a
/// consistent pair on disk.
pub fn save_checkpoint(
    out: &Path,
    arrays: &NamedArrays,
    state: &CheckpointState,
) -> Result<(), SpinflipError> {
    let (_, sp) = checkpoint_paths(out);
    let slot = (state.epochs_done % 2) as u8;
    let state = CheckpointState {
        arrays_slot: Some(slot),
        ..state.clone()
    };
    let json = serde_json::to_string_pretty(&state).map_err(|e| SpinflipError::ModelFile {
        path: sp.display().to_string(),
        reason: e.to_string(),
    })?;
    write_arrays(&slot_path(out, slot), arrays)?;
    write_atomic(&sp, json.as_bytes())?;
    Ok(())
}

/// Delete the checkpoint of the model at `out` (state first, so a kill midway leaves no
/// state naming missing arrays); absent files are fine.
pub fn remove_checkpoint(out: &Path) -> Result<(), SpinflipError> {
    let (_, sp) = checkpoint_paths(out);
    for p in [sp, slot_path(out, 0), slot_path(out, 1)] {
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(SpinflipError::ModelFile {
                    path: p.display().to_string(),
                    reason: format!("cannot remove the old checkpoint: {e}"),
                })
            }
            _ => {}
        }
    }
    Ok(())
}

/// Read a checkpoint: arrays by name (with shapes) and the state.
pub fn load_checkpoint(out: &Path) -> Result<(ArrayMap, CheckpointState), SpinflipError> {
    let (_, sp) = checkpoint_paths(out);
    let err = |p: &Path, r: String| SpinflipError::ModelFile {
        path: p.display().to_string(),
        reason: r,
    };
    let text = std::fs::read_to_string(&sp)
        .map_err(|e| err(&sp, format!("cannot read checkpoint state: {e}")))?;
    let state: CheckpointState =
        serde_json::from_str(&text).map_err(|e| err(&sp, format!("bad checkpoint state: {e}")))?;
    let map = read_arrays(&slot_path(out, state.arrays_slot.unwrap_or(0)))?;
    Ok((map, state))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(epochs_done: usize) -> CheckpointState {
        CheckpointState {
            epochs_done,
            lr: 1e-3,
            adam_step: 10 * epochs_done as u64,
            best_val: 1.0,
            best_epoch: 0,
            bad_epochs: 0,
            plateau_epochs: 0,
            stopped: false,
            settings: serde_json::json!({}),
            data_hash: "x".into(),
            history: Vec::new(),
            arrays_slot: None,
        }
    }

    fn arrays(v: f32) -> NamedArrays {
        vec![("w".into(), vec![2], vec![v, v])]
    }

    /// A run killed after writing an epoch's arrays but before its state (SIGKILL between
    /// the two atomic writes) still resumes from a consistent pair: the previous epoch's.
    #[test]
    fn a_kill_between_the_two_writes_leaves_the_previous_pair_intact() {
        let dir = std::env::temp_dir().join(format!("spinflip-ckpt-{}", std::process::id()));
        let out = dir.join("model");
        save_checkpoint(&out, &arrays(1.0), &state(1)).unwrap();
        save_checkpoint(&out, &arrays(2.0), &state(2)).unwrap();
        let (map, st) = load_checkpoint(&out).unwrap();
        assert_eq!((st.epochs_done, map["w"].1[0]), (2, 2.0));
        // Epoch 3's arrays land in the slot epoch 2's state does not use; then the kill.
        write_arrays(&slot_path(&out, 1), &arrays(3.0)).unwrap();
        let (map, st) = load_checkpoint(&out).unwrap();
        assert_eq!((st.epochs_done, map["w"].1[0]), (2, 2.0));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
