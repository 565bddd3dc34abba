//! The map CNN in candle: the reference for the CPU path of [`super::cpu`] and the GPU path
//! (any candle [`Device`]; CUDA through the crate's `cuda` feature).
//!
//! Weights live in a [`VarMap`] under the names of [`super::layout`], so they move to and
//! from the flat CPU layout and the safetensors file by name.
//!
//! Two layers deliberately avoid candle-nn's versions:
//! - **max-pooling** is a reshape and two `max` reductions: candle 0.11's `max_pool2d`
//!   backward multiplies a unique maximum's gradient by `1 / k^2` (it scales by the
//!   window's mean of the arg-max mask instead of dividing by the number of maxima) and,
//!   when a size is not a multiple of `k`, maps the gradient back by nearest-neighbour
//!   upsampling over the whole size, which shifts it off the pooling windows
//!   (`tests/cnn_kernels.rs` shows both);
//! - **dropout** multiplies by the seeded mask of [`super::kernels::dropout::mask`]:
//!   candle-nn's `Dropout` draws from the device's unseeded generator, so neither a run
//!   nor a comparison with the CPU path could be reproduced.

use std::sync::atomic::{AtomicU64, Ordering};

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{
    BatchNorm, BatchNormConfig, Conv2d, Conv2dConfig, Linear, Module, ModuleT, VarBuilder, VarMap,
};

use super::config::{CnnConfig, ConvShape};
use super::kernels::dropout;
use super::layout::ParamLayout;
use crate::SpinflipError;

/// Training or evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Batch statistics (updating the running ones) and dropout with the mask of `seed`.
    Train {
        /// Dropout seed (see [`super::kernels::dropout::mask`]).
        seed: u64,
    },
    /// Running statistics, no dropout.
    Eval,
}

/// The candle network.
pub struct CnnNetwork {
    config: CnnConfig,
    layout: ParamLayout,
    shapes: Vec<ConvShape>,
    varmap: VarMap,
    convs: Vec<Conv2d>,
    dense: Vec<Linear>,
    bns: Vec<Option<BatchNorm>>,
    device: Device,
    /// Seeds for [`ModuleT::forward_t`], which has no seed argument.
    next_seed: AtomicU64,
}

/// Max-pooling by `p` (floor) as reshape + max, whose gradient candle computes correctly.
pub fn max_pool(x: &Tensor, p: usize) -> candle_core::Result<Tensor> {
    if p == 1 {
        return Ok(x.clone());
    }
    let (n, c, h, w) = x.dims4()?;
    let (hp, wp) = (h / p, w / p);
    x.narrow(2, 0, hp * p)?
        .narrow(3, 0, wp * p)?
        .contiguous()?
        .reshape((n, c, hp, p, wp, p))?
        .max(5)?
        .max(3)
}

impl std::fmt::Debug for CnnNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CnnNetwork")
            .field("config", &self.config)
            .field("device", &self.device)
            .finish()
    }
}

