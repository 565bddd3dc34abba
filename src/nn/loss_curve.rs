//! The loss-curve PNG of a training run: training and validation loss per epoch, log scale.

use super::checkpoint::EpochRecord;
use crate::SpinflipError;
use std::path::{Path, PathBuf};

/// Where the loss curve of the model at `out` goes (`OUT_loss.png`).
pub fn loss_curve_path(out: &Path) -> PathBuf {
    let (w, _) = super::files::model_paths(out);
    let mut s = w.with_extension("").into_os_string();
    s.push("_loss.png");
    PathBuf::from(s)
}

/// Plot training and validation loss against epoch (log y) with the given title and y label.
pub fn write_loss_curve(
    path: &Path,
    history: &[EpochRecord],
    title: &str,
    y_label: &str,
) -> Result<(), SpinflipError> {
    use crate::plot::lines::{LinePlot, Series};
    let x: Vec<f64> = history.iter().map(|r| (r.epoch + 1) as f64).collect();
    let tr: Vec<f64> = history.iter().map(|r| r.train_loss).collect();
    let va: Vec<f64> = history.iter().map(|r| r.val_loss).collect();
    LinePlot::new(title)
        .x_label("epoch")
        .y_label(y_label)
        .log_y(true)
        .series(Series::line("train", &x, &tr))
        .series(Series::line("validation", &x, &va))
        .save(path)
}
