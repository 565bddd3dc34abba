//! Direct "valid" 2-D cross-correlation over padded planes: the work of every convolution
//! of the network, forward and backward.
//!
//! - forward: `out[f][y][x] = bias[f] + sum_{c,ky,kx} w[f][c][ky][kx] in[c][y+ky][x+kx]`;
//! - input gradient: the same correlation of the zero-padded output gradient with the
//!   kernel flipped and its channel axes swapped (see [`flip_swap`]);
//! - weight gradient: `dw[f][c][ky][kx] += sum_{y,x} gout[f][y][x] in[c][y+ky][x+kx]`.
//!
//! Why direct and not im2col + GEMM: the patch matrix of one 32 x 787 slice under a 10 x 10
//! kernel is 100 x 25,184 floats (10 MB) for the first layer and 800 x 6,288 (20 MB) for the
//! second; writing and re-reading it costs more than the multiply-adds. The direct kernels
//! read each input vector once per kernel tap and reuse it across a block of output
//! channels held in registers (forward: 8 channels x up to 3 vectors of 16 columns = 24
//! accumulators; weight gradient: 4 channels x 5 taps = 20 accumulators), so they run near
//! the FMA throughput from L1/L2.
//!
//! Contract (checked by the callers, which own the buffers): `ow` is a multiple of 16; every
//! input row has at least `ow + kw - 1` readable columns and every output row `ow`; columns
//! past the true width hold zeros (input) or are ignored (output). The AVX-512 versions are
//! picked at run time; the portable versions compute the same sums (in another order) and
//! are used on other CPUs and compared with the AVX-512 ones in the tests.

/// Geometry of one valid cross-correlation between strided planes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corr {
    /// Input channels.
    pub c: usize,
    /// Output channels (a multiple of 8 for [`forward`]).
    pub f: usize,
    /// Kernel rows.
    pub kh: usize,
    /// Kernel columns.
    pub kw: usize,
    /// Output rows.
    pub oh: usize,
    /// Output columns computed (a multiple of 16).
    pub ow: usize,
    /// Input row stride (at least `ow + kw - 1`).
    pub in_rs: usize,
    /// Input plane stride (at least `(oh + kh - 1) * in_rs`).
    pub in_ps: usize,
    /// Output row stride (at least `ow`).
    pub out_rs: usize,
    /// Output plane stride (at least `oh * out_rs`).
    pub out_ps: usize,
    /// Input rows `rows.0..rows.1` of each plane hold data; [`forward`] skips the kernel
    /// taps on the zero rows outside (padding), which for 'valid' input gradients is most
    /// of the work. `(0, oh + kh - 1)` when nothing is known.
    pub rows: (usize, usize),
}

impl Corr {
    /// Kernel rows of output row `y` that meet data rows (see [`Corr::rows`]).
    pub fn taps(&self, y: usize) -> std::ops::Range<usize> {
        let lo = self.rows.0.saturating_sub(y).min(self.kh);
        let hi = self.rows.1.saturating_sub(y).min(self.kh);
        lo..hi.max(lo)
    }

    /// Smallest input length the geometry reads.
    pub fn input_len(&self) -> usize {
        (self.c - 1) * self.in_ps + (self.oh + self.kh - 2) * self.in_rs + self.ow + self.kw - 1
    }

    /// Smallest output length the geometry writes (or reads, for the weight gradient).
    pub fn output_len(&self, channels: usize) -> usize {
        (channels - 1) * self.out_ps + (self.oh - 1) * self.out_rs + self.ow
    }

    fn check(&self, inp: usize, out: usize, out_channels: usize) {
        // Internal invariant: callers size the buffers from the same geometry.
        assert!(self.ow.is_multiple_of(16) && self.in_rs >= self.ow + self.kw - 1);
        assert!(self.in_ps >= (self.oh + self.kh - 1) * self.in_rs);
        assert!(self.out_rs >= self.ow && self.out_ps >= self.oh * self.out_rs);
        assert!(inp >= self.input_len() && out >= self.output_len(out_channels));
    }
}

/// Pack weights `[f][c][kh][kw]` as `[f/8][c][kh][kw][8]` for [`forward`], zero-padding `f`
/// up to a multiple of 8. Returns the padded output-channel count.
pub fn pack_forward(
    w: &[f32],
    f: usize,
    c: usize,
    kh: usize,
    kw: usize,
    out: &mut Vec<f32>,
) -> usize {
    let fp = f.div_ceil(8) * 8;
    out.clear();
    out.resize(fp * c * kh * kw, 0.0);
    for o in 0..f {
        for ci in 0..c {
            for t in 0..kh * kw {
                let (fb, fi) = (o / 8, o % 8);
                out[((fb * c + ci) * kh * kw + t) * 8 + fi] = w[(o * c + ci) * kh * kw + t];
            }
        }
    }
    fp
}

