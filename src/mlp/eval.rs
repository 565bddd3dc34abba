//! Evaluating an MLP on rows of a [`Table`]: R^2 and mean absolute error per output column,
//! a predicted-vs-true PNG per column (up to eight).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::data::Table;
use super::model_file::MlpModel;
use crate::nn::metrics::{column, mae, r2};
use crate::SpinflipError;

/// The report of `spinflip eval mlp`.
#[derive(Debug, Clone, Serialize)]
pub struct MlpEvaluation {
    /// Output column names.
    pub names: Vec<String>,
    /// Rows evaluated.
    pub n_rows: usize,
    /// R^2 per output column.
    pub r2: BTreeMap<String, f64>,
    /// Mean absolute error per output column (physical units).
    pub mae: BTreeMap<String, f64>,
    /// Data files.
    pub data: String,
    /// Rows used (indices in the joined table).
    pub rows: Range<usize>,
    /// Predictions, `n x d`.
    #[serde(skip)]
    pub predicted: Vec<f64>,
    /// Truth, `n x d`.
    #[serde(skip)]
    pub truth: Vec<f64>,
}

/// Evaluate `model` on the rows `rows` of `table`.
pub fn evaluate_mlp(
    model: &MlpModel,
    table: &Table,
    rows: Range<usize>,
) -> Result<MlpEvaluation, SpinflipError> {
    let s = &model.sidecar;
    if table.x.name != s.inputs.name || table.x.shape != s.inputs.shape {
        return Err(SpinflipError::Data {
            path: table.source.clone(),
            reason: format!(
                "inputs '{}' {:?} differ from the model's '{}' {:?}",
                table.x.name, table.x.shape, s.inputs.name, s.inputs.shape
            ),
        });
    }
    if table.y.shape != s.outputs.shape {
        return Err(SpinflipError::Data {
            path: table.source.clone(),
            reason: format!(
                "outputs {:?} differ from the model's {:?}",
                table.y.shape, s.outputs.shape
            ),
        });
    }
    if rows.is_empty() || rows.end > table.n {
        return Err(SpinflipError::config(
            "rows",
            format!(
                "range {rows:?} is empty or outside the table's {} rows",
                table.n
            ),
        ));
    }
    let dx = table.x.width();
    let d = table.y.width();
    let predicted = model.predict(&table.x.values[rows.start * dx..rows.end * dx])?;
    let truth = table.y.values[rows.start * d..rows.end * d].to_vec();
    let names = s.outputs.columns.clone();
    let mut out = MlpEvaluation {
        names: names.clone(),
        n_rows: rows.len(),
        r2: BTreeMap::new(),
        mae: BTreeMap::new(),
        data: table.source.clone(),
        rows,
        predicted,
        truth,
    };
    for (q, name) in names.iter().enumerate() {
        let (p, t) = (column(&out.predicted, d, q), column(&out.truth, d, q));
        out.r2.insert(name.clone(), r2(&p, &t));
        out.mae.insert(name.clone(), mae(&p, &t));
    }
    Ok(out)
}

impl MlpEvaluation {
    /// Write the JSON report and the PNGs (`REPORT_NAME.png`); returns the files written.
    pub fn write(&self, path: &Path) -> Result<Vec<PathBuf>, SpinflipError> {
        use crate::plot::lines::save_predicted_vs_true;
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| SpinflipError::config("report", e.to_string()))?;
        crate::samplers::output::ensure_parent(path)?;
        crate::samplers::output::write_atomic(path, json.as_bytes())?;
        let mut files = vec![path.to_path_buf()];
        let d = self.names.len();
        let stem = path.with_extension("");
        for (q, name) in self.names.iter().enumerate().take(8) {
            let (t, p) = (column(&self.truth, d, q), column(&self.predicted, d, q));
            let mut png = stem.clone().into_os_string();
            png.push(format!("_{}.png", name.replace(['[', ']', '/'], "_")));
            let png = PathBuf::from(png);
            save_predicted_vs_true(
                &png,
                format!("{name}: R^2 = {:.3}", self.r2[name]),
                name,
                format!("{} rows", self.n_rows),
                &t,
                &p,
            )?;
            files.push(png);
        }
        Ok(files)
    }
}
