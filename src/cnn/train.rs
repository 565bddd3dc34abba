//! Training the map CNN on the shared epoch loop ([`crate::nn`]): the light-cones of a slice
//! set split in file order into training, validation and test light-cones (every slice of a
//! light-cone stays in its split), mini-batches of slices through the hand-written CPU path
//! ([`CpuCnn::forward_backward`]), RMSprop and a halve-on-plateau schedule as Gillet et al.
//! (2019), the best epoch's weights and batch-norm statistics kept, a checkpoint every
//! epoch.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::config::{CnnConfig, Padding};
use super::cpu::CpuCnn;
use super::data::SliceSet;
use super::model_file::{save_model, CnnModel, CnnSidecar, InputNorm, TargetNorm};
use super::noise::NoiseSpec;
use crate::nn::loss_curve::{loss_curve_path, write_loss_curve};
use crate::nn::{
    run_epochs, BatchContext, EpochLoop, LoopOptions, LrSchedule, OptimizerConfig, OptimizerKind,
    StoppingRule, Trainable,
};
use crate::SpinflipError;

pub use crate::nn::split::Split;

/// Training settings (all of them shape the result; a resume must use the same ones, except
/// a larger epoch budget or patience).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CnnTrainConfig {
    /// Convolution padding ('valid': 4x cheaper and 8x smaller than Gillet's 'same').
    pub padding: Padding,
    /// Epoch budget.
    pub epochs: usize,
    /// Slices per mini-batch.
    pub batch_size: usize,
    /// Initial learning rate.
    pub lr: f64,
    /// Update rule.
    pub optimizer: OptimizerKind,
    /// Learning-rate schedule.
    pub schedule: LrSchedule,
    /// Plateau: epochs without improvement before the rate halves (Gillet: 5).
    pub lr_patience: usize,
    /// Smallest learning rate.
    pub min_lr: f64,
    /// Early stopping: epochs without a better validation loss.
    pub patience: usize,
    /// Seed of the initial weights, the batch order, dropout and noise.
    pub seed: u64,
    /// Validation light-cones (taken before the test ones at the end of the set).
    pub n_val: usize,
    /// Held-out test light-cones (the last of the set).
    pub n_test: usize,
    /// Thermal noise added to every training and validation slice.
    pub noise: Option<NoiseSpec>,
}

impl Default for CnnTrainConfig {
    fn default() -> Self {
        CnnTrainConfig {
            padding: Padding::Valid,
            epochs: 100,
            batch_size: 64,
            lr: 1e-3,
            optimizer: OptimizerKind::Rmsprop,
            schedule: LrSchedule::Plateau,
            lr_patience: 5,
            min_lr: 1e-6,
            patience: 15,
            seed: 0,
            n_val: 1000,
            n_test: 1000,
            noise: None,
        }
    }
}

/// How to run training.
#[derive(Debug, Clone, Default)]
pub struct CnnTrainOptions {
    /// Require the checkpoint next to the output (without it, one of the same run is
    /// resumed anyway; see [`crate::nn::epochs::LoopOptions::resume`]).
    pub resume: bool,
    /// Delete a checkpoint next to the output and start over.
    pub restart: bool,
    /// Progress bar.
    pub progress: bool,
    /// One line per epoch on stderr.
    pub log_epochs: bool,
    /// Threads (default: all cores).
    pub threads: Option<usize>,
}

/// What training produced.
#[derive(Debug, Clone)]
pub struct CnnTrainOutcome {
    /// The best model (also written to disk).
    pub model: CnnModel,
    /// The split used.
    pub split: Split,
    /// Epoch of the best validation loss.
    pub best_epoch: usize,
    /// Files written.
    pub files: Vec<PathBuf>,
}

/// Every `(light-cone, slice)` pair of the light-cones `lcs`.
pub fn items(set: &SliceSet, lcs: Range<usize>) -> Vec<(usize, usize)> {
    lcs.flat_map(|i| (0..set.k).map(move |j| (i, j))).collect()
}

/// Seed of the validation noise: fixed, so every epoch is judged on the same noisy slices.
const VAL_NOISE_SEED: u64 = 0x0005_eed0_f0a1;

struct CnnTrainable<'a> {
    net: CpuCnn,
    data: &'a SliceSet,
    train: Vec<(usize, usize)>,
    val: Vec<(usize, usize)>,
    input: InputNorm,
    targets: TargetNorm,
    noise: Option<NoiseSpec>,
    x: Vec<f32>,
    y: Vec<f32>,
}

