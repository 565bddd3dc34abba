//! [`CpuCnn`]: the hand-written CPU training and inference path of the map CNN, on the flat
//! parameter layout of [`super::layout`].
//!
//! - Convolution blocks run per slice, slices in parallel (rayon) in fixed chunks of
//!   [`CHUNK`]; each chunk sums its slices' convolution gradients and the chunks are added
//!   in order, so the gradient does not depend on the number of threads.
//! - The dense head runs over the whole batch (batch norm needs the batch statistics); the
//!   first dense layer (25,088 x 64 for Gillet's network on 32 x 787 slices) is split into
//!   fixed row blocks across threads, the small layers run on one thread.
//! - Convolutions run through the direct kernels of [`super::kernels::corr`]. Backward,
//!   after max-pooling at most one output gradient per window is nonzero (none where the
//!   ReLU is off), so the weight gradients of pooled blocks are computed point by point
//!   from the arg-max positions: a quarter of the dense multiply-adds or less.
//! - Every buffer is kept between calls and grows only when a larger batch arrives.
//! - Forward activations kept for the backward pass are the pooled outputs and the arg-max
//!   positions (one byte per pooled value), not the convolution outputs: ~0.5 MB per
//!   32 x 787 slice for Gillet's network.

use std::sync::Mutex;

use rayon::prelude::*;

use super::config::{CnnConfig, ConvShape};
use super::kernels::batchnorm::{self, BnCache};
use super::kernels::corr::{self, Corr};
use super::kernels::dense::{matmul, mse, MatRef};
use super::kernels::dropout;
use super::kernels::pool::{self, Planes};
use super::layout::{ConvOffsets, DenseOffsets, ParamLayout};
use crate::SpinflipError;

/// Slices per parallel work item (fixed, so the summation order is fixed).
pub const CHUNK: usize = 4;
/// Rows of the first dense layer's weight gradient per work item.
const DENSE_ROWS: usize = 16;

fn r16(x: usize) -> usize {
    x.div_ceil(16) * 16
}

/// Buffer geometry of one convolution block.
#[derive(Debug, Clone)]
struct Geo {
    s: ConvShape,
    /// Filters rounded up to 8 (the forward kernel's channel block).
    fp: usize,
    /// Input channels rounded up to 8 (the input-gradient kernel's channel block).
    cp: usize,
    /// Forward: zero-padded input -> convolution output (`fp` planes of `ho x r16(wo)`).
    fwd: Corr,
    /// Padded input length.
    in_len: usize,
    /// Convolution output length.
    conv_len: usize,
    /// Output gradient, zero-padded for the input-gradient correlation: rows and columns
    /// of the data start at `(g_top, g_left)`.
    g_top: usize,
    g_left: usize,
    g_rs: usize,
    g_ps: usize,
    g_len: usize,
    /// Input gradient: padded output gradient -> `cp` planes of `h x r16(w)`.
    bwd: Corr,
    gin_len: usize,
    /// Weight gradient: padded input x output gradient.
    wg: Corr,
}

impl Geo {
    fn new(s: ConvShape) -> Self {
        let fp = s.f.div_ceil(8) * 8;
        let cp = s.c.div_ceil(8) * 8;
        let owp = r16(s.wo);
        let in_rs = owp + s.kw - 1;
        let in_ps = (s.ho + s.kh - 1) * in_rs;
        let fwd = Corr {
            c: s.c,
            f: fp,
            kh: s.kh,
            kw: s.kw,
            oh: s.ho,
            ow: owp,
            in_rs,
            in_ps,
            out_rs: owp,
            out_ps: s.ho * owp,
            rows: (s.pad_top, s.pad_top + s.h),
        };
        let wip = r16(s.w);
        let (g_top, g_left) = (s.kh - 1 - s.pad_top, s.kw - 1 - s.pad_left);
        let g_rs = (wip + s.kw - 1).max(g_left + owp);
        let g_ps = (s.h + s.kh - 1) * g_rs;
        let bwd = Corr {
            c: s.f,
            f: cp,
            kh: s.kh,
            kw: s.kw,
            oh: s.h,
            ow: wip,
            in_rs: g_rs,
            in_ps: g_ps,
            out_rs: wip,
            out_ps: s.h * wip,
            rows: (g_top, g_top + s.ho),
        };
        let wg = Corr {
            c: s.c,
            f: s.f,
            kh: s.kh,
            kw: s.kw,
            oh: s.ho,
            ow: owp,
            in_rs,
            in_ps,
            out_rs: g_rs,
            out_ps: g_ps,
            rows: (0, s.ho + s.kh - 1),
        };
        Geo {
            s,
            fp,
            cp,
            fwd,
            in_len: s.c * in_ps,
            conv_len: fp * s.ho * owp,
            g_top,
            g_left,
            g_rs,
            g_ps,
            g_len: s.f * g_ps,
            bwd,
            gin_len: cp * s.h * wip,
            wg,
        }
    }