impl CnnNetwork {
    /// The network for `config` on `device` with the flat `params` and `buffers` of
    /// [`ParamLayout`] (e.g. from [`ParamLayout::init`] or a trained [`super::CpuCnn`]).
    pub fn from_flat(
        config: &CnnConfig,
        params: &[f32],
        buffers: &[f32],
        device: &Device,
    ) -> Result<Self, SpinflipError> {
        let layout = ParamLayout::new(config)?;
        layout.check_params("params", params)?;
        layout.check_buffers("buffers", buffers)?;
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, device);
        let shapes = config.conv_shapes();
        let zero = candle_nn::Init::Const(0.0);
        let mut convs = Vec::new();
        for (i, s) in shapes.iter().enumerate() {
            let v = vb.pp(format!("conv.{i}"));
            let w = v.get_with_hints((s.f, s.c, s.kh, s.kw), "weight", zero)?;
            let b = v.get_with_hints(s.f, "bias", zero)?;
            convs.push(Conv2d::new(w, Some(b), Conv2dConfig::default()));
        }
        let mut dense = Vec::new();
        let mut bns = Vec::new();
        for j in 0..=config.dense.len() {
            let (ni, no) = (config.dense_inputs(j), config.dense_outputs(j));
            let v = vb.pp(format!("dense.{j}"));
            let w = v.get_with_hints((no, ni), "weight", zero)?;
            let b = v.get_with_hints(no, "bias", zero)?;
            dense.push(Linear::new(w, Some(b)));
            let bn = match config.dense.get(j) {
                Some(d) if d.batch_norm => {
                    let c = BatchNormConfig {
                        eps: config.bn_eps,
                        remove_mean: true,
                        affine: true,
                        momentum: config.bn_momentum,
                    };
                    Some(candle_nn::batch_norm(no, c, vb.pp(format!("bn.{j}")))?)
                }
                _ => None,
            };
            bns.push(bn);
        }
        let net = CnnNetwork {
            config: config.clone(),
            layout,
            shapes,
            varmap,
            convs,
            dense,
            bns,
            device: device.clone(),
            next_seed: AtomicU64::new(0),
        };
        net.set_flat(params, buffers)?;
        Ok(net)
    }

    /// Architecture.
    pub fn config(&self) -> &CnnConfig {
        &self.config
    }

    /// Device the weights live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The variables (parameters and running statistics) by name.
    pub fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    fn var(&self, name: &str) -> Result<Var, SpinflipError> {
        let data = self
            .varmap
            .data()
            .lock()
            .map_err(|_| SpinflipError::config("network", "variable map lock poisoned"))?;
        data.get(name)
            .cloned()
            .ok_or_else(|| SpinflipError::config("network", format!("no variable '{name}'")))
    }

    /// Trainable variables in flat-layout order (for an optimiser or gradients by name).
    pub fn trainable_vars(&self) -> Result<Vec<(String, Var)>, SpinflipError> {
        self.layout
            .params
            .iter()
            .map(|t| Ok((t.name.clone(), self.var(&t.name)?)))
            .collect()
    }

    /// Overwrite every variable from flat parameters and buffers.
    pub fn set_flat(&self, params: &[f32], buffers: &[f32]) -> Result<(), SpinflipError> {
        self.layout.check_params("params", params)?;
        self.layout.check_buffers("buffers", buffers)?;
        let all = self
            .layout
            .params
            .iter()
            .map(|t| (t, params))
            .chain(self.layout.buffers.iter().map(|t| (t, buffers)));
        for (t, src) in all {
            let v = Tensor::from_slice(&src[t.range()], t.shape.as_slice(), &self.device)?;
            self.var(&t.name)?.set(&v)?;
        }
        Ok(())
    }

    /// The weights as flat `(params, buffers)`.
    pub fn to_flat(&self) -> Result<(Vec<f32>, Vec<f32>), SpinflipError> {
        let mut p = vec![0.0f32; self.layout.n_params];
        let mut b = vec![0.0f32; self.layout.n_buffers];
        let all = self
            .layout
            .params
            .iter()
            .map(|t| (t, true))
            .chain(self.layout.buffers.iter().map(|t| (t, false)));
        for (t, is_param) in all {
            let v = self
                .var(&t.name)?
                .as_tensor()
                .to_dtype(DType::F32)?
                .flatten_all()?
                .to_vec1::<f32>()?;
            let dst = if is_param { &mut p } else { &mut b };
            dst[t.range()].copy_from_slice(&v);
        }
        Ok((p, b))
    }

    /// Outputs `(n, n_outputs)` for slices `(n, height, width)` or `(n, 1, height, width)`.
    pub fn forward_mode(&self, x: &Tensor, mode: Mode) -> Result<Tensor, SpinflipError> {
        let c = &self.config;
        let n = x.dim(0)?;
        let px = x.elem_count() / n.max(1);
        if n == 0 || px != c.height * c.width || !(x.rank() == 3 || x.rank() == 4) {
            return Err(SpinflipError::shape(
                "network input",
                format!(
                    "expected (n, {}, {}) slices, got shape {:?}",
                    c.height,
                    c.width,
                    x.dims()
                ),
            ));
        }
        let train = matches!(mode, Mode::Train { .. });
        let mut h = x.reshape((n, 1, c.height, c.width))?;
        for (s, conv) in self.shapes.iter().zip(&self.convs) {
            let padded = h
                .pad_with_zeros(2, s.pad_top, s.pad_bottom)?
                .pad_with_zeros(3, s.pad_left, s.pad_right)?;
            h = max_pool(&conv.forward(&padded)?.relu()?, s.pool)?;
        }
        let mut h = h.flatten_from(1)?;
        if let (Mode::Train { seed }, true) = (mode, c.dropout > 0.0) {
            let d = h.dim(1)?;
            let mut m = vec![0.0f32; n * d];
            for (i, mi) in m.chunks_mut(d).enumerate() {
                dropout::mask(seed, i as u64, c.dropout, mi);
            }
            h = h.mul(&Tensor::from_vec(m, (n, d), &self.device)?)?;
        }
        let nd = c.dense.len();
        for j in 0..nd {
            h = self.dense[j].forward(&h)?.relu()?;
            if let Some(bn) = &self.bns[j] {
                h = bn.forward_t(&h, train)?;
            }
        }
        Ok(self.dense[nd].forward(&h)?)
    }

    /// Mean squared error against `targets` `(n, n_outputs)`.
    pub fn mse(&self, x: &Tensor, targets: &Tensor, mode: Mode) -> Result<Tensor, SpinflipError> {
        let y = self.forward_mode(x, mode)?;
        Ok((y - targets)?.sqr()?.mean_all()?)
    }
}

impl ModuleT for CnnNetwork {
    /// Training mode draws a new dropout seed from an internal counter (0, 1, 2, ...); use
    /// [`CnnNetwork::forward_mode`] to choose it.
    fn forward_t(&self, xs: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        let mode = if train {
            Mode::Train {
                seed: self.next_seed.fetch_add(1, Ordering::Relaxed),
            }
        } else {
            Mode::Eval
        };
        self.forward_mode(xs, mode).map_err(|e| match e {
            SpinflipError::Candle(e) => e,
            other => candle_core::Error::Msg(other.to_string()),
        })
    }
}
