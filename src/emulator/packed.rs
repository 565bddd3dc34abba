//! The LSTM's weights re-laid out for the CPU's hot loops (transposed, fused, per layer):
//! what both the portable and the AVX-512 forward passes read.

use super::config::LstmConfig;
use super::weights::LstmWeights;
use crate::SpinflipError;

/// The network's weights, re-laid out for the CPU.
#[derive(Debug, Clone)]
pub struct PackedLstm {
    pub(super) config: LstmConfig,
    /// Layer 0 parameter weights, transposed: `n_params` rows of `4h`.
    pub(super) w0_par_t: Vec<f32>,
    /// Layer 0 frequency column (`4h`).
    pub(super) w0_nu: Vec<f32>,
    /// Per layer, fused transposed weights: rows `[input (layers > 0); recurrent]` of `4h`.
    pub(super) w_t: Vec<Vec<f32>>,
    /// Per layer, the same matrix in blocks of [`ROW_BLOCK`] gate rows, each block
    /// contiguous (`rows` of its width), so one signal's matrix-vector product streams
    /// memory in order (the batch-1 kernels read each weight once per step, from L2).
    pub(super) w_blk: Vec<Vec<f32>>,
    /// Per layer gate biases (`4h`).
    pub(super) bias: Vec<Vec<f32>>,
    /// Head weights, `outputs_per_step` rows of `h`.
    pub(super) head_w: Vec<f32>,
    /// Head biases (`outputs_per_step`).
    pub(super) head_b: Vec<f32>,
    /// Normalised frequency of each step, in sequence order.
    pub(super) freqs: Vec<f32>,
}

/// Gate rows per block of [`PackedLstm::w_blk`].
pub(super) const ROW_BLOCK: usize = 64;

/// `m` (rows of `g` values) re-laid out in column blocks of [`ROW_BLOCK`] (the last block
/// may be narrower), each block stored row by row.
fn blocked(m: &[f32], g: usize) -> Vec<f32> {
    let rows = m.len() / g;
    let mut out = Vec::with_capacity(m.len());
    for jb in (0..g).step_by(ROW_BLOCK) {
        let width = ROW_BLOCK.min(g - jb);
        for k in 0..rows {
            out.extend_from_slice(&m[k * g + jb..k * g + jb + width]);
        }
    }
    out
}

impl PackedLstm {
    /// Layer 0's gate part that does not change along the sequence, `W_par p + b`
    /// (`4h` values) for one signal's normalised parameters `par`: what every batch-1
    /// kernel starts each step from.
    pub(super) fn layer0_constant(&self, par: &[f32]) -> Vec<f32> {
        let g4 = 4 * self.config.hidden;
        let mut c0 = self.bias[0].clone();
        for (k, &pk) in par.iter().enumerate() {
            for (cv, w) in c0.iter_mut().zip(&self.w0_par_t[k * g4..(k + 1) * g4]) {
                *cv = w.mul_add(pk, *cv);
            }
        }
        c0
    }

    /// Zeroed recurrent state of one signal: per layer `[h_below (layers > 0); h_own]`, and
    /// per layer the cell state.
    pub(super) fn zero_state(&self) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
        let h = self.config.hidden;
        let xh = (0..self.config.layers)
            .map(|l| vec![0.0; if l == 0 { h } else { 2 * h }])
            .collect();
        (xh, vec![vec![0.0; h]; self.config.layers])
    }

    /// Re-lay out `weights`; `freqs` are the normalised frequencies in sequence order
    /// (`n_steps` values, see [`super::Normalisation::frequency_inputs`]).
    pub fn new(weights: &LstmWeights, freqs: Vec<f32>) -> Result<Self, SpinflipError> {
        let c = weights.config;
        c.validate()?;
        let (h, p) = (c.hidden, c.n_params);
        if freqs.len() != c.n_steps {
            return Err(SpinflipError::config(
                "frequencies",
                format!("expected {} steps, got {}", c.n_steps, freqs.len()),
            ));
        }
        let bad = weights.layers.len() != c.layers
            || weights.head_w.len() != h * c.outputs_per_step
            || weights.head_b.len() != c.outputs_per_step
            || weights.layers.iter().enumerate().any(|(l, w)| {
                w.w_ih.len() != 4 * h * c.layer_inputs(l)
                    || w.w_hh.len() != 4 * h * h
                    || w.bias.len() != 4 * h
            });
        if bad {
            return Err(SpinflipError::config(
                "weights",
                "array sizes do not match the architecture",
            ));
        }
        let g = 4 * h;
        let l0 = &weights.layers[0];
        let mut w0_par_t = vec![0.0; p * g];
        let mut w0_nu = vec![0.0; g];
        for j in 0..g {
            for k in 0..p {
                w0_par_t[k * g + j] = l0.w_ih[j * (p + 1) + k];
            }
            w0_nu[j] = l0.w_ih[j * (p + 1) + p];
        }
        let mut w_t = Vec::new();
        for (l, w) in weights.layers.iter().enumerate() {
            let n_in = if l == 0 { 0 } else { h };
            let rows = n_in + h;
            let mut m = vec![0.0; rows * g];
            for j in 0..g {
                for k in 0..n_in {
                    m[k * g + j] = w.w_ih[j * h + k];
                }
                for k in 0..h {
                    m[(n_in + k) * g + j] = w.w_hh[j * h + k];
                }
            }
            w_t.push(m);
        }
        let w_blk = w_t.iter().map(|m| blocked(m, g)).collect();
        Ok(PackedLstm {
            config: c,
            w0_par_t,
            w0_nu,
            w_t,
            w_blk,
            bias: weights.layers.iter().map(|w| w.bias.clone()).collect(),
            head_w: weights.head_w.clone(),
            head_b: weights.head_b.clone(),
            freqs,
        })
    }
}
