//! `spinflip eval mlp`: R^2 of an MLP on the rows of NPZ tables.

use std::path::PathBuf;

use super::eval_cnn::CnnSplit;
use crate::io::npy::str_npy_bytes;
use crate::io::NpyArray;
use crate::mlp::eval::evaluate_mlp;
use crate::mlp::{load_mlp, Table};
use crate::nn::split::Split;
use crate::SpinflipError;

/// Arguments of `spinflip eval mlp`.
#[derive(Debug, clap::Args)]
pub struct MlpEvalArgs {
    /// Model path (without extension).
    #[arg(long)]
    pub model: PathBuf,
    /// NPZ files holding the model's input and output arrays, joined in order.
    #[arg(long, required = true, num_args = 1..)]
    pub data: Vec<PathBuf>,
    /// Report file path (JSON); a predicted-vs-true PNG per output goes next to it.
    #[arg(long, value_name = "REPORT.json")]
    pub out: PathBuf,
    /// Rows to evaluate (auto: the model's test rows on its own training data, else all).
    #[arg(long, value_enum, default_value_t = CnnSplit::Auto)]
    pub split: CnnSplit,
    /// Also write an NPZ of the evaluated rows: `inputs`, `truth` and `predicted` outputs and
    /// `residual` (truth - predicted), e.g. the residuals of a summary emulator on held-out
    /// light-cones, whose covariance a likelihood can use.
    #[arg(long)]
    pub predictions: Option<PathBuf>,
}

/// Run `spinflip eval mlp`.
pub fn run(a: MlpEvalArgs) -> Result<(), SpinflipError> {
    let model = load_mlp(&a.model)?;
    let s = &model.sidecar;
    let table = Table::load(&a.data, &s.inputs.name, &s.outputs.name)?;
    let trained: Option<Split> = s
        .training
        .as_ref()
        .and_then(|t| serde_json::from_value(t["split"].clone()).ok());
    let rows = super::eval_cnn::pick_split(a.split, trained, s.data_hash == table.hash(), table.n)?;
    let ev = evaluate_mlp(&model, &table, rows)?;
    let mut files = ev.write(&a.out)?;
    if let Some(p) = &a.predictions {
        let (n, d, dx) = (ev.n_rows, ev.names.len(), table.x.width());
        let x = table.x.values[ev.rows.start * dx..ev.rows.end * dx].to_vec();
        let resid: Vec<f64> = ev
            .truth
            .iter()
            .zip(&ev.predicted)
            .map(|(t, p)| t - p)
            .collect();
        let names: Vec<&str> = ev.names.iter().map(String::as_str).collect();
        let o = &model.sidecar.outputs;
        let (t_t, p_t) = (o.encode(&ev.truth)?, o.encode(&ev.predicted)?);
        let resid_t: Vec<f64> = t_t
            .iter()
            .zip(&p_t)
            .enumerate()
            .map(|(i, (a, b))| (a - b) * o.std[i % d])
            .collect();
        let arr =
            |shape: Vec<usize>, v: Vec<f64>| NpyArray::new(shape, v).map(|a| a.to_npy_bytes());
        crate::io::write_npz_members(
            p,
            &[
                ("inputs", arr(vec![n, dx], x)?),
                ("truth", arr(vec![n, d], ev.truth.clone())?),
                ("predicted", arr(vec![n, d], ev.predicted.clone())?),
                ("residual", arr(vec![n, d], resid)?),
                // In the outputs' transformed space (log10(v + floor) for power spectra):
                // where a likelihood of those outputs lives.
                ("residual_transformed", arr(vec![n, d], resid_t)?),
                ("residual_names", str_npy_bytes(&names)),
            ],
        )?;
        files.push(p.clone());
    }
    println!("{} rows; R^2 / MAE:", ev.n_rows);
    for name in &ev.names {
        println!("  {name:<12} {:.4}   {:.4}", ev.r2[name], ev.mae[name]);
    }
    println!("wrote {}", super::file_list(&files));
    Ok(())
}
