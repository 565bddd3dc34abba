//! AVX-512 kernels of the fast path, written with intrinsics: the compiler's
//! auto-vectorisation of the portable code turned out scalar (or gather/scatter) for these
//! loop shapes, so the hot loops are spelled out. Same algorithm as [`super::fast`]:
//! `run16` puts 16 signals in the 16 lanes of a register; `run1` vectorises one signal
//! across gate rows (needs `hidden % 16 == 0`).

#![cfg(target_arch = "x86_64")]

use std::arch::x86_64::*;

use super::packed::PackedLstm;

#[inline]
#[target_feature(enable = "avx512f")]
fn exp(x: __m512) -> __m512 {
    let x = _mm512_min_ps(
        _mm512_max_ps(x, _mm512_set1_ps(-87.0)),
        _mm512_set1_ps(88.0),
    );
    let magic = _mm512_set1_ps(12_582_912.0);
    let t = _mm512_fmadd_ps(x, _mm512_set1_ps(std::f32::consts::LOG2_E), magic);
    let n = _mm512_sub_ps(t, magic);
    let n_bits = _mm512_sub_epi32(_mm512_castps_si512(t), _mm512_castps_si512(magic));
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693_359_4), x);
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.121_944_4e-4), r);
    let mut p = _mm512_set1_ps(1.987_569_1e-4);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.398_199_9e-3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.333_452e-3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.166_579_6e-2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.666_666_5e-1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.000_000_1e-1));
    let rr = _mm512_mul_ps(r, r);
    let er = _mm512_add_ps(_mm512_fmadd_ps(p, rr, r), _mm512_set1_ps(1.0));
    let scale = _mm512_castsi512_ps(_mm512_slli_epi32::<23>(_mm512_add_epi32(
        n_bits,
        _mm512_set1_epi32(127),
    )));
    _mm512_mul_ps(er, scale)
}

/// 1 / d from the 14-bit reciprocal estimate and one Newton step (relative error ~1e-8;
/// a zmm division costs several times more).
#[inline]
#[target_feature(enable = "avx512f")]
fn recip(d: __m512) -> __m512 {
    let r = _mm512_rcp14_ps(d);
    // r (2 - d r)
    _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.0)))
}

#[inline]
#[target_feature(enable = "avx512f")]
fn sigmoid(x: __m512) -> __m512 {
    let one = _mm512_set1_ps(1.0);
    recip(_mm512_add_ps(
        one,
        exp(_mm512_sub_ps(_mm512_setzero_ps(), x)),
    ))
}

#[inline]
#[target_feature(enable = "avx512f")]
fn tanh(x: __m512) -> __m512 {
    let sign = _mm512_set1_epi32(i32::MIN);
    let xi = _mm512_castps_si512(x);
    let ax = _mm512_castsi512_ps(_mm512_andnot_si512(sign, xi));
    let z = _mm512_mul_ps(x, x);
    let mut p = _mm512_set1_ps(-5.704_988_7e-3);
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(2.063_908_9e-2));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-5.373_971_6e-2));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.333_144_2e-1));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-3.333_328_2e-1));
    let small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), x, x);
    let one = _mm512_set1_ps(1.0);
    let e = exp(_mm512_add_ps(ax, ax));
    let big = _mm512_fnmadd_ps(_mm512_set1_ps(2.0), recip(_mm512_add_ps(e, one)), one);
    let big = _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_castps_si512(big),
        _mm512_and_si512(xi, sign),
    ));
    let is_small = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(ax, _mm512_set1_ps(0.625));
    _mm512_mask_blend_ps(is_small, big, small)
}

