//! The flat parameter layout: every trainable tensor of a [`CnnConfig`] at a fixed offset of
//! one `Vec<f32>`, and the batch-norm running statistics in a second, separate vector.
//!
//! Names and shapes are candle's (and PyTorch's), so weights move by name between the
//! candle network, the CPU path and the safetensors file:
//!
//! | name | shape | |
//! |---|---|---|
//! | `conv.{i}.weight` | `[filters, in_channels, kh, kw]` | block `i`'s kernel |
//! | `conv.{i}.bias` | `[filters]` | |
//! | `dense.{j}.weight` | `[out, in]` | `j = 0..dense.len()`: hidden layers; `j = dense.len()`: output layer |
//! | `dense.{j}.bias` | `[out]` | |
//! | `bn.{j}.weight`, `bn.{j}.bias` | `[units]` | batch norm after hidden layer `j` (gamma, beta) |
//!
//! in that order (block by block, then layer by layer, each layer's batch norm after its
//! bias). The running statistics `bn.{j}.running_mean` and `bn.{j}.running_var` (`[units]`)
//! are state, not parameters: they live in the [`ParamLayout::buffers`] vector, so an
//! optimiser over the flat parameters (weight decay included) never touches them.
//!
//! The flattened features are in channel-major order (`c`, then row, then column: candle's
//! `flatten_from(1)` of an NCHW tensor).

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::config::CnnConfig;
use crate::SpinflipError;

/// One tensor of the flat vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    /// Name (see the module docs).
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Offset of the first value.
    pub offset: usize,
    /// Number of values (product of `shape`).
    pub len: usize,
}

impl TensorSpec {
    /// The index range in the flat vector.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len
    }
}

/// Name -> offset/shape tables of the parameters and of the buffers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamLayout {
    /// Trainable tensors, in flat order.
    pub params: Vec<TensorSpec>,
    /// Total parameter count.
    pub n_params: usize,
    /// Batch-norm running statistics, in flat order.
    pub buffers: Vec<TensorSpec>,
    /// Total buffer count.
    pub n_buffers: usize,
}

/// Offsets of one convolution block's tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvOffsets {
    /// Kernel.
    pub weight: usize,
    /// Bias.
    pub bias: usize,
}

/// Offsets of one dense layer's tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DenseOffsets {
    /// Weight `[out, in]`.
    pub weight: usize,
    /// Bias.
    pub bias: usize,
    /// Batch norm `(gamma, beta)` in the parameters and `(running_mean, running_var)` in
    /// the buffers, if the layer has one.
    pub bn: Option<([usize; 2], [usize; 2])>,
}

fn push(list: &mut Vec<TensorSpec>, total: &mut usize, name: String, shape: Vec<usize>) -> usize {
    let len = shape.iter().product();
    let offset = *total;
    list.push(TensorSpec {
        name,
        shape,
        offset,
        len,
    });
    *total += len;
    offset
}

impl ParamLayout {
    /// The layout of `config` (validated).
    pub fn new(config: &CnnConfig) -> Result<Self, SpinflipError> {
        config.validate()?;
        let (l, _, _) = Self::build(config);
        Ok(l)
    }

    fn build(config: &CnnConfig) -> (Self, Vec<ConvOffsets>, Vec<DenseOffsets>) {
        let (mut params, mut n_params) = (Vec::new(), 0);
        let (mut buffers, mut n_buffers) = (Vec::new(), 0);
        let mut conv = Vec::new();
        for (i, s) in config.conv_shapes().iter().enumerate() {
            let weight = push(
                &mut params,
                &mut n_params,
                format!("conv.{i}.weight"),
                vec![s.f, s.c, s.kh, s.kw],
            );
            let bias = push(
                &mut params,
                &mut n_params,
                format!("conv.{i}.bias"),
                vec![s.f],
            );
            conv.push(ConvOffsets { weight, bias });
        }
        let mut dense = Vec::new();
        for j in 0..=config.dense.len() {
            let (i, o) = (config.dense_inputs(j), config.dense_outputs(j));
            let weight = push(
                &mut params,
                &mut n_params,
                format!("dense.{j}.weight"),
                vec![o, i],
            );
            let bias = push(
                &mut params,
                &mut n_params,
                format!("dense.{j}.bias"),
                vec![o],
            );
            let bn = config.dense.get(j).filter(|d| d.batch_norm).map(|_| {
                let g = push(
                    &mut params,
                    &mut n_params,
                    format!("bn.{j}.weight"),
                    vec![o],
                );
                let b = push(&mut params, &mut n_params, format!("bn.{j}.bias"), vec![o]);
                let m = push(
                    &mut buffers,
                    &mut n_buffers,
                    format!("bn.{j}.running_mean"),
                    vec![o],
                );
                let v = push(
                    &mut buffers,
                    &mut n_buffers,
                    format!("bn.{j}.running_var"),
                    vec![o],
                );
                ([g, b], [m, v])
            });
            dense.push(DenseOffsets { weight, bias, bn });
        }
        (
            ParamLayout {
                params,
                n_params,
                buffers,
                n_buffers,
            },
            conv,
            dense,
        )
    }

