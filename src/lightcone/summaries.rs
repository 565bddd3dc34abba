//! Summaries of a light-cone: the spherically averaged power spectrum Delta^2(k) of cubic
//! chunks along the line of sight (the 21CMMC convention), the cylindrical (k_perp, k_par)
//! power spectrum of the same chunks, and the global signal.
//!
//! Conventions: the chunk's mean is excluded (no k = 0 mode), P(k) = V |delta_k|^2 averaged
//! over the modes of a bin (conjugate modes counted), Delta^2 = k^3 P / (2 pi^2) in mK^2 with
//! k the mean |k| of the bin's modes. A chunk's redshift is that of its middle slice.

use super::fft::{signed_frequency, Fft3};
use super::lightcone::LightCone;
use rustfft::num_complex::Complex32;

/// Lower edge of the k range 21CMMC fits, 1/Mpc.
pub const K_REPORT_MIN: f64 = 0.1;
/// Upper edge, 1/Mpc.
pub const K_REPORT_MAX: f64 = 1.0;

/// The spherically averaged spectrum of one chunk.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkPower {
    /// Redshift of the chunk's middle slice.
    pub z: f64,
    /// First slice of the chunk.
    pub start: usize,
    /// Mean |k| per bin, 1/Mpc (0 for an empty bin).
    pub k: Vec<f64>,
    /// Delta^2(k), mK^2.
    pub delta2: Vec<f64>,
    /// Modes per bin.
    pub modes: Vec<usize>,
}

/// The cylindrical spectrum of one chunk: P(k_perp, k_par) in mK^2 Mpc^3, row-major
/// (k_perp bins outer).
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkCylindrical {
    /// Redshift of the chunk's middle slice.
    pub z: f64,
    /// P, mK^2 Mpc^3 (NaN where a bin has no modes).
    pub power: Vec<f64>,
    /// Modes per bin.
    pub modes: Vec<usize>,
}

/// Log-spaced bin edges between the fundamental mode 2 pi/L and sqrt(3) times the Nyquist
/// frequency of a box of side `box_mpc` on `cells` cells: `n_bins` bins.
pub fn default_k_edges(box_mpc: f64, cells: usize, n_bins: usize) -> Vec<f64> {
    let kf = 2.0 * std::f64::consts::PI / box_mpc;
    let kmax = 3f64.sqrt() * std::f64::consts::PI * cells as f64 / box_mpc;
    log_edges(kf, kmax * 1.0001, n_bins)
}

/// `n` log-spaced bins from `lo` to `hi`: n + 1 edges.
pub fn log_edges(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let r = (hi / lo).powf(1.0 / n.max(1) as f64);
    (0..=n).map(|i| lo * r.powi(i as i32)).collect()
}

/// Number of whole cubic chunks in a light-cone.
pub fn n_chunks(lc: &LightCone) -> usize {
    lc.n_los / lc.cells
}

/// Fourier transform of chunk `c` (slices c n .. (c+1) n) of `lc`, normalised so that
/// P = V |result|^2.
fn chunk_transform(lc: &LightCone, chunk: usize, fft: &Fft3) -> Vec<Complex32> {
    let n = lc.cells;
    let start = chunk * n;
    let mut cube = vec![0.0f32; n * n * n];
    for xy in 0..n * n {
        cube[xy * n..(xy + 1) * n]
            .copy_from_slice(&lc.t_b[xy * lc.n_los + start..xy * lc.n_los + start + n]);
    }
    let mut k = vec![Complex32::default(); fft.complex_len()];
    fft.forward(&mut cube, &mut k, &mut fft.scratch());
    let norm = 1.0 / (n * n * n) as f32;
    k.iter_mut().for_each(|z| *z *= norm);
    k
}

/// Delta^2(k) of every cubic chunk of `lc` (side `box_mpc`) in the bins `edges` (1/Mpc).
pub fn chunk_power_spectra(lc: &LightCone, box_mpc: f64, edges: &[f64]) -> Vec<ChunkPower> {
    let n = lc.cells;
    let fft = Fft3::new(n);
    let dk = 2.0 * std::f64::consts::PI / box_mpc;
    let volume = box_mpc.powi(3);
    let nb = edges.len().saturating_sub(1);
    (0..n_chunks(lc))
        .map(|ch| {
            let t = chunk_transform(lc, ch, &fft);
            let mut ks = vec![0.0; nb];
            let mut ps = vec![0.0; nb];
            let mut cnt = vec![0usize; nb];
            for_each_mode(n, dk, edges, |i, b, km, w| {
                let p = t[i].norm_sqr() as f64 * volume;
                ks[b] += km * w as f64;
                ps[b] += p * w as f64;
                cnt[b] += w;
            });
            let mut k = vec![0.0; nb];
            let mut delta2 = vec![0.0; nb];
            for b in 0..nb {
                if cnt[b] > 0 {
                    k[b] = ks[b] / cnt[b] as f64;
                    delta2[b] =
                        k[b].powi(3) * ps[b] / cnt[b] as f64 / (2.0 * std::f64::consts::PI.powi(2));
                }
            }
            let start = ch * n;
            ChunkPower {
                z: lc.redshifts[start + n / 2],
                start,
                k,
                delta2,
                modes: cnt,
            }
        })
        .collect()
}

