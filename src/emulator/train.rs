//! Training of the LSTM emulator on the shared epoch loop ([`crate::nn`]): AdamW, shuffled
//! mini-batches, learning rate halved on validation plateaus or cosine-decayed, early
//! stopping that keeps the best weights, and a checkpoint every epoch from which a run
//! resumes exactly. Gradients come from the hand-written BPTT of [`super::bptt`] on the CPU
//! (default) or from candle's autograd ([`Trainer`]).

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::bptt;
use super::config::LstmConfig;
use super::fast::FastLstm;
use super::model_file::{save_model, EmulatorModel, ModelSidecar, FORMAT, VERSION};
use super::network::LstmNetwork;
use super::preprocessing::Normalisation;
use super::weights::LstmWeights;
use crate::io::hash::Fnv1a;
pub use crate::nn::schedule::LrSchedule;
use crate::nn::{
    run_epochs, BatchContext, EpochLoop, EpochRecord, LoopOptions, OptimizerConfig, StoppingRule,
    Trainable,
};
use crate::SpinflipError;

/// Training and validation signals with their parameters (row-major `f64`).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainData {
    /// Parameter names, in column order.
    pub param_names: Vec<String>,
    /// Redshift grid, ascending.
    pub redshifts: Vec<f64>,
    /// Training parameters, `n_train * n_params`.
    pub train_params: Vec<f64>,
    /// Training signals (mK), `n_train * n_z`.
    pub train_signals: Vec<f64>,
    /// Validation parameters.
    pub val_params: Vec<f64>,
    /// Validation signals (mK).
    pub val_signals: Vec<f64>,
    /// The box the parameters were drawn from, `(min, max)` per parameter, when the data
    /// say (the trained model's valid range); `None`: the training parameters' min and max.
    pub param_box: Option<Vec<(f64, f64)>>,
}

impl TrainData {
    /// Check lengths and finiteness.
    pub fn validate(&self) -> Result<(), SpinflipError> {
        let (d, m) = (self.param_names.len(), self.redshifts.len());
        let chk = |what: &str, p: &[f64], s: &[f64]| -> Result<usize, SpinflipError> {
            if d == 0 || !p.len().is_multiple_of(d) {
                return Err(SpinflipError::config(
                    what,
                    format!("{} parameter values is not a multiple of {d}", p.len()),
                ));
            }
            let n = p.len() / d;
            if s.len() != n * m {
                return Err(SpinflipError::config(
                    what,
                    format!("expected {n} x {m} signal values, got {}", s.len()),
                ));
            }
            if p.iter().chain(s).any(|x| !x.is_finite()) {
                return Err(SpinflipError::config(what, "non-finite values"));
            }
            Ok(n)
        };
        if chk("training set", &self.train_params, &self.train_signals)? == 0 {
            return Err(SpinflipError::config("training set", "is empty"));
        }
        if chk("validation set", &self.val_params, &self.val_signals)? == 0 {
            return Err(SpinflipError::config("validation set", "is empty"));
        }
        Ok(())
    }

    /// FNV-1a fingerprint of everything the model is trained on.
    pub fn hash(&self) -> String {
        let mut h = Fnv1a::default();
        for n in &self.param_names {
            h.bytes(n.as_bytes()).bytes(&[0]);
        }
        h.f64s(&self.redshifts)
            .f64s(&self.train_params)
            .f64s(&self.train_signals)
            .f64s(&self.val_params)
            .f64s(&self.val_signals)
            .hex()
    }
}

/// Training settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Hidden units per layer.
    pub hidden: usize,
    /// LSTM layers.
    pub layers: usize,
    /// Channels predicted per LSTM step (must divide the number of channels).
    pub outputs_per_step: usize,
    /// Learning-rate schedule.
    pub schedule: LrSchedule,
    /// What the loss measures.
    pub loss: LossKind,
    /// Maximum number of epochs.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Initial learning rate.
    pub lr: f64,
    /// Seed of the initial weights and of the shuffling.
    pub seed: u64,
    /// Stop after this many epochs without a better validation loss.
    pub patience: usize,
    /// Multiply the learning rate by `lr_factor` after this many epochs without improvement.
    pub lr_patience: usize,
    /// Learning-rate reduction factor on a plateau.
    pub lr_factor: f64,
    /// Smallest learning rate.
    pub min_lr: f64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            hidden: LstmConfig::DEFAULT_HIDDEN,
            layers: LstmConfig::DEFAULT_LAYERS,
            outputs_per_step: LstmConfig::DEFAULT_OUTPUTS_PER_STEP,
            schedule: LrSchedule::Plateau,
            loss: LossKind::Relative,
            epochs: 200,
            batch_size: 128,
            lr: 1e-3,
            seed: 0,
            patience: 20,
            lr_patience: 6,
            lr_factor: 0.5,
            min_lr: 1e-6,
            weight_decay: 0.0,
        }
    }
}

