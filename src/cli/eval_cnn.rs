//! `spinflip eval cnn`: R^2 of a map CNN on a slice set.

use std::path::PathBuf;

use crate::cnn::eval::evaluate;
use crate::cnn::noise::NoiseSpec;
use crate::cnn::train::Split;
use crate::cnn::{load_model, SliceSet};
use crate::SpinflipError;

/// Which light-cones of the set to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CnnSplit {
    /// The model's held-out test light-cones (the set it was trained on), else all.
    Auto,
    /// The test light-cones of the model's training split.
    Test,
    /// Its validation light-cones.
    Val,
    /// Every light-cone of the file (another set, e.g. converted from 21cmFAST).
    All,
}

/// Arguments of `spinflip eval cnn`.
#[derive(Debug, clap::Args)]
pub struct CnnEvalArgs {
    /// Model path (without extension).
    #[arg(long)]
    pub model: PathBuf,
    /// Slice set (NPZ with `slices` (N, K, cells, N_los; float32 or float16) and `params`).
    #[arg(long)]
    pub data: PathBuf,
    /// Report file path (JSON); one predicted-vs-true PNG per parameter goes next to it.
    #[arg(long)]
    pub out: PathBuf,
    /// Light-cones to evaluate.
    #[arg(long, value_enum, default_value_t = CnnSplit::Auto)]
    pub split: CnnSplit,
    /// White thermal noise added to every slice, rms per pixel in mK (default: what the
    /// model was trained with).
    #[arg(long)]
    pub noise_mk: Option<f64>,
    /// Worker threads [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Run `spinflip eval cnn`.
pub fn run(a: CnnEvalArgs) -> Result<(), SpinflipError> {
    let model = load_model(&a.model)?;
    let data = SliceSet::load(&a.data)?;
    model.check_geometry(data.cells, data.n_los, &a.data.display().to_string())?;
    let trained_split: Option<Split> = model
        .sidecar
        .training
        .as_ref()
        .and_then(|t| serde_json::from_value(t["split"].clone()).ok());
    let same_data = model.sidecar.data_hash == data.hash();
    let lcs = match (a.split, &trained_split, same_data) {
        (CnnSplit::All, ..) | (CnnSplit::Auto, _, false) | (CnnSplit::Auto, None, _) => 0..data.n,
        (CnnSplit::Auto | CnnSplit::Test, Some(s), true) => s.test.clone(),
        (CnnSplit::Val, Some(s), true) => s.val.clone(),
        (CnnSplit::Test | CnnSplit::Val, ..) => {
            return Err(SpinflipError::config(
                "--split",
                "the model's test and validation light-cones are defined on its training set only \
                 (this file is another one): use --split all",
            ))
        }
    };
    let noise = match a.noise_mk {
        Some(rms_mk) => Some(NoiseSpec::White { rms_mk }),
        None => model.sidecar.noise.clone(),
    };
    let ev = evaluate(&model, &data, lcs, noise.as_ref(), a.threads)?;
    let files = ev.write(&a.out)?;
    println!(
        "{} light-cones x {} slices; R^2 ({}-slice mean / one slice):",
        ev.n_light_cones, ev.slices_per_light_cone, ev.slices_per_light_cone
    );
    for name in &ev.names {
        println!(
            "  {name:<12} {:.4} / {:.4}   MAE {:.4}",
            ev.r2[name], ev.r2_one_slice[name], ev.mae[name]
        );
    }
    println!(
        "wrote {}",
        files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