/// Weights of the input-gradient correlation: `[c][f][kh][kw]` with the kernel rotated by
/// 180 degrees, from forward weights `[f][c][kh][kw]`.
pub fn flip_swap(w: &[f32], f: usize, c: usize, kh: usize, kw: usize, out: &mut Vec<f32>) {
    out.clear();
    out.resize(f * c * kh * kw, 0.0);
    for o in 0..f {
        for ci in 0..c {
            for ky in 0..kh {
                for kx in 0..kw {
                    out[((ci * f + o) * kh + (kh - 1 - ky)) * kw + (kw - 1 - kx)] =
                        w[((o * c + ci) * kh + ky) * kw + kx];
                }
            }
        }
    }
}

/// Forward correlation: `out[f][y][x] = bias[f] + sum w in` for the packed weights of
/// [`pack_forward`] (`g.f` is the padded channel count; `bias` has `g.f` entries).
pub fn forward(g: &Corr, inp: &[f32], wpk: &[f32], bias: &[f32], out: &mut [f32]) {
    g.check(inp.len(), out.len(), g.f);
    assert!(g.f.is_multiple_of(8) && wpk.len() >= g.f * g.c * g.kh * g.kw && bias.len() >= g.f);
    #[cfg(target_arch = "x86_64")]
    if avx512() {
        // SAFETY: the CPU supports AVX-512F; bounds were checked against the geometry.
        unsafe {
            x86::forward(
                g,
                inp.as_ptr(),
                wpk.as_ptr(),
                bias.as_ptr(),
                out.as_mut_ptr(),
            )
        };
        return;
    }
    portable_forward(g, inp, wpk, bias, out);
}

/// Weight gradient: `dw[f][c][ky][kx] += sum_{y,x} gout[f][y][x] in[c][y+ky][x+kx]`;
/// `gout` has the output geometry of `g` and `g.f` channels.
pub fn weight_grad(g: &Corr, inp: &[f32], gout: &[f32], dw: &mut [f32]) {
    g.check(inp.len(), gout.len(), g.f);
    assert!(dw.len() >= g.f * g.c * g.kh * g.kw);
    #[cfg(target_arch = "x86_64")]
    if avx512() {
        // SAFETY: as in `forward`.
        unsafe { x86::weight_grad(g, inp.as_ptr(), gout.as_ptr(), dw.as_mut_ptr()) };
        return;
    }
    portable_weight_grad(g, inp, gout, dw);
}