impl TrainConfig {
    fn validate(&self) -> Result<(), SpinflipError> {
        if self.epochs == 0 || self.batch_size == 0 || self.patience == 0 || self.lr_patience == 0 {
            return Err(SpinflipError::config(
                "training settings",
                "epochs, batch, patience and lr-patience must be at least 1",
            ));
        }
        if !(self.lr > 0.0 && self.lr.is_finite() && self.lr_factor > 0.0 && self.lr_factor < 1.0) {
            return Err(SpinflipError::config(
                "learning rate",
                "lr must be > 0 and lr-factor in (0, 1)",
            ));
        }
        Ok(())
    }
}

/// The training loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LossKind {
    /// Mean squared error of the normalised signal (as 21cmLSTM): every mK counts the same.
    Mse,
    /// Mean over signals of the squared DJ+24 eq. 3 error, `mean_nu (T_emu - T)^2 /
    /// max|T|^2`: the metric the emulator is judged by. A 1 mK error on a signal whose
    /// largest |T| is 25 mK (a quarter of the prior volume: early heating leaves only the
    /// dark-ages dip at z = 50) then weighs 36 times more than on a 150 mK trough.
    #[default]
    Relative,
    /// [`LossKind::Relative`] plus a tail term: each signal's squared eq. 3 error `s` enters
    /// as `s + s^2 / s_ref` with `sqrt(s_ref)` = [`TAIL_REFERENCE`] (1%), so a signal at 3%
    /// pulls 19 times harder than under `Relative` and one at 0.2% 1.08 times: for the
    /// worst-case error (the max <= 2%), e.g. to fine-tune a model (`--init`).
    /// BPTT trainer only.
    Tail,
}

/// Relative error (fraction) at which [`LossKind::Tail`]'s tail term equals the plain one.
pub const TAIL_REFERENCE: f64 = 0.01;

impl LossKind {
    /// `s_ref` of the tail term, if any.
    fn tail(self) -> Option<f64> {
        (self == LossKind::Tail).then_some(TAIL_REFERENCE * TAIL_REFERENCE)
    }
}

impl std::str::FromStr for LossKind {
    type Err = SpinflipError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mse" => Ok(LossKind::Mse),
            "relative" => Ok(LossKind::Relative),
            "tail" => Ok(LossKind::Tail),
            other => Err(SpinflipError::config(
                "loss",
                format!("'{other}': use mse, relative or tail"),
            )),
        }
    }
}

/// How the gradient of each mini-batch is computed. Both give the same gradient (to f32
/// rounding) and feed the same AdamW, so checkpoints of one resume with the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Trainer {
    /// candle autograd on the [`LstmNetwork`] (any device; ~9 CPU-s per batch of 128).
    Candle,
    /// Hand-written backpropagation through time ([`super::bptt`]), CPU only, parallel over
    /// the batch.
    #[default]
    Bptt,
}

impl std::str::FromStr for Trainer {
    type Err = SpinflipError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "candle" => Ok(Trainer::Candle),
            "bptt" => Ok(Trainer::Bptt),
            other => Err(SpinflipError::config(
                "trainer",
                format!("'{other}': use candle or bptt"),
            )),
        }
    }
}

/// How to run training.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Require the checkpoint next to `out` (without it, one of the same run is resumed
    /// anyway; see [`crate::nn::epochs::LoopOptions::resume`]).
    pub resume: bool,
    /// Delete a checkpoint next to `out` and start over.
    pub restart: bool,
    /// Show a progress bar.
    pub progress: bool,
    /// Device for the candle network.
    pub device: Device,
    /// Write the loss-curve PNG next to the model.
    pub plot: bool,
    /// Print one line per finished epoch to stderr (for runs without a terminal).
    pub log_epochs: bool,
    /// Gradient computation.
    pub trainer: Trainer,
    /// Fine-tune: start from this model's weights and keep its normalisation (the inputs
    /// the weights were trained on), with a fresh optimiser and schedule. Its architecture
    /// must match the settings'. A killed fine-tune resumes with `resume` and the same
    /// `init` (the checkpoint records the model's weights hash and refuses anything else).
    pub init: Option<EmulatorModel>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            resume: false,
            restart: false,
            progress: false,
            device: Device::Cpu,
            plot: false,
            log_epochs: false,
            trainer: Trainer::default(),
            init: None,
        }
    }
}

