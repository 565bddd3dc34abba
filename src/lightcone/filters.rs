//! Smoothing windows in Fourier space and the smoothed fields a light-cone keeps.
//!
//! With linear density every smoothed field at redshift z is D(z) times the z = 0 one, so a
//! light-cone filters its initial conditions once per radius and every node reuses them.
//! A smoothed field is stored as 16-bit codes on [min, max] of that field (resolution
//! 1.5e-5 of the range): 2 bytes per cell, and a code is directly a position on a
//! 257-point table over [min, max] (`code >> 8` the node, `code & 255` the fraction), which
//! is how per-cell functions of the smoothed density are evaluated.

use super::fft::{Fft3, FftScratch};
use crate::cosmology::power::{top_hat_window, PowerSpectrum};
use rustfft::num_complex::Complex32;

/// Nodes of a per-field lookup table.
pub const TABLE_NODES: usize = 257;

/// Ratio of consecutive excursion-set filter radii (21cmFAST's DELTA_R_HII_FACTOR).
pub const FILTER_RADIUS_FACTOR: f64 = 1.1;

/// 21cmFAST's sharp-k convention: W = 1 for k R * 0.413567 <= 1.
pub const SHARP_K_FACTOR: f64 = 0.413_566_994;

/// Fourier window of a spherical shell between `r_in` and `r_out` (a top hat when
/// `r_in` = 0): the volume-weighted difference of two top hats.
pub fn annulus_window(k: f64, r_in: f64, r_out: f64) -> f64 {
    let (vo, vi) = (r_out.powi(3), r_in.powi(3));
    if vi == 0.0 {
        return top_hat_window(k * r_out);
    }
    (vo * top_hat_window(k * r_out) - vi * top_hat_window(k * r_in)) / (vo - vi)
}

/// Quadrature for variances of the smoothed z = 0 linear density:
/// sigma^2 = int dk/k k^3 P(k) W(k)^2 / (2 pi^2), Simpson's rule on a fine grid in ln k
/// (1e-4 to 1e2 / Mpc), with k^3 P / (2 pi^2) evaluated once.
#[derive(Debug, Clone)]
pub struct VarianceQuadrature {
    k: Vec<f64>,
    weight: Vec<f64>,
}

impl VarianceQuadrature {
    const N: usize = 8000;

    /// Precompute for `power`.
    pub fn new(power: &PowerSpectrum) -> Self {
        let (a, b) = ((1e-4f64).ln(), (1e2f64).ln());
        let h = (b - a) / Self::N as f64;
        let mut k = Vec::with_capacity(Self::N + 1);
        let mut weight = Vec::with_capacity(Self::N + 1);
        for i in 0..=Self::N {
            let kk = (a + i as f64 * h).exp();
            let simpson = if i == 0 || i == Self::N {
                1.0
            } else if i % 2 == 1 {
                4.0
            } else {
                2.0
            };
            k.push(kk);
            weight.push(
                simpson * h / 3.0 * kk.powi(3) * power.power(kk)
                    / (2.0 * std::f64::consts::PI.powi(2)),
            );
        }
        Self { k, weight }
    }

    /// Variance for the window `window(k)`.
    pub fn variance(&self, window: impl Fn(f64) -> f64) -> f64 {
        self.k
            .iter()
            .zip(&self.weight)
            .map(|(&k, &w)| {
                let x = window(k);
                w * x * x
            })
            .sum()
    }
}

/// Variance at z = 0 of the linear density smoothed with `window(k)` (see
/// [`VarianceQuadrature`]; build one to evaluate many windows).
pub fn smoothed_variance(power: &PowerSpectrum, window: impl Fn(f64) -> f64) -> f64 {
    VarianceQuadrature::new(power).variance(window)
}

/// A smoothed z = 0 field as 16-bit codes with its range and the CIC weights of its cells on
/// the [`TABLE_NODES`]-point table (so the box mean of any tabulated function is a dot
/// product).
#[derive(Debug, Clone)]
pub struct CodedField {
    /// One code per cell.
    pub codes: Vec<u16>,
    /// Field value of code 0.
    pub min: f32,
    /// Field step per code.
    pub step: f32,
    /// Fraction of cells on each table node (linear weights), sums to 1.
    pub weights: Vec<f64>,
}

