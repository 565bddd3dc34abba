//! `spinflip eval`.

use std::path::{Path, PathBuf};

use spinflip_likelihoods::ForwardModel;

use super::train::{param_names, rows};
use crate::emulator::metrics::ErrorReport;
use crate::emulator::model_file::model_paths;
use crate::emulator::GlobalEmulator;
use crate::io::{GlobalSignalSet, NpyArray};
use crate::plot::lines::{save_grid, LinePlot, Series};
use crate::SpinflipError;

/// Arguments of `spinflip eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// Error of the LSTM emulator on a data split (DJ+24 eq. 3).
    Emulator(EmulatorArgs),
    /// R^2 of the map CNN on light-cone slices.
    Cnn(super::eval_cnn::CnnEvalArgs),
    /// R^2 of an MLP on NPZ tables.
    Mlp(super::eval_mlp::MlpEvalArgs),
}

/// A split of a data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Split {
    /// The held-out test signals.
    Test,
    /// The validation signals.
    Val,
    /// The training signals.
    Train,
}

impl Split {
    /// The name in file names and reports.
    pub fn name(self) -> &'static str {
        match self {
            Split::Test => "test",
            Split::Val => "val",
            Split::Train => "train",
        }
    }
}

/// Arguments of `spinflip eval emulator`.
#[derive(Debug, clap::Args)]
pub struct EmulatorArgs {
    /// Model path (without extension, or the .json / .safetensors file).
    #[arg(long)]
    pub model: PathBuf,
    /// Data set (`.npz` or 21cmGEM `.h5`).
    #[arg(long)]
    pub data: PathBuf,
    /// Split to evaluate.
    #[arg(long, value_enum, default_value_t = Split::Test)]
    pub split: Split,
    /// JSON report path (default MODEL_eval_SPLIT.json, which is not replaced by a report on
    /// other data; the PNG goes next to it).
    #[arg(long, value_name = "REPORT.json")]
    pub out: Option<PathBuf>,
}

/// Run `spinflip eval`.
pub fn run(args: Args) -> Result<(), SpinflipError> {
    match args.what {
        What::Emulator(a) => run_emulator(a),
        What::Cnn(a) => super::eval_cnn::run(a),
        What::Mlp(a) => super::eval_mlp::run(a),
    }
}

/// Emulate every signal of a split and compare with the truth.
pub fn evaluate(
    emu: &GlobalEmulator,
    params: &[f64],
    truth: &[f64],
) -> Result<(ErrorReport, Vec<f64>, usize), SpinflipError> {
    let (d, m) = (emu.n_params(), emu.n_outputs());
    let n = params.len() / d;
    let s = emu.sidecar();
    let outside = params
        .chunks_exact(d)
        .filter(|p| (0..d).any(|i| p[i] < s.param_min[i] || p[i] > s.param_max[i]))
        .count();
    let mut out = vec![0.0; n * m];
    let mut ok = vec![false; n];
    emu.predict_batch(params, &mut out, &mut ok)?;
    if let Some(i) = ok.iter().position(|o| !o) {
        return Err(SpinflipError::config(
            "data",
            format!("signal {i} could not be emulated (non-finite or invalid parameters)"),
        ));
    }
    Ok((ErrorReport::new(&out, truth, m), out, outside))
}

fn run_emulator(a: EmulatorArgs) -> Result<(), SpinflipError> {
    // Evaluation reports the error wherever the data lie; points outside the training
    // range are counted and reported rather than refused.
    let emu = GlobalEmulator::load(&a.model)?.allow_extrapolation(true);
    let set = GlobalSignalSet::load(&a.data)?;
    if set.redshifts != emu.sidecar().redshifts {
        return Err(SpinflipError::Data {
            path: a.data.display().to_string(),
            reason: "redshift grid differs from the model's".into(),
        });
    }
    let (p, s) = match a.split {
        Split::Test => (&set.par_test, &set.signal_test),
        Split::Val => (&set.par_val, &set.signal_val),
        Split::Train => (&set.par_train, &set.signal_train),
    };
    let m = set.redshifts.len();
    let params = rows(p, param_names().len(), "parameters")?;
    let truth = rows(s, m, "signals")?;
    let (report, emulated, outside) = evaluate(&emu, &params, &truth)?;
    let r = &report.relative_error_percent;
    println!(
        "{} signals ({} outside the training range)\nrelative rms error (DJ+24 eq. 3): mean {:.4}%  median {:.4}%  95th pct {:.4}%  max {:.4}%\nrms error: mean {:.4} mK  median {:.4} mK  95th pct {:.4} mK  max {:.4} mK",
        report.n_signals, outside, r.mean, r.median, r.p95, r.max,
        report.rms_mk.mean, report.rms_mk.median, report.rms_mk.p95, report.rms_mk.max
    );
    let above = n_above(&report.per_signal_percent, &ERROR_THRESHOLDS);
    let above: Vec<String> = above.iter().map(|(t, n)| format!("> {t}%: {n}")).collect();
    println!("signals {}", above.join("  "));
    let json_path = a.out.clone().unwrap_or_else(|| {
        let (w, _) = model_paths(&a.model);
        let mut s = w.with_extension("").into_os_string();
        s.push(format!("_eval_{}.json", a.split.name()));
        PathBuf::from(s)
    });
    if a.out.is_none() {
        refuse_overwriting_other_data(&json_path, &a.data)?;
    }
    let json = serde_json::json!({
        "model": a.model.display().to_string(),
        "data": a.data.display().to_string(),
        "split": a.split.name(),
        "n_signals": report.n_signals,
        "n_outside_training_range": outside,
        "relative_error_percent": report.relative_error_percent,
        "rms_mk": report.rms_mk,
        "n_above_percent": n_above(&report.per_signal_percent, &ERROR_THRESHOLDS),
        "worst": worst_signals(&report, &params, N_WORST),
        "per_signal": errors_path(&json_path).display().to_string(),
    });
    let text = serde_json::to_string_pretty(&json)
        .map_err(|e| SpinflipError::config("report", e.to_string()))?;
    crate::samplers::output::ensure_parent(&json_path)?;
    crate::samplers::output::write_atomic(&json_path, text.as_bytes())?;
    let per_signal = NpyArray::new(vec![report.n_signals], report.per_signal_percent.clone())?;
    per_signal.save(&errors_path(&json_path))?;
    let png = json_path.with_extension("png");
    plot_examples(&png, &set.redshifts, &report, &emulated, &truth)?;
    println!(
        "wrote {}, {} and {}",
        json_path.display(),
        errors_path(&json_path).display(),
        png.display()
    );
    Ok(())
}