/// The result of a training run.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The best model (also written to disk).
    pub model: EmulatorModel,
    /// Per-epoch history.
    pub history: Vec<EpochRecord>,
    /// Epoch with the best validation loss.
    pub best_epoch: usize,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// Paths written: weights, sidecar, and loss-curve PNG if any.
    pub files: Vec<PathBuf>,
}

/// Normalised copies of a split: parameters `(n, d)` and sequences `(n, t)` as `f32`, and
/// each signal's loss weight.
struct Prepared {
    params: Vec<f32>,
    seqs: Vec<f32>,
    weights: Vec<f32>,
    n: usize,
}

fn prepare(
    norm: &Normalisation,
    loss: LossKind,
    d: usize,
    m: usize,
    p: &[f64],
    s: &[f64],
) -> Prepared {
    let n = p.len() / d;
    let mut params = vec![0f32; n * d];
    let mut seqs = vec![0f32; n * m];
    let mut weights = vec![1f32; n];
    let scale = norm.signal_max - norm.signal_min;
    for i in 0..n {
        let sig = &s[i * m..(i + 1) * m];
        norm.normalise_params(&p[i * d..(i + 1) * d], &mut params[i * d..(i + 1) * d]);
        norm.normalise_signal(sig, &mut seqs[i * m..(i + 1) * m]);
        if loss != LossKind::Mse {
            // (normalised error x scale / max|T|)^2 = squared eq. 3 error; the floor only
            // guards an all-zero signal.
            let peak = sig
                .iter()
                .fold(0f64, |a, x| a.max(x.abs()))
                .max(1e-3 * scale);
            weights[i] = ((scale / peak) * (scale / peak)) as f32;
        }
    }
    Prepared {
        params,
        seqs,
        weights,
        n,
    }
}

/// Validation loss with the fast CPU path (same numbers as candle to ~1e-6).
fn val_loss(
    weights: &LstmWeights,
    freqs: &[f32],
    val: &Prepared,
    loss: LossKind,
) -> Result<f64, SpinflipError> {
    let fast = FastLstm::new(weights, freqs.to_vec())?;
    let mut out = vec![0f32; val.seqs.len()];
    fast.forward_batch(&val.params, &mut out)?;
    let m = out.len() / val.n.max(1);
    let se: f64 = out
        .chunks(m)
        .zip(val.seqs.chunks(m))
        .zip(&val.weights)
        .map(|((a, b), w)| {
            let se = f64::from(*w)
                * a.iter()
                    .zip(b)
                    .map(|(x, y)| f64::from(x - y).powi(2))
                    .sum::<f64>();
            match loss.tail() {
                Some(s_ref) => se * (1.0 + se / m as f64 / s_ref),
                None => se,
            }
        })
        .sum();
    Ok(se / out.len() as f64)
}

/// The weights as one flat buffer, tensors in [`LstmWeights::tensors`] order.
fn flatten(w: &LstmWeights) -> Vec<f32> {
    w.tensors()
        .into_iter()
        .flat_map(|(_, _, v)| v.to_vec())
        .collect()
}

/// Weights of `config` from a flat buffer in [`LstmWeights::tensors`] order.
fn unflatten(config: LstmConfig, flat: &[f32]) -> LstmWeights {
    let mut at = 0;
    let mut parts = std::collections::HashMap::new();
    for (name, shape) in LstmWeights::expected_shapes(&config) {
        let k: usize = shape.iter().product();
        parts.insert(name, flat[at..at + k].to_vec());
        at += k;
    }
    LstmWeights::from_named(config, |n| parts.remove(n).unwrap_or_default())
}

/// The LSTM and its data as the shared epoch loop sees them.
struct LstmTrainable<'a> {
    arch: LstmConfig,
    trainer: Trainer,
    loss: LossKind,
    freqs: &'a [f32],
    train: &'a Prepared,
    val: &'a Prepared,
    /// The candle network and the step inputs on its device (candle trainer only).
    candle: Option<(LstmNetwork, Tensor)>,
}

