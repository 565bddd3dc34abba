//! The bias experiment's results: markdown table, CSV, JSON and a PNG of bias against noise.

use crate::plot::lines::{save_grid, LinePlot, Series};
use crate::SpinflipError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use spinflip_samplers::output::{with_suffix, write_atomic};
use std::fmt::Write;
use std::path::Path;

/// JSON has no NaN: write it as null and read null back as NaN, so a finished case's file
/// (`_runs/t*_n*_case.json`) reads back whole when a killed experiment is rerun.
mod nan_as_null {
    use super::*;
    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        if x.is_nan() {
            s.serialize_none()
        } else {
            s.serialize_f64(*x)
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// One (truth, noise level) comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BiasCase {
    /// Which truth.
    pub truth_index: usize,
    /// The truth (model parameters).
    pub truth: Vec<f64>,
    /// Noise level in mK.
    pub noise_mk: f64,
    /// |mean_emu - mean_sim| / std_sim per free parameter (sampling coordinates).
    pub bias: Vec<f64>,
    /// std_emu / std_sim per free parameter.
    pub width_ratio: Vec<f64>,
    /// KL(P_sim || P_emu), Gaussian approximation.
    #[serde(with = "nan_as_null")]
    pub kl: f64,
    /// ln Z_emu - ln Z_sim.
    #[serde(with = "nan_as_null")]
    pub delta_log_z: f64,
    /// ln Z with the emulator.
    #[serde(with = "nan_as_null")]
    pub log_z_emu: f64,
    /// ln Z with the simulator.
    #[serde(with = "nan_as_null")]
    pub log_z_sim: f64,
    /// Emulator rms error at the truth on the fitted channels, mK.
    #[serde(with = "nan_as_null")]
    pub rmse_mk: f64,
    /// Bevins et al. (2025) bound (N_d/2)(RMSE/sigma)^2.
    #[serde(with = "nan_as_null")]
    pub kl_bound: f64,
    /// Channels fitted.
    pub n_channels: usize,
    /// Names in sampling coordinates (log10 marked by the caller's priors).
    pub sampling_names: Vec<String>,
    /// The floor: |mean_sim' - mean_sim| / std_sim per free parameter, from a second
    /// simulator fit of the same mock with another sampler seed (empty when not measured).
    pub floor: Vec<f64>,
    /// ln Z_sim' - ln Z_sim of that second fit (NaN when not measured).
    #[serde(with = "nan_as_null")]
    pub delta_log_z_floor: f64,
}

impl BiasCase {
    /// Largest bias over the parameters.
    pub fn max_bias(&self) -> f64 {
        self.bias.iter().cloned().fold(0.0, f64::max)
    }

    /// Largest floor over the parameters (NaN when not measured).
    pub fn max_floor(&self) -> f64 {
        if self.floor.is_empty() {
            return f64::NAN;
        }
        self.floor.iter().cloned().fold(0.0, f64::max)
    }
}

/// All cases.
#[derive(Debug, Clone, Serialize)]
pub struct BiasReport {
    /// Model parameter names.
    pub names: Vec<String>,
    /// Noise levels, mK.
    pub noise_levels: Vec<f64>,
    /// Every comparison.
    pub cases: Vec<BiasCase>,
}

impl BiasReport {
    /// Largest bias at each noise level, over truths and parameters.
    pub fn max_bias_by_noise(&self) -> Vec<(f64, f64)> {
        self.by_noise(BiasCase::max_bias)
    }

    /// Largest floor at each noise level, over truths and parameters (NaN when not measured).
    pub fn max_floor_by_noise(&self) -> Vec<(f64, f64)> {
        self.by_noise(BiasCase::max_floor)
    }

    fn by_noise(&self, f: impl Fn(&BiasCase) -> f64) -> Vec<(f64, f64)> {
        self.noise_levels
            .iter()
            .map(|&n| {
                let v: Vec<f64> = self
                    .cases
                    .iter()
                    .filter(|c| c.noise_mk == n)
                    .map(&f)
                    .collect();
                let m = if v.iter().any(|x| x.is_nan()) {
                    f64::NAN
                } else {
                    v.into_iter().fold(0.0, f64::max)
                };
                (n, m)
            })
            .collect()
    }