    /// Offsets per convolution block and per dense layer (output layer last).
    pub fn offsets(config: &CnnConfig) -> (Vec<ConvOffsets>, Vec<DenseOffsets>) {
        let (_, c, d) = Self::build(config);
        (c, d)
    }

    /// `(name, shape)` of every parameter tensor in flat order (the shape of
    /// `nn::Trainable::layout`).
    pub fn named_shapes(&self) -> Vec<(String, Vec<usize>)> {
        self.params
            .iter()
            .map(|t| (t.name.clone(), t.shape.clone()))
            .collect()
    }

    /// The parameter tensor called `name`.
    pub fn param(&self, name: &str) -> Option<&TensorSpec> {
        self.params.iter().find(|t| t.name == name)
    }

    /// The buffer tensor called `name`.
    pub fn buffer(&self, name: &str) -> Option<&TensorSpec> {
        self.buffers.iter().find(|t| t.name == name)
    }

    /// Reproducible initial parameters and buffers from `seed`: Glorot-uniform kernels
    /// (`U(+-sqrt(6 / (fan_in + fan_out)))`, Keras' default, which Gillet et al. used), zero
    /// biases, batch-norm gamma 1 and beta 0, running mean 0 and variance 1.
    pub fn init(&self, seed: u64) -> (Vec<f32>, Vec<f32>) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut p = vec![0.0f32; self.n_params];
        for t in &self.params {
            let v = &mut p[t.range()];
            if t.name.ends_with(".weight") && t.shape.len() >= 2 {
                let rf: usize = t.shape[2..].iter().product();
                let (fan_in, fan_out) = (t.shape[1] * rf, t.shape[0] * rf);
                let a = (6.0 / (fan_in + fan_out) as f64).sqrt() as f32;
                v.iter_mut().for_each(|x| *x = rng.random_range(-a..a));
            } else if t.name.starts_with("bn.") && t.name.ends_with(".weight") {
                v.iter_mut().for_each(|x| *x = 1.0);
            }
        }
        let mut b = vec![0.0f32; self.n_buffers];
        for t in &self.buffers {
            if t.name.ends_with("running_var") {
                b[t.range()].iter_mut().for_each(|x| *x = 1.0);
            }
        }
        (p, b)
    }

    /// Check lengths of a parameter vector, a gradient or buffer vector.
    pub fn check_params(&self, what: &str, v: &[f32]) -> Result<(), SpinflipError> {
        check_len(what, v.len(), self.n_params)
    }

    /// Check the length of a buffer vector.
    pub fn check_buffers(&self, what: &str, v: &[f32]) -> Result<(), SpinflipError> {
        check_len(what, v.len(), self.n_buffers)
    }
}

fn check_len(what: &str, got: usize, want: usize) -> Result<(), SpinflipError> {
    if got != want {
        return Err(SpinflipError::shape(
            what,
            format!("has {got} values, the architecture's layout needs {want}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gillet_layout() {
        let c = CnnConfig::gillet(32, 787);
        let l = ParamLayout::new(&c).unwrap();
        let names: Vec<&str> = l.params.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "conv.0.weight",
                "conv.0.bias",
                "conv.1.weight",
                "conv.1.bias",
                "dense.0.weight",
                "dense.0.bias",
                "bn.0.weight",
                "bn.0.bias",
                "dense.1.weight",
                "dense.1.bias",
                "dense.2.weight",
                "dense.2.bias",
                "dense.3.weight",
                "dense.3.bias"
            ]
        );
        assert_eq!(l.param("dense.0.weight").unwrap().shape, vec![64, 25088]);
        assert_eq!(l.param("dense.3.weight").unwrap().shape, vec![4, 8]);
        let n = 800 + 8 + 12800 + 16 + 25088 * 64 + 64 + 128 + 64 * 16 + 16 + 16 * 8 + 8 + 32 + 4;
        assert_eq!(l.n_params, n);
        assert_eq!(l.n_buffers, 128);
        let last = l.params.last().unwrap();
        assert_eq!(last.offset + last.len, l.n_params);
        let (p, b) = l.init(3);
        assert_eq!(p, l.init(3).0);
        assert_ne!(p, l.init(4).0);
        assert_eq!(&b[64..128], &[1.0; 64][..]);
        assert_eq!(p[l.param("bn.0.weight").unwrap().range()], [1.0; 64][..]);
    }
}