impl Trainable for LstmTrainable<'_> {
    fn layout(&self) -> Vec<(String, Vec<usize>)> {
        LstmWeights::expected_shapes(&self.arch)
    }

    fn n_train(&self) -> usize {
        self.train.n
    }

    fn batch_loss_grad(
        &mut self,
        params: &[f32],
        idx: &[usize],
        _ctx: BatchContext,
        grad: &mut [f32],
    ) -> Result<f64, SpinflipError> {
        let (d, m) = (
            self.arch.n_params,
            self.train.seqs.len() / self.train.n.max(1),
        );
        let b = idx.len();
        let mut p = Vec::with_capacity(b * d);
        let mut y = Vec::with_capacity(b * m);
        let mut sw = Vec::with_capacity(b);
        for &i in idx {
            p.extend_from_slice(&self.train.params[i * d..(i + 1) * d]);
            y.extend_from_slice(&self.train.seqs[i * m..(i + 1) * m]);
            sw.push(self.train.weights[i]);
        }
        let w = unflatten(self.arch, params);
        match (&self.candle, self.trainer) {
            (Some((net, freq_t)), Trainer::Candle) => {
                let dev = net.device().clone();
                net.set_weights(&w)?;
                let p = Tensor::from_vec(p, (b, d), &dev)?;
                let y = Tensor::from_vec(y, (b, m), &dev)?;
                let sw = Tensor::from_vec(sw, b, &dev)?;
                let loss = net.weighted_mse(&p, freq_t, &y, &sw)?;
                let grads = loss.backward()?;
                let mut at = 0;
                for var in net.vars() {
                    let k = var.as_tensor().elem_count();
                    match grads.get(var.as_tensor()) {
                        Some(g) => {
                            grad[at..at + k].copy_from_slice(&g.flatten_all()?.to_vec1::<f32>()?)
                        }
                        None => grad[at..at + k].fill(0.0),
                    }
                    at += k;
                }
                Ok(f64::from(loss.to_scalar::<f32>()?))
            }
            _ => {
                let lg = match self.loss.tail() {
                    Some(s_ref) => bptt::loss_and_grad_tail(&w, self.freqs, &p, &y, &sw, s_ref)?,
                    None => bptt::loss_and_grad_weighted(&w, self.freqs, &p, &y, &sw)?,
                };
                for (dst, x) in grad.iter_mut().zip(lg.grads.iter().flatten()) {
                    *dst = *x as f32;
                }
                Ok(lg.loss)
            }
        }
    }

    fn val_loss(&mut self, params: &[f32]) -> Result<f64, SpinflipError> {
        val_loss(
            &unflatten(self.arch, params),
            self.freqs,
            self.val,
            self.loss,
        )
    }
}