    /// Copy a compact `c x h x w` input into the padded buffer (its border stays zero).
    fn fill_padded(&self, src: &[f32], pad: &mut [f32]) {
        let s = &self.s;
        for c in 0..s.c {
            for y in 0..s.h {
                let d = c * self.fwd.in_ps + (s.pad_top + y) * self.fwd.in_rs + s.pad_left;
                pad[d..d + s.w].copy_from_slice(&src[(c * s.h + y) * s.w..][..s.w]);
            }
        }
    }

    /// Offset of the output gradient's data inside the padded gradient buffer.
    fn g_off(&self) -> usize {
        self.g_top * self.g_rs + self.g_left
    }
}

/// Per-thread working memory of the convolution blocks (one per worker, reused).
struct Scratch {
    pad: Vec<Vec<f32>>,
    gpad: Vec<Vec<f32>>,
    conv: Vec<f32>,
    gcur: Vec<f32>,
    gnext: Vec<f32>,
    points: Vec<(u32, f32)>,
}

impl Scratch {
    fn new(geo: &[Geo]) -> Self {
        let gmax = geo.iter().map(|g| g.gin_len).max().unwrap_or(0);
        let flat = geo.last().map_or(0, |g| g.s.out_len());
        Scratch {
            // 16 values of slack: the sparse weight gradient reads whole vectors per row.
            pad: geo.iter().map(|g| vec![0.0; g.in_len + 16]).collect(),
            gpad: geo.iter().map(|g| vec![0.0; g.g_len]).collect(),
            conv: vec![0.0; geo.iter().map(|g| g.conv_len).max().unwrap_or(0)],
            gcur: vec![0.0; gmax.max(flat)],
            gnext: vec![0.0; gmax.max(flat)],
            points: Vec::new(),
        }
    }
}

/// Weights re-laid out for the kernels (rebuilt each call from the flat parameters: cheap).
#[derive(Default)]
struct Prep {
    wpk: Vec<Vec<f32>>,
    bias: Vec<Vec<f32>>,
    wflip: Vec<Vec<f32>>,
    tmp: Vec<f32>,
    zeros: Vec<f32>,
}

/// Batch-sized state, grown on demand.
#[derive(Default)]
struct State {
    cap: usize,
    /// Per block: pooled outputs `n x f x hp x wp` (the last one is the flattened features).
    pooled: Vec<Vec<f32>>,
    /// Per block: arg-max positions.
    idx: Vec<Vec<u8>>,
    /// Dropout mask `n x flat`.
    mask: Vec<f32>,
    /// Per dense layer: pre-activations `n x out`.
    z: Vec<Vec<f32>>,
    /// Per hidden layer: post-ReLU values (batch-norm input).
    h: Vec<Vec<f32>>,
    /// Per hidden layer: the layer's output (after batch norm if any).
    a: Vec<Vec<f32>>,
    bn: Vec<BnCache>,
    /// Gradients with respect to a dense layer's pre-activations and inputs.
    dz: Vec<f32>,
    da: Vec<f32>,
    /// Gradient with respect to the flattened features `n x flat`.
    dx: Vec<f32>,
    /// Per chunk: summed convolution gradients (the `conv.*` prefix of the layout).
    chunk_grads: Vec<Vec<f32>>,
    /// Whether the last forward pass applied dropout.
    dropped: bool,
}

