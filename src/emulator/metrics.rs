//! Emulator error metrics: the relative rms error of Dorigo Jones et al. 2024 (eq. 3),
//! `err = 100% * sqrt(mean_nu (T_emu - T_true)^2) / max_nu |T_true|`, and the rms in mK.

use serde::{Deserialize, Serialize};

/// rms difference of two signals (same units as the signals).
pub fn rms(emulated: &[f64], truth: &[f64]) -> f64 {
    let n = truth.len().max(1) as f64;
    (emulated
        .iter()
        .zip(truth)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        / n)
        .sqrt()
}

/// DJ+24 eq. 3 relative rms error in percent. A truth that is zero everywhere gives +inf
/// (or NaN if the emulation is exact too): such a signal has no scale to compare against.
pub fn relative_rms_error(emulated: &[f64], truth: &[f64]) -> f64 {
    let peak = truth.iter().fold(0.0f64, |m, t| m.max(t.abs()));
    100.0 * rms(emulated, truth) / peak
}

/// Summary statistics of per-signal errors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub median: f64,
    /// 95th percentile (linear interpolation between order statistics).
    pub p95: f64,
    /// Maximum.
    pub max: f64,
}

impl Stats {
    /// Statistics of `values` (NaN for an empty slice).
    pub fn of(values: &[f64]) -> Stats {
        if values.is_empty() {
            return Stats {
                mean: f64::NAN,
                median: f64::NAN,
                p95: f64::NAN,
                max: f64::NAN,
            };
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        Stats {
            mean: v.iter().sum::<f64>() / v.len() as f64,
            median: quantile_sorted(&v, 0.5),
            p95: quantile_sorted(&v, 0.95),
            max: v[v.len() - 1],
        }
    }
}

/// Quantile `q` of sorted values with linear interpolation.
fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    let pos = q * (v.len() - 1) as f64;
    let i = pos.floor() as usize;
    let f = pos - i as f64;
    if i + 1 < v.len() {
        v[i] * (1.0 - f) + v[i + 1] * f
    } else {
        v[i]
    }
}

/// Errors of an emulator over a set of signals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorReport {
    /// Number of signals.
    pub n_signals: usize,
    /// DJ+24 eq. 3 relative rms error (percent).
    pub relative_error_percent: Stats,
    /// rms error in mK.
    pub rms_mk: Stats,
    /// Per-signal relative errors (percent), in input order.
    pub per_signal_percent: Vec<f64>,
    /// Per-signal rms errors (mK), in input order.
    pub per_signal_rms_mk: Vec<f64>,
}

impl ErrorReport {
    /// Compare `emulated` with `truth`, both row-major with `n_channels` values per signal.
    pub fn new(emulated: &[f64], truth: &[f64], n_channels: usize) -> ErrorReport {
        let rel: Vec<f64> = emulated
            .chunks_exact(n_channels)
            .zip(truth.chunks_exact(n_channels))
            .map(|(e, t)| relative_rms_error(e, t))
            .collect();
        let abs: Vec<f64> = emulated
            .chunks_exact(n_channels)
            .zip(truth.chunks_exact(n_channels))
            .map(|(e, t)| rms(e, t))
            .collect();
        ErrorReport {
            n_signals: rel.len(),
            relative_error_percent: Stats::of(&rel),
            rms_mk: Stats::of(&abs),
            per_signal_percent: rel,
            per_signal_rms_mk: abs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eq3_on_a_hand_example() {
        // Truth peaks at |-100| mK; errors (3, -4, 0, 0): rms = sqrt(25/4) = 2.5 mK -> 2.5%.
        let truth = [-100.0, -50.0, 10.0, 0.0];
        let emu = [-97.0, -54.0, 10.0, 0.0];
        assert!((rms(&emu, &truth) - 2.5).abs() < 1e-12);
        assert!((relative_rms_error(&emu, &truth) - 2.5).abs() < 1e-12);
    }

    #[test]
    fn stats_of_1_to_101() {
        let v: Vec<f64> = (1..=101).rev().map(f64::from).collect();
        let s = Stats::of(&v);
        assert_eq!((s.mean, s.median, s.p95, s.max), (51.0, 51.0, 96.0, 101.0));
    }
}
