//! Gaussian initial conditions: the z = 0 linear density of an N^3 box from the linear power
//! spectrum, every light-cone from its own seed.
//!
//! Each cell holds the *cell-averaged* density, as in 21cmFAST with DIM = 3 HII_DIM: its
//! high-resolution field (modes up to three times the grid's Nyquist frequency) is smoothed
//! with a real-space top hat of the cell's volume (R = 0.62 cell) and sampled on the coarse
//! grid. Here that is done in Fourier space at once: the power of grid mode k is
//! P_grid(k) = sum over n in {-1, 0, 1}^3 of P(|k + 2 k_Ny n|) W_TH(|k + 2 k_Ny n| R_cell)^2,
//! the aliased, windowed spectrum. Then delta_k = sqrt(P_grid / V) (a + i b)/sqrt(2) with
//! a, b ~ N(0, 1) (PHYSICS.md section 4), Hermitian symmetry imposed on the kz = 0 and
//! Nyquist planes, and no DC mode.

use super::fft::{signed_frequency, Fft3, FftScratch};
use crate::cosmology::power::{top_hat_window, PowerSpectrum};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rustfft::num_complex::Complex32;

/// Radius of the sphere with a cell's volume, in cells: (3/(4 pi))^(1/3) (21cmFAST's
/// L_FACTOR).
pub const CELL_RADIUS_FACTOR: f64 = 0.620_350_490_899_4;

/// |k| (1/Mpc) of every half-complex mode, in [`Fft3`] layout.
pub fn mode_wavenumbers(n: usize, box_mpc: f64) -> Vec<f32> {
    let h = n / 2 + 1;
    let dk = 2.0 * std::f64::consts::PI / box_mpc;
    let mut k = Vec::with_capacity(n * n * h);
    for x in 0..n {
        let kx = signed_frequency(x, n) as f64;
        for y in 0..n {
            let ky = signed_frequency(y, n) as f64;
            for z in 0..h {
                let kz = z as f64;
                k.push(((kx * kx + ky * ky + kz * kz).sqrt() * dk) as f32);
            }
        }
    }
    k
}

/// The expected power of each grid mode (Mpc^3), cell-averaged and aliased as described in
/// the module documentation; 0 for the DC mode.
pub fn grid_power(n: usize, box_mpc: f64, power: &PowerSpectrum) -> Vec<f64> {
    let h = n / 2 + 1;
    let dk = 2.0 * std::f64::consts::PI / box_mpc;
    let r_cell = CELL_RADIUS_FACTOR * box_mpc / n as f64;
    let nyq2 = n as i64; // 2 k_Ny in units of dk
    let mut p = Vec::with_capacity(n * n * h);
    for x in 0..n {
        let fx = signed_frequency(x, n);
        for y in 0..n {
            let fy = signed_frequency(y, n);
            for z in 0..h {
                let fz = z as i64;
                if fx == 0 && fy == 0 && fz == 0 {
                    p.push(0.0);
                    continue;
                }
                let mut s = 0.0;
                for ax in -1..=1i64 {
                    for ay in -1..=1i64 {
                        for az in -1..=1i64 {
                            let (a, b, c) = (fx + ax * nyq2, fy + ay * nyq2, fz + az * nyq2);
                            let k = ((a * a + b * b + c * c) as f64).sqrt() * dk;
                            let w = top_hat_window(k * r_cell);
                            s += power.power(k) * w * w;
                        }
                    }
                }
                p.push(s);
            }
        }
    }
    p
}

