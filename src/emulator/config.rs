//! Architecture of the LSTM emulator.

use serde::{Deserialize, Serialize};

use crate::SpinflipError;

/// Shape of the stacked-LSTM network (Dorigo Jones et al. 2024, "21cmLSTM").
///
/// Every step of the sequence gets the `n_params` normalised parameters plus the normalised
/// frequency (`n_params + 1` inputs); `layers` LSTM layers of `hidden` units each run over the
/// `n_steps` steps (high z to low z) and a dense head maps each step's hidden state to
/// `outputs_per_step` consecutive channels, so the network covers
/// `n_steps * outputs_per_step` channels. 21cmLSTM itself is one channel per step:
/// `LstmConfig { n_params: 7, hidden: 451, layers: 2, n_steps: 451, outputs_per_step: 1 }`.
///
/// Several channels per step shorten the sequence the recurrence walks (the signal is smooth
/// on the scale of a few channels), which divides both training and inference cost by about
/// `outputs_per_step` and shortens the path gradients travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LstmConfig {
    /// Number of physical parameters.
    pub n_params: usize,
    /// Hidden units per LSTM layer.
    pub hidden: usize,
    /// Number of stacked LSTM layers.
    pub layers: usize,
    /// Sequence length (LSTM steps).
    pub n_steps: usize,
    /// Channels predicted by the dense head at each step (1 in models written before this
    /// field existed).
    #[serde(default = "one")]
    pub outputs_per_step: usize,
}

fn one() -> usize {
    1
}

impl LstmConfig {
    /// Default hidden size; see the crate documentation of [`crate::emulator`] for why.
    pub const DEFAULT_HIDDEN: usize = 64;
    /// Default number of layers (as 21cmLSTM).
    pub const DEFAULT_LAYERS: usize = 2;
    /// Default channels per step for new models (21cmLSTM: 1); see the type's docs.
    pub const DEFAULT_OUTPUTS_PER_STEP: usize = 11;

    /// The default architecture for `n_params` parameters and `n_channels` channels:
    /// [`Self::DEFAULT_OUTPUTS_PER_STEP`] channels per step when that divides `n_channels`
    /// (451 = 41 x 11), else one.
    pub fn new(n_params: usize, n_channels: usize) -> Self {
        let k = if n_channels.is_multiple_of(Self::DEFAULT_OUTPUTS_PER_STEP) {
            Self::DEFAULT_OUTPUTS_PER_STEP
        } else {
            1
        };
        LstmConfig {
            n_params,
            hidden: Self::DEFAULT_HIDDEN,
            layers: Self::DEFAULT_LAYERS,
            n_steps: n_channels / k,
            outputs_per_step: k,
        }
    }

    /// Output channels: `n_steps * outputs_per_step`.
    pub fn n_outputs(&self) -> usize {
        self.n_steps * self.outputs_per_step
    }

    /// Inputs per step: the parameters and the frequency.
    pub fn n_inputs(&self) -> usize {
        self.n_params + 1
    }

    /// Input width of LSTM layer `l`.
    pub fn layer_inputs(&self, l: usize) -> usize {
        if l == 0 {
            self.n_inputs()
        } else {
            self.hidden
        }
    }

    /// Number of trainable weights.
    pub fn n_weights(&self) -> usize {
        let h = self.hidden;
        (0..self.layers)
            .map(|l| 4 * h * (self.layer_inputs(l) + h) + 4 * h)
            .sum::<usize>()
            + (h + 1) * self.outputs_per_step
    }

    /// Multiply-adds of one signal in the fast path (input projection of layer 0 hoisted out
    /// of the sequence: only the frequency column is applied per step).
    pub fn macs_per_signal(&self) -> usize {
        let h = self.hidden;
        let per_step: usize = (0..self.layers)
            .map(|l| {
                let input = if l == 0 { 1 } else { h };
                4 * h * (input + h)
            })
            .sum::<usize>()
            + h * self.outputs_per_step;
        per_step * self.n_steps + 4 * h * self.n_params
    }

    /// Transcendental evaluations (sigmoid and tanh) of one signal: 5 per unit per step.
    pub fn transcendentals_per_signal(&self) -> usize {
        5 * self.hidden * self.layers * self.n_steps
    }

    /// Check that every size is positive.
    pub fn validate(&self) -> Result<(), SpinflipError> {
        for (field, v) in [
            ("n_params", self.n_params),
            ("hidden", self.hidden),
            ("layers", self.layers),
            ("n_steps", self.n_steps),
            ("outputs_per_step", self.outputs_per_step),
        ] {
            if v == 0 {
                return Err(SpinflipError::config(field, "must be at least 1"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lstm21_weight_count_matches_paper() {
        // DJ+24: 2 x LSTM(451) + Dense(1) on 8 inputs has 2.46 M weights.
        let c = LstmConfig {
            n_params: 7,
            hidden: 451,
            layers: 2,
            n_steps: 451,
            outputs_per_step: 1,
        };
        let n = c.n_weights();
        assert!((2_455_000..2_465_000).contains(&n), "{n}");
    }
}