impl CodedField {
    /// Encode `values`.
    pub fn new(values: &[f32]) -> Self {
        let mut codes = vec![0u16; values.len()];
        let (min, step, weights) = super::simd::dispatch!(encode(values, &mut codes));
        Self {
            codes,
            min,
            step,
            weights,
        }
    }

    /// Field value at table node `i` (node 256 lies one code beyond the largest value).
    pub fn node_value(&self, i: usize) -> f64 {
        self.min as f64 + (i * 256) as f64 * self.step as f64
    }

    /// Field value of a code.
    pub fn value(&self, code: u16) -> f32 {
        self.min + code as f32 * self.step
    }

    /// The smallest code whose value is at least `x` (65536 if none: nothing reaches it).
    pub fn threshold_code(&self, x: f64) -> u32 {
        let c = ((x - self.min as f64) / self.step as f64).ceil();
        if c <= 0.0 {
            0
        } else if c > 65535.0 {
            65536
        } else {
            c as u32
        }
    }

    /// Box mean of the function tabulated on the nodes (exact for the linear interpolation
    /// [`lerp`] uses).
    pub fn mean_of(&self, table: &[f64]) -> f64 {
        self.weights.iter().zip(table).map(|(w, t)| w * t).sum()
    }
}

/// Codes, range and CIC weights of `values` (the body of [`CodedField::new`]).
#[inline(always)]
fn encode(values: &[f32], codes: &mut [u16]) -> (f32, f32, Vec<f64>) {
    // Eight lanes of plain compares (vectorises; f32::min's NaN rules do not).
    let (mut lo8, mut hi8) = ([f32::INFINITY; 8], [f32::NEG_INFINITY; 8]);
    let mut chunks = values.chunks_exact(8);
    for c in &mut chunks {
        for l in 0..8 {
            lo8[l] = if c[l] < lo8[l] { c[l] } else { lo8[l] };
            hi8[l] = if c[l] > hi8[l] { c[l] } else { hi8[l] };
        }
    }
    for &v in chunks.remainder() {
        lo8[0] = lo8[0].min(v);
        hi8[0] = hi8[0].max(v);
    }
    let lo = lo8.iter().fold(f32::INFINITY, |a, &b| a.min(b));
    let hi = hi8.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    let step = ((hi - lo) / 65535.0).max(f32::MIN_POSITIVE);
    let inv = 1.0 / step;
    for (c, &v) in codes.iter_mut().zip(values) {
        // In [0.5, 65535.5] by construction of lo and step: a plain truncation rounds.
        // (max/min, not clamp: they vectorise.)
        #[allow(clippy::manual_clamp)]
        let x = ((v - lo) * inv + 0.5).max(0.0).min(65535.0);
        *c = x as i32 as u16;
    }
    // CIC weights: count and fraction sum per node (w[i] gets 256 count - fraction, w[i+1] the
    // fraction), four lanes so that runs of equal codes do not serialise on one counter.
    let mut cnt = [[0u32; 256]; 4];
    let mut frac = [[0u32; 256]; 4];
    let mut ch = codes.chunks_exact(4);
    for c in &mut ch {
        for l in 0..4 {
            let i = (c[l] >> 8) as usize;
            cnt[l][i] += 1;
            frac[l][i] += (c[l] & 255) as u32;
        }
    }
    for &c in ch.remainder() {
        cnt[0][(c >> 8) as usize] += 1;
        frac[0][(c >> 8) as usize] += (c & 255) as u32;
    }
    let norm = 1.0 / (256.0 * values.len().max(1) as f64);
    let mut weights = vec![0.0f64; TABLE_NODES];
    for i in 0..256 {
        let c: u64 = (0..4).map(|l| cnt[l][i] as u64).sum();
        let f: u64 = (0..4).map(|l| frac[l][i] as u64).sum();
        weights[i] += (256 * c - f) as f64 * norm;
        weights[i + 1] += f as f64 * norm;
    }
    (lo, step, weights)
}

