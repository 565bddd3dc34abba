//! Hand-written `f32` CPU forward pass of the trained LSTM.
//!
//! - The four gates of a layer are one fused matrix-vector product per step, over the
//!   concatenated input `[h_below; h_own]` (layer 0: only `h_own`).
//! - Layer 0's input is the parameters (constant along the sequence) and the frequency:
//!   `W_par p + b` is computed once per signal, and each step adds `w_nu * nu_t`.
//! - Signals are processed in groups of `L` lanes laid out `[row][lane]`, so the inner loops
//!   run across the batch (`L = 16`), or, for a single signal (`L = 1`), across gate rows.
//!   Gate rows are accumulated in register blocks of `JB` rows.
//! - exp/tanh are the polynomial versions of [`super::fast_math`], vectorised with the rest.
//! - The hot loop is compiled three times on x86-64 (baseline, AVX2+FMA, AVX-512) and the
//!   best one the CPU supports is picked at run time; on aarch64 it uses NEON's FMA. One
//!   signal at a time goes through intrinsics kernels per instruction set
//!   ([`super::fast_avx512`], `fast_avx2`, `fast_neon`) over blocked weights.

use super::config::LstmConfig;
use super::fast_math::{sigmoid_slice, tanh, tanh_slice};
pub use super::isa::Isa;
pub use super::packed::PackedLstm;
use super::weights::LstmWeights;
use crate::SpinflipError;

/// Lanes per group in batched calls.
const LANES: usize = 16;

/// The network for the CPU: its packed weights and the instruction set in use.
#[derive(Debug, Clone)]
pub struct FastLstm {
    packed: PackedLstm,
    isa: Isa,
}

impl std::ops::Deref for FastLstm {
    type Target = PackedLstm;
    fn deref(&self) -> &PackedLstm {
        &self.packed
    }
}

/// Per-call working memory for `L` lanes.
struct Scratch<const L: usize> {
    /// Per layer: `[h_below (layers > 0); h_own]` rows.
    xh: Vec<Vec<[f32; L]>>,
    /// Per layer: cell state rows.
    c: Vec<Vec<[f32; L]>>,
    /// Layer 0 constant gate part `W_par p + b`.
    c0: Vec<[f32; L]>,
    /// Gate pre-activations (`4h` rows).
    g: Vec<[f32; L]>,
    /// tanh of the cell state.
    tc: Vec<[f32; L]>,
}

impl<const L: usize> Scratch<L> {
    fn new(c: &LstmConfig) -> Self {
        let h = c.hidden;
        let xh = (0..c.layers)
            .map(|l| vec![[0.0; L]; if l == 0 { h } else { 2 * h }])
            .collect();
        Scratch {
            xh,
            c: vec![vec![[0.0; L]; h]; c.layers],
            c0: vec![[0.0; L]; 4 * h],
            g: vec![[0.0; L]; 4 * h],
            tc: vec![[0.0; L]; h],
        }
    }
}

#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

fn flat<const L: usize>(v: &mut [[f32; L]]) -> &mut [f32] {
    v.as_flattened_mut()
}

impl FastLstm {
    /// Re-lay out `weights`; `freqs` are the normalised frequencies in sequence order
    /// (`n_steps` values, see [`super::Normalisation::frequency_inputs`]).
    pub fn new(weights: &LstmWeights, freqs: Vec<f32>) -> Result<Self, SpinflipError> {
        Ok(FastLstm {
            packed: PackedLstm::new(weights, freqs)?,
            isa: Isa::detect(),
        })
    }

    /// Architecture.
    pub fn config(&self) -> &LstmConfig {
        &self.config
    }

    /// Instruction set in use.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// Use another instruction set (for benchmarks); refused if the CPU lacks it.
    pub fn set_isa(&mut self, isa: Isa) -> Result<(), SpinflipError> {
        if !isa.supported() {
            return Err(SpinflipError::config(
                "isa",
                format!("{isa:?} is not supported by this CPU"),
            ));
        }
        self.isa = isa;
        Ok(())
    }