/// Training and inference of the map CNN on the CPU, parameters in one flat `f32` vector.
///
/// ```
/// use spinflip::cnn::{CnnConfig, CpuCnn};
///
/// // Gillet et al.'s network on small 16 x 64 slices (the project's are 32 x 787).
/// let config = CnnConfig::gillet(16, 64);
/// let mut net = CpuCnn::new(&config)?;
/// let mut params = net.init(0); // Glorot weights; running statistics reset
/// let mut grad = vec![0.0; params.len()];
/// let (n, pixels) = (8, 16 * 64);
/// let batch = vec![0.1f32; n * pixels]; // n slices, row-major
/// let targets = vec![0.5f32; n * 4]; // normalised parameters
/// for step in 0..3u64 {
///     let loss = net.forward_backward(&params, &batch, &targets, step, &mut grad)?;
///     // Any optimiser over `&mut [f32]`; plain SGD here.
///     params.iter_mut().zip(&grad).for_each(|(p, g)| *p -= 1e-3 * g);
///     println!("step {step}: loss {loss}");
/// }
/// let mut out = vec![0.0f32; n * 4];
/// net.predict(&params, &batch, &mut out)?; // eval mode: running statistics, no dropout
/// # Ok::<(), spinflip::SpinflipError>(())
/// ```
pub struct CpuCnn {
    config: CnnConfig,
    layout: ParamLayout,
    conv_off: Vec<ConvOffsets>,
    dense_off: Vec<DenseOffsets>,
    geo: Vec<Geo>,
    buffers: Vec<f32>,
    pool: Option<rayon::ThreadPool>,
    prep: Prep,
    st: State,
    scratch: Mutex<Vec<Scratch>>,
}

impl std::fmt::Debug for CpuCnn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuCnn")
            .field("config", &self.config)
            .field("n_params", &self.layout.n_params)
            .field("threads", &self.threads())
            .finish()
    }
}

impl CpuCnn {
    /// A network for `config` (validated), with running statistics at their initial values
    /// (mean 0, variance 1). Runs on rayon's global pool until [`Self::with_threads`].
    pub fn new(config: &CnnConfig) -> Result<Self, SpinflipError> {
        let layout = ParamLayout::new(config)?;
        let (conv_off, dense_off) = ParamLayout::offsets(config);
        let geo: Vec<Geo> = config.conv_shapes().into_iter().map(Geo::new).collect();
        let buffers = layout.init(0).1;
        Ok(CpuCnn {
            config: config.clone(),
            layout,
            conv_off,
            dense_off,
            geo,
            buffers,
            pool: None,
            prep: Prep::default(),
            st: State::default(),
            scratch: Mutex::new(Vec::new()),
        })
    }

    /// Run on a private pool of `threads` threads (1 = single-threaded).
    pub fn with_threads(mut self, threads: usize) -> Result<Self, SpinflipError> {
        if threads == 0 {
            return Err(SpinflipError::config("threads", "must be at least 1"));
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| SpinflipError::config("threads", format!("cannot start a pool: {e}")))?;
        self.pool = Some(pool);
        Ok(self)
    }

    /// Threads the network runs on.
    pub fn threads(&self) -> usize {
        self.pool
            .as_ref()
            .map_or_else(rayon::current_num_threads, |p| p.current_num_threads())
    }

    /// Architecture.
    pub fn config(&self) -> &CnnConfig {
        &self.config
    }

    /// The name -> offset/shape tables of the parameters and buffers.
    pub fn layout(&self) -> &ParamLayout {
        &self.layout
    }

    /// Batch-norm running statistics (layout: [`ParamLayout::buffers`]).
    pub fn buffers(&self) -> &[f32] {
        &self.buffers
    }

    /// Replace the running statistics (e.g. from a model file or checkpoint).
    pub fn set_buffers(&mut self, buffers: &[f32]) -> Result<(), SpinflipError> {
        self.layout.check_buffers("buffers", buffers)?;
        self.buffers.copy_from_slice(buffers);
        Ok(())
    }

    /// Fresh parameters from `seed` (see [`ParamLayout::init`]); resets the running
    /// statistics.
    pub fn init(&mut self, seed: u64) -> Vec<f32> {
        let (p, b) = self.layout.init(seed);
        self.buffers = b;
        p
    }

