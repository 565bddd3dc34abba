//! `spinflip train`.

use std::path::PathBuf;

use crate::emulator::train::{
    train, LossKind, LrSchedule, TrainConfig, TrainData, TrainOptions, Trainer,
};
use crate::io::{GlobalSignalSet, NpyArray};
use crate::SpinflipError;

/// The 21cmGEM parameter names, in the column order of the data sets (the global
/// simulator kind's).
pub fn param_names() -> Vec<String> {
    use crate::models::ModelKind;
    crate::global::GlobalSimulatorKind.param_names()
}

/// Arguments of `spinflip train`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// Train the LSTM emulator of the global signal.
    Emulator(EmulatorArgs),
    /// Train the map CNN on light-cone slices.
    Cnn(super::train_cnn::CnnArgs),
    /// Train a small MLP between two arrays of NPZ tables (e.g. power spectra -> parameters).
    Mlp(super::train_mlp::MlpArgs),
}

/// Where the network trains.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum DeviceArg {
    /// The CPU.
    #[default]
    Cpu,
    /// The first CUDA GPU (needs the `cuda` feature).
    Cuda,
}

/// Arguments of `spinflip train emulator`. Every setting can also come from a TOML file
/// (`--config`, keys named as the flags with `_` for `-`, e.g. `outputs_per_step = 11`);
/// flags given on the command line override the file.
#[derive(Debug, Default, clap::Args, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmulatorArgs {
    /// Settings file (TOML) with any of the options below.
    #[arg(long)]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Data set (`.npz` from `spinflip simulate global`, or 21cmGEM `.h5`). Given more than
    /// once, the training and validation splits of all sets are joined in order (e.g. extra
    /// signals from `simulate --box` where the emulator is weak); test splits are not used.
    #[arg(long)]
    #[serde(default)]
    pub data: Vec<PathBuf>,
    /// Output model path without extension: writes OUT.safetensors, OUT.json, OUT_loss.png
    /// and the checkpoint OUT.ckpt.*.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Hidden units per LSTM layer [default: 64].
    #[arg(long)]
    pub hidden: Option<usize>,
    /// Number of LSTM layers [default: 2].
    #[arg(long)]
    pub layers: Option<usize>,
    /// Channels predicted per LSTM step (1 = 21cmLSTM; must divide the channel count)
    /// [default: 11].
    #[arg(long)]
    pub outputs_per_step: Option<usize>,
    /// Learning-rate schedule: plateau (halve after --lr-patience epochs without
    /// improvement) or cosine (decay from --lr to --min-lr over --epochs) [default: plateau].
    #[arg(long, value_enum)]
    pub schedule: Option<LrSchedule>,
    /// Loss: relative (mean squared DJ+24 eq. 3 error, the metric the model is judged by),
    /// mse (normalised mean squared error, as 21cmLSTM) or tail (relative plus a term that
    /// weighs signals above 1% error harder: for the worst case; bptt only)
    /// [default: relative].
    #[arg(long, value_enum)]
    pub loss: Option<LossKind>,
    /// Smallest learning rate (end of the cosine schedule) [default: 1e-6].
    #[arg(long)]
    pub min_lr: Option<f64>,
    /// Maximum epochs [default: 200].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Mini-batch size [default: 128].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Initial learning rate [default: 1e-3].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Epochs without improvement before the learning rate is halved [default: 6].
    #[arg(long)]
    pub lr_patience: Option<usize>,
    /// Seed of the initial weights and of the batch order [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Early stopping: epochs without a better validation loss [default: 20].
    #[arg(long)]
    pub patience: Option<usize>,
    /// Require the checkpoint of OUT (without this flag a checkpoint of the same run is
    /// resumed anyway, one of another run is refused, and none means a fresh start).
    #[arg(long, conflicts_with = "restart")]
    #[serde(default)]
    pub resume: bool,
    /// Delete the checkpoint of OUT and start over.
    #[arg(long)]
    #[serde(default)]
    pub restart: bool,
    /// Fine-tune: start from this model's weights and normalisation (path without
    /// extension), with a fresh optimiser and schedule; e.g. on more data. Resume a
    /// fine-tune by running the same command (same --init) again.
    #[arg(long)]
    pub init: Option<PathBuf>,
    /// Device [default: cpu].
    #[arg(long, value_enum)]
    pub device: Option<DeviceArg>,
    /// Gradient computation: bptt (hand-written, CPU) or candle (autograd, any device)
    /// [default: bptt on the CPU, candle on a GPU].
    #[arg(long, value_enum)]
    pub trainer: Option<Trainer>,
    /// No progress (a bar on a terminal, a line every 10 s otherwise) and no per-epoch lines.
    #[arg(long, short)]
    #[serde(default)]
    pub quiet: bool,
}

impl EmulatorArgs {
    /// These arguments over the `--config` file's: a flag given here wins.
    pub fn merged(self) -> Result<Self, SpinflipError> {
        let Some(path) = self.config.clone() else {
            return Ok(self);
        };
        let mut m = super::settings::over_file(&self, &path)?;
        m.config = self.config;
        Ok(m)
    }
}

/// Rows of a 2-D array as row-major data with a column-count check.
pub fn rows(a: &NpyArray, cols: usize, what: &str) -> Result<Vec<f64>, SpinflipError> {
    if a.shape.len() != 2 || a.shape[1] != cols {
        return Err(SpinflipError::config(
            what,
            format!("expected shape (n, {cols}), got {:?}", a.shape),
        ));
    }
    Ok(a.data.clone())
}