    /// One signal: normalised parameters (`n_params`) to the normalised sequence
    /// (`n_outputs`, high z first).
    pub fn forward(&self, params: &[f32], out: &mut [f32]) -> Result<(), SpinflipError> {
        self.check_lengths(params.len(), out.len(), 1)?;
        self.forward_unchecked(params, out);
        Ok(())
    }

    /// Lengths of a call on `n` signals: `n * n_params` inputs, `n * n_outputs` outputs.
    fn check_lengths(&self, n_in: usize, n_out: usize, n: usize) -> Result<(), SpinflipError> {
        let (p, t) = (self.config.n_params, self.config.n_outputs());
        if n_in != n * p || n_out != n * t {
            return Err(SpinflipError::shape(
                "fast LSTM call",
                format!(
                    "{n} signal(s) take {} parameters and {} outputs; got {n_in} and {n_out}",
                    n * p,
                    n * t
                ),
            ));
        }
        Ok(())
    }

    fn forward_unchecked(&self, params: &[f32], out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if self.isa == Isa::Avx512 && self.config.hidden.is_multiple_of(16) {
            // SAFETY: `isa` is only set to instruction sets the CPU supports.
            unsafe { super::fast_avx512::run1(&self.packed, params, out) };
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if self.isa == Isa::Avx2 && self.config.hidden.is_multiple_of(8) {
            // SAFETY: as above.
            unsafe { super::fast_avx2::run1(&self.packed, params, out) };
            return;
        }
        #[cfg(target_arch = "aarch64")]
        if self.isa == Isa::Neon && self.config.hidden.is_multiple_of(4) {
            super::fast_neon::run1(&self.packed, params, out);
            return;
        }
        let par: Vec<[f32; 1]> = params.iter().map(|&x| [x]).collect();
        let mut o = vec![[0.0f32; 1]; self.config.n_outputs()];
        self.dispatch::<1, 32>(&par, &mut o);
        for (a, b) in out.iter_mut().zip(&o) {
            *a = b[0];
        }
    }

    /// Signals per group of the batched path: a batch of `n` costs as much as one of
    /// `n` rounded up to a multiple of this.
    pub fn preferred_batch(&self) -> usize {
        LANES
    }

    /// `n` signals: `params` row-major (`n * n_params`), `out` row-major (`n * n_outputs`).
    pub fn forward_batch(&self, params: &[f32], out: &mut [f32]) -> Result<(), SpinflipError> {
        let p = self.config.n_params;
        let n = params.len() / p.max(1);
        self.check_lengths(params.len(), out.len(), n)?;
        self.forward_batch_unchecked(params, out, n == 1);
        Ok(())
    }

    /// `single`: a lone signal may take the batch-1 kernel. Its numbers differ from the
    /// batched kernels' in the last bits (another summation order), so it is used only when
    /// the whole call is one signal: then a signal's numbers never depend on how a batch
    /// was split (into groups, or over threads).
    fn forward_batch_unchecked(&self, params: &[f32], out: &mut [f32], single: bool) {
        let (p, t) = (self.config.n_params, self.config.n_outputs());
        let n = params.len() / p;
        let mut i = 0;
        while i < n {
            let m = (n - i).min(LANES);
            if m == 1 && single {
                self.forward_unchecked(&params[i * p..(i + 1) * p], &mut out[i * t..(i + 1) * t]);
            } else if m <= 8 && self.isa != Isa::Avx512 {
                self.group::<8, 8>(&params[i * p..(i + m) * p], &mut out[i * t..(i + m) * t]);
            } else {
                self.group::<LANES, 8>(&params[i * p..(i + m) * p], &mut out[i * t..(i + m) * t]);
            }
            i += m;
        }
    }

    /// As [`FastLstm::forward_batch`], split over the rayon thread pool in blocks of 8 to
    /// 64 signals, about one block per thread for small batches. The same numbers bit for
    /// bit whatever the number of threads: a signal's arithmetic in the batched kernels does
    /// not depend on its lane or group width, and a block of one signal still runs batched.
    pub fn forward_batch_par(&self, params: &[f32], out: &mut [f32]) -> Result<(), SpinflipError> {
        use rayon::prelude::*;
        let (p, t) = (self.config.n_params, self.config.n_outputs());
        let n = params.len() / p.max(1);
        self.check_lengths(params.len(), out.len(), n)?;
        let block = n
            .div_ceil(rayon::current_num_threads())
            .next_multiple_of(8)
            .clamp(8, 64);
        params
            .par_chunks(block * p)
            .zip(out.par_chunks_mut(block * t))
            .for_each(|(pp, oo)| self.forward_batch_unchecked(pp, oo, n == 1));
        Ok(())
    }

    /// Up to `L` signals (missing lanes repeat the last one).
    fn group<const L: usize, const JB: usize>(&self, params: &[f32], out: &mut [f32]) {
        let (p, t) = (self.config.n_params, self.config.n_outputs());
        let m = params.len() / p;
        let mut par = vec![[0.0f32; L]; p];
        for lane in 0..L {
            let s = lane.min(m - 1);
            for k in 0..p {
                par[k][lane] = params[s * p + k];
            }
        }
        let mut o = vec![[0.0f32; L]; t];
        #[cfg(target_arch = "x86_64")]
        if L == 16 && self.isa == Isa::Avx512 {
            // SAFETY: as above; L == 16 so the casts are to the same type.
            let (p16, o16) = unsafe {
                (
                    std::slice::from_raw_parts(par.as_ptr().cast::<[f32; 16]>(), par.len()),
                    std::slice::from_raw_parts_mut(o.as_mut_ptr().cast::<[f32; 16]>(), o.len()),
                )
            };
            unsafe { super::fast_avx512::run16(&self.packed, p16, o16) };
        } else {
            self.dispatch::<L, JB>(&par, &mut o);
        }
        #[cfg(not(target_arch = "x86_64"))]
        self.dispatch::<L, JB>(&par, &mut o);
        for s in 0..m {
            for step in 0..t {
                out[s * t + step] = o[step][s];
            }
        }
    }

    fn dispatch<const L: usize, const JB: usize>(&self, par: &[[f32; L]], out: &mut [[f32; L]]) {
        match self.isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `isa` is only ever set to an instruction set the CPU supports.
            Isa::Avx512 => unsafe { self.run_avx512::<L, JB>(par, out) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Isa::Avx2 => unsafe { self.run_avx2::<L, JB>(par, out) },
            // aarch64 has vector FMA in its baseline: `mul_add` becomes `fmla`.
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => self.run::<L, JB, true>(par, out),
            _ => self.run::<L, JB, false>(par, out),
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn run_avx512<const L: usize, const JB: usize>(
        &self,
        par: &[[f32; L]],
        out: &mut [[f32; L]],
    ) {
        self.run::<L, JB, true>(par, out)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run_avx2<const L: usize, const JB: usize>(
        &self,
        par: &[[f32; L]],
        out: &mut [[f32; L]],
    ) {
        self.run::<L, JB, true>(par, out)
    }

    /// The forward pass of `L` lanes; `par`: `n_params` rows, `out`: `n_outputs` rows.
    #[inline(always)]
    fn run<const L: usize, const JB: usize, const FMA: bool>(
        &self,
        par: &[[f32; L]],
        out: &mut [[f32; L]],
    ) {
        let c = &self.config;
        let h = c.hidden;
        let g4 = 4 * h;
        let mut s = Scratch::<L>::new(c);
        // Layer 0's constant gate part, once per signal.
        for j in 0..g4 {
            s.c0[j] = [self.bias[0][j]; L];
        }
        for (k, pk) in par.iter().enumerate() {
            let w = &self.w0_par_t[k * g4..(k + 1) * g4];
            for j in 0..g4 {
                for lane in 0..L {
                    s.c0[j][lane] = madd::<FMA>(w[j], pk[lane], s.c0[j][lane]);
                }
            }
        }
        let k_out = c.outputs_per_step;
        for (step, o) in out.chunks_exact_mut(k_out).enumerate() {
            let nu = self.freqs[step];
            for l in 0..c.layers {
                // Gate pre-activations start from the input-independent part.
                if l == 0 {
                    for j in 0..g4 {
                        let base = self.w0_nu[j] * nu;
                        for lane in 0..L {
                            s.g[j][lane] = s.c0[j][lane] + base;
                        }
                    }
                } else {
                    for j in 0..g4 {
                        s.g[j] = [self.bias[l][j]; L];
                    }
                }
                matvec_acc::<L, JB, FMA>(&self.w_t[l], &s.xh[l], &mut s.g, g4);
                sigmoid_slice(flat(&mut s.g[..3 * h]));
                tanh_slice(flat(&mut s.g[3 * h..]));
                // Cell update; gate rows are [i, f, o, g]. Flat slices of equal length
                // so the loops vectorise without bounds checks.
                let hl = h * L;
                let off = if l == 0 { 0 } else { h };
                {
                    let g = s.g.as_flattened();
                    let (gi, rest) = g.split_at(hl);
                    let (gf, rest) = rest.split_at(hl);
                    let (go, gg) = rest.split_at(hl);
                    let cs = s.c[l].as_flattened_mut();
                    let tc = s.tc.as_flattened_mut();
                    for ((((cv, t), i), f), g) in
                        cs.iter_mut().zip(tc.iter_mut()).zip(gi).zip(gf).zip(gg)
                    {
                        *cv = madd::<FMA>(*f, *cv, *i * *g);
                        *t = tanh(*cv);
                    }
                    let hout = &mut s.xh[l].as_flattened_mut()[off * L..(off + h) * L];
                    for ((hv, o), t) in hout.iter_mut().zip(go).zip(tc.iter()) {
                        *hv = *o * *t;
                    }
                }
                if l + 1 < c.layers {
                    let (lo, hi) = s.xh.split_at_mut(l + 1);
                    hi[0][..h].copy_from_slice(&lo[l][off..off + h]);
                }
            }
            let top = &s.xh[c.layers - 1];
            let off = if c.layers == 1 { 0 } else { h };
            for (q, oq) in o.iter_mut().enumerate() {
                let w = &self.head_w[q * h..(q + 1) * h];
                let mut acc = [self.head_b[q]; L];
                for u in 0..h {
                    for lane in 0..L {
                        acc[lane] = madd::<FMA>(w[u], top[off + u][lane], acc[lane]);
                    }
                }
                *oq = acc;
            }
        }
    }
}

/// `g[j] += sum_k w_t[k][j] x[k]` for `rows` gate rows, `JB` rows at a time held in
/// registers; `w_t` has `x.len()` rows of `rows` values.
#[inline(always)]
fn matvec_acc<const L: usize, const JB: usize, const FMA: bool>(
    w_t: &[f32],
    x: &[[f32; L]],
    g: &mut [[f32; L]],
    rows: usize,
) {
    let full = rows / JB * JB;
    let mut jb = 0;
    while jb < full {
        let mut acc = [[0.0f32; L]; JB];
        acc.copy_from_slice(&g[jb..jb + JB]);
        for (k, xk) in x.iter().enumerate() {
            let w: &[f32; JB] = w_t[k * rows + jb..k * rows + jb + JB].try_into().unwrap();
            for jj in 0..JB {
                for lane in 0..L {
                    acc[jj][lane] = madd::<FMA>(w[jj], xk[lane], acc[jj][lane]);
                }
            }
        }
        g[jb..jb + JB].copy_from_slice(&acc);
        jb += JB;
    }
    for j in full..rows {
        let mut acc = g[j];
        for (k, xk) in x.iter().enumerate() {
            let w = w_t[k * rows + j];
            for lane in 0..L {
                acc[lane] = madd::<FMA>(w, xk[lane], acc[lane]);
            }
        }
        g[j] = acc;
    }
}
