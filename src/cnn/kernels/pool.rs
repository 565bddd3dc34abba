//! Fused ReLU + max-pooling (window = stride = `p`, odd sizes floored) and its backward.
//!
//! ReLU and max commute (`max(0, max w) = max(max(0, w))`), so one pass takes the window's
//! maximum, records where it was, and clamps at zero. Backward, a pooled gradient goes to
//! the recorded position when the pooled value is positive; elsewhere (all inputs of the
//! window <= 0) the ReLU's derivative is zero.

/// Strides of a stack of planes: `rs` between rows, `ps` between planes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planes {
    /// Row stride.
    pub rs: usize,
    /// Plane stride.
    pub ps: usize,
}

/// Forward over `f` planes of `conv` (rows of at least `hp * p`, columns of at least
/// `wp * p`): `out[c][y][x] = max(0, max of the window)`, `idx` = position in the window
/// (`dy * p + dx`). `out` and `idx` are compact `f x hp x wp`.
#[allow(clippy::too_many_arguments)]
pub fn forward(
    conv: &[f32],
    src: Planes,
    f: usize,
    hp: usize,
    wp: usize,
    p: usize,
    out: &mut [f32],
    idx: &mut [u8],
) {
    assert!(p >= 1 && p * p <= 256 && out.len() >= f * hp * wp && idx.len() >= f * hp * wp);
    if f == 0 || hp == 0 || wp == 0 {
        return;
    }
    assert!(conv.len() >= (f - 1) * src.ps + (hp * p - 1) * src.rs + wp * p);
    for c in 0..f {
        for y in 0..hp {
            let o = (c * hp + y) * wp;
            let out_row = &mut out[o..o + wp];
            let idx_row = &mut idx[o..o + wp];
            if p == 2 {
                // The common case, written out so it vectorises.
                let r0 = &conv[c * src.ps + 2 * y * src.rs..][..2 * wp];
                let r1 = &conv[c * src.ps + (2 * y + 1) * src.rs..][..2 * wp];
                for x in 0..wp {
                    let (a, b, cc, d) = (r0[2 * x], r0[2 * x + 1], r1[2 * x], r1[2 * x + 1]);
                    let (m0, i0) = if b > a { (b, 1u8) } else { (a, 0u8) };
                    let (m1, i1) = if d > cc { (d, 3u8) } else { (cc, 2u8) };
                    let (m, i) = if m1 > m0 { (m1, i1) } else { (m0, i0) };
                    out_row[x] = m.max(0.0);
                    idx_row[x] = i;
                }
                continue;
            }
            for x in 0..wp {
                let mut best = f32::NEG_INFINITY;
                let mut at = 0u8;
                for dy in 0..p {
                    let r = &conv[c * src.ps + (y * p + dy) * src.rs + x * p..][..p];
                    for (dx, &v) in r.iter().enumerate() {
                        if v > best {
                            best = v;
                            at = (dy * p + dx) as u8;
                        }
                    }
                }
                out_row[x] = best.max(0.0);
                idx_row[x] = at;
            }
        }
    }
}

/// Backward: for every pooled value `> 0`, add its gradient (from `gpool` with strides
/// `gsrc`) at the recorded position of `gconv` (strides `dst`, already zeroed by the caller
/// where nothing lands), and, if given, add the gradients per plane to `dbias` (the
/// convolution bias' gradient).
#[allow(clippy::too_many_arguments)]
pub fn backward(
    gpool: &[f32],
    gsrc: Planes,
    pooled: &[f32],
    idx: &[u8],
    f: usize,
    hp: usize,
    wp: usize,
    p: usize,
    gconv: &mut [f32],
    dst: Planes,
    mut dbias: Option<&mut [f32]>,
) {
    assert!(pooled.len() >= f * hp * wp && idx.len() >= f * hp * wp);
    if f == 0 || hp == 0 || wp == 0 {
        return;
    }
    assert!(gpool.len() >= (f - 1) * gsrc.ps + (hp - 1) * gsrc.rs + wp);
    assert!(gconv.len() >= (f - 1) * dst.ps + (hp * p - 1) * dst.rs + wp * p);
    for c in 0..f {
        let mut sum = 0.0f32;
        for y in 0..hp {
            let g = &gpool[c * gsrc.ps + y * gsrc.rs..][..wp];
            let o = (c * hp + y) * wp;
            for x in 0..wp {
                if pooled[o + x] > 0.0 {
                    let i = idx[o + x] as usize;
                    let (dy, dx) = (i / p, i % p);
                    gconv[c * dst.ps + (y * p + dy) * dst.rs + x * p + dx] += g[x];
                    sum += g[x];
                }
            }
        }
        if let Some(d) = dbias.as_deref_mut() {
            d[c] += sum;
        }
    }
}

/// The nonzero output gradients of plane `c` as points for
/// [`super::corr::weight_grad_points`]: for every pooled value `> 0`, the input offset
/// `y * in_rs + x` of its arg-max position `(y, x)` and its gradient. Returns their sum
/// (the bias gradient of the plane).
#[allow(clippy::too_many_arguments)]
pub fn gather_points(
    gpool: &[f32],
    gsrc: Planes,
    pooled: &[f32],
    idx: &[u8],
    c: usize,
    hp: usize,
    wp: usize,
    p: usize,
    in_rs: usize,
    points: &mut Vec<(u32, f32)>,
) -> f32 {
    // Branch-free: write every candidate, advance past the kept ones (about half the
    // pooled values are zero after the ReLU, which a branch would mispredict).
    points.clear();
    points.resize(hp * wp, (0, 0.0));
    let (mut k, mut sum) = (0usize, 0.0f32);
    for y in 0..hp {
        let g = &gpool[c * gsrc.ps + y * gsrc.rs..][..wp];
        let o = (c * hp + y) * wp;
        for x in 0..wp {
            let keep = pooled[o + x] > 0.0;
            let i = idx[o + x] as usize;
            let off = (y * p + i / p) * in_rs + x * p + i % p;
            points[k] = (off as u32, g[x]);
            k += usize::from(keep);
            sum += if keep { g[x] } else { 0.0 };
        }
    }
    points.truncate(k);
    sum
}
