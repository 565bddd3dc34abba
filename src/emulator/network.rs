//! The stacked LSTM in candle, used for training (autograd) and as the reference for the
//! fast CPU path.
//!
//! candle's stepwise `rnn::LSTM` costs many small ops per step; this cell does one fused
//! matmul per step (all four gates at once) and hoists the parameter part of layer 0's input
//! projection out of the time loop, since the parameters are the same at every step.

use candle_core::{DType, Device, Tensor, Var};

use super::config::LstmConfig;
use super::weights::{LayerWeights, LstmWeights};
use crate::SpinflipError;

/// Trainable weights of one layer.
#[derive(Debug, Clone)]
struct Layer {
    w_ih: Var,
    w_hh: Var,
    bias: Var,
}

/// The network with trainable [`Var`]s.
#[derive(Debug, Clone)]
pub struct LstmNetwork {
    config: LstmConfig,
    layers: Vec<Layer>,
    head_w: Var,
    head_b: Var,
    device: Device,
}

impl LstmNetwork {
    /// Put `weights` on `device` as trainable variables.
    pub fn from_weights(weights: &LstmWeights, device: &Device) -> Result<Self, SpinflipError> {
        let c = weights.config;
        c.validate()?;
        let h = c.hidden;
        let var = |v: &[f32], shape: &[usize]| -> Result<Var, SpinflipError> {
            Ok(Var::from_tensor(&Tensor::from_slice(v, shape, device)?)?)
        };
        let layers = weights
            .layers
            .iter()
            .enumerate()
            .map(|(l, w)| {
                Ok(Layer {
                    w_ih: var(&w.w_ih, &[4 * h, c.layer_inputs(l)])?,
                    w_hh: var(&w.w_hh, &[4 * h, h])?,
                    bias: var(&w.bias, &[4 * h])?,
                })
            })
            .collect::<Result<Vec<_>, SpinflipError>>()?;
        Ok(LstmNetwork {
            config: c,
            layers,
            head_w: var(&weights.head_w, &[c.outputs_per_step, h])?,
            head_b: var(&weights.head_b, &[c.outputs_per_step])?,
            device: device.clone(),
        })
    }

    /// Architecture.
    pub fn config(&self) -> &LstmConfig {
        &self.config
    }

    /// Device the weights live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// All trainable variables, in [`LstmWeights::tensors`] order.
    pub fn vars(&self) -> Vec<Var> {
        let mut v = Vec::new();
        for l in &self.layers {
            v.extend([l.w_ih.clone(), l.w_hh.clone(), l.bias.clone()]);
        }
        v.push(self.head_w.clone());
        v.push(self.head_b.clone());
        v
    }

    /// Copy the weights back to the CPU.
    pub fn weights(&self) -> Result<LstmWeights, SpinflipError> {
        let flat = |v: &Var| -> Result<Vec<f32>, SpinflipError> {
            Ok(v.as_tensor()
                .to_dtype(DType::F32)?
                .flatten_all()?
                .to_vec1::<f32>()?)
        };
        let layers = self
            .layers
            .iter()
            .map(|l| {
                Ok(LayerWeights {
                    w_ih: flat(&l.w_ih)?,
                    w_hh: flat(&l.w_hh)?,
                    bias: flat(&l.bias)?,
                })
            })
            .collect::<Result<Vec<_>, SpinflipError>>()?;
        Ok(LstmWeights {
            config: self.config,
            layers,
            head_w: flat(&self.head_w)?,
            head_b: flat(&self.head_b)?,
        })
    }

    /// Overwrite the weights with `weights` (same architecture).
    pub fn set_weights(&self, weights: &LstmWeights) -> Result<(), SpinflipError> {
        if weights.config != self.config {
            return Err(SpinflipError::config(
                "weights",
                "architecture differs from the network's",
            ));
        }
        let vars = self.vars();
        for (var, (_, shape, values)) in vars.iter().zip(weights.tensors()) {
            var.set(&Tensor::from_slice(values, shape, &self.device)?)?;
        }
        Ok(())
    }

