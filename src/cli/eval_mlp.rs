//! `spinflip eval mlp`: R^2 of an MLP on the rows of NPZ tables.

use std::path::PathBuf;

use super::eval_cnn::CnnSplit;
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
    #[arg(long)]
    pub out: PathBuf,
    /// Rows to evaluate (auto: the model's test rows on its own training data, else all).
    #[arg(long, value_enum, default_value_t = CnnSplit::Auto)]
    pub split: CnnSplit,
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
    let files = ev.write(&a.out)?;
    println!("{} rows; R^2 / MAE:", ev.n_rows);
    for name in &ev.names {
        println!("  {name:<12} {:.4}   {:.4}", ev.r2[name], ev.mae[name]);
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
