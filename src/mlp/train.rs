//! Training an MLP on a [`Table`] with the shared epoch loop ([`crate::nn`]): inputs and
//! outputs standardised on the training rows, MSE in standardised output units, Adam and a
//! halve-on-plateau schedule by default, the best epoch kept, a checkpoint every epoch.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::data::Table;
use super::features::{Features, Transform};
use super::model_file::{save_mlp, MlpModel, MlpSidecar, FORMAT, VERSION};
use super::network::{Activation, MlpBatch, MlpSpec};
use crate::nn::loss_curve::{loss_curve_path, write_loss_curve};
use crate::nn::split::Split;
use crate::nn::{
    run_epochs, BatchContext, EpochLoop, LoopOptions, LrSchedule, OptimizerConfig, OptimizerKind,
    StoppingRule, Trainable,
};
use crate::SpinflipError;

/// Training settings (all shape the result; a resume must use the same ones, except a
/// larger epoch budget or patience).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlpTrainConfig {
    /// Hidden-layer widths.
    pub hidden: Vec<usize>,
    /// Activation of the hidden layers.
    pub activation: Activation,
    /// Transform of the inputs before standardisation.
    pub x_transform: Transform,
    /// Floor of a log transform of the inputs (data units).
    pub x_floor: f64,
    /// Transform of the outputs before standardisation.
    pub y_transform: Transform,
    /// Floor of a log transform of the outputs.
    pub y_floor: f64,
    /// Epoch budget.
    pub epochs: usize,
    /// Examples per mini-batch.
    pub batch_size: usize,
    /// Initial learning rate.
    pub lr: f64,
    /// Update rule.
    pub optimizer: OptimizerKind,
    /// Decoupled weight decay (AdamW; 0: none).
    pub weight_decay: f64,
    /// Learning-rate schedule.
    pub schedule: LrSchedule,
    /// Plateau: epochs without improvement before the rate halves.
    pub lr_patience: usize,
    /// Smallest learning rate.
    pub min_lr: f64,
    /// Early stopping: epochs without a better validation loss.
    pub patience: usize,
    /// Seed of the initial weights and the batch order.
    pub seed: u64,
    /// Validation rows (before the test rows at the end of the table).
    pub n_val: usize,
    /// Held-out test rows (the last of the table).
    pub n_test: usize,
}

impl Default for MlpTrainConfig {
    fn default() -> Self {
        MlpTrainConfig {
            hidden: vec![256, 256, 128],
            activation: Activation::Relu,
            x_transform: Transform::Identity,
            x_floor: 1e-2,
            y_transform: Transform::Identity,
            y_floor: 1e-2,
            epochs: 500,
            batch_size: 64,
            lr: 1e-3,
            optimizer: OptimizerKind::Adam,
            weight_decay: 0.0,
            schedule: LrSchedule::Plateau,
            lr_patience: 10,
            min_lr: 1e-6,
            patience: 30,
            seed: 0,
            n_val: 1000,
            n_test: 1000,
        }
    }
}

/// How to run training.
#[derive(Debug, Clone, Default)]
pub struct MlpTrainOptions {
    /// Require the checkpoint next to the output (without it, one of the same run is
    /// resumed anyway; see [`crate::nn::epochs::LoopOptions::resume`]).
    pub resume: bool,
    /// Delete a checkpoint next to the output and start over.
    pub restart: bool,
    /// Progress bar.
    pub progress: bool,
    /// One line per epoch on stderr.
    pub log_epochs: bool,
}

/// What training produced.
#[derive(Debug, Clone)]
pub struct MlpTrainOutcome {
    /// The best model (also written to disk).
    pub model: MlpModel,
    /// The split used.
    pub split: Split,
    /// Epoch of the best validation loss.
    pub best_epoch: usize,
    /// Files written.
    pub files: Vec<PathBuf>,
}

struct MlpTrainable {
    spec: MlpSpec,
    x: Vec<f32>,
    y: Vec<f32>,
    train: std::ops::Range<usize>,
    val: std::ops::Range<usize>,
    batch: MlpBatch,
    bx: Vec<f32>,
    by: Vec<f32>,
}

impl MlpTrainable {
    fn gather(&mut self, rows: impl Iterator<Item = usize>) {
        let (dx, dy) = (self.spec.inputs(), self.spec.outputs());
        self.bx.clear();
        self.by.clear();
        for r in rows {
            self.bx.extend_from_slice(&self.x[r * dx..(r + 1) * dx]);
            self.by.extend_from_slice(&self.y[r * dy..(r + 1) * dy]);
        }
    }
}

impl Trainable for MlpTrainable {
    fn layout(&self) -> Vec<(String, Vec<usize>)> {
        self.spec.layout()
    }

    fn n_train(&self) -> usize {
        self.train.len()
    }

