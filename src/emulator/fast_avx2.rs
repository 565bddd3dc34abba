//! AVX2+FMA kernel of the fast path for one signal, written with intrinsics (the portable
//! `L = 1` loop compiled for AVX2 ran at 2.3x the instruction set's bound; this one is
//! vectorised across gate rows, eight to a register, like [`super::fast_avx512`]'s `run1`).
//! Needs `hidden % 8 == 0`. Activations are the polynomials of [`super::fast_math`] on eight
//! lanes; the reciprocal is the 12-bit estimate plus one Newton step (relative error
//! ~1e-7, tested below with the activations).

#![cfg(target_arch = "x86_64")]

use std::arch::x86_64::*;

use super::packed::{PackedLstm, ROW_BLOCK};

#[inline]
#[target_feature(enable = "avx2,fma")]
fn exp(x: __m256) -> __m256 {
    let x = _mm256_min_ps(
        _mm256_max_ps(x, _mm256_set1_ps(-87.0)),
        _mm256_set1_ps(88.0),
    );
    let magic = _mm256_set1_ps(12_582_912.0);
    let t = _mm256_fmadd_ps(x, _mm256_set1_ps(std::f32::consts::LOG2_E), magic);
    let n = _mm256_sub_ps(t, magic);
    let n_bits = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_castps_si256(magic));
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693_359_4), x);
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.121_944_4e-4), r);
    let mut p = _mm256_set1_ps(1.987_569_1e-4);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.398_199_9e-3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.333_452e-3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.166_579_6e-2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.666_666_5e-1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.000_000_1e-1));
    let rr = _mm256_mul_ps(r, r);
    let er = _mm256_add_ps(_mm256_fmadd_ps(p, rr, r), _mm256_set1_ps(1.0));
    let scale = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(
        n_bits,
        _mm256_set1_epi32(127),
    )));
    _mm256_mul_ps(er, scale)
}

/// 1 / d from the 12-bit reciprocal estimate and one Newton step (a ymm division costs
/// several times more).
#[inline]
#[target_feature(enable = "avx2,fma")]
fn recip(d: __m256) -> __m256 {
    let r = _mm256_rcp_ps(d);
    // r (2 - d r)
    _mm256_mul_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(2.0)))
}

#[inline]
#[target_feature(enable = "avx2,fma")]
fn sigmoid(x: __m256) -> __m256 {
    let one = _mm256_set1_ps(1.0);
    recip(_mm256_add_ps(
        one,
        exp(_mm256_sub_ps(_mm256_setzero_ps(), x)),
    ))
}

#[inline]
#[target_feature(enable = "avx2,fma")]
fn tanh(x: __m256) -> __m256 {
    let sign = _mm256_set1_ps(-0.0);
    let ax = _mm256_andnot_ps(sign, x);
    let z = _mm256_mul_ps(x, x);
    let mut p = _mm256_set1_ps(-5.704_988_7e-3);
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.063_908_9e-2));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.373_971_6e-2));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.333_144_2e-1));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.333_328_2e-1));
    let small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
    let one = _mm256_set1_ps(1.0);
    let e = exp(_mm256_add_ps(ax, ax));
    let big = _mm256_fnmadd_ps(_mm256_set1_ps(2.0), recip(_mm256_add_ps(e, one)), one);
    let big = _mm256_or_ps(big, _mm256_and_ps(x, sign));
    let is_small = _mm256_cmp_ps::<_CMP_LT_OQ>(ax, _mm256_set1_ps(0.625));
    _mm256_blendv_ps(big, small, is_small)
}

/// Horizontal sum of eight lanes.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn hsum(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_shuffle_ps::<1>(s, s));
    _mm_cvtss_f32(s)
}