/// Error thresholds (percent) counted in the report: the max bound and two below it.
const ERROR_THRESHOLDS: [f64; 3] = [0.5, 1.0, 2.0];

/// Signals listed by name in the report: where the tail of the error lives in parameter space.
const N_WORST: usize = 10;

/// `REPORT_errors.npy`: the per-signal eq. 3 errors (percent) in the split's order.
fn errors_path(json_path: &Path) -> PathBuf {
    let mut s = json_path.with_extension("").into_os_string();
    s.push("_errors.npy");
    PathBuf::from(s)
}

/// How many errors exceed each threshold, keyed by the threshold.
fn n_above(errors: &[f64], thresholds: &[f64]) -> serde_json::Map<String, serde_json::Value> {
    thresholds
        .iter()
        .map(|t| {
            let n = errors.iter().filter(|e| **e > *t).count();
            (format!("{t}"), n.into())
        })
        .collect()
}

/// The `n` largest errors with their index in the split and their parameters.
fn worst_signals(report: &ErrorReport, params: &[f64], n: usize) -> Vec<serde_json::Value> {
    let names = param_names();
    let d = names.len();
    let mut order: Vec<usize> = (0..report.n_signals).collect();
    order.sort_by(|&i, &j| report.per_signal_percent[j].total_cmp(&report.per_signal_percent[i]));
    order
        .into_iter()
        .take(n)
        .map(|i| {
            let p: serde_json::Map<String, serde_json::Value> = names
                .iter()
                .zip(&params[i * d..(i + 1) * d])
                .map(|(name, v)| (name.to_string(), (*v).into()))
                .collect();
            serde_json::json!({
                "index": i,
                "relative_error_percent": report.per_signal_percent[i],
                "rms_mk": report.per_signal_rms_mk[i],
                "params": p,
            })
        })
        .collect()
}

/// The default report path sits next to the model (a shipped model's report is part of the
/// repository): do not silently replace a report on other data with this one.
fn refuse_overwriting_other_data(json_path: &Path, data: &Path) -> Result<(), SpinflipError> {
    let Ok(text) = std::fs::read_to_string(json_path) else {
        return Ok(());
    };
    let Some(old) = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["data"].as_str().map(PathBuf::from))
    else {
        return Ok(());
    };
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    };
    if same(&old, data) {
        return Ok(());
    }
    Err(SpinflipError::config(
        "out",
        format!(
            "{} holds an evaluation on {}; pass --out to write this one (on {}) elsewhere",
            json_path.display(),
            old.display(),
            data.display()
        ),
    ))
}

/// Best, median and worst signals against truth, one panel each.
pub fn plot_examples(
    path: &Path,
    z: &[f64],
    report: &ErrorReport,
    emulated: &[f64],
    truth: &[f64],
) -> Result<(), SpinflipError> {
    let m = z.len();
    let mut order: Vec<usize> = (0..report.n_signals).collect();
    order.sort_by(|&i, &j| report.per_signal_percent[i].total_cmp(&report.per_signal_percent[j]));
    if order.is_empty() {
        return Ok(());
    }
    let picks = [
        ("best", order[0]),
        ("median", order[order.len() / 2]),
        ("worst", order[order.len() - 1]),
    ];
    let plots: Vec<LinePlot> = picks
        .iter()
        .map(|(what, i)| {
            LinePlot::new(format!(
                "{what}: error {:.3}%",
                report.per_signal_percent[*i]
            ))
            .size(600, 420)
            .x_label("z")
            .y_label("T21 [mK]")
            .series(Series::line("truth", z, &truth[i * m..(i + 1) * m]).width(3))
            .series(Series::line("emulator", z, &emulated[i * m..(i + 1) * m]))
        })
        .collect();
    save_grid(path, &plots, 3)
}