    /// Training step: mean squared error of the network in training mode (batch
    /// statistics, dropout mask from `seed` and each slice's index in the batch) on
    /// `batch` (`n x height x width`, row-major) against `targets` (`n x n_outputs`); writes
    /// d loss / d params into `grad` (same layout as `params`, overwritten) and updates the
    /// running statistics. Returns the loss. Vary `seed` between steps.
    pub fn forward_backward(
        &mut self,
        params: &[f32],
        batch: &[f32],
        targets: &[f32],
        seed: u64,
        grad: &mut [f32],
    ) -> Result<f32, SpinflipError> {
        let n = self.check_io(params, batch, targets.len(), "targets")?;
        self.layout.check_params("gradient buffer", grad)?;
        if n < 2 && self.config.has_batch_norm() {
            return Err(SpinflipError::config(
                "batch",
                "training with batch norm needs at least 2 slices per batch",
            ));
        }
        let pool = self.pool.take();
        let loss = match &pool {
            Some(p) => p.install(|| self.train_step(params, batch, targets, seed, grad, n)),
            None => self.train_step(params, batch, targets, seed, grad, n),
        };
        self.pool = pool;
        Ok(loss as f32)
    }

    /// Evaluation-mode outputs (running statistics, no dropout) for `batch`
    /// (`n x height x width`) into `out` (`n x n_outputs`).
    pub fn predict(
        &mut self,
        params: &[f32],
        batch: &[f32],
        out: &mut [f32],
    ) -> Result<(), SpinflipError> {
        let n = self.check_io(params, batch, out.len(), "output buffer")?;
        let pool = self.pool.take();
        match &pool {
            Some(p) => p.install(|| self.eval_step(params, batch, out, n)),
            None => self.eval_step(params, batch, out, n),
        }
        self.pool = pool;
        Ok(())
    }

    /// Evaluation-mode mean squared error against `targets` (validation loss).
    pub fn eval_loss(
        &mut self,
        params: &[f32],
        batch: &[f32],
        targets: &[f32],
    ) -> Result<f32, SpinflipError> {
        let mut out = vec![0.0f32; targets.len()];
        self.predict(params, batch, &mut out)?;
        let mut d = vec![0.0f32; out.len()];
        Ok(mse(&out, targets, &mut d) as f32)
    }

    /// Check lengths; returns the batch size.
    fn check_io(
        &self,
        params: &[f32],
        batch: &[f32],
        k_len: usize,
        what: &str,
    ) -> Result<usize, SpinflipError> {
        self.layout.check_params("params", params)?;
        let k = self.config.n_outputs;
        let px = self.config.height * self.config.width;
        if k_len == 0 || !k_len.is_multiple_of(k) {
            return Err(SpinflipError::shape(
                what,
                format!("has {k_len} values; it must hold n x {k} for a batch of n >= 1 slices"),
            ));
        }
        let n = k_len / k;
        if batch.len() != n * px {
            return Err(SpinflipError::shape(
                "batch",
                format!(
                    "has {} values; {n} slices of {} x {} need {} (a geometry mismatch with the model?)",
                    batch.len(),
                    self.config.height,
                    self.config.width,
                    n * px
                ),
            ));
        }
        Ok(n)
    }