/// 16 signals, one per lane: `par` has `n_params` vectors, `out` `n_outputs`.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn run16(net: &PackedLstm, par: &[[f32; 16]], out: &mut [[f32; 16]]) {
    let c = net.config;
    let h = c.hidden;
    let g4 = 4 * h;
    let zero = _mm512_setzero_ps();
    let ld = |a: &[f32; 16]| unsafe { _mm512_loadu_ps(a.as_ptr()) };
    let mut xh: Vec<Vec<__m512>> = (0..c.layers)
        .map(|l| vec![zero; if l == 0 { h } else { 2 * h }])
        .collect();
    let mut cs: Vec<Vec<__m512>> = vec![vec![zero; h]; c.layers];
    let mut g = vec![zero; g4];
    let mut c0 = vec![zero; g4];
    for (j, v) in c0.iter_mut().enumerate() {
        let mut acc = _mm512_set1_ps(net.bias[0][j]);
        for (k, pk) in par.iter().enumerate() {
            acc = _mm512_fmadd_ps(_mm512_set1_ps(net.w0_par_t[k * g4 + j]), ld(pk), acc);
        }
        *v = acc;
    }
    const JB: usize = 8;
    let k_out = c.outputs_per_step;
    for (step, o) in out.chunks_exact_mut(k_out).enumerate() {
        let nu = _mm512_set1_ps(net.freqs[step]);
        for l in 0..c.layers {
            if l == 0 {
                for j in 0..g4 {
                    g[j] = _mm512_fmadd_ps(_mm512_set1_ps(net.w0_nu[j]), nu, c0[j]);
                }
            } else {
                for j in 0..g4 {
                    g[j] = _mm512_set1_ps(net.bias[l][j]);
                }
            }
            // Eight accumulators in registers; raw pointers keep bounds checks out of the
            // k loop (all indices stay below x.len() * g4 = w.len()).
            let w = net.w_t[l].as_ptr();
            let x = &xh[l];
            let gp = g.as_mut_ptr();
            let mut jb = 0;
            while jb + JB <= g4 {
                let mut a0 = *gp.wrapping_add(jb);
                let mut a1 = *gp.wrapping_add(jb + 1);
                let mut a2 = *gp.wrapping_add(jb + 2);
                let mut a3 = *gp.wrapping_add(jb + 3);
                let mut a4 = *gp.wrapping_add(jb + 4);
                let mut a5 = *gp.wrapping_add(jb + 5);
                let mut a6 = *gp.wrapping_add(jb + 6);
                let mut a7 = *gp.wrapping_add(jb + 7);
                for (k, xk) in x.iter().enumerate() {
                    let xv = *xk;
                    let wr = w.wrapping_add(k * g4 + jb);
                    a0 = _mm512_fmadd_ps(_mm512_set1_ps(*wr), xv, a0);
                    a1 = _mm512_fmadd_ps(_mm512_set1_ps(*wr.wrapping_add(1)), xv, a1);
                    a2 = _mm512_fmadd_ps(_mm512_set1_ps(*wr.wrapping_add(2)), xv, a2);
                    a3 = _mm512_fmadd_ps(_mm512_set1_ps(*wr.wrapping_add(3)), xv, a3);
                    a4 = _mm512_fmadd_ps(_mm512_set1_ps(*wr.wrapping_add(4)), xv, a4);
                    a5 = _mm512_fmadd_ps(_mm512_set1_ps(*wr.wrapping_add(5)), xv, a5);
                    a6 = _mm512_fmadd_ps(_mm512_set1_ps(*wr.wrapping_add(6)), xv, a6);
                    a7 = _mm512_fmadd_ps(_mm512_set1_ps(*wr.wrapping_add(7)), xv, a7);
                }
                *gp.wrapping_add(jb) = a0;
                *gp.wrapping_add(jb + 1) = a1;
                *gp.wrapping_add(jb + 2) = a2;
                *gp.wrapping_add(jb + 3) = a3;
                *gp.wrapping_add(jb + 4) = a4;
                *gp.wrapping_add(jb + 5) = a5;
                *gp.wrapping_add(jb + 6) = a6;
                *gp.wrapping_add(jb + 7) = a7;
                jb += JB;
            }
            for j in jb..g4 {
                let mut acc = *gp.wrapping_add(j);
                for (k, xk) in x.iter().enumerate() {
                    acc = _mm512_fmadd_ps(_mm512_set1_ps(*w.wrapping_add(k * g4 + j)), *xk, acc);
                }
                *gp.wrapping_add(j) = acc;
            }
            let off = if l == 0 { 0 } else { h };
            for u in 0..h {
                let i = sigmoid(g[u]);
                let f = sigmoid(g[h + u]);
                let og = sigmoid(g[2 * h + u]);
                let gg = tanh(g[3 * h + u]);
                let cv = _mm512_fmadd_ps(f, cs[l][u], _mm512_mul_ps(i, gg));
                cs[l][u] = cv;
                let hv = _mm512_mul_ps(og, tanh(cv));
                xh[l][off + u] = hv;
                if l + 1 < c.layers {
                    xh[l + 1][u] = hv;
                }
            }
        }
        let off = if c.layers == 1 { 0 } else { h };
        let top = &xh[c.layers - 1];
        for (q, oq) in o.iter_mut().enumerate() {
            let w = &net.head_w[q * h..(q + 1) * h];
            let mut acc = _mm512_set1_ps(net.head_b[q]);
            for u in 0..h {
                acc = _mm512_fmadd_ps(_mm512_set1_ps(w[u]), top[off + u], acc);
            }
            _mm512_storeu_ps(oq.as_mut_ptr(), acc);
        }
    }
}

