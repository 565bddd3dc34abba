//! Input and output normalisation, as in 21cmLSTM (Dorigo Jones et al. 2024, sec. 2.2).
//!
//! log10 of the parameters that span decades (f_star, V_c, f_X; a zero f_X becomes
//! [`LOG_FLOOR`]), then min-max normalisation of every input feature (each parameter and the
//! frequency) and of the signal (one global minimum and maximum) with training-set extremes.
//! The network runs from high z to low z, so sequences here are in that order while
//! signals on the outside are on the ascending-z grid.

use serde::{Deserialize, Serialize};

use crate::SpinflipError;

/// Parameters normalised in log10 (21cmGEM names).
pub const LOG_PARAMS: [&str; 3] = ["f_star", "V_c", "f_X"];

/// Value substituted for a non-positive log-normalised parameter (21cmLSTM: f_X = 0 -> 1e-6).
pub const LOG_FLOOR: f64 = 1e-6;

/// 21-cm rest frequency in MHz.
pub const NU_21CM_MHZ: f64 = 1_420.405_751_768;

/// Normalisation of inputs and outputs, fitted on a training set and stored with the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalisation {
    /// Parameter names, in input order.
    pub param_names: Vec<String>,
    /// Whether parameter `i` is normalised in log10.
    pub log10: Vec<bool>,
    /// Minimum of each (possibly log10) parameter feature over the training set.
    pub feature_min: Vec<f64>,
    /// Maximum of each (possibly log10) parameter feature over the training set.
    pub feature_max: Vec<f64>,
    /// Minimum frequency of the grid (MHz).
    pub nu_min: f64,
    /// Maximum frequency of the grid (MHz).
    pub nu_max: f64,
    /// Minimum of the training signals (mK).
    pub signal_min: f64,
    /// Maximum of the training signals (mK).
    pub signal_max: f64,
}

impl Normalisation {
    /// Fit on `n` training points: `params` row-major (`n * names.len()`), `signals` row-major
    /// on the ascending `redshifts` grid.
    pub fn fit(
        names: &[String],
        params: &[f64],
        signals: &[f64],
        redshifts: &[f64],
    ) -> Result<Self, SpinflipError> {
        let d = names.len();
        let m = redshifts.len();
        if d == 0 || m < 2 {
            return Err(SpinflipError::config(
                "training data",
                "need at least one parameter and two redshifts",
            ));
        }
        if params.is_empty() || !params.len().is_multiple_of(d) {
            return Err(SpinflipError::config(
                "training parameters",
                format!("{} values is not a positive multiple of {d}", params.len()),
            ));
        }
        let n = params.len() / d;
        if signals.len() != n * m {
            return Err(SpinflipError::config(
                "training signals",
                format!("expected {n} x {m} values, got {}", signals.len()),
            ));
        }
        if redshifts.windows(2).any(|w| w[1] <= w[0]) || redshifts.iter().any(|z| *z <= -1.0) {
            return Err(SpinflipError::config(
                "redshifts",
                "must be strictly ascending and > -1",
            ));
        }
        let log10: Vec<bool> = names
            .iter()
            .map(|s| LOG_PARAMS.contains(&s.as_str()))
            .collect();
        let mut feature_min = vec![f64::INFINITY; d];
        let mut feature_max = vec![f64::NEG_INFINITY; d];
        for row in params.chunks_exact(d) {
            for i in 0..d {
                let f = feature(row[i], log10[i]);
                if !f.is_finite() {
                    return Err(SpinflipError::config(
                        "training parameters",
                        format!("non-finite or negative value {} for '{}'", row[i], names[i]),
                    ));
                }
                feature_min[i] = feature_min[i].min(f);
                feature_max[i] = feature_max[i].max(f);
            }
        }
        let (mut smin, mut smax) = (f64::INFINITY, f64::NEG_INFINITY);
        for &s in signals {
            if !s.is_finite() {
                return Err(SpinflipError::config(
                    "training signals",
                    "contain non-finite values",
                ));
            }
            smin = smin.min(s);
            smax = smax.max(s);
        }
        // A constant feature would divide by zero; widen its range symmetrically.
        for i in 0..d {
            if feature_max[i] - feature_min[i] <= 0.0 {
                feature_min[i] -= 0.5;
                feature_max[i] += 0.5;
            }
        }
        if smax - smin <= 0.0 {
            smin -= 0.5;
            smax += 0.5;
        }
        let nu = |z: f64| NU_21CM_MHZ / (1.0 + z);
        Ok(Normalisation {
            param_names: names.to_vec(),
            log10,
            feature_min,
            feature_max,
            nu_min: nu(redshifts[m - 1]),
            nu_max: nu(redshifts[0]),
            signal_min: smin,
            signal_max: smax,
        })
    }

    /// Number of parameters.
    pub fn n_params(&self) -> usize {
        self.param_names.len()
    }