    /// Re-lay out the convolution weights and size the batch buffers.
    fn prepare(&mut self, params: &[f32], n: usize, backward: bool) {
        let pr = &mut self.prep;
        pr.wpk.resize_with(self.geo.len(), Vec::new);
        pr.bias.resize_with(self.geo.len(), Vec::new);
        pr.wflip.resize_with(self.geo.len(), Vec::new);
        for (l, g) in self.geo.iter().enumerate() {
            let s = &g.s;
            let o = self.conv_off[l];
            let w = &params[o.weight..o.weight + s.f * s.c * s.kh * s.kw];
            corr::pack_forward(w, s.f, s.c, s.kh, s.kw, &mut pr.wpk[l]);
            pr.bias[l].clear();
            pr.bias[l].extend_from_slice(&params[o.bias..o.bias + s.f]);
            pr.bias[l].resize(g.fp, 0.0);
            // Input-gradient weights: only the training pass needs them.
            if l > 0 && backward {
                corr::flip_swap(w, s.f, s.c, s.kh, s.kw, &mut pr.tmp);
                corr::pack_forward(&pr.tmp, s.c, s.f, s.kh, s.kw, &mut pr.wflip[l]);
            }
        }
        let zmax = self.geo.iter().map(|g| g.cp.max(g.fp)).max().unwrap_or(0);
        pr.zeros.resize(zmax, 0.0);

        if n <= self.st.cap {
            return;
        }
        let conv_len = self.dense_off[0].weight;
        let st = &mut self.st;
        st.cap = n;
        st.pooled = self
            .geo
            .iter()
            .map(|g| vec![0.0; n * g.s.out_len()])
            .collect();
        st.idx = self
            .geo
            .iter()
            .map(|g| vec![0u8; n * g.s.out_len()])
            .collect();
        let flat = self.config.flat_len();
        st.mask = vec![0.0; n * flat];
        st.dx = vec![0.0; n * flat];
        let nd = self.config.dense.len();
        st.z = (0..=nd)
            .map(|j| vec![0.0; n * self.config.dense_outputs(j)])
            .collect();
        st.h = (0..nd)
            .map(|j| vec![0.0; n * self.config.dense[j].units])
            .collect();
        st.a = st.h.clone();
        st.bn = (0..nd).map(|_| BnCache::default()).collect();
        // Widest dense layer apart from the flattened input.
        let wmax = (0..=nd)
            .map(|j| self.config.dense_outputs(j))
            .max()
            .unwrap_or(1);
        st.dz = vec![0.0; n * wmax];
        st.da = vec![0.0; n * wmax];
        st.chunk_grads = (0..n.div_ceil(CHUNK))
            .map(|_| vec![0.0; conv_len])
            .collect();
    }

    fn train_step(
        &mut self,
        params: &[f32],
        batch: &[f32],
        targets: &[f32],
        seed: u64,
        grad: &mut [f32],
        n: usize,
    ) -> f64 {
        self.prepare(params, n, true);
        self.conv_forward(batch, n);
        self.head_forward(params, n, Some(seed));
        let loss = self.head_backward(params, targets, n, grad);
        self.conv_backward(batch, n, grad);
        loss
    }

    fn eval_step(&mut self, params: &[f32], batch: &[f32], out: &mut [f32], n: usize) {
        self.prepare(params, n, false);
        self.conv_forward(batch, n);
        self.head_forward(params, n, None);
        let k = self.config.n_outputs;
        out.copy_from_slice(&self.st.z[self.config.dense.len()][..n * k]);
    }

    /// Convolution blocks forward for every slice: pooled outputs and arg-max positions.
    fn conv_forward(&mut self, batch: &[f32], n: usize) {
        let px = self.config.height * self.config.width;
        let nl = self.geo.len();
        // Per chunk, per block: the chunk's part of the pooled and index buffers.
        let mut outs: Vec<Vec<(&mut [f32], &mut [u8])>> = (0..n.div_ceil(CHUNK))
            .map(|_| Vec::with_capacity(nl))
            .collect();
        for (l, (p, i)) in self
            .st
            .pooled
            .iter_mut()
            .zip(self.st.idx.iter_mut())
            .enumerate()
        {
            let len = self.geo[l].s.out_len();
            let pairs = p[..n * len]
                .chunks_mut(CHUNK * len)
                .zip(i[..n * len].chunks_mut(CHUNK * len));
            for (c, pair) in pairs.enumerate() {
                outs[c].push(pair);
            }
        }
        let (geo, prep, scratch) = (&self.geo, &self.prep, &self.scratch);
        outs.into_par_iter().enumerate().for_each(|(c, mut bufs)| {
            let mut s = take_scratch(scratch, geo);
            for k in 0..CHUNK.min(n - c * CHUNK) {
                let i = c * CHUNK + k;
                for l in 0..nl {
                    let g = &geo[l];
                    let len = g.s.out_len();
                    if l == 0 {
                        g.fill_padded(&batch[i * px..(i + 1) * px], &mut s.pad[0]);
                    } else {
                        let plen = geo[l - 1].s.out_len();
                        g.fill_padded(&bufs[l - 1].0[k * plen..(k + 1) * plen], &mut s.pad[l]);
                    }
                    corr::forward(&g.fwd, &s.pad[l], &prep.wpk[l], &prep.bias[l], &mut s.conv);
                    let (out, idx) = &mut bufs[l];
                    pool::forward(
                        &s.conv,
                        Planes {
                            rs: g.fwd.out_rs,
                            ps: g.fwd.out_ps,
                        },
                        g.s.f,
                        g.s.hp,
                        g.s.wp,
                        g.s.pool,
                        &mut out[k * len..(k + 1) * len],
                        &mut idx[k * len..(k + 1) * len],
                    );
                }
            }
            give_scratch(scratch, s);
        });
    }

