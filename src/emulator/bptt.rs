//! Hand-written backpropagation through time for the network of [`super::network`]: the
//! loss of [`super::network::LstmNetwork::mse`] and its gradient with respect to every
//! tensor of [`LstmWeights`], on the CPU, without candle's autograd.
//!
//! - Forward pass per signal, layer by layer, caching gate activations, cell states,
//!   `tanh(c)` and hidden states (`~7 h` values per step and layer); the backward pass
//!   walks the cache from the last step to the first (Werbos 1990).
//! - Layer 0's parameter projection is constant along the sequence, so its gradient is
//!   the sum over steps of the gate gradients times the parameters, formed once per signal.
//! - Signals run in parallel (rayon) in fixed chunks; each chunk sums its signals'
//!   gradients in `f64` and the chunks are added in order, so the result does not depend
//!   on the number of threads (same seed, same weights).
//! - Arithmetic inside one signal is `f32` (the precision of the candle network, twice the
//!   SIMD width of `f64`); sums over the 451 steps of one signal lose ~1e-6 relative.
//!   Across the batch the sums are `f64` so the batch size does not degrade them. The same
//!   code runs in `f64` ([`loss_and_grad_f64`]) for finite-difference checks.
//!
//! Measured (release, AVX-512, 2 x LSTM(32), 451 steps, machine shared with other builds):
//! one epoch of 24 000 signals took 68 CPU-seconds (2.8 ms per signal for forward and
//! backward), against ~1700 CPU-seconds with candle's autograd; `cargo bench --bench
//! bptt_batch` times one batch of 128.

use std::ops::{Add, AddAssign, Mul, Sub};

use rayon::prelude::*;

use super::config::LstmConfig;
use super::fast::Isa;
use super::fast_math::{sigmoid_slice, tanh_slice};
use super::weights::LstmWeights;
use crate::SpinflipError;

/// Signals per parallel work item (fixed, so the summation order is fixed).
const CHUNK: usize = 4;

/// Loss and gradient of one batch.
#[derive(Debug, Clone, PartialEq)]
pub struct LossGrad {
    /// Mean squared error over every signal and step (as [`super::network::LstmNetwork::mse`]).
    pub loss: f64,
    /// d loss / d tensor, one flat array per tensor in [`LstmWeights::tensors`] order.
    pub grads: Vec<Vec<f64>>,
}

/// Scalar type of the kernels (`f32` for training, `f64` for checks).
trait Real:
    Copy
    + Send
    + Sync
    + Default
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + AddAssign
    + 'static
{
    fn of(x: f64) -> Self;
    fn of32(x: f32) -> Self;
    fn to64(self) -> f64;
    /// Sigmoid of every element, in place.
    fn sigmoid_all(v: &mut [Self]);
    /// tanh of every element, in place.
    fn tanh_all(v: &mut [Self]);
}

impl Real for f32 {
    fn of(x: f64) -> Self {
        x as f32
    }
    fn of32(x: f32) -> Self {
        x
    }
    fn to64(self) -> f64 {
        f64::from(self)
    }
    #[inline(always)]
    fn sigmoid_all(v: &mut [Self]) {
        sigmoid_slice(v)
    }
    #[inline(always)]
    fn tanh_all(v: &mut [Self]) {
        tanh_slice(v)
    }
}

impl Real for f64 {
    fn of(x: f64) -> Self {
        x
    }
    fn of32(x: f32) -> Self {
        f64::from(x)
    }
    fn to64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn sigmoid_all(v: &mut [Self]) {
        v.iter_mut().for_each(|x| *x = 1.0 / (1.0 + (-*x).exp()));
    }
    #[inline(always)]
    fn tanh_all(v: &mut [Self]) {
        v.iter_mut().for_each(|x| *x = x.tanh());
    }
}

/// One layer's weights in both layouts: row-major `[4h][in]` for the backward pass and
/// transposed `[in][4h]` for the forward pass (inner loops over contiguous memory).
struct LayerPrep<T> {
    n_in: usize,
    w_ih: Vec<T>,
    w_ih_t: Vec<T>,
    w_hh: Vec<T>,
    w_hh_t: Vec<T>,
    bias: Vec<T>,
}

struct Prep<T> {
    config: LstmConfig,
    layers: Vec<LayerPrep<T>>,
    head_w: Vec<T>,
    head_b: Vec<T>,
}

fn transpose<T: Real>(w: &[T], rows: usize, cols: usize) -> Vec<T> {
    let mut t = vec![T::default(); rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = w[r * cols + c];
        }
    }
    t
}

impl<T: Real> Prep<T> {
    fn new(w: &LstmWeights) -> Self {
        let c = w.config;
        let h = c.hidden;
        let conv = |v: &[f32]| v.iter().map(|&x| T::of32(x)).collect::<Vec<T>>();
        let layers = w
            .layers
            .iter()
            .enumerate()
            .map(|(l, lw)| {
                let n_in = c.layer_inputs(l);
                let w_ih = conv(&lw.w_ih);
                let w_hh = conv(&lw.w_hh);
                LayerPrep {
                    n_in,
                    w_ih_t: transpose(&w_ih, 4 * h, n_in),
                    w_hh_t: transpose(&w_hh, 4 * h, h),
                    w_ih,
                    w_hh,
                    bias: conv(&lw.bias),
                }
            })
            .collect();
        Prep {
            config: c,
            layers,
            head_w: conv(&w.head_w),
            head_b: conv(&w.head_b),
        }
    }
}

