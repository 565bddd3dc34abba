//! Coupling of the spin temperature: collisional (x_c, from the kappa tables of Zygelman 2005
//! and Furlanetto & Furlanetto 2007), Wouthuysen-Field (x_alpha) and the spin temperature.

use crate::cosmology::constants::{A_10, T_STAR};
use crate::cosmology::Cosmology;

/// H-H de-excitation rate coefficient kappa_HH(T), cm^3/s (T in K). Zygelman (2005).
pub const KAPPA_HH: [(f64, f64); 27] = [
    (1.0, 1.38e-13),
    (2.0, 1.43e-13),
    (4.0, 2.71e-13),
    (6.0, 6.60e-13),
    (8.0, 1.47e-12),
    (10.0, 2.88e-12),
    (15.0, 9.10e-12),
    (20.0, 1.78e-11),
    (25.0, 2.73e-11),
    (30.0, 3.67e-11),
    (40.0, 5.38e-11),
    (50.0, 6.86e-11),
    (60.0, 8.14e-11),
    (70.0, 9.25e-11),
    (80.0, 1.02e-10),
    (90.0, 1.11e-10),
    (100.0, 1.19e-10),
    (200.0, 1.75e-10),
    (300.0, 2.09e-10),
    (501.0, 2.565e-10),
    (701.0, 2.91e-10),
    (1000.0, 3.31e-10),
    (2000.0, 4.27e-10),
    (3000.0, 4.97e-10),
    (5000.0, 6.03e-10),
    (7000.0, 6.87e-10),
    (1e4, 7.87e-10),
];

/// e-H rate coefficient kappa_eH(T), cm^3/s. Furlanetto & Furlanetto (2007a).
pub const KAPPA_EH: [(f64, f64); 20] = [
    (1.0, 2.389e-10),
    (2.0, 3.371e-10),
    (5.0, 5.304e-10),
    (10.0, 7.459e-10),
    (20.0, 1.047e-9),
    (50.0, 1.629e-9),
    (100.0, 2.260e-9),
    (200.0, 3.106e-9),
    (500.0, 4.595e-9),
    (1e3, 5.917e-9),
    (2e3, 7.153e-9),
    (3e3, 7.712e-9),
    (5e3, 8.170e-9),
    (7e3, 8.321e-9),
    (1e4, 8.366e-9),
    (1.5e4, 8.285e-9),
    (2e4, 8.114e-9),
    (3e4, 7.575e-9),
    (6e4, 5.575e-9),
    (1e5, 3.723e-9),
];

/// p-H rate coefficient kappa_pH(T), cm^3/s. Furlanetto & Furlanetto (2007b).
pub const KAPPA_PH: [(f64, f64); 17] = [
    (1.0, 4.0e-10),
    (2.0, 4.5e-10),
    (5.0, 4.30e-10),
    (10.0, 3.69e-10),
    (20.0, 3.17e-10),
    (50.0, 3.047e-10),
    (100.0, 3.379e-10),
    (200.0, 4.043e-10),
    (500.0, 5.471e-10),
    (1e3, 7.051e-10),
    (2e3, 9.167e-10),
    (3e3, 1.070e-9),
    (5e3, 1.301e-9),
    (7e3, 1.480e-9),
    (1e4, 1.695e-9),
    (1.5e4, 1.975e-9),
    (2e4, 2.201e-9),
];

/// A rate table interpolated linearly in (ln T, ln kappa); constant below the first point,
/// constant or a power law (slope `high_slope`) above the last.
#[derive(Debug, Clone)]
pub struct KappaTable {
    ln_t: Vec<f64>,
    ln_k: Vec<f64>,
    high_slope: f64,
}

impl KappaTable {
    /// From (T, kappa) pairs with ascending T.
    pub fn new(points: &[(f64, f64)], high_slope: f64) -> Self {
        Self {
            ln_t: points.iter().map(|p| p.0.ln()).collect(),
            ln_k: points.iter().map(|p| p.1.ln()).collect(),
            high_slope,
        }
    }

    /// kappa(T), cm^3/s.
    pub fn eval(&self, t: f64) -> f64 {
        let lt = t.max(1e-3).ln();
        let n = self.ln_t.len();
        if lt <= self.ln_t[0] {
            return self.ln_k[0].exp();
        }
        if lt >= self.ln_t[n - 1] {
            return (self.ln_k[n - 1] + self.high_slope * (lt - self.ln_t[n - 1])).exp();
        }
        let i = self.ln_t.partition_point(|&x| x <= lt) - 1;
        let w = (lt - self.ln_t[i]) / (self.ln_t[i + 1] - self.ln_t[i]);
        (self.ln_k[i] * (1.0 - w) + self.ln_k[i + 1] * w).exp()
    }
}