    /// Dense head forward over the batch; training mode (batch statistics, dropout from
    /// `seed`) when `seed` is given, evaluation mode otherwise.
    fn head_forward(&mut self, params: &[f32], n: usize, seed: Option<u64>) {
        let cfg = &self.config;
        let flat = cfg.flat_len();
        let nd = cfg.dense.len();
        let st = &mut self.st;
        let x = &mut st.pooled[self.geo.len() - 1][..n * flat];
        st.dropped = false;
        if let (Some(seed), true) = (seed, cfg.dropout > 0.0) {
            let rate = cfg.dropout;
            x.par_chunks_mut(flat)
                .zip(st.mask[..n * flat].par_chunks_mut(flat))
                .enumerate()
                .for_each(|(i, (xi, mi))| {
                    dropout::mask(seed, i as u64, rate, mi);
                    xi.iter_mut().zip(mi.iter()).for_each(|(a, m)| *a *= m);
                });
            st.dropped = true;
        }
        for j in 0..=nd {
            let (ni, no) = (cfg.dense_inputs(j), cfg.dense_outputs(j));
            let off = self.dense_off[j];
            let w = MatRef::rows(&params[off.weight..off.weight + no * ni], no, ni);
            let b = &params[off.bias..off.bias + no];
            let z = &mut st.z[j][..n * no];
            if j == 0 {
                let x = &st.pooled[self.geo.len() - 1][..n * flat];
                z.par_chunks_mut(DENSE_ROWS * no)
                    .zip(x.par_chunks(DENSE_ROWS * ni))
                    .for_each(|(zc, xc)| {
                        let r = zc.len() / no;
                        matmul(zc, no, MatRef::rows(xc, r, ni), w.t(), false);
                    });
            } else {
                matmul(
                    z,
                    no,
                    MatRef::rows(&st.a[j - 1][..n * ni], n, ni),
                    w.t(),
                    false,
                );
            }
            z.chunks_mut(no)
                .for_each(|r| r.iter_mut().zip(b).for_each(|(v, bb)| *v += bb));
            if j == nd {
                break;
            }
            let h = &mut st.h[j][..n * no];
            h.iter_mut()
                .zip(z.iter())
                .for_each(|(h, &z)| *h = z.max(0.0));
            let a = &mut st.a[j][..n * no];
            match off.bn {
                Some(([g, be], [m, v])) => {
                    let (gamma, beta) = (&params[g..g + no], &params[be..be + no]);
                    let (rm, rv) = self.buffers.split_at_mut(v);
                    let (rm, rv) = (&mut rm[m..m + no], &mut rv[..no]);
                    if seed.is_some() {
                        batchnorm::forward_train(
                            h,
                            n,
                            no,
                            gamma,
                            beta,
                            cfg.bn_eps,
                            cfg.bn_momentum,
                            rm,
                            rv,
                            &mut st.bn[j],
                            a,
                        );
                    } else {
                        batchnorm::forward_eval(h, n, no, gamma, beta, cfg.bn_eps, rm, rv, a);
                    }
                }
                None => a.copy_from_slice(h),
            }
        }
    }