/// Train on `data` and write the best model to `out` (`out.safetensors` + `out.json`), with
/// a checkpoint (`out.ckpt.*`) after every epoch.
pub fn train(
    data: &TrainData,
    cfg: &TrainConfig,
    out: &Path,
    opts: &TrainOptions,
) -> Result<TrainOutcome, SpinflipError> {
    data.validate()?;
    cfg.validate()?;
    let (d, m) = (data.param_names.len(), data.redshifts.len());
    if cfg.outputs_per_step == 0 || !m.is_multiple_of(cfg.outputs_per_step) {
        return Err(SpinflipError::config(
            "outputs-per-step",
            format!(
                "{} does not divide the {m} channels of the data",
                cfg.outputs_per_step
            ),
        ));
    }
    let arch = LstmConfig {
        n_params: d,
        hidden: cfg.hidden,
        layers: cfg.layers,
        n_steps: m / cfg.outputs_per_step,
        outputs_per_step: cfg.outputs_per_step,
    };
    arch.validate()?;
    if let Some(init) = &opts.init {
        check_init(init, &arch, data)?;
    }
    let norm = match &opts.init {
        Some(init) => init.sidecar.normalisation.clone(),
        None => Normalisation::fit(
            &data.param_names,
            &data.train_params,
            &data.train_signals,
            &data.redshifts,
        )?,
    };
    let train_set = prepare(
        &norm,
        cfg.loss,
        d,
        m,
        &data.train_params,
        &data.train_signals,
    );
    let val_set = prepare(&norm, cfg.loss, d, m, &data.val_params, &data.val_signals);
    let freqs = norm.step_inputs(&data.redshifts, cfg.outputs_per_step);
    let data_hash = data.hash();
    let mut settings =
        serde_json::to_value(cfg).map_err(|e| SpinflipError::config("settings", e.to_string()))?;
    // The model a fine-tune started from is part of its settings: its normalisation shapes
    // the inputs, so resuming without it (or from another model) must be refused.
    if let (Some(init), Some(o)) = (&opts.init, settings.as_object_mut()) {
        o.insert("init".into(), init.sidecar.weights_hash.clone().into());
    }

    let dev = &opts.device;
    if opts.trainer == Trainer::Candle && cfg.loss == LossKind::Tail {
        return Err(SpinflipError::config(
            "loss",
            "the tail loss is implemented in the bptt trainer only",
        ));
    }
    if opts.trainer == Trainer::Bptt && !dev.is_cpu() {
        return Err(SpinflipError::config(
            "trainer",
            "bptt runs on the CPU; use --trainer candle with a GPU device",
        ));
    }
    let start = match &opts.init {
        Some(init) => init.weights.clone(),
        None => LstmWeights::random(arch, cfg.seed),
    };
    let candle = match opts.trainer {
        Trainer::Candle => Some((
            LstmNetwork::from_weights(&start, dev)?,
            Tensor::from_slice(&freqs, arch.n_steps, dev)?,
        )),
        Trainer::Bptt => None,
    };
    let mut model = LstmTrainable {
        arch,
        trainer: opts.trainer,
        loss: cfg.loss,
        freqs: &freqs,
        train: &train_set,
        val: &val_set,
        candle,
    };
    let epoch_loop = EpochLoop {
        rule: StoppingRule {
            schedule: cfg.schedule,
            lr: cfg.lr,
            min_lr: cfg.min_lr,
            lr_patience: cfg.lr_patience,
            lr_factor: cfg.lr_factor,
            patience: cfg.patience,
            epochs: cfg.epochs,
        },
        batch_size: cfg.batch_size,
        seed: cfg.seed,
        optimizer: OptimizerConfig {
            weight_decay: cfg.weight_decay,
            ..OptimizerConfig::adam(cfg.lr)
        },
        drop_last: false,
    };
    let outcome = run_epochs(
        &mut model,
        flatten(&start),
        &epoch_loop,
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
    let best = unflatten(arch, &outcome.best);
    let state = outcome.state;

    let (param_min, param_max) = valid_range(data, opts.init.as_ref());
    let metrics = validation_metrics(&best, &norm, &freqs, &val_set, m)?;
    let model = EmulatorModel {
        sidecar: ModelSidecar {
            format: FORMAT.into(),
            version: VERSION,
            architecture: arch,
            normalisation: norm,
            redshifts: data.redshifts.clone(),
            param_names: data.param_names.clone(),
            param_min,
            param_max,
            data_hash,
            weights_hash: String::new(),
            metrics: Some(metrics),
            training: Some(serde_json::json!({
                "settings": settings,
                "init": opts.init.as_ref().map(|m| serde_json::json!({
                    "weights_hash": m.sidecar.weights_hash,
                    "data_hash": m.sidecar.data_hash,
                    "metrics": m.sidecar.metrics,
                })),
                "epochs_done": state.epochs_done,
                "best_epoch": state.best_epoch,
                "best_val_loss": state.best_val,
                "stopped_early": state.stopped,
                "history": state.history,
            })),
        },
        weights: best,
    };
    let (wp, sp) = save_model(out, &model)?;
    let mut files = vec![wp, sp];
    if opts.plot && !state.history.is_empty() {
        let png = loss_curve_path(out);
        write_loss_curve(&png, &state.history, cfg.loss)?;
        files.push(png);
    }
    Ok(TrainOutcome {
        model,
        history: state.history,
        best_epoch: state.best_epoch,
        stopped_early: state.stopped,
        files,
    })
}

/// A model to fine-tune from must have the architecture, parameters and grid of the run.
fn check_init(
    init: &EmulatorModel,
    arch: &LstmConfig,
    data: &TrainData,
) -> Result<(), SpinflipError> {
    let sc = &init.sidecar;
    let refuse = |reason: String| Err(SpinflipError::config("init", reason));
    if sc.architecture != *arch {
        return refuse(format!(
            "the model's architecture {:?} differs from the settings' {arch:?} (pass its \
             --hidden, --layers and --outputs-per-step)",
            sc.architecture
        ));
    }
    if sc.param_names != data.param_names {
        return refuse(format!(
            "the model's parameters {:?} differ from the data's {:?}",
            sc.param_names, data.param_names
        ));
    }
    let same_grid = sc.redshifts.len() == data.redshifts.len()
        && sc
            .redshifts
            .iter()
            .zip(&data.redshifts)
            .all(|(a, b)| (a - b).abs() <= 1e-9 * b.abs().max(1.0));
    if !same_grid {
        return refuse("the model's redshift grid differs from the data's".into());
    }
    Ok(())
}

/// DJ+24 eq. 3 errors of `weights` on the validation set, for the sidecar.
fn validation_metrics(
    weights: &LstmWeights,
    norm: &Normalisation,
    freqs: &[f32],
    val: &Prepared,
    m: usize,
) -> Result<serde_json::Value, SpinflipError> {
    let fast = FastLstm::new(weights, freqs.to_vec())?;
    let mut seq = vec![0f32; val.seqs.len()];
    fast.forward_batch(&val.params, &mut seq)?;
    let mut emu = vec![0f64; seq.len()];
    let mut truth = vec![0f64; seq.len()];
    for i in 0..val.n {
        let r = i * m..(i + 1) * m;
        norm.denormalise_signal(&seq[r.clone()], &mut emu[r.clone()]);
        norm.denormalise_signal(&val.seqs[r.clone()], &mut truth[r]);
    }
    let rep = super::metrics::ErrorReport::new(&emu, &truth, m);
    Ok(serde_json::json!({
        "split": "validation",
        "n_signals": rep.n_signals,
        "relative_error_percent": rep.relative_error_percent,
        "rms_mk": rep.rms_mk,
    }))
}

/// Per-parameter minimum and maximum of row-major points.
/// The trained model's valid range: the box the data were drawn from (else the training
/// parameters' min and max), joined with the start model's range when fine-tuning.
fn valid_range(data: &TrainData, init: Option<&EmulatorModel>) -> (Vec<f64>, Vec<f64>) {
    let d = data.param_names.len();
    let (mut lo, mut hi) = match &data.param_box {
        Some(b) if b.len() == d => b.iter().copied().unzip(),
        _ => ranges(d, &data.train_params),
    };
    if let Some(m) = init {
        let s = &m.sidecar;
        for i in 0..d.min(s.param_min.len()).min(s.param_max.len()) {
            lo[i] = lo[i].min(s.param_min[i]);
            hi[i] = hi[i].max(s.param_max[i]);
        }
    }
    (lo, hi)
}

fn ranges(d: usize, p: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut lo = vec![f64::INFINITY; d];
    let mut hi = vec![f64::NEG_INFINITY; d];
    for row in p.chunks_exact(d) {
        for i in 0..d {
            lo[i] = lo[i].min(row[i]);
            hi[i] = hi[i].max(row[i]);
        }
    }
    (lo, hi)
}

pub use crate::nn::loss_curve::loss_curve_path;

/// Checkpoint files of the model at `out` (for cleanup or inspection).
pub fn checkpoint_files(out: &Path) -> (PathBuf, PathBuf) {
    crate::nn::checkpoint::checkpoint_paths(out)
}

/// Plot training and validation loss against epoch (log scale).
pub fn write_loss_curve(
    path: &Path,
    history: &[EpochRecord],
    loss: LossKind,
) -> Result<(), SpinflipError> {
    crate::nn::loss_curve::write_loss_curve(
        path,
        history,
        "Emulator training",
        match loss {
            LossKind::Relative => "mean squared relative error (DJ+24 eq. 3)",
            LossKind::Mse => "MSE (normalised signal)",
            LossKind::Tail => "mean of s + s^2/s_ref, s = squared DJ+24 eq. 3 error",
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trainer_names_parse_and_bad_names_are_errors() {
        assert_eq!("bptt".parse::<Trainer>().unwrap(), Trainer::Bptt);
        assert_eq!("candle".parse::<Trainer>().unwrap(), Trainer::Candle);
        let e = "torch".parse::<Trainer>().unwrap_err();
        assert!(e.to_string().contains("candle or bptt"), "{e}");
        assert_eq!(Trainer::default(), Trainer::Bptt);
    }

    #[test]
    fn loss_names_parse() {
        assert_eq!("relative".parse::<LossKind>().unwrap(), LossKind::Relative);
        assert_eq!("tail".parse::<LossKind>().unwrap(), LossKind::Tail);
        assert!("l1".parse::<LossKind>().is_err());
    }
}