/// One signal, vectorised across gate rows. Requires `hidden % 16 == 0`.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn run1(net: &PackedLstm, par: &[f32], out: &mut [f32]) {
    let c = net.config;
    let h = c.hidden;
    let g4 = 4 * h;
    debug_assert_eq!(h % 16, 0);
    let (mut xh, mut cs) = net.zero_state();
    let mut g = vec![0f32; g4];
    let c0 = net.layer0_constant(par);
    let k_out = c.outputs_per_step;
    for (step, o) in out.chunks_exact_mut(k_out).enumerate() {
        let nu = _mm512_set1_ps(net.freqs[step]);
        for l in 0..c.layers {
            let gp = g.as_mut_ptr();
            if l == 0 {
                for j in (0..g4).step_by(16) {
                    let v = _mm512_fmadd_ps(
                        _mm512_loadu_ps(net.w0_nu.as_ptr().wrapping_add(j)),
                        nu,
                        _mm512_loadu_ps(c0.as_ptr().wrapping_add(j)),
                    );
                    _mm512_storeu_ps(gp.wrapping_add(j), v);
                }
            } else {
                g.copy_from_slice(&net.bias[l]);
            }
            // Blocks of 128 gate rows in eight registers, then 16-row tails; raw pointers
            // (indices below x.len() * g4 = w.len()) keep bounds checks out of the k loop.
            let w = net.w_t[l].as_ptr();
            let x = &xh[l];
            let mut jb = 0;
            while jb + 128 <= g4 {
                let p = gp.wrapping_add(jb);
                let mut a0 = _mm512_loadu_ps(p);
                let mut a1 = _mm512_loadu_ps(p.wrapping_add(16));
                let mut a2 = _mm512_loadu_ps(p.wrapping_add(32));
                let mut a3 = _mm512_loadu_ps(p.wrapping_add(48));
                let mut a4 = _mm512_loadu_ps(p.wrapping_add(64));
                let mut a5 = _mm512_loadu_ps(p.wrapping_add(80));
                let mut a6 = _mm512_loadu_ps(p.wrapping_add(96));
                let mut a7 = _mm512_loadu_ps(p.wrapping_add(112));
                for (k, &xk) in x.iter().enumerate() {
                    let xv = _mm512_set1_ps(xk);
                    let r = w.wrapping_add(k * g4 + jb);
                    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(r), xv, a0);
                    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(r.wrapping_add(16)), xv, a1);
                    a2 = _mm512_fmadd_ps(_mm512_loadu_ps(r.wrapping_add(32)), xv, a2);
                    a3 = _mm512_fmadd_ps(_mm512_loadu_ps(r.wrapping_add(48)), xv, a3);
                    a4 = _mm512_fmadd_ps(_mm512_loadu_ps(r.wrapping_add(64)), xv, a4);
                    a5 = _mm512_fmadd_ps(_mm512_loadu_ps(r.wrapping_add(80)), xv, a5);
                    a6 = _mm512_fmadd_ps(_mm512_loadu_ps(r.wrapping_add(96)), xv, a6);
                    a7 = _mm512_fmadd_ps(_mm512_loadu_ps(r.wrapping_add(112)), xv, a7);
                }
                _mm512_storeu_ps(p, a0);
                _mm512_storeu_ps(p.wrapping_add(16), a1);
                _mm512_storeu_ps(p.wrapping_add(32), a2);
                _mm512_storeu_ps(p.wrapping_add(48), a3);
                _mm512_storeu_ps(p.wrapping_add(64), a4);
                _mm512_storeu_ps(p.wrapping_add(80), a5);
                _mm512_storeu_ps(p.wrapping_add(96), a6);
                _mm512_storeu_ps(p.wrapping_add(112), a7);
                jb += 128;
            }
            while jb < g4 {
                // Two partial sums halve the dependency chain.
                let mut a = _mm512_loadu_ps(gp.wrapping_add(jb));
                let mut b = _mm512_setzero_ps();
                let mut k = 0;
                while k + 1 < x.len() {
                    a = _mm512_fmadd_ps(
                        _mm512_loadu_ps(w.wrapping_add(k * g4 + jb)),
                        _mm512_set1_ps(x[k]),
                        a,
                    );
                    b = _mm512_fmadd_ps(
                        _mm512_loadu_ps(w.wrapping_add((k + 1) * g4 + jb)),
                        _mm512_set1_ps(x[k + 1]),
                        b,
                    );
                    k += 2;
                }
                if k < x.len() {
                    a = _mm512_fmadd_ps(
                        _mm512_loadu_ps(w.wrapping_add(k * g4 + jb)),
                        _mm512_set1_ps(x[k]),
                        a,
                    );
                }
                _mm512_storeu_ps(gp.wrapping_add(jb), _mm512_add_ps(a, b));
                jb += 16;
            }
            let off = if l == 0 { 0 } else { h };
            for u in (0..h).step_by(16) {
                let i = sigmoid(_mm512_loadu_ps(gp.wrapping_add(u)));
                let f = sigmoid(_mm512_loadu_ps(gp.wrapping_add(h + u)));
                let og = sigmoid(_mm512_loadu_ps(gp.wrapping_add(2 * h + u)));
                let gg = tanh(_mm512_loadu_ps(gp.wrapping_add(3 * h + u)));
                let cp = cs[l].as_mut_ptr().wrapping_add(u);
                let cv = _mm512_fmadd_ps(f, _mm512_loadu_ps(cp), _mm512_mul_ps(i, gg));
                _mm512_storeu_ps(cp, cv);
                let hv = _mm512_mul_ps(og, tanh(cv));
                _mm512_storeu_ps(xh[l].as_mut_ptr().wrapping_add(off + u), hv);
                if l + 1 < c.layers {
                    _mm512_storeu_ps(xh[l + 1].as_mut_ptr().wrapping_add(u), hv);
                }
            }
        }
        let off = if c.layers == 1 { 0 } else { h };
        let top = &xh[c.layers - 1];
        for (q, oq) in o.iter_mut().enumerate() {
            let w = net.head_w.as_ptr().wrapping_add(q * h);
            let mut acc = _mm512_setzero_ps();
            for u in (0..h).step_by(16) {
                acc = _mm512_fmadd_ps(
                    _mm512_loadu_ps(w.wrapping_add(u)),
                    _mm512_loadu_ps(top.as_ptr().wrapping_add(off + u)),
                    acc,
                );
            }
            *oq = _mm512_reduce_add_ps(acc) + net.head_b[q];
        }
    }
}