    /// Normalised signal sequences `(batch, n_outputs)` from normalised parameters
    /// `(batch, n_params)` and normalised step frequencies `(n_steps)` in sequence order.
    pub fn forward(&self, params: &Tensor, freqs: &Tensor) -> Result<Tensor, SpinflipError> {
        let c = &self.config;
        let (b, p) = params.dims2()?;
        let t = freqs.dims1()?;
        if p != c.n_params || t != c.n_steps {
            return Err(SpinflipError::config(
                "network input",
                format!(
                    "expected (batch, {}) parameters and {} frequencies, got (batch, {p}) and {t}",
                    c.n_params, c.n_steps
                ),
            ));
        }
        let h = c.hidden;
        // Layer 0 input projection: parameters once per signal plus frequency per step,
        // laid out (step, batch, 4h) so each step is a contiguous slice.
        let l0 = &self.layers[0];
        let w_par = l0.w_ih.narrow(1, 0, p)?; // (4h, p)
        let w_nu = l0.w_ih.narrow(1, p, 1)?.squeeze(1)?; // (4h)
        let from_par = params
            .matmul(&w_par.t()?)?
            .broadcast_add(l0.bias.as_tensor())?; // (b, 4h)
        let from_nu = freqs.unsqueeze(1)?.broadcast_mul(&w_nu.unsqueeze(0)?)?; // (t, 4h)
        let mut xproj = from_nu
            .unsqueeze(1)?
            .broadcast_add(&from_par.unsqueeze(0)?)?
            .contiguous()?; // (t, b, 4h)
        let mut outputs = Vec::new();
        for (li, layer) in self.layers.iter().enumerate() {
            if li > 0 {
                // (t, b, h) x (h, 4h): one matmul over the whole sequence.
                let prev = &outputs; // hidden states of the layer below
                let hs = Tensor::stack(prev, 0)?; // (t, b, h)
                xproj = hs
                    .reshape((t * b, h))?
                    .matmul(&layer.w_ih.t()?)?
                    .broadcast_add(layer.bias.as_tensor())?
                    .reshape((t, b, 4 * h))?;
            }
            let w_hh_t = layer.w_hh.t()?;
            let mut hstate = Tensor::zeros((b, h), DType::F32, &self.device)?;
            let mut cstate = Tensor::zeros((b, h), DType::F32, &self.device)?;
            let mut hs = Vec::with_capacity(t);
            for step in 0..t {
                let gates = (xproj.get(step)? + hstate.matmul(&w_hh_t)?)?; // (b, 4h)
                let sig = candle_nn::ops::sigmoid(&gates.narrow(1, 0, 3 * h)?)?;
                let cand = gates.narrow(1, 3 * h, h)?.tanh()?;
                let i = sig.narrow(1, 0, h)?;
                let f = sig.narrow(1, h, h)?;
                let o = sig.narrow(1, 2 * h, h)?;
                cstate = ((f * &cstate)? + (i * cand)?)?;
                hstate = (o * cstate.tanh()?)?;
                hs.push(hstate.clone());
            }
            outputs = hs;
        }
        let hs = Tensor::stack(&outputs, 1)?; // (b, t, h)
        let y = hs
            .reshape((b * t, h))?
            .matmul(&self.head_w.t()?)?
            .broadcast_add(self.head_b.as_tensor())?; // (b t, k)
        Ok(y.reshape((b, t * c.outputs_per_step))?)
    }

    /// Mean squared error of the forward pass against normalised targets `(batch, n_outputs)`.
    pub fn mse(
        &self,
        params: &Tensor,
        freqs: &Tensor,
        targets: &Tensor,
    ) -> Result<Tensor, SpinflipError> {
        let y = self.forward(params, freqs)?;
        Ok((y - targets)?.sqr()?.mean_all()?)
    }

    /// Mean over signals and steps of `weights[i] * (y - target)^2`, `weights` `(batch)`.
    pub fn weighted_mse(
        &self,
        params: &Tensor,
        freqs: &Tensor,
        targets: &Tensor,
        weights: &Tensor,
    ) -> Result<Tensor, SpinflipError> {
        let y = self.forward(params, freqs)?;
        Ok((y - targets)?
            .sqr()?
            .broadcast_mul(&weights.unsqueeze(1)?)?
            .mean_all()?)
    }
}
