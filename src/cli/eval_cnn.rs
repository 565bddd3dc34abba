//! `spinflip eval cnn`: R^2 of a map CNN on a slice set.

use std::path::PathBuf;

use crate::cnn::eval::{evaluate, CnnEvaluation};
use crate::cnn::noise::NoiseSpec;
use crate::cnn::train::Split;
use crate::cnn::{load_model, SliceSet};
use crate::io::NpyArray;
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
    /// Slice sets (NPZ with `slices` (N, K, cells, N_los; float32 or float16) and `params`),
    /// joined in order (the shards a model was trained on give its test split).
    #[arg(long, required = true, num_args = 1..)]
    pub data: Vec<PathBuf>,
    /// Report file path (JSON); one predicted-vs-true PNG per parameter goes next to it.
    #[arg(long, value_name = "REPORT.json")]
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
    /// Also write the light-cone-mean predictions as an NPZ: `params` (the truth, N x 4) and
    /// `t_cnn` (the CNN summaries, N x 4), with their column names; the training table of a
    /// summary emulator (`spinflip train mlp --x params --y t_cnn`) or the simulations of a
    /// covariance.
    #[arg(long)]
    pub predictions: Option<PathBuf>,
}

/// The examples to evaluate: the model's test or validation split when the data are the
/// ones it was trained on (`same_data`), else all `n`.
pub fn pick_split(
    which: CnnSplit,
    trained: Option<Split>,
    same_data: bool,
    n: usize,
) -> Result<std::ops::Range<usize>, SpinflipError> {
    match (which, &trained, same_data) {
        (CnnSplit::All, ..) | (CnnSplit::Auto, _, false) | (CnnSplit::Auto, None, _) => Ok(0..n),
        (CnnSplit::Auto | CnnSplit::Test, Some(s), true) => Ok(s.test.clone()),
        (CnnSplit::Val, Some(s), true) => Ok(s.val.clone()),
        (CnnSplit::Test | CnnSplit::Val, ..) => Err(SpinflipError::config(
            "--split",
            "the model's test and validation examples are defined on its training data only \
             (these files are others): use --split all",
        )),
    }
}

/// Run `spinflip eval cnn`.
pub fn run(a: CnnEvalArgs) -> Result<(), SpinflipError> {
    let model = load_model(&a.model)?;
    let sets = a
        .data
        .iter()
        .map(|p| SliceSet::load(p))
        .collect::<Result<Vec<_>, _>>()?;
    let data = SliceSet::join(sets)?;
    model.check_geometry(data.cells, data.n_los, &data.source)?;
    let trained_split: Option<Split> = model
        .sidecar
        .training
        .as_ref()
        .and_then(|t| serde_json::from_value(t["split"].clone()).ok());
    let same_data = model.sidecar.data_hash == data.hash();
    let lcs = pick_split(a.split, trained_split, same_data, data.n)?;
    let noise = match a.noise_mk {
        Some(rms_mk) => Some(NoiseSpec::White { rms_mk }),
        None => model.sidecar.noise.clone(),
    };
    let ev = evaluate(&model, &data, lcs, noise.as_ref(), a.threads)?;
    let mut files = ev.write(&a.out)?;
    if let Some(p) = &a.predictions {
        write_predictions(p, &ev)?;
        files.push(p.clone());
    }
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
    println!("wrote {}", super::file_list(&files));
    Ok(())
}

/// The light-cone means and the truth as an NPZ table.
fn write_predictions(path: &std::path::Path, ev: &CnnEvaluation) -> Result<(), SpinflipError> {
    use crate::io::npy::str_npy_bytes;
    let d = ev.names.len();
    let n = ev.n_light_cones;
    let t_names: Vec<String> = ev.names.iter().map(|s| format!("t_{s}")).collect();
    let p_names: Vec<&str> = ev.names.iter().map(String::as_str).collect();
    let t_refs: Vec<&str> = t_names.iter().map(String::as_str).collect();
    let lcs: Vec<f64> = ev.light_cones.clone().map(|i| i as f64).collect();
    crate::io::write_npz_members(
        path,
        &[
            (
                "params",
                NpyArray::new(vec![n, d], ev.truth.clone())?.to_npy_bytes(),
            ),
            (
                "t_cnn",
                NpyArray::new(vec![n, d], ev.predicted.clone())?.to_npy_bytes(),
            ),
            ("param_names", str_npy_bytes(&p_names)),
            ("t_cnn_names", str_npy_bytes(&t_refs)),
            (
                "light_cone_index",
                NpyArray::new(vec![n], lcs)?.to_npy_bytes(),
            ),
        ],
    )
}