/// `g[j] += sum_k W[k][j] x[k]` for `j < g4`, with `W` in the blocked layout of
/// [`PackedLstm::w_blk`]: 64-row blocks in eight registers, then 8-row tails.
///
/// # Safety
/// AVX2+FMA; `g4 % 8 == 0`, `w.len() >= x.len() * g4`, `g.len() >= g4`.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn matvec_acc(w: &[f32], x: &[f32], g: &mut [f32], g4: usize) {
    debug_assert!(w.len() >= x.len() * g4 && g.len() >= g4 && g4.is_multiple_of(8));
    debug_assert_eq!(ROW_BLOCK, 64);
    let gp = g.as_mut_ptr();
    let n = x.len();
    let mut jb = 0;
    // SAFETY (all pointer reads below): block jb starts at jb * n and holds n rows of its
    // width, so every index stays below x.len() * g4 <= w.len(); jb + 64 or the tail's
    // jb + 8 stays <= g4 <= g.len(), as the caller guarantees.
    unsafe {
        while jb + 64 <= g4 {
            let p = gp.add(jb);
            let mut a0 = _mm256_loadu_ps(p);
            let mut a1 = _mm256_loadu_ps(p.add(8));
            let mut a2 = _mm256_loadu_ps(p.add(16));
            let mut a3 = _mm256_loadu_ps(p.add(24));
            let mut a4 = _mm256_loadu_ps(p.add(32));
            let mut a5 = _mm256_loadu_ps(p.add(40));
            let mut a6 = _mm256_loadu_ps(p.add(48));
            let mut a7 = _mm256_loadu_ps(p.add(56));
            let mut r = w.as_ptr().add(jb * n);
            for &xk in x {
                let xv = _mm256_set1_ps(xk);
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r), xv, a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r.add(8)), xv, a1);
                a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r.add(16)), xv, a2);
                a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r.add(24)), xv, a3);
                a4 = _mm256_fmadd_ps(_mm256_loadu_ps(r.add(32)), xv, a4);
                a5 = _mm256_fmadd_ps(_mm256_loadu_ps(r.add(40)), xv, a5);
                a6 = _mm256_fmadd_ps(_mm256_loadu_ps(r.add(48)), xv, a6);
                a7 = _mm256_fmadd_ps(_mm256_loadu_ps(r.add(56)), xv, a7);
                r = r.wrapping_add(64);
            }
            _mm256_storeu_ps(p, a0);
            _mm256_storeu_ps(p.add(8), a1);
            _mm256_storeu_ps(p.add(16), a2);
            _mm256_storeu_ps(p.add(24), a3);
            _mm256_storeu_ps(p.add(32), a4);
            _mm256_storeu_ps(p.add(40), a5);
            _mm256_storeu_ps(p.add(48), a6);
            _mm256_storeu_ps(p.add(56), a7);
            jb += 64;
        }
        // The last block (narrower than 64) starts at jb * n with rows of `width`.
        let width = g4 - jb;
        let base = w.as_ptr().add(jb * n);
        let mut t = 0;
        while t < width {
            // Two partial sums halve the dependency chain.
            let mut a = _mm256_loadu_ps(gp.add(jb + t));
            let mut b = _mm256_setzero_ps();
            let mut k = 0;
            while k + 1 < n {
                a = _mm256_fmadd_ps(
                    _mm256_loadu_ps(base.add(k * width + t)),
                    _mm256_set1_ps(x[k]),
                    a,
                );
                b = _mm256_fmadd_ps(
                    _mm256_loadu_ps(base.add((k + 1) * width + t)),
                    _mm256_set1_ps(x[k + 1]),
                    b,
                );
                k += 2;
            }
            if k < n {
                a = _mm256_fmadd_ps(
                    _mm256_loadu_ps(base.add(k * width + t)),
                    _mm256_set1_ps(x[k]),
                    a,
                );
            }
            _mm256_storeu_ps(gp.add(jb + t), _mm256_add_ps(a, b));
            t += 8;
        }
    }
}

