//! The gas density at each node: linear, D(z) delta_0, or evolved with the Zel'dovich
//! approximation (one particle per cell displaced by D(z) psi(q), psi_k = i k delta_k / k^2,
//! and assigned back to the grid cloud-in-cell), as 21cmFAST moves its low-resolution
//! particles (it uses second order, 2LPT; at z >= 6 on 4 Mpc cells the difference is a few
//! per cent). The evolved field has the skewed, non-negative distribution of real
//! overdensities; linear theory's Gaussian field can even drop below -1.

use super::fft::{signed_frequency, Fft3, FftScratch};
use rustfft::num_complex::Complex32;

/// How the density at a node is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DensityModel {
    /// delta(z) = D(z) delta_0 everywhere (one filtering of the initial conditions serves
    /// every node).
    Linear,
    /// Zel'dovich displacements and cloud-in-cell assignment for the gas density (the
    /// (1 + delta) of dT_b, adiabatic heating, collisions, recombinations) and for the
    /// excursion set, which 21cmFAST also runs on the evolved density. Star formation in the
    /// X-ray and Ly-alpha shells keeps the linear (Lagrangian) field that extended
    /// Press-Schechter theory is written for.
    Zeldovich,
}

/// Zel'dovich displacement of every cell's particle at D = 1, in cells.
#[derive(Debug, Clone)]
pub struct Displacement {
    /// Components along x, y, z (line of sight), C-order n^3 each.
    pub psi: [Vec<f32>; 3],
}

impl Displacement {
    /// From the half-complex z = 0 density `delta_k` (inverse FFT = density) of a box of side
    /// `box_mpc`: psi_k = i k delta_k / k^2, Nyquist components dropped.
    pub fn new(delta_k: &[Complex32], box_mpc: f64, fft: &Fft3, scratch: &mut FftScratch) -> Self {
        let n = fft.n();
        let h = n / 2 + 1;
        let dk = 2.0 * std::f64::consts::PI / box_mpc;
        let cell = box_mpc / n as f64;
        let mut work = vec![Complex32::default(); delta_k.len()];
        let mut out: [Vec<f32>; 3] = std::array::from_fn(|_| vec![0.0; n * n * n]);
        for (axis, o) in out.iter_mut().enumerate() {
            for x in 0..n {
                let fx = signed_frequency(x, n);
                for y in 0..n {
                    let fy = signed_frequency(y, n);
                    for z in 0..h {
                        let m = (x * n + y) * h + z;
                        let f = [fx, fy, z as i64];
                        let k2 = ((f[0] * f[0] + f[1] * f[1] + f[2] * f[2]) as f64) * dk * dk;
                        let nyquist = f[axis].unsigned_abs() as usize == n / 2;
                        work[m] = if k2 == 0.0 || nyquist {
                            Complex32::default()
                        } else {
                            // i k_a delta / k^2, in cells.
                            let s = (f[axis] as f64 * dk / k2 / cell) as f32;
                            Complex32::new(0.0, s) * delta_k[m]
                        };
                    }
                }
            }
            fft.inverse(&mut work, o, scratch);
        }
        Self { psi: out }
    }

