//! aarch64 NEON kernel of the fast path for one signal (Apple silicon, Graviton, Ampere):
//! the gate matrix-vector product with intrinsics, four gate rows to a register, over the
//! blocked weights of [`PackedLstm::w_blk`] (64-row blocks in 16 of the 32 vector
//! registers), as [`super::fast_avx2`] does with eight. Needs `hidden % 4 == 0`. The
//! activations and cell update are the portable slice loops of [`super::fast_math`], which
//! the compiler vectorises for NEON (a baseline feature of aarch64, so no run-time check).

#![cfg(target_arch = "aarch64")]

use std::arch::aarch64::*;

use super::fast_math::{sigmoid_slice, tanh, tanh_slice};
use super::packed::{PackedLstm, ROW_BLOCK};

/// `g[j] += sum_k W[k][j] x[k]` for `j < g4`, `W` in the blocked layout of
/// [`PackedLstm::w_blk`]: 64-row blocks in 16 registers, then 4-row tails.
///
/// # Safety
/// `g4 % 4 == 0`, `w.len() >= x.len() * g4`, `g.len() >= g4`.
#[inline]
unsafe fn matvec_acc(w: &[f32], x: &[f32], g: &mut [f32], g4: usize) {
    debug_assert!(w.len() >= x.len() * g4 && g.len() >= g4 && g4.is_multiple_of(4));
    debug_assert_eq!(ROW_BLOCK, 64);
    let gp = g.as_mut_ptr();
    let n = x.len();
    let mut jb = 0;
    // SAFETY (all pointer accesses below): block jb starts at jb * n and holds n rows of
    // its width, so every index stays below x.len() * g4 <= w.len(); stores stay below
    // g4 <= g.len(), as the caller guarantees.
    unsafe {
        while jb + 64 <= g4 {
            let p = gp.add(jb);
            let mut a = [vdupq_n_f32(0.0); 16];
            for (i, ai) in a.iter_mut().enumerate() {
                *ai = vld1q_f32(p.add(4 * i));
            }
            let mut r = w.as_ptr().add(jb * n);
            for &xk in x {
                let xv = vdupq_n_f32(xk);
                for (i, ai) in a.iter_mut().enumerate() {
                    *ai = vfmaq_f32(*ai, vld1q_f32(r.add(4 * i)), xv);
                }
                r = r.wrapping_add(64);
            }
            for (i, ai) in a.iter().enumerate() {
                vst1q_f32(p.add(4 * i), *ai);
            }
            jb += 64;
        }
        // The last block (narrower than 64) starts at jb * n with rows of `width`.
        let width = g4 - jb;
        let base = w.as_ptr().add(jb * n);
        let mut t = 0;
        while t < width {
            // Two partial sums halve the dependency chain.
            let mut a = vld1q_f32(gp.add(jb + t));
            let mut b = vdupq_n_f32(0.0);
            let mut k = 0;
            while k + 1 < n {
                a = vfmaq_f32(a, vld1q_f32(base.add(k * width + t)), vdupq_n_f32(x[k]));
                b = vfmaq_f32(
                    b,
                    vld1q_f32(base.add((k + 1) * width + t)),
                    vdupq_n_f32(x[k + 1]),
                );
                k += 2;
            }
            if k < n {
                a = vfmaq_f32(a, vld1q_f32(base.add(k * width + t)), vdupq_n_f32(x[k]));
            }
            vst1q_f32(gp.add(jb + t), vaddq_f32(a, b));
            t += 4;
        }
    }
}

/// One signal, the matrix-vector products vectorised across gate rows. Requires
/// `hidden % 4 == 0`.
pub(super) fn run1(net: &PackedLstm, par: &[f32], out: &mut [f32]) {
    let c = net.config;
    let h = c.hidden;
    let g4 = 4 * h;
    assert!(h.is_multiple_of(4), "run1 needs hidden % 4 == 0");
    let (mut xh, mut cs) = net.zero_state();
    let mut tc = vec![0f32; h];
    let mut g = vec![0f32; g4];
    let c0 = net.layer0_constant(par);
    let k_out = c.outputs_per_step;
    for (step, o) in out.chunks_exact_mut(k_out).enumerate() {
        let nu = net.freqs[step];
        for l in 0..c.layers {
            if l == 0 {
                for ((gv, w), cv) in g.iter_mut().zip(&net.w0_nu).zip(&c0) {
                    *gv = w.mul_add(nu, *cv);
                }
            } else {
                g.copy_from_slice(&net.bias[l]);
            }
            // SAFETY: w_blk[l] holds x.len() rows of g4 (PackedLstm::new), g has g4 values,
            // g4 = 4h is a multiple of 4.
            unsafe { matvec_acc(&net.w_blk[l], &xh[l], &mut g, g4) };
            sigmoid_slice(&mut g[..3 * h]);
            tanh_slice(&mut g[3 * h..]);
            let off = if l == 0 { 0 } else { h };
            let (own, below) = xh.split_at_mut(l + 1);
            let hout = &mut own[l][off..off + h];
            let (gi, rest) = g.split_at(h);
            let (gf, rest) = rest.split_at(h);
            let (go, gg) = rest.split_at(h);
            // Gate rows are [i, f, o, g]; equal-length slices so the loops vectorise.
            for ((((cv, t), i), f), gt) in
                cs[l].iter_mut().zip(tc.iter_mut()).zip(gi).zip(gf).zip(gg)
            {
                *cv = f.mul_add(*cv, *i * *gt);
                *t = tanh(*cv);
            }
            for ((hv, og), t) in hout.iter_mut().zip(go).zip(&tc) {
                *hv = *og * *t;
            }
            if let Some(next) = below.first_mut() {
                next[..h].copy_from_slice(hout);
            }
        }
        let off = if c.layers == 1 { 0 } else { h };
        let top = &xh[c.layers - 1][off..off + h];
        for (q, oq) in o.iter_mut().enumerate() {
            let w = &net.head_w[q * h..(q + 1) * h];
            // SAFETY: NEON is in every aarch64 CPU's baseline; each chunk has 4 elements.
            unsafe {
                let mut acc = vdupq_n_f32(0.0);
                for (wc, tcv) in w.chunks_exact(4).zip(top.chunks_exact(4)) {
                    acc = vfmaq_f32(acc, vld1q_f32(wc.as_ptr()), vld1q_f32(tcv.as_ptr()));
                }
                *oq = vaddvq_f32(acc) + net.head_b[q];
            }
        }
    }
}