/// Sigmoid of every element in place (peak-rate measurement; tail done scalar).
#[target_feature(enable = "avx512f")]
pub(super) fn sigmoid_slice(v: &mut [f32]) {
    let mut chunks = v.chunks_exact_mut(16);
    for c in &mut chunks {
        // SAFETY: `c` has exactly 16 elements.
        unsafe { _mm512_storeu_ps(c.as_mut_ptr(), sigmoid(_mm512_loadu_ps(c.as_ptr()))) };
    }
    super::fast_math::sigmoid_slice(chunks.into_remainder());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_activations_relative_error_below_1e6() {
        if !std::arch::is_x86_feature_detected!("avx512f") {
            return;
        }
        let xs: Vec<f32> = (0..=160_000).map(|i| -20.0 + i as f32 * 2.5e-4).collect();
        let mut worst = (0f64, 0f64);
        for c in xs.chunks_exact(16) {
            // SAFETY: AVX-512F detected above; `c` has 16 elements.
            let (s, t) = unsafe {
                let v = _mm512_loadu_ps(c.as_ptr());
                let (mut s, mut t) = ([0f32; 16], [0f32; 16]);
                _mm512_storeu_ps(s.as_mut_ptr(), sigmoid(v));
                _mm512_storeu_ps(t.as_mut_ptr(), tanh(v));
                (s, t)
            };
            for i in 0..16 {
                let x = f64::from(c[i]);
                let (rs, rt) = (1.0 / (1.0 + (-x).exp()), x.tanh());
                worst.0 = worst.0.max(((f64::from(s[i]) - rs) / rs).abs());
                if x != 0.0 {
                    worst.1 = worst.1.max(((f64::from(t[i]) - rt) / rt).abs());
                }
            }
        }
        assert!(
            worst.0 < 1e-6 && worst.1 < 1e-6,
            "worst relative errors {worst:?}"
        );
    }
}