/// Weight gradient from a sparse output gradient: for output channel `f`,
/// `dw[f][c][ky][kx] += sum_(off, v) v in[c][off + ky * in_rs + kx]`, where each point's
/// `off = y * in_rs + x` is the top-left input position of a nonzero output gradient `v` at
/// output `(y, x)`. After 2 x 2 max-pooling at most a quarter of the output gradient is
/// nonzero (and fewer after the ReLU), so this does a quarter of the dense kernel's
/// multiply-adds or less. Needs `kw <= 16` and 16 readable values past every row read.
pub fn weight_grad_points(g: &Corr, inp: &[f32], f: usize, points: &[(u32, f32)], dw: &mut [f32]) {
    assert!(g.kw <= 16 && f < g.f && dw.len() >= (f + 1) * g.c * g.kh * g.kw);
    if let Some(max) = points.iter().map(|p| p.0 as usize).max() {
        assert!((g.c - 1) * g.in_ps + max + (g.kh - 1) * g.in_rs + 16 <= inp.len());
    } else {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if avx512() {
        // SAFETY: AVX-512F present; every read is within the bound checked above.
        unsafe { x86::weight_grad_points(g, inp.as_ptr(), f, points, dw.as_mut_ptr()) };
        return;
    }
    portable_weight_grad_points(g, inp, f, points, dw);
}

/// Portable point-wise weight gradient (same contract as [`weight_grad_points`]).
pub fn portable_weight_grad_points(
    g: &Corr,
    inp: &[f32],
    f: usize,
    points: &[(u32, f32)],
    dw: &mut [f32],
) {
    for c in 0..g.c {
        for ky in 0..g.kh {
            let d = ((f * g.c + c) * g.kh + ky) * g.kw;
            let mut acc = [0.0f32; 16];
            for &(off, v) in points {
                let row = &inp[c * g.in_ps + off as usize + ky * g.in_rs..][..g.kw];
                for (a, &x) in acc.iter_mut().zip(row) {
                    *a = v.mul_add(x, *a);
                }
            }
            for (o, a) in dw[d..d + g.kw].iter_mut().zip(acc) {
                *o += a;
            }
        }
    }
}

/// Whether the AVX-512 kernels run here (cached by the standard library's detection).
pub fn avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Portable forward correlation (same contract as [`forward`]).
pub fn portable_forward(g: &Corr, inp: &[f32], wpk: &[f32], bias: &[f32], out: &mut [f32]) {
    let mut acc = vec![0.0f32; g.ow];
    for fb in 0..g.f / 8 {
        for fi in 0..8 {
            let o = fb * 8 + fi;
            for y in 0..g.oh {
                acc.iter_mut().for_each(|a| *a = bias[o]);
                for c in 0..g.c {
                    for ky in g.taps(y) {
                        let row = &inp[c * g.in_ps + (y + ky) * g.in_rs..];
                        let wr = &wpk[((fb * g.c + c) * g.kh + ky) * g.kw * 8..];
                        for kx in 0..g.kw {
                            let w = wr[kx * 8 + fi];
                            for (a, &v) in acc.iter_mut().zip(&row[kx..kx + g.ow]) {
                                *a = w.mul_add(v, *a);
                            }
                        }
                    }
                }
                let o0 = o * g.out_ps + y * g.out_rs;
                out[o0..o0 + g.ow].copy_from_slice(&acc);
            }
        }
    }
}

/// Portable weight gradient (same contract as [`weight_grad`]).
pub fn portable_weight_grad(g: &Corr, inp: &[f32], gout: &[f32], dw: &mut [f32]) {
    let mut lanes = [0.0f32; 16];
    for o in 0..g.f {
        for c in 0..g.c {
            for ky in 0..g.kh {
                for kx in 0..g.kw {
                    lanes.iter_mut().for_each(|l| *l = 0.0);
                    for y in 0..g.oh {
                        let row = &inp[c * g.in_ps + (y + ky) * g.in_rs + kx..];
                        let gr = &gout[o * g.out_ps + y * g.out_rs..];
                        for x in 0..g.ow {
                            lanes[x % 16] = gr[x].mul_add(row[x], lanes[x % 16]);
                        }
                    }
                    dw[((o * g.c + c) * g.kh + ky) * g.kw + kx] += lanes.iter().sum::<f32>();
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Corr;
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn forward(
        g: &Corr,
        inp: *const f32,
        wpk: *const f32,
        bias: *const f32,
        out: *mut f32,
    ) {
        let nvec = g.ow / 16;
        for fb in 0..g.f / 8 {
            for y in 0..g.oh {
                let ky = g.taps(y);
                let mut v = 0;
                while v + 3 <= nvec {
                    fwd_block::<3>(g, inp, wpk, bias, out, fb, y, ky.clone(), v * 16);
                    v += 3;
                }
                match nvec - v {
                    2 => fwd_block::<2>(g, inp, wpk, bias, out, fb, y, ky, v * 16),
                    1 => fwd_block::<1>(g, inp, wpk, bias, out, fb, y, ky, v * 16),
                    _ => {}
                }
            }
        }
    }

    /// 8 output channels x `XB` vectors of 16 columns of output row `y`, from column `x0`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn fwd_block<const XB: usize>(
        g: &Corr,
        inp: *const f32,
        wpk: *const f32,
        bias: *const f32,
        out: *mut f32,
        fb: usize,
        y: usize,
        taps: std::ops::Range<usize>,
        x0: usize,
    ) {
        let mut acc = [[_mm512_setzero_ps(); XB]; 8];
        for (i, a) in acc.iter_mut().enumerate() {
            let b = _mm512_set1_ps(*bias.add(fb * 8 + i));
            a.iter_mut().for_each(|v| *v = b);
        }
        for c in 0..g.c {
            for ky in taps.clone() {
                let row = inp.add(c * g.in_ps + (y + ky) * g.in_rs + x0);
                let wr = wpk.add(((fb * g.c + c) * g.kh + ky) * g.kw * 8);
                for kx in 0..g.kw {
                    let mut xv = [_mm512_setzero_ps(); XB];
                    for (j, v) in xv.iter_mut().enumerate() {
                        *v = _mm512_loadu_ps(row.add(kx + 16 * j));
                    }
                    let wk = wr.add(kx * 8);
                    for (i, a) in acc.iter_mut().enumerate() {
                        let w = _mm512_set1_ps(*wk.add(i));
                        for j in 0..XB {
                            a[j] = _mm512_fmadd_ps(w, xv[j], a[j]);
                        }
                    }
                }
            }
        }
        for (i, a) in acc.iter().enumerate() {
            let o = out.add((fb * 8 + i) * g.out_ps + y * g.out_rs + x0);
            for (j, v) in a.iter().enumerate() {
                _mm512_storeu_ps(o.add(16 * j), *v);
            }
        }
    }

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn weight_grad(g: &Corr, inp: *const f32, gout: *const f32, dw: *mut f32) {
        let mut f0 = 0;
        while f0 < g.f {
            let fb = (g.f - f0).min(4);
            for c in 0..g.c {
                for ky in 0..g.kh {
                    let mut kx0 = 0;
                    while kx0 < g.kw {
                        let kb = (g.kw - kx0).min(5);
                        macro_rules! go {
                            ($fb:literal) => {
                                match kb {
                                    5 => wg_tile::<$fb, 5>(g, inp, gout, dw, f0, c, ky, kx0),
                                    4 => wg_tile::<$fb, 4>(g, inp, gout, dw, f0, c, ky, kx0),
                                    3 => wg_tile::<$fb, 3>(g, inp, gout, dw, f0, c, ky, kx0),
                                    2 => wg_tile::<$fb, 2>(g, inp, gout, dw, f0, c, ky, kx0),
                                    _ => wg_tile::<$fb, 1>(g, inp, gout, dw, f0, c, ky, kx0),
                                }
                            };
                        }
                        match fb {
                            4 => go!(4),
                            3 => go!(3),
                            2 => go!(2),
                            _ => go!(1),
                        }
                        kx0 += kb;
                    }
                }
            }
            f0 += fb;
        }
    }

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn weight_grad_points(
        g: &Corr,
        inp: *const f32,
        f: usize,
        pts: &[(u32, f32)],
        dw: *mut f32,
    ) {
        let mask: __mmask16 = ((1u32 << g.kw) - 1) as u16;
        for c in 0..g.c {
            let base = inp.add(c * g.in_ps);
            let mut ky0 = 0;
            while ky0 < g.kh {
                let kb = (g.kh - ky0).min(5);
                let d = dw.add(((f * g.c + c) * g.kh + ky0) * g.kw);
                match kb {
                    5 => pts_tile::<5>(g, base, ky0, pts, d, mask),
                    4 => pts_tile::<4>(g, base, ky0, pts, d, mask),
                    3 => pts_tile::<3>(g, base, ky0, pts, d, mask),
                    2 => pts_tile::<2>(g, base, ky0, pts, d, mask),
                    _ => pts_tile::<1>(g, base, ky0, pts, d, mask),
                }
                ky0 += kb;
            }
        }
    }

    /// `KB` kernel rows from `ky0` (one register each, lanes = kernel columns).
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn pts_tile<const KB: usize>(
        g: &Corr,
        base: *const f32,
        ky0: usize,
        pts: &[(u32, f32)],
        d: *mut f32,
        mask: __mmask16,
    ) {
        let mut acc = [_mm512_setzero_ps(); KB];
        for &(off, v) in pts {
            let vb = _mm512_set1_ps(v);
            let p = base.add(off as usize + ky0 * g.in_rs);
            for (k, a) in acc.iter_mut().enumerate() {
                *a = _mm512_fmadd_ps(vb, _mm512_loadu_ps(p.add(k * g.in_rs)), *a);
            }
        }
        for (k, a) in acc.iter().enumerate() {
            let dk = d.add(k * g.kw);
            let cur = _mm512_maskz_loadu_ps(mask, dk);
            _mm512_mask_storeu_ps(dk, mask, _mm512_add_ps(cur, *a));
        }
    }

    /// `FB` output channels x `KB` kernel columns from `kx0`, for input channel `c` and
    /// kernel row `ky`, summed over every output pixel.
    #[inline]
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn wg_tile<const FB: usize, const KB: usize>(
        g: &Corr,
        inp: *const f32,
        gout: *const f32,
        dw: *mut f32,
        f0: usize,
        c: usize,
        ky: usize,
        kx0: usize,
    ) {
        let nvec = g.ow / 16;
        let mut acc = [[_mm512_setzero_ps(); KB]; FB];
        for y in 0..g.oh {
            let irow = inp.add(c * g.in_ps + (y + ky) * g.in_rs + kx0);
            let grow = gout.add(f0 * g.out_ps + y * g.out_rs);
            for v in 0..nvec {
                let x = v * 16;
                let mut xv = [_mm512_setzero_ps(); KB];
                for (k, t) in xv.iter_mut().enumerate() {
                    *t = _mm512_loadu_ps(irow.add(x + k));
                }
                for (i, a) in acc.iter_mut().enumerate() {
                    let gv = _mm512_loadu_ps(grow.add(i * g.out_ps + x));
                    for k in 0..KB {
                        a[k] = _mm512_fmadd_ps(gv, xv[k], a[k]);
                    }
                }
            }
        }
        for (i, a) in acc.iter().enumerate() {
            let d = dw.add((((f0 + i) * g.c + c) * g.kh + ky) * g.kw + kx0);
            for (k, v) in a.iter().enumerate() {
                *d.add(k) += _mm512_reduce_add_ps(*v);
            }
        }
    }
}