/// `y += a * x`.
#[inline(always)]
fn axpy<T: Real>(y: &mut [T], a: T, x: &[T]) {
    for (u, &v) in y.iter_mut().zip(x) {
        *u += a * v;
    }
}

/// Rows of `y` held in registers by [`gemv_acc`].
const GEMV_BLOCK: usize = 64;

/// `y[j] += sum_k x[k] w[k * y.len() + j]`, `k` ascending: the same operations in the same
/// order as one [`axpy`] per `k` (so the same bits), but with blocks of `y` kept in
/// registers across `k` instead of loaded and stored once per `k`.
#[inline(always)]
fn gemv_acc<T: Real>(y: &mut [T], x: &[T], w: &[T]) {
    let width = y.len();
    debug_assert!(w.len() >= x.len() * width);
    let mut jb = 0;
    while jb + GEMV_BLOCK <= width {
        let mut a = [T::default(); GEMV_BLOCK];
        a.copy_from_slice(&y[jb..jb + GEMV_BLOCK]);
        for (k, &xk) in x.iter().enumerate() {
            let row: &[T; GEMV_BLOCK] = w[k * width + jb..k * width + jb + GEMV_BLOCK]
                .try_into()
                .expect("block of GEMV_BLOCK");
            for j in 0..GEMV_BLOCK {
                a[j] += xk * row[j];
            }
        }
        y[jb..jb + GEMV_BLOCK].copy_from_slice(&a);
        jb += GEMV_BLOCK;
    }
    if jb < width {
        let tail = &mut y[jb..];
        for (k, &xk) in x.iter().enumerate() {
            axpy(tail, xk, &w[k * width + jb..(k + 1) * width]);
        }
    }
}

/// Per-thread buffers of one signal.
struct Work<T> {
    /// Per layer: gate activations `[t][4h]` (`i, f, o` sigmoid, `g` tanh).
    act: Vec<Vec<T>>,
    /// Per layer: cell states `[t][h]`.
    c: Vec<Vec<T>>,
    /// Per layer: `tanh(c)`.
    tc: Vec<Vec<T>>,
    /// Per layer: hidden states `[t][h]`.
    hs: Vec<Vec<T>>,
    /// Gradient of the loss with respect to the current layer's outputs `[t][h]`.
    dh_out: Vec<T>,
    /// The same for the layer below (filled by the current layer).
    dh_below: Vec<T>,
    /// Per-signal gradient, tensor order.
    g: Vec<Vec<T>>,
    dz: Vec<T>,
    dh: Vec<T>,
    dh_next: Vec<T>,
    dc_next: Vec<T>,
    base0: Vec<T>,
}

impl<T: Real> Work<T> {
    fn new(w: &LstmWeights) -> Self {
        Self::new_lean(&w.config)
    }

    fn new_lean(c: &LstmConfig) -> Self {
        let c = *c;
        let (h, t, nl) = (c.hidden, c.n_steps, c.layers);
        let z = |n: usize| vec![T::default(); n];
        Work {
            act: (0..nl).map(|_| z(t * 4 * h)).collect(),
            c: (0..nl).map(|_| z(t * h)).collect(),
            tc: (0..nl).map(|_| z(t * h)).collect(),
            hs: (0..nl).map(|_| z(t * h)).collect(),
            dh_out: z(t * h),
            dh_below: z(t * h),
            g: LstmWeights::expected_shapes(&c)
                .iter()
                .map(|(_, s)| z(s.iter().product()))
                .collect(),
            dz: z(4 * h),
            dh: z(h),
            dh_next: z(h),
            dc_next: z(h),
            base0: z(4 * h),
        }
    }
}

