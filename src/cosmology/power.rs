//! Linear power spectrum and the rms mass fluctuation sigma(R), sigma(M), normalised to sigma_8.

use super::cosmology::Cosmology;
use super::transfer::EisensteinHu;
use std::f64::consts::PI;

/// Fourier transform of the real-space top hat, W(x) = 3 (sin x - x cos x)/x^3.
pub fn top_hat_window(x: f64) -> f64 {
    if x < 1e-3 {
        // Series: 1 - x^2/10 avoids the cancellation of sin x - x cos x.
        1.0 - x * x / 10.0
    } else {
        3.0 * (x.sin() - x * x.cos()) / (x * x * x)
    }
}

/// Lagrangian radius (comoving Mpc) of a mass M (Msun): M = (4/3) pi rho_m R^3.
pub fn mass_to_radius(c: &Cosmology, m: f64) -> f64 {
    (3.0 * m / (4.0 * PI * c.rho_m0_msun_mpc3())).cbrt()
}

/// Mass (Msun) inside a comoving radius R (Mpc).
pub fn radius_to_mass(c: &Cosmology, r: f64) -> f64 {
    4.0 / 3.0 * PI * c.rho_m0_msun_mpc3() * r * r * r
}

/// The linear matter power spectrum at z = 0, normalised to sigma_8.
#[derive(Debug, Clone)]
pub struct PowerSpectrum {
    transfer: EisensteinHu,
    n_s: f64,
    /// Amplitude A of P(k) = 2 pi^2 A k^n_s T(k)^2.
    amplitude: f64,
    /// ln k quadrature grid and the weights k^(3+n_s) T^2 on it.
    ln_k0: f64,
    d_ln_k: f64,
    weights: Vec<f64>,
}

impl PowerSpectrum {
    /// Quadrature range in ln(k/Mpc^-1): wide enough for 1e3..1e17 Msun.
    const LN_K_MIN: f64 = -12.0;
    const LN_K_MAX: f64 = 11.0;
    const N_K: usize = 4600;

    /// Build and normalise P(k) for `c`.
    pub fn new(c: &Cosmology) -> Self {
        let transfer = EisensteinHu::new(c);
        let d_ln_k = (Self::LN_K_MAX - Self::LN_K_MIN) / Self::N_K as f64;
        let weights = (0..=Self::N_K)
            .map(|i| {
                let k = (Self::LN_K_MIN + i as f64 * d_ln_k).exp();
                let t = transfer.transfer(k);
                k.powf(3.0 + c.n_s) * t * t
            })
            .collect();
        let mut p = Self {
            transfer,
            n_s: c.n_s,
            amplitude: 1.0,
            ln_k0: Self::LN_K_MIN,
            d_ln_k,
            weights,
        };
        let s8 = p.sigma_r(8.0 / c.h);
        p.amplitude = (c.sigma_8 / s8).powi(2);
        p
    }

    /// P(k) at z = 0 in Mpc^3 (k in 1/Mpc).
    pub fn power(&self, k: f64) -> f64 {
        let t = self.transfer.transfer(k);
        2.0 * PI * PI * self.amplitude * k.powf(self.n_s) * t * t
    }

    /// sigma(R) at z = 0 for a top hat of comoving radius R (Mpc). Simpson's rule in ln k.
    pub fn sigma_r(&self, r: f64) -> f64 {
        let n = self.weights.len() - 1;
        let mut s = 0.0;
        for (i, w) in self.weights.iter().enumerate() {
            let k = (self.ln_k0 + i as f64 * self.d_ln_k).exp();
            let wk = top_hat_window(k * r);
            let simpson = if i == 0 || i == n {
                1.0
            } else if i % 2 == 1 {
                4.0
            } else {
                2.0
            };
            s += simpson * w * wk * wk;
        }
        (self.amplitude * s * self.d_ln_k / 3.0).sqrt()
    }
}

