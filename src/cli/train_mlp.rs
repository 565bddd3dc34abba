//! `spinflip train mlp`: a small MLP between two arrays of NPZ tables, e.g. the binned power
//! spectra of `simulate maps` to the parameters (the CNN's baseline).

use std::path::PathBuf;

use crate::mlp::train::{train_mlp, MlpTrainConfig, MlpTrainOptions};
use crate::mlp::{Activation, Table, Transform};
use crate::nn::{LrSchedule, OptimizerKind};
use crate::SpinflipError;

/// Arguments of `spinflip train mlp`. Every setting can also come from a TOML file
/// (`--config`, keys named as the flags with `_` for `-`); flags override the file.
#[derive(Debug, Default, clap::Args, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpArgs {
    /// Settings file (TOML) with any of the options below.
    #[arg(long)]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// NPZ files with the arrays --x and --y (one row per example), joined in order; the
    /// last --n-test rows are held out for test and the --n-val before them validate.
    #[arg(long, num_args = 1..)]
    #[serde(default)]
    pub data: Vec<PathBuf>,
    /// Input array [default: ps].
    #[arg(long)]
    pub x: Option<String>,
    /// Output array [default: params].
    #[arg(long)]
    pub y: Option<String>,
    /// Transform of the inputs before standardisation [default: identity].
    #[arg(long, value_enum)]
    pub x_transform: Option<Transform>,
    /// Added to the inputs before a log10 transform [default: 0.01].
    #[arg(long)]
    pub x_floor: Option<f64>,
    /// Transform of the outputs before standardisation [default: identity]; log10 for
    /// power spectra, which are then predicted as log10(v + floor).
    #[arg(long, value_enum)]
    pub y_transform: Option<Transform>,
    /// Added to the outputs before a log10 transform [default: 0.01].
    #[arg(long)]
    pub y_floor: Option<f64>,
    /// Output model path without extension (OUT.safetensors, OUT.json, OUT_loss.png, and the
    /// checkpoint OUT.ckpt.*).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Hidden-layer widths, comma separated [default: 256,256,128].
    #[arg(long, value_delimiter = ',')]
    pub hidden: Option<Vec<usize>>,
    /// Activation [default: relu].
    #[arg(long, value_enum)]
    pub activation: Option<Activation>,
    /// Validation rows [default: 1000].
    #[arg(long)]
    pub n_val: Option<usize>,
    /// Held-out test rows [default: 1000].
    #[arg(long)]
    pub n_test: Option<usize>,
    /// Epoch budget [default: 500].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Rows per batch [default: 64].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Initial learning rate [default: 1e-3].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Optimiser [default: adam].
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// Decoupled weight decay [default: 0].
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Learning-rate schedule [default: plateau].
    #[arg(long, value_enum)]
    pub schedule: Option<LrSchedule>,
    /// Epochs without improvement before the rate halves [default: 10].
    #[arg(long)]
    pub lr_patience: Option<usize>,
    /// Early stopping patience in epochs [default: 30].
    #[arg(long)]
    pub patience: Option<usize>,
    /// Seed of the weights and batch order [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Require the checkpoint of OUT (without this flag a checkpoint of the same run is
    /// resumed anyway, one of another run is refused, and none means a fresh start).
    #[arg(long, conflicts_with = "restart")]
    #[serde(default)]
    pub resume: bool,
    /// Delete the checkpoint of OUT and start over.
    #[arg(long)]
    #[serde(default)]
    pub restart: bool,
    /// No progress (a bar on a terminal, a line every 10 s otherwise) and no per-epoch lines.
    #[arg(long, short)]
    #[serde(default)]
    pub quiet: bool,
}

impl MlpArgs {
    /// These arguments over the `--config` file's: a flag given here wins.
    fn merged(self) -> Result<Self, SpinflipError> {
        let Some(path) = self.config.clone() else {
            return Ok(self);
        };
        let mut m = super::settings::over_file(&self, &path)?;
        m.config = self.config;
        Ok(m)
    }
}

/// Run `spinflip train mlp`.
pub fn run(a: MlpArgs) -> Result<(), SpinflipError> {
    let a = a.merged()?;
    if a.data.is_empty() {
        return Err(SpinflipError::config(
            "--data",
            "give at least one NPZ file (--data FILE.npz, or `data = [...]` in --config)",
        ));
    }
    let out = a.out.clone().ok_or_else(|| {
        SpinflipError::config(
            "--out",
            "give the output model path (--out, or `out` in --config)",
        )
    })?;
    let d = MlpTrainConfig::default();
    let cfg = MlpTrainConfig {
        hidden: a.hidden.clone().unwrap_or(d.hidden),
        activation: a.activation.unwrap_or(d.activation),
        x_transform: a.x_transform.unwrap_or(d.x_transform),
        x_floor: a.x_floor.unwrap_or(d.x_floor),
        y_transform: a.y_transform.unwrap_or(d.y_transform),
        y_floor: a.y_floor.unwrap_or(d.y_floor),
        epochs: a.epochs.unwrap_or(d.epochs),
        batch_size: a.batch.unwrap_or(d.batch_size),
        lr: a.lr.unwrap_or(d.lr),
        optimizer: a.optimizer.unwrap_or(d.optimizer),
        weight_decay: a.weight_decay.unwrap_or(d.weight_decay),
        schedule: a.schedule.unwrap_or(d.schedule),
        lr_patience: a.lr_patience.unwrap_or(d.lr_patience),
        min_lr: d.min_lr,
        patience: a.patience.unwrap_or(d.patience),
        seed: a.seed.unwrap_or(d.seed),
        n_val: a.n_val.unwrap_or(d.n_val),
        n_test: a.n_test.unwrap_or(d.n_test),
    };
    let (x, y) = (
        a.x.as_deref().unwrap_or("ps"),
        a.y.as_deref().unwrap_or("params"),
    );
    let table = Table::load(&a.data, x, y)?;
    if !a.quiet {
        eprintln!(
            "training an MLP {:?} -> {:?} -> {:?} ({x} -> {y}) on {} rows ({} validation, {} test held out)",
            table.x.shape, cfg.hidden, table.y.shape, table.n, cfg.n_val, cfg.n_test
        );
    }
    let o = train_mlp(
        &table,
        &cfg,
        &out,
        &MlpTrainOptions {
            resume: a.resume,
            restart: a.restart,
            progress: !a.quiet,
            log_epochs: !a.quiet,
        },
    )?;
    println!(
        "best epoch {}; wrote {}",
        o.best_epoch + 1,
        super::file_list(&o.files),
    );
    Ok(())
}