    /// Check internal consistency (lengths, finite and ordered ranges).
    pub fn validate(&self) -> Result<(), String> {
        let d = self.param_names.len();
        if self.log10.len() != d || self.feature_min.len() != d || self.feature_max.len() != d {
            return Err(format!("normalisation vectors do not all have {d} entries"));
        }
        for i in 0..d {
            let (a, b) = (self.feature_min[i], self.feature_max[i]);
            if !(a.is_finite() && b.is_finite() && b > a) {
                return Err(format!(
                    "bad normalisation range [{a}, {b}] for '{}'",
                    self.param_names[i]
                ));
            }
        }
        let ok = |a: f64, b: f64| a.is_finite() && b.is_finite() && b > a;
        if !ok(self.nu_min, self.nu_max) || self.nu_min <= 0.0 {
            return Err("bad frequency range".into());
        }
        if !ok(self.signal_min, self.signal_max) {
            return Err("bad signal range".into());
        }
        Ok(())
    }

    /// Normalised parameter features of one point into `out` (`n_params()` values).
    pub fn normalise_params(&self, theta: &[f64], out: &mut [f32]) {
        for i in 0..self.n_params() {
            let f = feature(theta[i], self.log10[i]);
            out[i] =
                ((f - self.feature_min[i]) / (self.feature_max[i] - self.feature_min[i])) as f32;
        }
    }

    /// `d(normalised parameter i)/d(theta_i)`: `1/(range ln 10 theta)` in log10, `1/range`
    /// otherwise (0 below the log floor, where the feature is constant).
    pub fn param_derivatives(&self, theta: &[f64]) -> Vec<f64> {
        (0..self.n_params())
            .map(|i| {
                let range = self.feature_max[i] - self.feature_min[i];
                if !self.log10[i] {
                    1.0 / range
                } else if theta[i] > LOG_FLOOR {
                    1.0 / (range * std::f64::consts::LN_10 * theta[i])
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// Normalised frequency of each step, in sequence order (high z first) for the ascending
    /// `redshifts` grid.
    pub fn frequency_inputs(&self, redshifts: &[f64]) -> Vec<f32> {
        redshifts
            .iter()
            .rev()
            .map(|z| ((NU_21CM_MHZ / (1.0 + z) - self.nu_min) / (self.nu_max - self.nu_min)) as f32)
            .collect()
    }

    /// Normalised frequency of each LSTM step when each step predicts `outputs_per_step`
    /// consecutive channels: the frequency of the step's first channel, in sequence order.
    pub fn step_inputs(&self, redshifts: &[f64], outputs_per_step: usize) -> Vec<f32> {
        self.frequency_inputs(redshifts)
            .into_iter()
            .step_by(outputs_per_step.max(1))
            .collect()
    }

    /// Normalised signal in sequence order from a signal on the ascending grid.
    pub fn normalise_signal(&self, signal: &[f64], out: &mut [f32]) {
        let scale = self.signal_max - self.signal_min;
        for (o, s) in out.iter_mut().zip(signal.iter().rev()) {
            *o = ((s - self.signal_min) / scale) as f32;
        }
    }

    /// Signal in mK on the ascending grid from a normalised sequence.
    pub fn denormalise_signal(&self, seq: &[f32], out: &mut [f64]) {
        let scale = self.signal_max - self.signal_min;
        for (o, y) in out.iter_mut().zip(seq.iter().rev()) {
            *o = f64::from(*y) * scale + self.signal_min;
        }
    }
}

/// The feature of one parameter value: log10 (with the floor) or the value itself.
fn feature(x: f64, log10: bool) -> f64 {
    if !log10 {
        x
    } else if x == 0.0 {
        LOG_FLOOR.log10()
    } else {
        // Negative values give NaN and are rejected by the callers' checks.
        x.max(LOG_FLOOR).log10() + if x < 0.0 { f64::NAN } else { 0.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["f_star", "tau"].iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn extremes_map_to_unit_interval_and_signal_round_trips() {
        let z = [5.0, 6.0, 7.0];
        let params = [1e-3, 0.05, 1e-1, 0.08];
        let signals = [-10.0, -100.0, 0.0, 5.0, -50.0, -1.0];
        let n = Normalisation::fit(&names(), &params, &signals, &z).unwrap();
        let mut out = [0f32; 2];
        n.normalise_params(&params[0..2], &mut out);
        assert_eq!(out, [0.0, 0.0]);
        n.normalise_params(&params[2..4], &mut out);
        assert_eq!(out, [1.0, 1.0]);
        // log10: 1e-2 lies half-way between 1e-3 and 1e-1.
        n.normalise_params(&[1e-2, 0.065], &mut out);
        assert!((out[0] - 0.5).abs() < 1e-6 && (out[1] - 0.5).abs() < 1e-6);
        let f = n.frequency_inputs(&z);
        assert_eq!(f[0], 0.0); // highest z = lowest frequency first
        assert_eq!(f[2], 1.0);
        let mut seq = [0f32; 3];
        n.normalise_signal(&signals[0..3], &mut seq);
        // -10 mK on a [-100, 5] range, listed last in sequence order.
        assert!((seq[2] - 90.0 / 105.0).abs() < 1e-6);
        let mut back = [0f64; 3];
        n.denormalise_signal(&seq, &mut back);
        for (a, b) in back.iter().zip(&signals[0..3]) {
            assert!((a - b).abs() < 1e-4, "{a} {b}");
        }
    }

    #[test]
    fn negative_log_parameter_is_rejected() {
        let r = Normalisation::fit(&names(), &[-1.0, 0.05], &[1.0, 2.0], &[5.0, 6.0]);
        assert!(r.is_err());
    }
}