    /// 1 + delta of the particles displaced by `growth` psi, cloud-in-cell on the n^3 grid.
    pub fn one_plus_delta(&self, growth: f32, out: &mut [f32]) {
        let n = (out.len() as f64).cbrt().round() as usize;
        out.iter_mut().for_each(|x| *x = 0.0);
        let nf = n as f32;
        // Cell index and the next one, periodic; p in [0, n).
        let split = |p: f32| {
            let p = if p < 0.0 {
                p + nf * (1.0 + (-p / nf).floor())
            } else if p >= nf {
                p - nf * (p / nf).floor()
            } else {
                p
            };
            let i = (p as usize).min(n - 1);
            let j = if i + 1 == n { 0 } else { i + 1 };
            (i, j, p - i as f32)
        };
        for x in 0..n {
            for y in 0..n {
                let base = (x * n + y) * n;
                for z in 0..n {
                    let q = base + z;
                    let (x0, x1, tx) = split(x as f32 + growth * self.psi[0][q]);
                    let (y0, y1, ty) = split(y as f32 + growth * self.psi[1][q]);
                    let (z0, z1, tz) = split(z as f32 + growth * self.psi[2][q]);
                    let (sx, sy, sz) = (1.0 - tx, 1.0 - ty, 1.0 - tz);
                    let r00 = (x0 * n + y0) * n;
                    let r01 = (x0 * n + y1) * n;
                    let r10 = (x1 * n + y0) * n;
                    let r11 = (x1 * n + y1) * n;
                    let (w00, w01, w10, w11) = (sx * sy, sx * ty, tx * sy, tx * ty);
                    out[r00 + z0] += w00 * sz;
                    out[r00 + z1] += w00 * tz;
                    out[r01 + z0] += w01 * sz;
                    out[r01 + z1] += w01 * tz;
                    out[r10 + z0] += w10 * sz;
                    out[r10 + z1] += w10 * tz;
                    out[r11 + z0] += w11 * sz;
                    out[r11 + z1] += w11 * tz;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_wave_moves_mass_as_zeldovich_says() {
        // delta_0 = A cos(k x): psi = -(A/k) sin(k x); small D gives delta = D A cos(k x)
        // (linear theory), mass is conserved at any D.
        let n = 16;
        let l = 64.0;
        let fft = Fft3::new(n);
        let mut s = fft.scratch();
        let a = 0.5f32;
        let mut d0 = vec![0.0f32; n * n * n];
        for x in 0..n {
            for yz in 0..n * n {
                d0[x * n * n + yz] = a * (2.0 * std::f32::consts::PI * x as f32 / n as f32).cos();
            }
        }
        let mut work = d0.clone();
        let mut k = vec![Complex32::default(); fft.complex_len()];
        fft.forward(&mut work, &mut k, &mut s);
        let norm = 1.0 / (n * n * n) as f32;
        k.iter_mut().for_each(|z| *z *= norm);
        let disp = Displacement::new(&k, l, &fft, &mut s);
        // psi_x at x = n/4 (sin = 1): -(A/k) in cells = -(0.5 / (2 pi / 64)) / 4.
        let kk = 2.0 * std::f32::consts::PI / l as f32;
        let want = -a / kk / 4.0;
        assert!(
            (disp.psi[0][(n / 4) * n * n] - want).abs() < 1e-3,
            "{}",
            disp.psi[0][(n / 4) * n * n]
        );
        let mut opd = vec![0.0f32; n * n * n];
        let g = 0.02;
        disp.one_plus_delta(g, &mut opd);
        let total: f32 = opd.iter().sum();
        assert!((total / (n * n * n) as f32 - 1.0).abs() < 1e-5);
        // Cloud-in-cell from a lattice is exact only on average: cell by cell it shifts
        // mass by up to half a cell where the displacement changes sign. The wave's Fourier
        // amplitude is what linear theory fixes: D A, times the CIC window ~0.97-0.99 at 16
        // cells per wavelength (a 1-D lattice computation gives 0.974).
        let amp: f32 = (0..n)
            .map(|x| {
                (opd[x * n * n] - 1.0) * (2.0 * std::f32::consts::PI * x as f32 / n as f32).cos()
            })
            .sum::<f32>()
            * 2.0
            / n as f32;
        assert!((amp / (g * a) - 0.974).abs() < 0.02, "{}", amp / (g * a));
        // Strong growth: the density stays non-negative and piles up where psi converges.
        disp.one_plus_delta(2.0, &mut opd);
        assert!(opd.iter().all(|&x| x >= 0.0));
        assert!(opd[0] > 1.5);
    }
}