/// Every mode of the half-space of a real transform of an `n^3` cube with fundamental `dk`
/// that falls in one of the bins `edges`: `f(flat index, bin, |k|, weight)`, the weight 2 for
/// modes off the `k_z = 0, N/2` planes (they stand for their conjugates too), `k = 0` left out.
fn for_each_mode(n: usize, dk: f64, edges: &[f64], mut f: impl FnMut(usize, usize, f64, usize)) {
    let h = n / 2 + 1;
    let nb = edges.len().saturating_sub(1);
    for x in 0..n {
        let fx = signed_frequency(x, n) as f64;
        for y in 0..n {
            let fy = signed_frequency(y, n) as f64;
            for z in 0..h {
                if x == 0 && y == 0 && z == 0 {
                    continue;
                }
                let km = (fx * fx + fy * fy + (z * z) as f64).sqrt() * dk;
                let b = edges.partition_point(|&e| e <= km);
                if b == 0 || b > nb {
                    continue;
                }
                let w = if z == 0 || z == n / 2 { 1 } else { 2 };
                f((x * n + y) * h + z, b - 1, km, w);
            }
        }
    }
}

/// Mean |k| (1/Mpc) and mode count of each bin `edges` defines, for a cube of `n` cells and
/// side `box_mpc`, counted as [`chunk_power_spectra`] counts them (the half-space of a real
/// transform, modes off the `k_z = 0, N/2` planes twice, `k = 0` left out): the numbers an
/// analytic noise power in those bins needs.
pub fn bin_modes(n: usize, box_mpc: f64, edges: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let nb = edges.len().saturating_sub(1);
    let (mut ks, mut cnt) = (vec![0.0; nb], vec![0usize; nb]);
    let dk = 2.0 * std::f64::consts::PI / box_mpc;
    for_each_mode(n, dk, edges, |_, b, km, w| {
        ks[b] += km * w as f64;
        cnt[b] += w;
    });
    for (k, &c) in ks.iter_mut().zip(&cnt) {
        if c > 0 {
            *k /= c as f64;
        }
    }
    (ks, cnt)
}

/// P(k_perp, k_par) of every cubic chunk in the bins `perp_edges` x `par_edges` (1/Mpc).
pub fn chunk_cylindrical_spectra(
    lc: &LightCone,
    box_mpc: f64,
    perp_edges: &[f64],
    par_edges: &[f64],
) -> Vec<ChunkCylindrical> {
    let n = lc.cells;
    let h = n / 2 + 1;
    let fft = Fft3::new(n);
    let dk = 2.0 * std::f64::consts::PI / box_mpc;
    let volume = box_mpc.powi(3);
    let (np, nl) = (
        perp_edges.len().saturating_sub(1),
        par_edges.len().saturating_sub(1),
    );
    (0..n_chunks(lc))
        .map(|ch| {
            let t = chunk_transform(lc, ch, &fft);
            let mut ps = vec![0.0; np * nl];
            let mut cnt = vec![0usize; np * nl];
            for x in 0..n {
                let fx = signed_frequency(x, n) as f64;
                for y in 0..n {
                    let fy = signed_frequency(y, n) as f64;
                    let kp = (fx * fx + fy * fy).sqrt() * dk;
                    let bp = perp_edges.partition_point(|&e| e <= kp);
                    if bp == 0 || bp > np {
                        continue;
                    }
                    for z in 0..h {
                        let kl = z as f64 * dk;
                        let bl = par_edges.partition_point(|&e| e <= kl);
                        if bl == 0 || bl > nl {
                            continue;
                        }
                        let w = if z == 0 || z == n / 2 { 1 } else { 2 };
                        let i = (bp - 1) * nl + bl - 1;
                        ps[i] += t[(x * n + y) * h + z].norm_sqr() as f64 * volume * w as f64;
                        cnt[i] += w;
                    }
                }
            }
            let power = ps
                .iter()
                .zip(&cnt)
                .map(|(&p, &c)| if c > 0 { p / c as f64 } else { f64::NAN })
                .collect();
            ChunkCylindrical {
                z: lc.redshifts[ch * n + n / 2],
                power,
                modes: cnt,
            }
        })
        .collect()
}