/// Training and validation splits of a data set.
pub fn train_data(set: &GlobalSignalSet) -> Result<TrainData, SpinflipError> {
    let names = param_names();
    let (d, m) = (names.len(), set.redshifts.len());
    Ok(TrainData {
        param_names: names,
        redshifts: set.redshifts.clone(),
        train_params: rows(&set.par_train, d, "par_train")?,
        train_signals: rows(&set.signal_train, m, "signal_train")?,
        val_params: rows(&set.par_val, d, "par_val")?,
        val_signals: rows(&set.signal_val, m, "signal_val")?,
        param_box: set.design_box.clone(),
    })
}

/// Training and validation splits of several data sets on one redshift grid, joined in order.
pub fn joined_train_data(paths: &[PathBuf]) -> Result<TrainData, SpinflipError> {
    let mut joined: Option<TrainData> = None;
    for path in paths {
        let part = train_data(&GlobalSignalSet::load(path)?)?;
        match &mut joined {
            None => joined = Some(part),
            Some(j) => {
                if j.redshifts != part.redshifts {
                    return Err(SpinflipError::Data {
                        path: path.display().to_string(),
                        reason: format!(
                            "redshift grid differs from {}'s: data sets can only be joined on one grid",
                            paths[0].display()
                        ),
                    });
                }
                j.train_params.extend_from_slice(&part.train_params);
                j.train_signals.extend_from_slice(&part.train_signals);
                j.val_params.extend_from_slice(&part.val_params);
                j.val_signals.extend_from_slice(&part.val_signals);
                // The joined sets cover the union of their boxes (unknown if one is).
                j.param_box = match (j.param_box.take(), part.param_box) {
                    (Some(a), Some(b)) => Some(
                        a.iter()
                            .zip(&b)
                            .map(|(x, y)| (x.0.min(y.0), x.1.max(y.1)))
                            .collect(),
                    ),
                    _ => None,
                };
            }
        }
    }
    joined.ok_or_else(|| SpinflipError::config("--data", "give at least one data set"))
}

/// The candle device.
pub fn device(d: DeviceArg) -> Result<candle_core::Device, SpinflipError> {
    match d {
        DeviceArg::Cpu => Ok(candle_core::Device::Cpu),
        DeviceArg::Cuda => Ok(candle_core::Device::new_cuda(0)?),
    }
}

/// Run `spinflip train`.
pub fn run(args: Args) -> Result<(), SpinflipError> {
    match args.what {
        What::Emulator(a) => run_emulator(a),
        What::Cnn(a) => super::train_cnn::run(a),
        What::Mlp(a) => super::train_mlp::run(a),
    }
}

fn run_emulator(a: EmulatorArgs) -> Result<(), SpinflipError> {
    let a = a.merged()?;
    if a.data.is_empty() {
        return Err(SpinflipError::config(
            "--data",
            "give at least one data set (--data FILE, or `data = [...]` in --config)",
        ));
    }
    let out = a.out.clone().ok_or_else(|| {
        SpinflipError::config(
            "--out",
            "give the output model path (--out, or `out` in --config)",
        )
    })?;
    let data = joined_train_data(&a.data)?;
    if data.param_box.is_none() && !a.quiet {
        eprintln!(
            "note: the data do not store the box their parameters were drawn from \
             (box_min/box_max, written by `spinflip simulate global`): the model's valid \
             range will be the training parameters' min and max"
        );
    }
    let d = TrainConfig::default();
    let cfg = TrainConfig {
        hidden: a.hidden.unwrap_or(d.hidden),
        layers: a.layers.unwrap_or(d.layers),
        outputs_per_step: a.outputs_per_step.unwrap_or(d.outputs_per_step),
        schedule: a.schedule.unwrap_or(d.schedule),
        loss: a.loss.unwrap_or(d.loss),
        min_lr: a.min_lr.unwrap_or(d.min_lr),
        epochs: a.epochs.unwrap_or(d.epochs),
        batch_size: a.batch.unwrap_or(d.batch_size),
        lr: a.lr.unwrap_or(d.lr),
        lr_patience: a.lr_patience.unwrap_or(d.lr_patience),
        seed: a.seed.unwrap_or(d.seed),
        patience: a.patience.unwrap_or(d.patience),
        ..d
    };
    let dev = device(a.device.unwrap_or_default())?;
    let trainer = match a.trainer {
        Some(t) => t,
        None if dev.is_cpu() => Trainer::Bptt,
        None => Trainer::Candle,
    };
    let opts = TrainOptions {
        resume: a.resume,
        restart: a.restart,
        progress: !a.quiet,
        device: dev,
        plot: true,
        log_epochs: !a.quiet,
        trainer,
        init: a
            .init
            .as_deref()
            .map(crate::emulator::model_file::load_model)
            .transpose()?,
    };
    if !a.quiet {
        eprintln!(
            "training {} x LSTM({}), {} channels per step, on {} signals ({} validation), trainer {:?}",
            cfg.layers,
            cfg.hidden,
            cfg.outputs_per_step,
            data.train_params.len() / data.param_names.len(),
            data.val_params.len() / data.param_names.len(),
            opts.trainer
        );
    }
    let o = train(&data, &cfg, &out, &opts)?;
    println!(
        "best epoch {} ({}); wrote {}",
        o.best_epoch + 1,
        if o.stopped_early {
            "stopped early"
        } else {
            "epoch budget reached"
        },
        o.files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
