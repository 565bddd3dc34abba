//! `spinflip train cnn`: the map CNN on slice sets from `spinflip simulate maps`.

use std::path::PathBuf;

use crate::cnn::noise::NoiseSpec;
use crate::cnn::train::{train_cnn, CnnTrainConfig, CnnTrainOptions};
use crate::cnn::{Padding, SliceSet};
use crate::nn::{LrSchedule, OptimizerKind};
use crate::SpinflipError;

/// Arguments of `spinflip train cnn`. Every setting can also come from a TOML file
/// (`--config`, keys named as the flags with `_` for `-`); flags override the file.
#[derive(Debug, Default, clap::Args, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CnnArgs {
    /// Settings file (TOML) with any of the options below.
    #[arg(long)]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Slice sets (`.npz` from `spinflip simulate maps`, or any NPZ with `slices` and
    /// `params`), joined in order; the last --n-test light-cones are held out for test and
    /// the --n-val before them validate.
    #[arg(long, num_args = 1..)]
    #[serde(default)]
    pub data: Vec<PathBuf>,
    /// Output model path without extension (OUT.safetensors, OUT.json, OUT_loss.png, and the
    /// checkpoint OUT.ckpt.*).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Validation light-cones [default: 1000].
    #[arg(long)]
    pub n_val: Option<usize>,
    /// Held-out test light-cones [default: 1000].
    #[arg(long)]
    pub n_test: Option<usize>,
    /// Convolution padding [default: valid].
    #[arg(long, value_enum)]
    pub padding: Option<Padding>,
    /// Epoch budget [default: 100].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Slices per batch [default: 64].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Initial learning rate [default: 1e-3].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Optimiser [default: rmsprop, as Gillet et al.].
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// Learning-rate schedule [default: plateau].
    #[arg(long, value_enum)]
    pub schedule: Option<LrSchedule>,
    /// Epochs without improvement before the rate halves [default: 5].
    #[arg(long)]
    pub lr_patience: Option<usize>,
    /// Early stopping patience in epochs [default: 15].
    #[arg(long)]
    pub patience: Option<usize>,
    /// Seed of the weights, batch order, dropout and noise [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// White thermal noise added to every slice, rms per pixel in mK.
    #[arg(long)]
    pub noise_mk: Option<f64>,
    /// Worker threads [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
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

impl CnnArgs {
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

/// Run `spinflip train cnn`.
pub fn run(a: CnnArgs) -> Result<(), SpinflipError> {
    let a = a.merged()?;
    if a.data.is_empty() {
        return Err(SpinflipError::config(
            "--data",
            "give at least one slice set (--data FILE.npz, or `data = [...]` in --config)",
        ));
    }
    let out = a.out.clone().ok_or_else(|| {
        SpinflipError::config(
            "--out",
            "give the output model path (--out, or `out` in --config)",
        )
    })?;
    let d = CnnTrainConfig::default();
    let cfg = CnnTrainConfig {
        padding: a.padding.unwrap_or(d.padding),
        epochs: a.epochs.unwrap_or(d.epochs),
        batch_size: a.batch.unwrap_or(d.batch_size),
        lr: a.lr.unwrap_or(d.lr),
        optimizer: a.optimizer.unwrap_or(d.optimizer),
        schedule: a.schedule.unwrap_or(d.schedule),
        lr_patience: a.lr_patience.unwrap_or(d.lr_patience),
        min_lr: d.min_lr,
        patience: a.patience.unwrap_or(d.patience),
        seed: a.seed.unwrap_or(d.seed),
        n_val: a.n_val.unwrap_or(d.n_val),
        n_test: a.n_test.unwrap_or(d.n_test),
        noise: a.noise_mk.map(|rms_mk| NoiseSpec::White { rms_mk }),
    };
    if !a.quiet {
        eprintln!("reading {} slice set(s) ...", a.data.len());
    }
    let sets = a
        .data
        .iter()
        .map(|p| SliceSet::load(p))
        .collect::<Result<Vec<_>, _>>()?;
    let data = SliceSet::join(sets)?;
    if !a.quiet {
        eprintln!(
            "training the map CNN ({:?} padding) on {} light-cones x {} slices of {} x {} ({} validation, {} test held out)",
            cfg.padding, data.n, data.k, data.cells, data.n_los, cfg.n_val, cfg.n_test
        );
    }
    let o = train_cnn(
        &data,
        &cfg,
        &out,
        &CnnTrainOptions {
            resume: a.resume,
            restart: a.restart,
            progress: !a.quiet,
            log_epochs: !a.quiet,
            threads: a.threads,
        },
    )?;
    println!(
        "best epoch {}; wrote {}",
        o.best_epoch + 1,
        super::file_list(&o.files),
    );
    Ok(())
}
