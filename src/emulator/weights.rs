//! The LSTM's weights as plain `f32` arrays: shared by the candle network, the fast CPU
//! path and the model files.
//!
//! Gate order along the `4 * hidden` rows is `[input, forget, output, cell]`: the three
//! sigmoid gates first, then the tanh candidate, so activations run over two contiguous
//! blocks.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::config::LstmConfig;

/// Weights of one LSTM layer (row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct LayerWeights {
    /// Input weights, `4 * hidden` rows of `layer_inputs(l)` values.
    pub w_ih: Vec<f32>,
    /// Recurrent weights, `4 * hidden` rows of `hidden` values.
    pub w_hh: Vec<f32>,
    /// Gate biases, `4 * hidden` values.
    pub bias: Vec<f32>,
}

/// All weights of the network.
#[derive(Debug, Clone, PartialEq)]
pub struct LstmWeights {
    /// Architecture.
    pub config: LstmConfig,
    /// One entry per LSTM layer, input side first.
    pub layers: Vec<LayerWeights>,
    /// Dense head weights, `outputs_per_step` rows of `hidden` values.
    pub head_w: Vec<f32>,
    /// Dense head biases (`outputs_per_step` values).
    pub head_b: Vec<f32>,
}

/// Safetensors names of layer `l`'s tensors: input weights, recurrent weights, bias.
pub fn layer_names(l: usize) -> [String; 3] {
    [
        format!("lstm.{l}.w_ih"),
        format!("lstm.{l}.w_hh"),
        format!("lstm.{l}.bias"),
    ]
}

/// Safetensors name of the head's weights (shape `[outputs_per_step, hidden]`).
pub const HEAD_W: &str = "head.weight";
/// Safetensors name of the head's bias (shape `[outputs_per_step]`).
pub const HEAD_B: &str = "head.bias";

impl LstmWeights {
    /// Random initialisation, reproducible from `seed`: uniform in +-1/sqrt(hidden) (as
    /// PyTorch) with forget-gate biases at 1 (Jozefowicz et al. 2015; Keras'
    /// `unit_forget_bias`).
    pub fn random(config: LstmConfig, seed: u64) -> Self {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let h = config.hidden;
        let a = 1.0 / (h as f32).sqrt();
        let mut draw = |n: usize| -> Vec<f32> { (0..n).map(|_| rng.random_range(-a..a)).collect() };
        let mut layers = Vec::with_capacity(config.layers);
        for l in 0..config.layers {
            let w_ih = draw(4 * h * config.layer_inputs(l));
            let w_hh = draw(4 * h * h);
            let mut bias = vec![0.0; 4 * h];
            bias[h..2 * h].iter_mut().for_each(|b| *b = 1.0);
            layers.push(LayerWeights { w_ih, w_hh, bias });
        }
        let k = config.outputs_per_step;
        let head_w = draw(k * h);
        LstmWeights {
            config,
            layers,
            head_w,
            head_b: vec![0.0; k],
        }
    }

    /// `(name, shape, values)` of every tensor, in a fixed order.
    pub fn tensors(&self) -> Vec<(String, Vec<usize>, &[f32])> {
        let h = self.config.hidden;
        let mut v = Vec::new();
        for (l, w) in self.layers.iter().enumerate() {
            let [a, b, c] = layer_names(l);
            v.push((
                a,
                vec![4 * h, self.config.layer_inputs(l)],
                w.w_ih.as_slice(),
            ));
            v.push((b, vec![4 * h, h], w.w_hh.as_slice()));
            v.push((c, vec![4 * h], w.bias.as_slice()));
        }
        let k = self.config.outputs_per_step;
        v.push((HEAD_W.into(), vec![k, h], self.head_w.as_slice()));
        v.push((HEAD_B.into(), vec![k], self.head_b.as_slice()));
        v
    }

    /// The expected `(name, shape)` of every tensor of `config`.
    pub fn expected_shapes(config: &LstmConfig) -> Vec<(String, Vec<usize>)> {
        let h = config.hidden;
        let mut v = Vec::new();
        for l in 0..config.layers {
            let [a, b, c] = layer_names(l);
            v.push((a, vec![4 * h, config.layer_inputs(l)]));
            v.push((b, vec![4 * h, h]));
            v.push((c, vec![4 * h]));
        }
        let k = config.outputs_per_step;
        v.push((HEAD_W.into(), vec![k, h]));
        v.push((HEAD_B.into(), vec![k]));
        v
    }

    /// Build from named arrays (shapes already checked against [`Self::expected_shapes`]).
    pub fn from_named(config: LstmConfig, mut get: impl FnMut(&str) -> Vec<f32>) -> Self {
        let layers = (0..config.layers)
            .map(|l| {
                let [a, b, c] = layer_names(l);
                LayerWeights {
                    w_ih: get(&a),
                    w_hh: get(&b),
                    bias: get(&c),
                }
            })
            .collect();
        let head_w = get(HEAD_W);
        let head_b = get(HEAD_B);
        LstmWeights {
            config,
            layers,
            head_w,
            head_b,
        }
    }
}