/// The three collisional rate tables.
#[derive(Debug, Clone)]
pub struct CollisionalRates {
    /// kappa_HH (T^0.381 beyond 1e4 K, as in PHYSICS.md).
    pub hh: KappaTable,
    /// kappa_eH (constant beyond the table).
    pub eh: KappaTable,
    /// kappa_pH (constant beyond the table).
    pub ph: KappaTable,
}

impl Default for CollisionalRates {
    fn default() -> Self {
        Self {
            hh: KappaTable::new(&KAPPA_HH, 0.381),
            eh: KappaTable::new(&KAPPA_EH, 0.0),
            ph: KappaTable::new(&KAPPA_PH, 0.0),
        }
    }
}

impl CollisionalRates {
    /// Collisional coupling x_c = T*/(T_cmb A_10) (kappa_HH n_HI + kappa_eH n_e + kappa_pH n_p)
    /// in neutral gas with electron fraction `x_e` at z, temperature `t_k`.
    pub fn x_c(&self, c: &Cosmology, z: f64, t_k: f64, x_e: f64) -> f64 {
        let n_h = c.n_h0() * (1.0 + z).powi(3);
        let n_hi = (1.0 - x_e) * n_h;
        let n_e = x_e * n_h;
        let rate = self.hh.eval(t_k) * n_hi + (self.eh.eval(t_k) + self.ph.eval(t_k)) * n_e;
        T_STAR / (c.t_cmb(z) * A_10) * rate
    }
}

/// Wouthuysen-Field coupling x_alpha = 1.66e11/(1+z) S_alpha J_alpha (J in
/// cm^-2 s^-1 Hz^-1 sr^-1).
pub fn x_alpha(z: f64, s_alpha: f64, j_alpha: f64) -> f64 {
    1.66e11 / (1.0 + z) * s_alpha * j_alpha
}

/// Spin temperature from 1/T_S = (1/T_cmb + x_alpha/T_c + x_c/T_K)/(1 + x_alpha + x_c), with
/// the colour temperature T_c = T_K.
pub fn spin_temperature(t_cmb: f64, t_k: f64, x_alpha: f64, x_c: f64) -> f64 {
    (1.0 + x_alpha + x_c) / (1.0 / t_cmb + (x_alpha + x_c) / t_k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_nodes_and_interpolation() {
        let r = CollisionalRates::default();
        assert!((r.hh.eval(100.0) / 1.19e-10 - 1.0).abs() < 1e-12);
        assert!((r.eh.eval(1e3) / 5.917e-9 - 1.0).abs() < 1e-12);
        // Log-log midpoint between 10 and 15 K.
        let mid = (2.88e-12f64.ln() * 0.5 + 9.10e-12f64.ln() * 0.5).exp();
        assert!((r.hh.eval((10.0f64 * 15.0).sqrt()) / mid - 1.0).abs() < 1e-12);
        // Power-law tail beyond 1e4 K.
        assert!((r.hh.eval(2e4) / (7.87e-10 * 2f64.powf(0.381)) - 1.0).abs() < 1e-12);
        // Clamped below 1 K.
        assert_eq!(r.ph.eval(0.5), r.ph.eval(1.0));
    }

    #[test]
    fn spin_temperature_limits() {
        assert!((spin_temperature(50.0, 10.0, 0.0, 0.0) - 50.0).abs() < 1e-12);
        assert!((spin_temperature(50.0, 10.0, 1e9, 0.0) - 10.0).abs() < 1e-6);
        // Equal weights: harmonic mean of T_cmb and T_K.
        let t = spin_temperature(50.0, 10.0, 1.0, 0.0);
        assert!((t - 2.0 / (1.0 / 50.0 + 1.0 / 10.0)).abs() < 1e-12);
    }

    #[test]
    fn collisional_coupling_is_strong_at_high_z() {
        // At z ~ 100 x_c ~ 1 (gas still coupled), falling steeply by z ~ 30 (e.g. Furlanetto,
        // Oh & Briggs 2006, fig. 2).
        let c = Cosmology::planck18();
        let r = CollisionalRates::default();
        let hi = r.x_c(&c, 100.0, 200.0, 1e-3);
        let lo = r.x_c(&c, 30.0, 20.0, 2e-4);
        assert!(hi > 0.5 && hi < 5.0, "{hi}");
        assert!(lo < 0.1, "{lo}");
    }
}