    /// Loss and the dense head's backward pass: writes the dense and batch-norm gradients
    /// and leaves d loss / d flattened features in `st.dx`.
    fn head_backward(
        &mut self,
        params: &[f32],
        targets: &[f32],
        n: usize,
        grad: &mut [f32],
    ) -> f64 {
        let cfg = &self.config;
        let flat = cfg.flat_len();
        let nd = cfg.dense.len();
        let st = &mut self.st;
        let k = cfg.n_outputs;
        let loss = mse(&st.z[nd][..n * k], targets, &mut st.dz[..n * k]);
        for j in (0..=nd).rev() {
            let (ni, no) = (cfg.dense_inputs(j), cfg.dense_outputs(j));
            let off = self.dense_off[j];
            let w = MatRef::rows(&params[off.weight..off.weight + no * ni], no, ni);
            let inp: &[f32] = if j == 0 {
                &st.pooled[self.geo.len() - 1][..n * flat]
            } else {
                &st.a[j - 1][..n * ni]
            };
            let dz = &st.dz[..n * no];
            let (gw, gb) = grad[off.weight..off.bias + no].split_at_mut(no * ni);
            if j == 0 {
                // Fixed row blocks of the weight gradient: the sums do not depend on threads.
                gw.par_chunks_mut(DENSE_ROWS * ni)
                    .enumerate()
                    .for_each(|(b, gwb)| {
                        let r = gwb.len() / ni;
                        let dzt = MatRef {
                            data: &dz[b * DENSE_ROWS..],
                            rows: r,
                            cols: n,
                            rs: 1,
                            cs: no,
                        };
                        matmul(gwb, ni, dzt, MatRef::rows(inp, n, ni), false);
                    });
            } else {
                matmul(
                    gw,
                    ni,
                    MatRef::rows(dz, n, no).t(),
                    MatRef::rows(inp, n, ni),
                    false,
                );
            }
            for (o, g) in gb.iter_mut().enumerate() {
                *g = (0..n).map(|i| f64::from(dz[i * no + o])).sum::<f64>() as f32;
            }
            if j == 0 {
                let dx = &mut st.dx[..n * flat];
                dx.par_chunks_mut(DENSE_ROWS * flat)
                    .zip(dz.par_chunks(DENSE_ROWS * no))
                    .for_each(|(dxc, dzc)| {
                        let r = dzc.len() / no;
                        matmul(dxc, flat, MatRef::rows(dzc, r, no), w, false);
                    });
                if st.dropped {
                    dx.par_iter_mut()
                        .zip(st.mask[..n * flat].par_iter())
                        .for_each(|(d, m)| *d *= m);
                }
                break;
            }
            // Back through hidden layer j - 1: (batch norm), ReLU.
            let da = &mut st.da[..n * ni];
            matmul(da, ni, MatRef::rows(dz, n, no), w, false);
            let prev = self.dense_off[j - 1];
            if let Some(([g, be], _)) = prev.bn {
                let (dgamma, dbeta) = grad[g..be + ni].split_at_mut(ni);
                let dz_new = &mut st.dz[..n * ni];
                batchnorm::backward(
                    da,
                    n,
                    ni,
                    &params[g..g + ni],
                    &st.bn[j - 1],
                    dz_new,
                    dgamma,
                    dbeta,
                );
            } else {
                st.dz[..n * ni].copy_from_slice(da);
            }
            let zprev = &st.z[j - 1][..n * ni];
            st.dz[..n * ni].iter_mut().zip(zprev).for_each(|(d, &z)| {
                if z <= 0.0 {
                    *d = 0.0
                }
            });
        }
        loss
    }