impl Trainable for CnnTrainable<'_> {
    fn layout(&self) -> Vec<(String, Vec<usize>)> {
        self.net.layout().named_shapes()
    }

    fn n_train(&self) -> usize {
        self.train.len()
    }

    fn batch_loss_grad(
        &mut self,
        params: &[f32],
        batch: &[usize],
        ctx: BatchContext,
        grad: &mut [f32],
    ) -> Result<f64, SpinflipError> {
        let items: Vec<(usize, usize)> = batch.iter().map(|&i| self.train[i]).collect();
        let (len, d) = (self.data.slice_len(), self.data.n_params);
        self.x.resize(items.len() * len, 0.0);
        self.y.resize(items.len() * d, 0.0);
        self.data.fill_batch(
            &items,
            &self.input,
            &self.targets,
            self.noise.as_ref(),
            ctx.seed,
            &mut self.x,
            &mut self.y,
        )?;
        let loss = self
            .net
            .forward_backward(params, &self.x, &self.y, ctx.seed, grad)?;
        Ok(f64::from(loss))
    }

    fn val_loss(&mut self, params: &[f32]) -> Result<f64, SpinflipError> {
        let (len, d) = (self.data.slice_len(), self.data.n_params);
        let mut sum = 0.0;
        for chunk in self.val.chunks(256) {
            self.x.resize(chunk.len() * len, 0.0);
            self.y.resize(chunk.len() * d, 0.0);
            self.data.fill_batch(
                chunk,
                &self.input,
                &self.targets,
                self.noise.as_ref(),
                VAL_NOISE_SEED,
                &mut self.x,
                &mut self.y,
            )?;
            let mut out = vec![0.0f32; chunk.len() * d];
            self.net.predict(params, &self.x, &mut out)?;
            sum += out
                .iter()
                .zip(&self.y)
                .map(|(a, b)| f64::from(a - b).powi(2))
                .sum::<f64>();
        }
        Ok(sum / (self.val.len() * d) as f64)
    }

    fn buffers(&self) -> Vec<f32> {
        self.net.buffers().to_vec()
    }

    fn set_buffers(&mut self, buffers: &[f32]) -> Result<(), SpinflipError> {
        self.net.set_buffers(buffers)
    }
}

/// Train on `data` and write the best model to `out` (`OUT.safetensors` + `OUT.json`, the
/// loss curve `OUT_loss.png`, the checkpoint `OUT.ckpt.*`).
pub fn train_cnn(
    data: &SliceSet,
    cfg: &CnnTrainConfig,
    out: &Path,
    opts: &CnnTrainOptions,
) -> Result<CnnTrainOutcome, SpinflipError> {
    if let Some(n) = &cfg.noise {
        n.validate()?;
    }
    let split = Split::new(data.n, cfg.n_val, cfg.n_test)?;
    let arch = CnnConfig::gillet(data.cells, data.n_los).with_padding(cfg.padding);
    arch.validate()?;
    if data.n_params != arch.n_outputs {
        return Err(SpinflipError::Data {
            path: data.source.clone(),
            reason: format!(
                "{} parameters per light-cone; the map CNN infers {} (zeta, log10_Tvir, log10_LX, E0_keV)",
                data.n_params, arch.n_outputs
            ),
        });
    }
    let train_lcs: Vec<usize> = split.train.clone().collect();
    let (mean, std) = data.pixel_mean_std(&train_lcs);
    let input = InputNorm {
        mean,
        std: if std > 0.0 { std } else { 1.0 },
    };
    // Targets min-max normalised over the training light-cones' parameters.
    let d = data.n_params;
    let (mut lo, mut hi) = (vec![f64::INFINITY; d], vec![f64::NEG_INFINITY; d]);
    for i in split.train.clone() {
        for (j, &v) in data.params_of(i).iter().enumerate() {
            lo[j] = lo[j].min(v);
            hi[j] = hi[j].max(v);
        }
    }
    if let Some(j) = (0..d).find(|&j| hi[j] <= lo[j]) {
        return Err(SpinflipError::Data {
            path: data.source.clone(),
            reason: format!(
                "parameter {j} takes one value over the training light-cones: nothing to learn"
            ),
        });
    }
    let mut sidecar = CnnSidecar::new(arch.clone(), input, lo, hi);
    sidecar.noise = cfg.noise.clone();
    let mut net = CpuCnn::new(&arch)?;
    if let Some(t) = opts.threads {
        net = net.with_threads(t)?;
    }
    let start = net.init(cfg.seed);
    let data_hash = data.hash();
    let settings =
        serde_json::to_value(cfg).map_err(|e| SpinflipError::config("settings", e.to_string()))?;
    let mut model = CnnTrainable {
        net,
        data,
        train: items(data, split.train.clone()),
        val: items(data, split.val.clone()),
        input,
        targets: sidecar.targets.clone(),
        noise: cfg.noise.clone(),
        x: Vec::new(),
        y: Vec::new(),
    };
    let optimizer = OptimizerConfig::of_kind(cfg.optimizer, cfg.lr);
    let outcome = run_epochs(
        &mut model,
        start,
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
            drop_last: true,
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
    sidecar.data_hash = data_hash;
    sidecar.metrics = Some(serde_json::json!({
        "split": "validation",
        "n_light_cones": split.val.len(),
        "mse_normalised": state.best_val,
    }));
    sidecar.training = Some(serde_json::json!({
        "settings": settings,
        "split": split,
        "data": data.source,
        "epochs_done": state.epochs_done,
        "best_epoch": state.best_epoch,
        "best_val_loss": state.best_val,
        "stopped_early": state.stopped,
        "history": state.history,
    }));
    let model_out = CnnModel {
        sidecar,
        params: outcome.best,
        buffers: outcome.best_buffers,
    };
    let (wp, sp) = save_model(out, &model_out)?;
    let mut files = vec![wp, sp];
    if !state.history.is_empty() {
        let png = loss_curve_path(out);
        write_loss_curve(
            &png,
            &state.history,
            "Map CNN training",
            "MSE of the min-max normalised parameters",
        )?;
        files.push(png);
    }
    Ok(CnnTrainOutcome {
        model: model_out,
        split,
        best_epoch: state.best_epoch,
        files,
    })
}