    fn batch_loss_grad(
        &mut self,
        params: &[f32],
        batch: &[usize],
        _ctx: BatchContext,
        grad: &mut [f32],
    ) -> Result<f64, SpinflipError> {
        let start = self.train.start;
        self.gather(batch.iter().map(|&i| start + i));
        self.batch.forward(&self.spec, params, &self.bx)?;
        self.batch.backward_mse(&self.spec, params, &self.by, grad)
    }

    fn val_loss(&mut self, params: &[f32]) -> Result<f64, SpinflipError> {
        self.gather(self.val.clone());
        let out = self.batch.forward(&self.spec, params, &self.bx)?;
        let s: f64 = out
            .iter()
            .zip(&self.by)
            .map(|(a, b)| f64::from(a - b).powi(2))
            .sum();
        Ok(s / self.by.len() as f64)
    }
}

/// Train on `table` and write the best model to `out` (`OUT.safetensors` + `OUT.json`, the
/// loss curve `OUT_loss.png`, the checkpoint `OUT.ckpt.*`).
pub fn train_mlp(
    table: &Table,
    cfg: &MlpTrainConfig,
    out: &Path,
    opts: &MlpTrainOptions,
) -> Result<MlpTrainOutcome, SpinflipError> {
    let split = Split::new(table.n, cfg.n_val, cfg.n_test)?;
    let spec = MlpSpec::new(
        table.x.width(),
        &cfg.hidden,
        table.y.width(),
        cfg.activation,
    );
    spec.validate()?;
    let inputs = Features::fit(
        &table.x.name,
        table.x.shape.clone(),
        table.x.columns.clone(),
        cfg.x_transform,
        cfg.x_floor,
        &table.x.values,
        split.train.clone(),
    )?;
    let outputs = Features::fit(
        &table.y.name,
        table.y.shape.clone(),
        table.y.columns.clone(),
        cfg.y_transform,
        cfg.y_floor,
        &table.y.values,
        split.train.clone(),
    )?;
    let to32 = |v: Vec<f64>| -> Vec<f32> { v.into_iter().map(|a| a as f32).collect() };
    let mut model = MlpTrainable {
        spec: spec.clone(),
        x: to32(inputs.encode(&table.x.values)?),
        y: to32(outputs.encode(&table.y.values)?),
        train: split.train.clone(),
        val: split.val.clone(),
        batch: MlpBatch::default(),
        bx: Vec::new(),
        by: Vec::new(),
    };
    let data_hash = table.hash();
    let settings =
        serde_json::to_value(cfg).map_err(|e| SpinflipError::config("settings", e.to_string()))?;
    let mut optimizer = OptimizerConfig::of_kind(cfg.optimizer, cfg.lr);
    optimizer.weight_decay = cfg.weight_decay;
    let outcome = run_epochs(
        &mut model,
        spec.init(cfg.seed),
        &EpochLoop {
            rule: StoppingRule {
                schedule: cfg.schedule,
                lr: cfg.lr,
                min_lr: cfg.min_lr,
                lr_patience: cfg.lr_patience,
                lr_factor: 0.5,
                patience: cfg.patience,
                epochs: cfg.epochs,
            },
            batch_size: cfg.batch_size,
            seed: cfg.seed,
            optimizer,
            drop_last: false,
        },
        &LoopOptions {
            out,
            resume: opts.resume,
            restart: opts.restart,
            progress: opts.progress,
            log_epochs: opts.log_epochs,
            settings: settings.clone(),
            data_hash: data_hash.clone(),
        },
    )?;
    let state = &outcome.state;
    let sidecar = MlpSidecar {
        format: FORMAT.into(),
        version: VERSION,
        architecture: spec,
        inputs,
        outputs,
        data_hash,
        weights_hash: String::new(),
        metrics: Some(serde_json::json!({
            "split": "validation",
            "n_rows": split.val.len(),
            "mse_standardised": state.best_val,
        })),
        training: Some(serde_json::json!({
            "settings": settings,
            "split": split,
            "data": table.source,
            "epochs_done": state.epochs_done,
            "best_epoch": state.best_epoch,
            "best_val_loss": state.best_val,
            "stopped_early": state.stopped,
            "history": state.history,
        })),
    };
    let model_out = MlpModel {
        sidecar,
        params: outcome.best,
    };
    let (wp, sp) = save_mlp(out, &model_out)?;
    let mut files = vec![wp, sp];
    if !state.history.is_empty() {
        let png = loss_curve_path(out);
        write_loss_curve(
            &png,
            &state.history,
            &format!("MLP {} -> {}", table.x.name, table.y.name),
            "MSE of the standardised outputs",
        )?;
        files.push(png);
    }
    Ok(MlpTrainOutcome {
        model: model_out,
        split,
        best_epoch: state.best_epoch,
        files,
    })
}