    /// Convolution blocks backward from `st.dx`: writes the `conv.*` gradients.
    fn conv_backward(&mut self, batch: &[f32], n: usize, grad: &mut [f32]) {
        let px = self.config.height * self.config.width;
        let flat = self.config.flat_len();
        let nl = self.geo.len();
        let (geo, prep, scratch, conv_off) = (&self.geo, &self.prep, &self.scratch, &self.conv_off);
        let State {
            pooled,
            idx,
            dx,
            chunk_grads,
            ..
        } = &mut self.st;
        let (pooled, idx, dx) = (&*pooled, &*idx, &*dx);
        let nchunks = n.div_ceil(CHUNK);
        chunk_grads[..nchunks]
            .par_iter_mut()
            .enumerate()
            .for_each(|(c, cg)| {
                cg.fill(0.0);
                let mut s = take_scratch(scratch, geo);
                for k in 0..CHUNK.min(n - c * CHUNK) {
                    let i = c * CHUNK + k;
                    s.gcur[..flat].copy_from_slice(&dx[i * flat..(i + 1) * flat]);
                    let last = &geo[nl - 1].s;
                    let mut gpl = Planes {
                        rs: last.wp,
                        ps: last.hp * last.wp,
                    };
                    for l in (0..nl).rev() {
                        let g = &geo[l];
                        let sh = &g.s;
                        let len = sh.out_len();
                        let off = conv_off[l];
                        let (pl, il) = (
                            &pooled[l][i * len..(i + 1) * len],
                            &idx[l][i * len..(i + 1) * len],
                        );
                        if l == 0 {
                            g.fill_padded(&batch[i * px..(i + 1) * px], &mut s.pad[0]);
                        } else {
                            let plen = geo[l - 1].s.out_len();
                            g.fill_padded(&pooled[l - 1][i * plen..(i + 1) * plen], &mut s.pad[l]);
                        }
                        let nw = sh.f * sh.c * sh.kh * sh.kw;
                        // Pooling leaves at most one nonzero output gradient per window:
                        // the point-wise weight gradient does a quarter of the dense
                        // multiply-adds or less. (The input gradient stays a dense
                        // correlation: its point-wise scatter form, a masked
                        // load-FMA-store per kernel row, measured 1.5x slower.)
                        let sparse = sh.pool > 1 && sh.kw <= 16;
                        if sparse {
                            for ch in 0..sh.f {
                                let sum = pool::gather_points(
                                    &s.gcur,
                                    gpl,
                                    pl,
                                    il,
                                    ch,
                                    sh.hp,
                                    sh.wp,
                                    sh.pool,
                                    g.fwd.in_rs,
                                    &mut s.points,
                                );
                                cg[off.bias + ch] += sum;
                                corr::weight_grad_points(
                                    &g.fwd,
                                    &s.pad[l],
                                    ch,
                                    &s.points,
                                    &mut cg[off.weight..off.weight + nw],
                                );
                            }
                            if l == 0 {
                                continue;
                            }
                        }
                        let gp = &mut s.gpad[l];
                        for ch in 0..sh.f {
                            let r0 = ch * g.g_ps + g.g_top * g.g_rs;
                            gp[r0..r0 + sh.ho * g.g_rs].fill(0.0);
                        }
                        pool::backward(
                            &s.gcur,
                            gpl,
                            pl,
                            il,
                            sh.f,
                            sh.hp,
                            sh.wp,
                            sh.pool,
                            &mut gp[g.g_off()..],
                            Planes {
                                rs: g.g_rs,
                                ps: g.g_ps,
                            },
                            (!sparse).then_some(&mut cg[off.bias..off.bias + sh.f]),
                        );
                        if !sparse {
                            corr::weight_grad(
                                &g.wg,
                                &s.pad[l],
                                &gp[g.g_off()..],
                                &mut cg[off.weight..off.weight + nw],
                            );
                        }
                        if l > 0 {
                            corr::forward(&g.bwd, gp, &prep.wflip[l], &prep.zeros, &mut s.gnext);
                            std::mem::swap(&mut s.gcur, &mut s.gnext);
                            gpl = Planes {
                                rs: g.bwd.out_rs,
                                ps: g.bwd.out_ps,
                            };
                        }
                    }
                }
                give_scratch(scratch, s);
            });
        let m = self.dense_off[0].weight;
        let out = &mut grad[..m];
        out.copy_from_slice(&chunk_grads[0][..m]);
        for cg in &chunk_grads[1..nchunks] {
            out.iter_mut().zip(cg.iter()).for_each(|(o, g)| *o += g);
        }
    }
}

fn take_scratch(m: &Mutex<Vec<Scratch>>, geo: &[Geo]) -> Scratch {
    let popped = m.lock().map(|mut v| v.pop()).unwrap_or(None);
    popped.unwrap_or_else(|| Scratch::new(geo))
}

fn give_scratch(m: &Mutex<Vec<Scratch>>, s: Scratch) {
    if let Ok(mut v) = m.lock() {
        v.push(s);
    }
}