/// Linear interpolation of a [`TABLE_NODES`]-point table at a code.
#[inline(always)]
pub fn lerp(table: &[f32], code: u16) -> f32 {
    let i = (code >> 8) as usize;
    let t = (code & 255) as f32 * (1.0 / 256.0);
    let a = table[i];
    a + t * (table[i + 1] - a)
}

/// Filter the half-complex field `k_field` with per-mode window values and bring it back to
/// real space (normalised, so it is the smoothed density): `out` gets n^3 values.
pub fn smooth_with(
    k_field: &[Complex32],
    window: impl Fn(usize) -> f32,
    fft: &Fft3,
    work: &mut [Complex32],
    scratch: &mut FftScratch,
    out: &mut [f32],
) {
    for (m, (w, c)) in work.iter_mut().zip(k_field).enumerate() {
        *w = *c * window(m);
    }
    fft.inverse(work, out, scratch);
}

/// [`smooth_with`] for a sharp-k filter of cut `k_cut` (1/Mpc) on a box of side `box_mpc`:
/// the band-limited inverse transform skips the empty lines.
#[allow(clippy::too_many_arguments)]
pub fn smooth_sharp_k(
    k_field: &[Complex32],
    mode_k: &[f32],
    k_cut: f32,
    box_mpc: f64,
    fft: &Fft3,
    work: &mut [Complex32],
    scratch: &mut FftScratch,
    out: &mut [f32],
) {
    for ((w, c), &k) in work.iter_mut().zip(k_field).zip(mode_k) {
        *w = if k <= k_cut { *c } else { Complex32::default() };
    }
    let m = (k_cut as f64 * box_mpc / (2.0 * std::f64::consts::PI)).floor() as usize;
    fft.inverse_band(work, out, scratch, m);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosmology::power::{mass_to_radius, SigmaTable};
    use crate::cosmology::Cosmology;

    #[test]
    fn variance_of_a_top_hat_matches_the_sigma_table() {
        let c = Cosmology::planck18();
        let p = PowerSpectrum::new(&c);
        let t = SigmaTable::new(&c, &p);
        for m in [1e10, 1e12, 1e14] {
            let r = mass_to_radius(&c, m);
            let s = smoothed_variance(&p, |k| top_hat_window(k * r)).sqrt();
            assert!(
                (s / t.sigma(m) - 1.0).abs() < 2e-3,
                "{m}: {s} {}",
                t.sigma(m)
            );
        }
        // A shell's window is 1 at k = 0 and its variance lies below the inner sphere's.
        assert!((annulus_window(1e-6, 5.0, 6.0) - 1.0).abs() < 1e-9);
        let inner = smoothed_variance(&p, |k| top_hat_window(k * 5.0));
        let shell = smoothed_variance(&p, |k| annulus_window(k, 5.0, 6.0));
        assert!(shell < inner && shell > 0.0);
    }

    #[test]
    fn codes_round_trip_and_weights_give_exact_means() {
        let v: Vec<f32> = (0..1000)
            .map(|i| ((i * 7919) % 1000) as f32 / 100.0 - 3.0)
            .collect();
        let f = CodedField::new(&v);
        for (x, &c) in v.iter().zip(&f.codes) {
            assert!((f.value(c) - x).abs() <= 0.51 * f.step + 1e-6);
        }
        // Mean of a linear function through the table equals the mean of the codes' values.
        let table: Vec<f64> = (0..TABLE_NODES)
            .map(|i| 2.0 * f.node_value(i) + 1.0)
            .collect();
        let direct: f64 = f
            .codes
            .iter()
            .map(|&c| 2.0 * f.value(c) as f64 + 1.0)
            .sum::<f64>()
            / v.len() as f64;
        assert!((f.mean_of(&table) - direct).abs() < 1e-4);
        let t32: Vec<f32> = table.iter().map(|&x| x as f32).collect();
        for &c in &f.codes[..20] {
            assert!((lerp(&t32, c) - (2.0 * f.value(c) + 1.0)).abs() < 1e-4);
        }
        assert_eq!(f.threshold_code(-100.0), 0);
        assert_eq!(f.threshold_code(100.0), 65536);
        let c = f.threshold_code(0.5);
        assert!(f.value(c as u16) >= 0.5 && f.value(c as u16 - 1) < 0.5);
    }
}