/// The global signal: mean dT_b of each slice (mK) with its redshift, ascending.
pub fn global_signal(lc: &LightCone) -> Vec<(f64, f64)> {
    lc.redshifts
        .iter()
        .zip(&lc.global_tb)
        .map(|(&z, &t)| (z, t as f64))
        .collect()
}

/// Redshift where the plane-mean neutral fraction first drops below `level` going down in
/// z (linear interpolation), or None if it never does within the light-cone.
pub fn neutral_fraction_crossing(lc: &LightCone, level: f64) -> Option<f64> {
    let z = &lc.redshifts;
    let x = &lc.global_xhi;
    for i in (1..z.len()).rev() {
        let (xa, xb) = (x[i] as f64, x[i - 1] as f64);
        if xa >= level && xb < level {
            return Some(z[i] + (z[i - 1] - z[i]) * (xa - level) / (xa - xb));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cone(n: usize, n_los: usize, f: impl Fn(usize, usize, usize) -> f32) -> LightCone {
        let mut t_b = vec![0.0; n * n * n_los];
        for x in 0..n {
            for y in 0..n {
                for i in 0..n_los {
                    t_b[(x * n + y) * n_los + i] = f(x, y, i);
                }
            }
        }
        LightCone {
            cells: n,
            n_los,
            t_b,
            global_tb: vec![0.0; n_los],
            global_xhi: (0..n_los).map(|i| i as f32 / n_los as f32).collect(),
            redshifts: (0..n_los).map(|i| 6.0 + i as f64 * 0.1).collect(),
        }
    }

    /// The analytic noise binning sees the bins exactly as the estimator fills them.
    #[test]
    fn bin_modes_are_the_estimators_bins() {
        let (n, l) = (16, 64.0);
        let lc = cone(n, n, |x, y, z| (x * 7 + y * 3 + z) as f32 % 5.0);
        let edges = default_k_edges(l, n, 12);
        let ps = chunk_power_spectra(&lc, l, &edges);
        let (k, modes) = bin_modes(n, l, &edges);
        assert_eq!(modes, ps[0].modes);
        for (a, b) in k.iter().zip(&ps[0].k) {
            assert!((a - b).abs() <= 1e-12 * b.abs(), "{a} vs {b}");
        }
        // Every mode of the half-space but k = 0 lands in a bin (the edges span kf to the
        // corner) and is counted with its conjugate: n^3 - 1 in all.
        assert_eq!(modes.iter().sum::<usize>(), n * n * n - 1);
    }

    #[test]
    fn a_plane_wave_has_its_power_in_one_bin() {
        // Parseval: the modes' P/V sum to the variance A^2/2 of a cosine of amplitude A, all
        // of it in the bin of k = 2 pi m / L.
        let (n, l) = (16, 64.0);
        let a = 3.0f32;
        let m = 2;
        let lc = cone(n, 2 * n, |x, _, _| {
            a * (2.0 * std::f32::consts::PI * (m * x) as f32 / n as f32).cos()
        });
        let edges = default_k_edges(l, n, 12);
        let ps = chunk_power_spectra(&lc, l, &edges);
        assert_eq!(ps.len(), 2);
        let k0 = 2.0 * std::f64::consts::PI * m as f64 / l;
        let mut variance = 0.0;
        for (b, (&k, &d2)) in ps[0].k.iter().zip(&ps[0].delta2).enumerate() {
            let p = d2 * 2.0 * std::f64::consts::PI.powi(2) / k.max(1e-30).powi(3);
            let v = p * ps[0].modes[b] as f64 / l.powi(3);
            if (edges[b]..edges[b + 1]).contains(&k0) {
                variance += v;
            } else {
                assert!(v < 1e-6, "power {v} at k = {k}, expected all at {k0}");
            }
        }
        assert!((variance - (a * a / 2.0) as f64).abs() < 1e-3, "{variance}");
        let cyl =
            chunk_cylindrical_spectra(&lc, l, &log_edges(0.05, 1.0, 8), &log_edges(0.05, 1.0, 8));
        // All the power sits at k_par = 0, which no log bin holds.
        assert!(cyl[0].power.iter().all(|p| p.is_nan() || *p < 1e-6));
        assert!(neutral_fraction_crossing(&lc, 0.5).is_some());
    }
}