/// One signal, vectorised across gate rows. Requires `hidden % 8 == 0`.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn run1(net: &PackedLstm, par: &[f32], out: &mut [f32]) {
    let c = net.config;
    let h = c.hidden;
    let g4 = 4 * h;
    assert!(h.is_multiple_of(8), "run1 needs hidden % 8 == 0");
    let (mut xh, mut cs) = net.zero_state();
    let mut g = vec![0f32; g4];
    let c0 = net.layer0_constant(par);
    let k_out = c.outputs_per_step;
    for (step, o) in out.chunks_exact_mut(k_out).enumerate() {
        let nu = _mm256_set1_ps(net.freqs[step]);
        for l in 0..c.layers {
            if l == 0 {
                for ((gv, w), cv) in g
                    .chunks_exact_mut(8)
                    .zip(net.w0_nu.chunks_exact(8))
                    .zip(c0.chunks_exact(8))
                {
                    // SAFETY: each chunk has exactly 8 elements.
                    unsafe {
                        let v = _mm256_fmadd_ps(
                            _mm256_loadu_ps(w.as_ptr()),
                            nu,
                            _mm256_loadu_ps(cv.as_ptr()),
                        );
                        _mm256_storeu_ps(gv.as_mut_ptr(), v);
                    }
                }
            } else {
                g.copy_from_slice(&net.bias[l]);
            }
            // SAFETY: w_blk[l] holds x.len() rows of g4 (PackedLstm::new), g has g4 values.
            unsafe { matvec_acc(&net.w_blk[l], &xh[l], &mut g, g4) };
            let off = if l == 0 { 0 } else { h };
            let (own, below) = xh.split_at_mut(l + 1);
            let hout = &mut own[l][off..off + h];
            let cl = &mut cs[l];
            let (gi, rest) = g.split_at(h);
            let (gf, rest) = rest.split_at(h);
            let (go, gg) = rest.split_at(h);
            for u in (0..h).step_by(8) {
                // SAFETY: u + 8 <= h, and every slice here has h elements.
                unsafe {
                    let i = sigmoid(_mm256_loadu_ps(gi.as_ptr().add(u)));
                    let f = sigmoid(_mm256_loadu_ps(gf.as_ptr().add(u)));
                    let og = sigmoid(_mm256_loadu_ps(go.as_ptr().add(u)));
                    let gt = tanh(_mm256_loadu_ps(gg.as_ptr().add(u)));
                    let cp = cl.as_mut_ptr().add(u);
                    let cv = _mm256_fmadd_ps(f, _mm256_loadu_ps(cp), _mm256_mul_ps(i, gt));
                    _mm256_storeu_ps(cp, cv);
                    _mm256_storeu_ps(hout.as_mut_ptr().add(u), _mm256_mul_ps(og, tanh(cv)));
                }
            }
            if let Some(next) = below.first_mut() {
                next[..h].copy_from_slice(hout);
            }
        }
        let off = if c.layers == 1 { 0 } else { h };
        let top = &xh[c.layers - 1][off..off + h];
        for (q, oq) in o.iter_mut().enumerate() {
            let w = &net.head_w[q * h..(q + 1) * h];
            let mut acc = _mm256_setzero_ps();
            for (wc, tc) in w.chunks_exact(8).zip(top.chunks_exact(8)) {
                // SAFETY: each chunk has exactly 8 elements.
                unsafe {
                    acc = _mm256_fmadd_ps(
                        _mm256_loadu_ps(wc.as_ptr()),
                        _mm256_loadu_ps(tc.as_ptr()),
                        acc,
                    );
                }
            }
            *oq = hsum(acc) + net.head_b[q];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_activations_relative_error_below_1e6() {
        if !(is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")) {
            return;
        }
        let xs: Vec<f32> = (0..=160_000).map(|i| -20.0 + i as f32 * 2.5e-4).collect();
        let mut worst = (0f64, 0f64);
        for c in xs.chunks_exact(8) {
            // SAFETY: AVX2+FMA detected above; `c` has 8 elements.
            let (s, t) = unsafe {
                let v = _mm256_loadu_ps(c.as_ptr());
                let (mut s, mut t) = ([0f32; 8], [0f32; 8]);
                _mm256_storeu_ps(s.as_mut_ptr(), sigmoid(v));
                _mm256_storeu_ps(t.as_mut_ptr(), tanh(v));
                (s, t)
            };
            for i in 0..8 {
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

    #[test]
    fn horizontal_sum_adds_all_lanes() {
        if !(is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")) {
            return;
        }
        let v = [1.0f32, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];
        // SAFETY: AVX2+FMA detected above.
        let s = unsafe { hsum(_mm256_loadu_ps(v.as_ptr())) };
        assert_eq!(s, 255.0);
    }
}