/// [`signal`] compiled for the best instruction set of the CPU (wider vectors for the
/// `axpy` loops; the arithmetic, and so the result, is the same up to the CPU's `exp`).
fn signal_best<T: Real>(
    isa: Isa,
    prep: &Prep<T>,
    freqs: &[T],
    p: &[T],
    target: &[f32],
    weight: T,
    wk: &mut Work<T>,
) -> f64 {
    match isa {
        // SAFETY: `isa` comes from `Isa::detect`, so the CPU has these features.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { signal_avx512(prep, freqs, p, target, weight, wk) },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { signal_avx2(prep, freqs, p, target, weight, wk) },
        _ => signal(prep, freqs, p, target, weight, wk),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn signal_avx2<T: Real>(
    prep: &Prep<T>,
    freqs: &[T],
    p: &[T],
    target: &[f32],
    weight: T,
    wk: &mut Work<T>,
) -> f64 {
    signal(prep, freqs, p, target, weight, wk)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn signal_avx512<T: Real>(
    prep: &Prep<T>,
    freqs: &[T],
    p: &[T],
    target: &[f32],
    weight: T,
    wk: &mut Work<T>,
) -> f64 {
    signal(prep, freqs, p, target, weight, wk)
}

/// Forward pass of one signal: fills the cache of gate activations, cell states, `tanh(c)`
/// and hidden states of every layer.
#[inline(always)]
fn forward<T: Real>(prep: &Prep<T>, freqs: &[T], p: &[T], wk: &mut Work<T>) {
    let cfg = prep.config;
    let (h, nt, np) = (cfg.hidden, cfg.n_steps, cfg.n_params);
    let h4 = 4 * h;
    // ---- forward ----
    for (l, lp) in prep.layers.iter().enumerate() {
        if l == 0 {
            wk.base0.copy_from_slice(&lp.bias);
            for j in 0..np {
                axpy(&mut wk.base0, p[j], &lp.w_ih_t[j * h4..(j + 1) * h4]);
            }
        }
        let (below, rest) = wk.hs.split_at_mut(l);
        let hs = &mut rest[0];
        let act = &mut wk.act[l];
        let c = &mut wk.c[l];
        let tc = &mut wk.tc[l];
        for t in 0..nt {
            let z = &mut act[t * h4..(t + 1) * h4];
            if l == 0 {
                z.copy_from_slice(&wk.base0);
                axpy(z, freqs[t], &lp.w_ih_t[np * h4..(np + 1) * h4]);
            } else {
                z.copy_from_slice(&lp.bias);
                let x = &below[l - 1][t * h..(t + 1) * h];
                gemv_acc(z, x, &lp.w_ih_t[..h * h4]);
            }
            if t > 0 {
                let hp = &hs[(t - 1) * h..t * h];
                gemv_acc(z, hp, &lp.w_hh_t[..h * h4]);
            }
            T::sigmoid_all(&mut z[..3 * h]);
            T::tanh_all(&mut z[3 * h..]);
            let (zi, rest) = z.split_at(h);
            let (zf, rest) = rest.split_at(h);
            let (zo, zg) = rest.split_at(h);
            let (c_done, c_rest) = c.split_at_mut(t * h);
            let ct = &mut c_rest[..h];
            for k in 0..h {
                let prev = if t > 0 {
                    c_done[(t - 1) * h + k]
                } else {
                    T::default()
                };
                ct[k] = zf[k] * prev + zi[k] * zg[k];
            }
            let tct = &mut tc[t * h..(t + 1) * h];
            tct.copy_from_slice(ct);
            T::tanh_all(tct);
            let ht = &mut hs[t * h..(t + 1) * h];
            for k in 0..h {
                ht[k] = zo[k] * tct[k];
            }
        }
    }
}

/// Backward pass of one signal from `wk.dh_out` (the gradient with respect to the top
/// layer's hidden states): the gate gradients of every step, summed per layer into the bias
/// gradients; with `WEIGHTS` also the weight gradients (the expensive outer products),
/// without them only what the gradient with respect to the inputs needs.
#[inline(always)]
fn backward<T: Real, const WEIGHTS: bool>(prep: &Prep<T>, freqs: &[T], p: &[T], wk: &mut Work<T>) {
    let cfg = prep.config;
    let (h, nt, np) = (cfg.hidden, cfg.n_steps, cfg.n_params);
    let h4 = 4 * h;
    let one = T::of(1.0);
    // ---- backward, top layer first ----
    for l in (0..cfg.layers).rev() {
        let lp = &prep.layers[l];
        let n_in = lp.n_in;
        let (act, c, tc, hs) = (&wk.act[l], &wk.c[l], &wk.tc[l], &wk.hs[l]);
        let (g_ih, rest) = wk.g[3 * l..3 * l + 3].split_at_mut(1);
        let (g_hh, g_b) = rest.split_at_mut(1);
        let (g_ih, g_hh, g_b) = (&mut g_ih[0], &mut g_hh[0], &mut g_b[0]);
        wk.dh_next.iter_mut().for_each(|x| *x = T::default());
        wk.dc_next.iter_mut().for_each(|x| *x = T::default());
        if l > 0 {
            wk.dh_below.iter_mut().for_each(|x| *x = T::default());
        }
        for t in (0..nt).rev() {
            let a = &act[t * h4..(t + 1) * h4];
            let tct = &tc[t * h..(t + 1) * h];
            for k in 0..h {
                wk.dh[k] = wk.dh_out[t * h + k] + wk.dh_next[k];
            }
            for k in 0..h {
                let (i, f, o, g) = (a[k], a[h + k], a[2 * h + k], a[3 * h + k]);
                let c_prev = if t > 0 {
                    c[(t - 1) * h + k]
                } else {
                    T::default()
                };
                let dh = wk.dh[k];
                let dc = dh * o * (one - tct[k] * tct[k]) + wk.dc_next[k];
                wk.dz[k] = dc * g * i * (one - i);
                wk.dz[h + k] = dc * c_prev * f * (one - f);
                wk.dz[2 * h + k] = dh * tct[k] * o * (one - o);
                wk.dz[3 * h + k] = dc * i * (one - g * g);
                wk.dc_next[k] = dc * f;
            }
            for (gb, &d) in g_b.iter_mut().zip(&wk.dz) {
                *gb += d;
            }
            if t > 0 {
                let hp = &hs[(t - 1) * h..t * h];
                if WEIGHTS {
                    for r in 0..h4 {
                        axpy(&mut g_hh[r * h..(r + 1) * h], wk.dz[r], hp);
                    }
                }
                wk.dh_next.iter_mut().for_each(|x| *x = T::default());
                gemv_acc(&mut wk.dh_next, &wk.dz, &lp.w_hh[..h4 * h]);
            }
            if l == 0 {
                // Frequency column; the parameter columns are formed after the loop.
                if WEIGHTS {
                    for r in 0..h4 {
                        g_ih[r * n_in + np] += wk.dz[r] * freqs[t];
                    }
                }
            } else {
                let x = &wk.hs[l - 1][t * h..(t + 1) * h];
                let dx = &mut wk.dh_below[t * h..(t + 1) * h];
                if WEIGHTS {
                    for r in 0..h4 {
                        axpy(&mut g_ih[r * n_in..(r + 1) * n_in], wk.dz[r], x);
                    }
                }
                gemv_acc(dx, &wk.dz, &lp.w_ih[..h4 * n_in]);
            }
        }
        if l == 0 {
            if WEIGHTS {
                for r in 0..h4 {
                    for j in 0..np {
                        g_ih[r * n_in + j] = g_b[r] * p[j];
                    }
                }
            }
        } else {
            std::mem::swap(&mut wk.dh_out, &mut wk.dh_below);
        }
    }
}

/// The forward pass (`back = false`) or the backward pass without weight gradients
/// (`back = true`), compiled for the best instruction set of the CPU (as [`signal_best`]).
fn pass_best<T: Real, const W: bool>(
    isa: Isa,
    back: bool,
    prep: &Prep<T>,
    freqs: &[T],
    p: &[T],
    wk: &mut Work<T>,
) {
    #[inline(always)]
    fn run<T: Real, const W: bool>(
        back: bool,
        prep: &Prep<T>,
        freqs: &[T],
        p: &[T],
        wk: &mut Work<T>,
    ) {
        if back {
            backward::<T, W>(prep, freqs, p, wk);
        } else {
            forward(prep, freqs, p, wk);
        }
    }
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn run512<T: Real, const W: bool>(
        back: bool,
        prep: &Prep<T>,
        freqs: &[T],
        p: &[T],
        wk: &mut Work<T>,
    ) {
        run::<T, W>(back, prep, freqs, p, wk)
    }
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run256<T: Real, const W: bool>(
        back: bool,
        prep: &Prep<T>,
        freqs: &[T],
        p: &[T],
        wk: &mut Work<T>,
    ) {
        run::<T, W>(back, prep, freqs, p, wk)
    }
    match isa {
        // SAFETY: `isa` comes from `Isa::detect`, so the CPU has these features.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { run512::<T, W>(back, prep, freqs, p, wk) },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { run256::<T, W>(back, prep, freqs, p, wk) },
        _ => run::<T, W>(back, prep, freqs, p, wk),
    }
}

/// Forward and backward pass of one signal: writes d(weight x sum of squared errors)/2 to
/// `wk.g` (zeroed here) and returns weight x the sum of squared errors.
#[inline(always)]
fn signal<T: Real>(
    prep: &Prep<T>,
    freqs: &[T],
    p: &[T],
    target: &[f32],
    weight: T,
    wk: &mut Work<T>,
) -> f64 {
    let cfg = prep.config;
    let (h, nt) = (cfg.hidden, cfg.n_steps);
    for g in wk.g.iter_mut() {
        g.iter_mut().for_each(|x| *x = T::default());
    }
    forward(prep, freqs, p, wk);
    // ---- head and loss ----
    let top = cfg.layers - 1;
    let n_t = wk.g.len();
    let mut sse = 0.0;
    {
        let hs = &wk.hs[top];
        let (gw, gb) = wk.g[n_t - 2..].split_at_mut(1);
        let k_out = cfg.outputs_per_step;
        for t in 0..nt {
            let ht = &hs[t * h..(t + 1) * h];
            let d = &mut wk.dh_out[t * h..(t + 1) * h];
            d.iter_mut().for_each(|x| *x = T::default());
            for q in 0..k_out {
                let w = &prep.head_w[q * h..(q + 1) * h];
                let mut y = prep.head_b[q];
                for k in 0..h {
                    y += w[k] * ht[k];
                }
                let e = y - T::of32(target[t * k_out + q]);
                sse += weight.to64() * e.to64() * e.to64();
                let dy = weight * e;
                axpy(&mut gw[0][q * h..(q + 1) * h], dy, ht);
                gb[0][q] += dy;
                axpy(d, dy, w);
            }
        }
    }

    backward::<T, true>(prep, freqs, p, wk);
    sse
}

fn check(
    w: &LstmWeights,
    freqs: &[f32],
    params: &[f32],
    targets: &[f32],
) -> Result<usize, SpinflipError> {
    let c = w.config;
    c.validate()?;
    let shapes_ok = w
        .tensors()
        .iter()
        .zip(LstmWeights::expected_shapes(&c))
        .all(|((_, _, v), (_, s))| v.len() == s.iter().product::<usize>())
        && w.layers.len() == c.layers;
    if !shapes_ok {
        return Err(SpinflipError::config(
            "weights",
            "tensor sizes differ from the architecture",
        ));
    }
    if freqs.len() != c.n_steps || params.is_empty() || !params.len().is_multiple_of(c.n_params) {
        return Err(SpinflipError::config(
            "bptt input",
            format!(
                "expected {} frequencies and (batch, {}) parameters, got {} and {}",
                c.n_steps,
                c.n_params,
                freqs.len(),
                params.len()
            ),
        ));
    }
    let b = params.len() / c.n_params;
    if targets.len() != b * c.n_outputs() {
        return Err(SpinflipError::config(
            "bptt input",
            format!(
                "expected {b} x {} target values, got {}",
                c.n_outputs(),
                targets.len()
            ),
        ));
    }
    Ok(b)
}

fn run<T: Real>(
    w: &LstmWeights,
    freqs: &[f32],
    params: &[f32],
    targets: &[f32],
    signal_weights: Option<&[f32]>,
    tail: Option<f64>,
) -> Result<LossGrad, SpinflipError> {
    let b = check(w, freqs, params, targets)?;
    if let Some(sw) = signal_weights {
        if sw.len() != b || sw.iter().any(|x| !(x.is_finite() && *x >= 0.0)) {
            return Err(SpinflipError::config(
                "bptt input",
                format!("expected {b} finite non-negative signal weights"),
            ));
        }
    }
    let c = w.config;
    let (np, nt) = (c.n_params, c.n_outputs());
    let prep = Prep::<T>::new(w);
    let isa = Isa::detect();
    let fr: Vec<T> = freqs.iter().map(|&x| T::of32(x)).collect();
    let sizes: Vec<usize> = w.tensors().iter().map(|(_, _, v)| v.len()).collect();
    let starts: Vec<usize> = (0..b).step_by(CHUNK).collect();
    let parts: Vec<(f64, Vec<Vec<f64>>)> = starts
        .par_iter()
        .map(|&s| {
            let mut wk = Work::<T>::new(w);
            let mut acc: Vec<Vec<f64>> = sizes.iter().map(|&n| vec![0.0; n]).collect();
            let mut sse = 0.0;
            for i in s..(s + CHUNK).min(b) {
                let p: Vec<T> = params[i * np..(i + 1) * np]
                    .iter()
                    .map(|&x| T::of32(x))
                    .collect();
                let wt = T::of32(signal_weights.map_or(1.0, |sw| sw[i]));
                let y = &targets[i * nt..(i + 1) * nt];
                let se = signal_best(isa, &prep, &fr, &p, y, wt, &mut wk);
                // Tail term: the signal's loss s + s^2 / s_ref, s its mean squared error,
                // has gradient (1 + 2 s / s_ref) ds; the kernel's gradient is linear in ds.
                let (se, factor) = match tail {
                    Some(s_ref) => {
                        let s_i = se / nt as f64;
                        (se * (1.0 + s_i / s_ref), 1.0 + 2.0 * s_i / s_ref)
                    }
                    None => (se, 1.0),
                };
                sse += se;
                for (a, g) in acc.iter_mut().zip(&wk.g) {
                    for (x, y) in a.iter_mut().zip(g) {
                        *x += factor * y.to64();
                    }
                }
            }
            (sse, acc)
        })
        .collect();
    let mut grads: Vec<Vec<f64>> = sizes.iter().map(|&n| vec![0.0; n]).collect();
    let mut sse = 0.0;
    for (s, acc) in &parts {
        sse += s;
        for (a, g) in grads.iter_mut().zip(acc) {
            for (x, y) in a.iter_mut().zip(g) {
                *x += y;
            }
        }
    }
    // loss = sse / n, and the kernel accumulated d(sse/2).
    let n = (b * nt) as f64;
    let scale = 2.0 / n;
    for g in &mut grads {
        g.iter_mut().for_each(|x| *x *= scale);
    }
    Ok(LossGrad {
        loss: sse / n,
        grads,
    })
}

/// MSE of the network on normalised `params` `(batch, n_params)` against normalised
/// `targets` `(batch, n_steps)` with normalised `freqs` `(n_steps)`, and its gradient
/// (`f32` arithmetic within a signal, `f64` sums across the batch).
pub fn loss_and_grad(
    weights: &LstmWeights,
    freqs: &[f32],
    params: &[f32],
    targets: &[f32],
) -> Result<LossGrad, SpinflipError> {
    run::<f32>(weights, freqs, params, targets, None, None)
}

/// [`loss_and_grad`] with a weight per signal: the loss is the mean over signals and steps
/// of `signal_weights[i] * (y - target)^2` (see [`super::train::LossKind::Relative`]).
pub fn loss_and_grad_weighted(
    weights: &LstmWeights,
    freqs: &[f32],
    params: &[f32],
    targets: &[f32],
    signal_weights: &[f32],
) -> Result<LossGrad, SpinflipError> {
    run::<f32>(weights, freqs, params, targets, Some(signal_weights), None)
}

/// [`loss_and_grad_weighted`] with a tail term: each signal's weighted mean squared error
/// `s_i` enters as `s_i + s_i^2 / s_ref` (see [`super::train::LossKind::Tail`]), so signals
/// with errors well above `sqrt(s_ref)` dominate the gradient.
pub fn loss_and_grad_tail(
    weights: &LstmWeights,
    freqs: &[f32],
    params: &[f32],
    targets: &[f32],
    signal_weights: &[f32],
    s_ref: f64,
) -> Result<LossGrad, SpinflipError> {
    if !(s_ref > 0.0 && s_ref.is_finite()) {
        return Err(SpinflipError::config(
            "bptt input",
            format!("the tail reference must be positive and finite, got {s_ref}"),
        ));
    }
    run::<f32>(
        weights,
        freqs,
        params,
        targets,
        Some(signal_weights),
        Some(s_ref),
    )
}

/// [`loss_and_grad`] in `f64` throughout (slower; for gradient checks).
pub fn loss_and_grad_f64(
    weights: &LstmWeights,
    freqs: &[f32],
    params: &[f32],
    targets: &[f32],
) -> Result<LossGrad, SpinflipError> {
    run::<f64>(weights, freqs, params, targets, None, None)
}

/// The gradient of a scalar of the network's output with respect to its (normalised)
/// parameter inputs, by reverse mode through the sequence: the forward pass once, then the
/// gate gradients backward without the weight gradients (about half the cost of a
/// training backward pass).
pub struct InputGradient<T: 'static> {
    prep: Prep<T>,
    freqs: Vec<T>,
}

impl InputGradient<f32> {
    /// For `weights` with the normalised step frequencies `freqs` (`n_steps` values).
    pub fn new(weights: &LstmWeights, freqs: &[f32]) -> Result<Self, SpinflipError> {
        Self::build(weights, freqs)
    }
}

impl InputGradient<f64> {
    /// The same in `f64` arithmetic (for checks).
    pub fn new_f64(weights: &LstmWeights, freqs: &[f32]) -> Result<Self, SpinflipError> {
        Self::build(weights, freqs)
    }
}

#[allow(private_bounds)]
impl<T: Real> InputGradient<T> {
    fn build(weights: &LstmWeights, freqs: &[f32]) -> Result<Self, SpinflipError> {
        let c = weights.config;
        check(
            weights,
            freqs,
            &vec![0.0; c.n_params],
            &vec![0.0; c.n_outputs()],
        )?;
        Ok(InputGradient {
            prep: Prep::new(weights),
            freqs: freqs.iter().map(|&x| T::of32(x)).collect(),
        })
    }

    /// Run the network on normalised parameters `p`, write its normalised output sequence
    /// into `seq`, ask `cotangent` for `v = d(scalar)/d(seq)` given that output, and return
    /// `d(scalar)/dp = J^T v` (a vector-Jacobian product).
    pub fn vjp(
        &self,
        p: &[f32],
        seq: &mut [f64],
        cotangent: impl FnOnce(&[f64]) -> Vec<f64>,
    ) -> Result<Vec<f64>, SpinflipError> {
        let cfg = self.prep.config;
        let (h, nt, np, k_out) = (cfg.hidden, cfg.n_steps, cfg.n_params, cfg.outputs_per_step);
        if p.len() != np || seq.len() != cfg.n_outputs() {
            return Err(SpinflipError::shape(
                "LSTM input gradient",
                format!(
                    "{np} parameters and {} outputs expected, got {} and {}",
                    cfg.n_outputs(),
                    p.len(),
                    seq.len()
                ),
            ));
        }
        let pt: Vec<T> = p.iter().map(|&x| T::of32(x)).collect();
        let mut wk = Work::<T>::new_lean(&cfg);
        let isa = Isa::detect();
        pass_best::<T, false>(isa, false, &self.prep, &self.freqs, &pt, &mut wk);
        let top = cfg.layers - 1;
        for t in 0..nt {
            let ht = &wk.hs[top][t * h..(t + 1) * h];
            for q in 0..k_out {
                let w = &self.prep.head_w[q * h..(q + 1) * h];
                let mut y = self.prep.head_b[q];
                for k in 0..h {
                    y += w[k] * ht[k];
                }
                seq[t * k_out + q] = y.to64();
            }
        }
        let v = cotangent(seq);
        if v.len() != seq.len() {
            return Err(SpinflipError::shape(
                "LSTM output cotangent",
                format!("{} values for {} outputs", v.len(), seq.len()),
            ));
        }
        for t in 0..nt {
            let d = &mut wk.dh_out[t * h..(t + 1) * h];
            d.iter_mut().for_each(|x| *x = T::default());
            for q in 0..k_out {
                let w = &self.prep.head_w[q * h..(q + 1) * h];
                axpy(d, T::of(v[t * k_out + q]), w);
            }
        }
        pass_best::<T, false>(isa, true, &self.prep, &self.freqs, &pt, &mut wk);
        // Layer 0 sees the parameters at every step through the same columns of W_ih:
        // dp_j = sum_r (sum_t dz_r(t)) W_ih[r][j], and the bias gradient is that sum.
        let (n_in, h4) = (self.prep.layers[0].n_in, 4 * h);
        let g_b = &wk.g[2];
        let w_ih = &self.prep.layers[0].w_ih;
        Ok((0..np)
            .map(|j| {
                (0..h4)
                    .map(|r| g_b[r].to64() * w_ih[r * n_in + j].to64())
                    .sum()
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::network::LstmNetwork;
    use candle_core::{Device, Tensor};
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn blocked_gemv_gives_the_bits_of_one_axpy_per_input() {
        // Widths below, at and above the block, with a tail: the blocked product must repeat
        // the axpy sequence operation for operation (training results depend on it).
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        for width in [7, GEMV_BLOCK, 3 * GEMV_BLOCK + 8] {
            let n = 37;
            let w: Vec<f32> = (0..n * width)
                .map(|_| rng.random_range(-1.0..1.0))
                .collect();
            let x: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let y0: Vec<f32> = (0..width).map(|_| rng.random_range(-1.0..1.0)).collect();
            let mut by_axpy = y0.clone();
            for k in 0..n {
                axpy(&mut by_axpy, x[k], &w[k * width..(k + 1) * width]);
            }
            let mut blocked = y0;
            gemv_acc(&mut blocked, &x, &w);
            assert_eq!(blocked, by_axpy, "width {width}");
        }
    }

    /// Random inputs in the normalised ranges: parameters and frequencies in [0, 1],
    /// targets in [-1, 1] (away from the network's output so the gradient is not small).
    fn inputs(c: LstmConfig, b: usize, seed: u64) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let freqs = (0..c.n_steps)
            .map(|t| t as f32 / c.n_steps.max(2) as f32)
            .collect();
        let params = (0..b * c.n_params).map(|_| rng.random::<f32>()).collect();
        let targets = (0..b * c.n_outputs())
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        (freqs, params, targets)
    }

    /// Loss and gradients from candle's autograd on the reference network.
    fn candle_grads(
        w: &LstmWeights,
        freqs: &[f32],
        params: &[f32],
        targets: &[f32],
    ) -> (f64, Vec<Vec<f32>>) {
        let c = w.config;
        let dev = Device::Cpu;
        let b = params.len() / c.n_params;
        let net = LstmNetwork::from_weights(w, &dev).unwrap();
        let p = Tensor::from_slice(params, (b, c.n_params), &dev).unwrap();
        let f = Tensor::from_slice(freqs, c.n_steps, &dev).unwrap();
        let y = Tensor::from_slice(targets, (b, c.n_outputs()), &dev).unwrap();
        let loss = net.mse(&p, &f, &y).unwrap();
        let grads = loss.backward().unwrap();
        let g = net
            .vars()
            .iter()
            .map(|v| {
                grads
                    .get(v.as_tensor())
                    .unwrap()
                    .flatten_all()
                    .unwrap()
                    .to_vec1::<f32>()
                    .unwrap()
            })
            .collect();
        (f64::from(loss.to_scalar::<f32>().unwrap()), g)
    }

    /// Largest deviation of each tensor relative to that tensor's largest reference
    /// entry; returns the worst over tensors.
    fn worst_rel(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| {
                let scale = y.iter().fold(0f64, |m, v| m.max(v.abs()));
                assert!(scale > 0.0, "a reference gradient is identically zero");
                x.iter().zip(y).fold(0f64, |m, (u, v)| m.max((u - v).abs())) / scale
            })
            .fold(0.0, f64::max)
    }

    fn against_candle(c: LstmConfig, b: usize, seed: u64, tol: f64) {
        let w = LstmWeights::random(c, seed);
        let (freqs, params, targets) = inputs(c, b, seed + 100);
        let (l_ref, g_ref) = candle_grads(&w, &freqs, &params, &targets);
        let g_ref: Vec<Vec<f64>> = g_ref
            .iter()
            .map(|v| v.iter().map(|&x| f64::from(x)).collect())
            .collect();
        let ours = loss_and_grad(&w, &freqs, &params, &targets).unwrap();
        assert!(
            (ours.loss - l_ref).abs() < 1e-5 * l_ref,
            "loss {} vs candle {l_ref}",
            ours.loss
        );
        let r = worst_rel(&ours.grads, &g_ref);
        eprintln!(
            "{c:?}: loss rel {:e}, f32 grad {r:e}",
            (ours.loss - l_ref).abs() / l_ref
        );
        assert!(r < tol, "{c:?}: f32 gradient off by {r:e} relative");
        let ours64 = loss_and_grad_f64(&w, &freqs, &params, &targets).unwrap();
        let r64 = worst_rel(&ours64.grads, &g_ref);
        eprintln!("{c:?}: f64 grad {r64:e}");
        assert!(r64 < tol, "{c:?}: f64 gradient off by {r64:e} relative");
    }

    #[test]
    fn gradient_matches_candle_on_small_nets() {
        for (hidden, layers, n_steps, outputs_per_step, seed) in [
            (3, 2, 5, 1, 1),
            (8, 2, 17, 1, 2),
            (5, 1, 9, 1, 3),
            (4, 3, 7, 1, 4),
            (6, 2, 5, 4, 5),
        ] {
            let c = LstmConfig {
                n_params: 7,
                hidden,
                layers,
                n_steps,
                outputs_per_step,
            };
            against_candle(c, 6, seed, 1e-5);
        }
    }

    #[test]
    fn gradient_matches_candle_over_the_full_sequence() {
        let c = LstmConfig {
            n_params: 7,
            hidden: 4,
            layers: 2,
            n_steps: 451,
            outputs_per_step: 1,
        };
        against_candle(c, 5, 9, 1e-5);
    }

    #[test]
    fn gradient_matches_central_differences_in_f64() {
        let c = LstmConfig {
            n_params: 3,
            hidden: 3,
            layers: 2,
            n_steps: 6,
            outputs_per_step: 2,
        };
        let mut w = LstmWeights::random(c, 11);
        // Non-zero head biases and non-default gate biases, so every path is exercised.
        w.head_b = vec![0.3, -0.2];
        for lw in &mut w.layers {
            for (k, b) in lw.bias.iter_mut().enumerate() {
                *b += 0.05 * k as f32 - 0.2;
            }
        }
        let (freqs, params, targets) = inputs(c, 3, 12);
        let g = loss_and_grad_f64(&w, &freqs, &params, &targets)
            .unwrap()
            .grads;
        let loss = |w: &LstmWeights| {
            loss_and_grad_f64(w, &freqs, &params, &targets)
                .unwrap()
                .loss
        };
        let n_tensors = g.len();
        let mut worst = 0f64;
        for ti in 0..n_tensors {
            let len = g[ti].len();
            for k in 0..len {
                let x0 = w.tensors()[ti].2[k];
                let eps = 1e-3f32;
                let set = |w: &mut LstmWeights, v: f32| {
                    let nl = w.layers.len();
                    let slot: &mut f32 = if ti < 3 * nl {
                        let lw = &mut w.layers[ti / 3];
                        match ti % 3 {
                            0 => &mut lw.w_ih[k],
                            1 => &mut lw.w_hh[k],
                            _ => &mut lw.bias[k],
                        }
                    } else if ti == 3 * nl {
                        &mut w.head_w[k]
                    } else {
                        &mut w.head_b[k]
                    };
                    *slot = v;
                };
                let (xp, xm) = (x0 + eps, x0 - eps);
                let mut wp = w.clone();
                set(&mut wp, xp);
                let mut wm = w.clone();
                set(&mut wm, xm);
                // The step actually taken (f32 rounding of x0 +- eps), exact in f64.
                let fd = (loss(&wp) - loss(&wm)) / (f64::from(xp) - f64::from(xm));
                let err = (fd - g[ti][k]).abs() / (g[ti][k].abs() + 1e-4);
                worst = worst.max(err);
            }
        }
        eprintln!("finite differences: worst relative error {worst:e}");
        // Central differences with h = 1e-3 err by O(h^2) ~ 1e-6 relative (measured 6e-7); a
        // 0.1% error in one gate derivative gives 1e-3.
        assert!(worst < 1e-5, "worst relative error {worst:e}");
    }

    #[test]
    fn weighted_gradient_matches_candle() {
        let c = LstmConfig {
            n_params: 4,
            hidden: 5,
            layers: 2,
            n_steps: 6,
            outputs_per_step: 3,
        };
        let b = 4;
        let w = LstmWeights::random(c, 21);
        let (freqs, params, targets) = inputs(c, b, 22);
        let sw = [0.5f32, 2.0, 7.0, 0.0];
        let dev = Device::Cpu;
        let net = LstmNetwork::from_weights(&w, &dev).unwrap();
        let loss = net
            .weighted_mse(
                &Tensor::from_slice(&params, (b, c.n_params), &dev).unwrap(),
                &Tensor::from_slice(&freqs, c.n_steps, &dev).unwrap(),
                &Tensor::from_slice(&targets, (b, c.n_outputs()), &dev).unwrap(),
                &Tensor::from_slice(&sw, b, &dev).unwrap(),
            )
            .unwrap();
        let grads = loss.backward().unwrap();
        let g_ref: Vec<Vec<f64>> = net
            .vars()
            .iter()
            .map(|v| {
                let g = grads.get(v.as_tensor()).unwrap();
                let g = g.flatten_all().unwrap().to_vec1::<f32>().unwrap();
                g.iter().map(|&x| f64::from(x)).collect()
            })
            .collect();
        let ours = loss_and_grad_weighted(&w, &freqs, &params, &targets, &sw).unwrap();
        let l_ref = f64::from(loss.to_scalar::<f32>().unwrap());
        assert!(
            (ours.loss - l_ref).abs() < 1e-5 * l_ref,
            "{} vs {l_ref}",
            ours.loss
        );
        let r = worst_rel(&ours.grads, &g_ref);
        assert!(r < 1e-5, "weighted gradient off by {r:e} relative");
        // Negative or non-finite weights are refused.
        let bad = [1.0f32, -1.0, 1.0, 1.0];
        assert!(loss_and_grad_weighted(&w, &freqs, &params, &targets, &bad).is_err());
        assert!(loss_and_grad_weighted(&w, &freqs, &params, &targets, &sw[..3]).is_err());
    }

    #[test]
    fn tail_loss_is_the_weighted_loss_with_chain_rule_factors() {
        // d(s + s^2 / s_ref) = (1 + 2 s / s_ref) ds: the tail gradient is the weighted one
        // with each signal's weight times that factor, s taken at the current weights.
        let c = LstmConfig {
            n_params: 3,
            hidden: 6,
            layers: 2,
            n_steps: 5,
            outputs_per_step: 2,
        };
        let b = 5;
        let w = LstmWeights::random(c, 31);
        let (freqs, params, targets) = inputs(c, b, 32);
        let sw = [0.5f32, 2.0, 1.0, 0.0, 3.0];
        let s_ref = 0.5;
        let (np, no) = (c.n_params, c.n_outputs());
        let s: Vec<f64> = (0..b)
            .map(|i| {
                loss_and_grad_weighted(
                    &w,
                    &freqs,
                    &params[i * np..(i + 1) * np],
                    &targets[i * no..(i + 1) * no],
                    &sw[i..i + 1],
                )
                .unwrap()
                .loss
            })
            .collect();
        let scaled: Vec<f32> = (0..b)
            .map(|i| (f64::from(sw[i]) * (1.0 + 2.0 * s[i] / s_ref)) as f32)
            .collect();
        let expect = loss_and_grad_weighted(&w, &freqs, &params, &targets, &scaled).unwrap();
        let tail = loss_and_grad_tail(&w, &freqs, &params, &targets, &sw, s_ref).unwrap();
        let l_exp = s.iter().map(|x| x + x * x / s_ref).sum::<f64>() / b as f64;
        assert!(
            (tail.loss - l_exp).abs() < 1e-6 * l_exp,
            "{} vs {l_exp}",
            tail.loss
        );
        let r = worst_rel(&tail.grads, &expect.grads);
        assert!(r < 1e-5, "tail gradient off by {r:e} relative");
        assert!(loss_and_grad_tail(&w, &freqs, &params, &targets, &sw, 0.0).is_err());
    }

    #[test]
    fn result_does_not_depend_on_the_thread_count() {
        let c = LstmConfig {
            n_params: 7,
            hidden: 6,
            layers: 2,
            n_steps: 20,
            outputs_per_step: 1,
        };
        let w = LstmWeights::random(c, 5);
        let (freqs, params, targets) = inputs(c, 13, 6);
        let run_on = |n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
                .install(|| loss_and_grad(&w, &freqs, &params, &targets).unwrap())
        };
        assert_eq!(run_on(1), run_on(3));
    }

    #[test]
    fn bad_input_is_an_error() {
        let c = LstmConfig {
            n_params: 2,
            hidden: 3,
            layers: 1,
            n_steps: 4,
            outputs_per_step: 1,
        };
        let w = LstmWeights::random(c, 1);
        assert!(loss_and_grad(&w, &[0.0; 3], &[0.0; 2], &[0.0; 4]).is_err());
        assert!(loss_and_grad(&w, &[0.0; 4], &[0.0; 3], &[0.0; 4]).is_err());
        assert!(loss_and_grad(&w, &[0.0; 4], &[0.0; 2], &[0.0; 5]).is_err());
    }
}