    /// The markdown table: a row per case, then the largest bias (and floor) per noise level.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let names = self
            .cases
            .first()
            .map(|c| c.sampling_names.clone())
            .unwrap_or_default();
        let f3 = |x: f64| {
            if x.is_nan() {
                "-".to_string()
            } else {
                format!("{x:.3}")
            }
        };
        let _ = writeln!(
            s,
            "| noise [mK] | truth | {} | max bias | floor | width ratio (min..max) | KL | bound | dlnZ | dlnZ floor | rmse [mK] |",
            names
                .iter()
                .map(|n| format!("bias {n}"))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        let _ = writeln!(s, "|{}", "---|".repeat(names.len() + 10));
        for c in &self.cases {
            let wmin = c.width_ratio.iter().cloned().fold(f64::INFINITY, f64::min);
            let wmax = c.width_ratio.iter().cloned().fold(0.0, f64::max);
            let dz_floor = if c.delta_log_z_floor.is_nan() {
                "-".to_string()
            } else {
                format!("{:+.2}", c.delta_log_z_floor)
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {:.3} | {} | {:.2}..{:.2} | {:.3} | {:.3} | {:+.2} | {} | {:.3} |",
                c.noise_mk,
                c.truth_index,
                c.bias
                    .iter()
                    .map(|b| format!("{b:.3}"))
                    .collect::<Vec<_>>()
                    .join(" | "),
                c.max_bias(),
                f3(c.max_floor()),
                wmin,
                wmax,
                c.kl,
                c.kl_bound,
                c.delta_log_z,
                dz_floor,
                c.rmse_mk
            );
        }
        let _ = writeln!(
            s,
            "\n| noise [mK] | max bias over truths and parameters | max floor (simulator vs simulator) |\n|---|---|---|"
        );
        for ((n, m), (_, f)) in self
            .max_bias_by_noise()
            .into_iter()
            .zip(self.max_floor_by_noise())
        {
            let _ = writeln!(
                s,
                "| {n} | {m:.3} sigma | {} |",
                if f.is_nan() {
                    "not measured".to_string()
                } else {
                    format!("{f:.3} sigma")
                }
            );
        }
        s
    }

    /// CSV: one row per (truth, noise, parameter); `floor` is empty when not measured.
    pub fn csv(&self) -> String {
        let mut s = String::from(
            "truth,noise_mk,param,bias,floor,width_ratio,kl,kl_bound,delta_log_z,delta_log_z_floor,rmse_mk\n",
        );
        for c in &self.cases {
            for (j, n) in c.sampling_names.iter().enumerate() {
                let floor = c.floor.get(j).map(|f| f.to_string()).unwrap_or_default();
                let dz_floor = if c.delta_log_z_floor.is_nan() {
                    String::new()
                } else {
                    c.delta_log_z_floor.to_string()
                };
                let _ = writeln!(
                    s,
                    "{},{},{},{},{},{},{},{},{},{},{}",
                    c.truth_index,
                    c.noise_mk,
                    n,
                    c.bias[j],
                    floor,
                    c.width_ratio[j],
                    c.kl,
                    c.kl_bound,
                    c.delta_log_z,
                    dz_floor,
                    c.rmse_mk
                );
            }
        }
        s
    }

    /// Write `root.md`, `root.csv`, `root.json` and `root_bias.png`.
    pub fn write(&self, root: &Path) -> Result<(), SpinflipError> {
        spinflip_samplers::output::ensure_parent(root)?;
        write_atomic(&with_suffix(root, ".md"), self.markdown().as_bytes())?;
        write_atomic(&with_suffix(root, ".csv"), self.csv().as_bytes())?;
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| SpinflipError::config("bias report", e.to_string()))?;
        write_atomic(&with_suffix(root, ".json"), json.as_bytes())?;
        let mut plot = LinePlot::new("posterior emulation bias")
            .x_label("noise [mK]")
            .y_label("max |mean_emu - mean_sim| / std_sim");
        let n_truths = self
            .cases
            .iter()
            .map(|c| c.truth_index + 1)
            .max()
            .unwrap_or(0);
        for k in 0..n_truths {
            let pts: Vec<(f64, f64)> = self
                .cases
                .iter()
                .filter(|c| c.truth_index == k)
                .map(|c| (c.noise_mk, c.max_bias()))
                .collect();
            let (x, y): (Vec<f64>, Vec<f64>) = pts.into_iter().unzip();
            plot = plot.series(Series::line(format!("truth {k}"), &x, &y));
        }
        // The floor, largest over truths: biases below it are not measured.
        let (x, y): (Vec<f64>, Vec<f64>) = self
            .max_floor_by_noise()
            .into_iter()
            .filter(|(_, f)| !f.is_nan())
            .unzip();
        if !x.is_empty() {
            plot = plot.series(
                Series::line("floor (sim vs sim, max)", &x, &y)
                    .color(plotters::style::RGBColor(0, 0, 0))
                    .width(3),
            );
        }
        save_grid(&with_suffix(root, "_bias.png"), &[plot], 1)
    }
}