/// sigma(M) at z = 0 tabulated in ln M, with d ln sigma / d ln M; linear interpolation.
#[derive(Debug, Clone)]
pub struct SigmaTable {
    ln_m0: f64,
    d_ln_m: f64,
    ln_sigma: Vec<f64>,
    dlns_dlnm: Vec<f64>,
}

impl SigmaTable {
    /// Mass range of the table, Msun.
    pub const M_MIN: f64 = 1e3;
    /// Upper end of the table, Msun.
    pub const M_MAX: f64 = 1e17;
    const N: usize = 561;

    /// Tabulate sigma(M) for `c` with power spectrum `p`.
    pub fn new(c: &Cosmology, p: &PowerSpectrum) -> Self {
        let ln_m0 = Self::M_MIN.ln();
        let d_ln_m = (Self::M_MAX.ln() - ln_m0) / (Self::N - 1) as f64;
        let ln_sigma: Vec<f64> = (0..Self::N)
            .map(|i| {
                let m = (ln_m0 + i as f64 * d_ln_m).exp();
                p.sigma_r(mass_to_radius(c, m)).ln()
            })
            .collect();
        let n = Self::N;
        let dlns_dlnm = (0..n)
            .map(|i| {
                let (a, b) = (i.saturating_sub(1), (i + 1).min(n - 1));
                (ln_sigma[b] - ln_sigma[a]) / ((b - a) as f64 * d_ln_m)
            })
            .collect();
        Self {
            ln_m0,
            d_ln_m,
            ln_sigma,
            dlns_dlnm,
        }
    }

    fn locate(&self, ln_m: f64) -> (usize, f64) {
        let x = ((ln_m - self.ln_m0) / self.d_ln_m).clamp(0.0, (self.ln_sigma.len() - 1) as f64);
        let i = (x as usize).min(self.ln_sigma.len() - 2);
        (i, x - i as f64)
    }

    /// ln sigma(M) at z = 0 given ln M (Msun); clamped to the table's range.
    pub fn ln_sigma(&self, ln_m: f64) -> f64 {
        let (i, t) = self.locate(ln_m);
        self.ln_sigma[i] * (1.0 - t) + self.ln_sigma[i + 1] * t
    }

    /// sigma(M) at z = 0 (M in Msun).
    pub fn sigma(&self, m: f64) -> f64 {
        self.ln_sigma(m.ln()).exp()
    }

    /// d ln sigma / d ln M at ln M.
    pub fn dln_sigma_dln_m(&self, ln_m: f64) -> f64 {
        let (i, t) = self.locate(ln_m);
        self.dlns_dlnm[i] * (1.0 - t) + self.dlns_dlnm[i + 1] * t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigma_8_is_reproduced() {
        let c = Cosmology::planck18();
        let p = PowerSpectrum::new(&c);
        assert!((p.sigma_r(8.0 / c.h) / c.sigma_8 - 1.0).abs() < 1e-10);
        let t = SigmaTable::new(&c, &p);
        let m8 = radius_to_mass(&c, 8.0 / c.h);
        assert!((t.sigma(m8) / c.sigma_8 - 1.0).abs() < 1e-4);
    }

    #[test]
    fn sigma_decreases_with_mass_with_a_flattening_slope() {
        let c = Cosmology::planck18();
        let t = SigmaTable::new(&c, &PowerSpectrum::new(&c));
        let mut prev = f64::INFINITY;
        for e in 4..16 {
            let s = t.sigma(10f64.powi(e));
            assert!(s < prev);
            prev = s;
        }
        // CDM: the slope d ln sigma / d ln M flattens towards small masses.
        let slope_small = t.dln_sigma_dln_m(1e5f64.ln());
        let slope_large = t.dln_sigma_dln_m(1e15f64.ln());
        assert!(slope_small > slope_large && slope_small < 0.0);
    }

    #[test]
    fn window_series_matches_closed_form() {
        let x: f64 = 0.99e-3;
        let exact = 3.0 * (x.sin() - x * x.cos()) / (x * x * x);
        assert!((top_hat_window(0.99e-3) - exact).abs() < 1e-6);
    }
}