/// Draw the z = 0 linear density: returns its half-complex transform, normalised so that
/// the inverse (unnormalised) FFT is the density itself, and fills `density` (n^3).
/// `amplitude[m] = sqrt(P_grid / V)` per mode.
pub fn gaussian_density(
    seed: u64,
    amplitude: &[f32],
    fft: &Fft3,
    scratch: &mut FftScratch,
    density: &mut [f32],
) -> Vec<Complex32> {
    let n = fft.n();
    let h = n / 2 + 1;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let inv_sqrt2 = std::f32::consts::FRAC_1_SQRT_2;
    let mut k: Vec<Complex32> = amplitude
        .iter()
        .map(|&a| {
            let re: f32 = StandardNormal.sample(&mut rng);
            let im: f32 = StandardNormal.sample(&mut rng);
            Complex32::new(re, im) * (a * inv_sqrt2)
        })
        .collect();
    // Hermitian symmetry in the planes kz = 0 and kz = n/2: delta(-k) = conj(delta(k)).
    for kz in [0, n / 2] {
        for x in 0..n {
            for y in 0..n {
                let (mx, my) = ((n - x) % n, (n - y) % n);
                let i = (x * n + y) * h + kz;
                let j = (mx * n + my) * h + kz;
                if j < i {
                    k[i] = k[j].conj();
                } else if j == i {
                    // Self-conjugate modes are real with the full variance.
                    k[i] = Complex32::new(k[i].re * std::f32::consts::SQRT_2, 0.0);
                }
            }
        }
    }
    k[0] = Complex32::new(0.0, 0.0);
    let mut work = k.clone();
    fft.inverse(&mut work, density, scratch);
    k
}

/// Measured power spectrum of a real box in spherical shells of |k| (bin edges in 1/Mpc):
/// (mean k, mean power in Mpc^3, number of modes) per bin. Half-complex modes off the
/// kz = 0 and Nyquist planes count twice (they stand for their conjugates).
pub fn measure_power(
    field: &[f32],
    box_mpc: f64,
    fft: &Fft3,
    scratch: &mut FftScratch,
    edges: &[f64],
) -> Vec<(f64, f64, usize)> {
    let n = fft.n();
    let h = n / 2 + 1;
    let mut work = field.to_vec();
    let mut k = vec![Complex32::default(); fft.complex_len()];
    fft.forward(&mut work, &mut k, scratch);
    let kk = mode_wavenumbers(n, box_mpc);
    let volume = box_mpc.powi(3);
    let norm = volume / ((n * n * n) as f64).powi(2);
    let nb = edges.len().saturating_sub(1);
    let mut acc = vec![(0.0, 0.0, 0usize); nb];
    for (m, (c, &km)) in k.iter().zip(&kk).enumerate() {
        let kz = m % h;
        let weight = if kz == 0 || kz == n / 2 { 1 } else { 2 };
        let km = km as f64;
        if km == 0.0 {
            continue;
        }
        let b = edges.partition_point(|&e| e <= km);
        if b == 0 || b > nb {
            continue;
        }
        let a = &mut acc[b - 1];
        a.0 += km * weight as f64;
        a.1 += c.norm_sqr() as f64 * norm * weight as f64;
        a.2 += weight;
    }
    acc.into_iter()
        .map(|(k, p, c)| {
            if c == 0 {
                (0.0, 0.0, 0)
            } else {
                (k / c as f64, p / c as f64, c)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosmology::Cosmology;

    #[test]
    fn same_seed_same_field_and_zero_mean() {
        let n = 8;
        let f = Fft3::new(n);
        let mut s = f.scratch();
        let p = PowerSpectrum::new(&Cosmology::planck18());
        let v = 64f64.powi(3);
        let amp: Vec<f32> = grid_power(n, 64.0, &p)
            .iter()
            .map(|&x| (x / v).sqrt() as f32)
            .collect();
        let mut a = vec![0.0; n * n * n];
        let mut b = vec![0.0; n * n * n];
        gaussian_density(7, &amp, &f, &mut s, &mut a);
        gaussian_density(7, &amp, &f, &mut s, &mut b);
        assert_eq!(a, b);
        gaussian_density(8, &amp, &f, &mut s, &mut b);
        assert_ne!(a, b);
        let mean: f64 = a.iter().map(|&x| x as f64).sum::<f64>() / a.len() as f64;
        assert!(mean.abs() < 1e-6, "{mean}");
    }
}
