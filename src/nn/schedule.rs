//! Learning-rate schedules and early stopping, and the counters they keep between epochs.

use serde::{Deserialize, Serialize};

/// How the learning rate changes over the epochs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LrSchedule {
    /// Multiply by `lr_factor` after `lr_patience` epochs without a better validation loss
    /// (Keras' ReduceLROnPlateau, as 21cmLSTM and Gillet et al. 2019).
    #[default]
    Plateau,
    /// Cosine decay from `lr` at the first epoch to `min_lr` at the last of `epochs`
    /// (Loshchilov & Hutter 2017, without restarts): a fixed budget ends at a small step.
    Cosine,
}

impl LrSchedule {
    /// Learning rate of `epoch` (0-based) of `epochs` under the cosine schedule.
    pub fn cosine_lr(lr: f64, min_lr: f64, epoch: usize, epochs: usize) -> f64 {
        let x = epoch as f64 / epochs.max(1) as f64;
        min_lr + 0.5 * (lr - min_lr) * (1.0 + (std::f64::consts::PI * x).cos())
    }
}

impl std::str::FromStr for LrSchedule {
    type Err = crate::SpinflipError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        <Self as clap::ValueEnum>::from_str(s, true).map_err(|_| {
            crate::SpinflipError::config("schedule", format!("'{s}': use plateau or cosine"))
        })
    }
}

/// The schedule's and early stopping's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoppingRule {
    /// Learning-rate schedule.
    pub schedule: LrSchedule,
    /// Initial learning rate.
    pub lr: f64,
    /// Smallest learning rate.
    pub min_lr: f64,
    /// Plateau: epochs without improvement before the rate drops.
    pub lr_patience: usize,
    /// Plateau: the factor it drops by.
    pub lr_factor: f64,
    /// Stop after this many epochs without a better validation loss.
    pub patience: usize,
    /// Epoch budget.
    pub epochs: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_schedule_runs_from_lr_to_min_lr() {
        let f = |e| LrSchedule::cosine_lr(1e-3, 1e-6, e, 100);
        assert_eq!(f(0), 1e-3);
        // Halfway the rate is the mean of the two ends; at the budget it is the floor.
        assert!((f(50) - 0.5 * (1e-3 + 1e-6)).abs() < 1e-15);
        assert!((f(100) - 1e-6).abs() < 1e-18);
        assert!((1..=100).all(|e| f(e) < f(e - 1)), "strictly decreasing");
        assert_eq!("cosine".parse::<LrSchedule>().unwrap(), LrSchedule::Cosine);
        assert!("step".parse::<LrSchedule>().is_err());
    }
}
