//! Eisenstein & Hu (1998, ApJ 496, 605) "no-wiggle" transfer function: the zero-baryon shape
//! with the baryon suppression of the sound horizon folded into an effective shape parameter
//! (their eqs. 26, 28-31). Smooth in k, which is all the halo abundances need.

use super::cosmology::Cosmology;

/// Precomputed constants of the no-wiggle fit for one cosmology.
#[derive(Debug, Clone, Copy)]
pub struct EisensteinHu {
    /// Omega_m h (the shape parameter without baryon suppression).
    omh: f64,
    /// alpha_Gamma of eq. 31.
    alpha_gamma: f64,
    /// Approximate sound horizon s of eq. 26, Mpc.
    sound_horizon: f64,
    /// (T_cmb / 2.7 K)^2.
    theta2: f64,
    /// h.
    h: f64,
}

impl EisensteinHu {
    /// The fit's constants for `c`.
    pub fn new(c: &Cosmology) -> Self {
        let omh2 = c.omega_m * c.h * c.h;
        let obh2 = c.omega_b * c.h * c.h;
        let fb = c.omega_b / c.omega_m;
        let sound_horizon = 44.5 * (9.83 / omh2).ln() / (1.0 + 10.0 * obh2.powf(0.75)).sqrt();
        let alpha_gamma =
            1.0 - 0.328 * (431.0 * omh2).ln() * fb + 0.38 * (22.3 * omh2).ln() * fb * fb;
        let theta = c.t_cmb0 / 2.7;
        Self {
            omh: c.omega_m * c.h,
            alpha_gamma,
            sound_horizon,
            theta2: theta * theta,
            h: c.h,
        }
    }

    /// The sound horizon of the fit (EH98 eq. 26), Mpc.
    pub fn sound_horizon(&self) -> f64 {
        self.sound_horizon
    }

    /// T(k), k in 1/Mpc. T -> 1 as k -> 0.
    pub fn transfer(&self, k: f64) -> f64 {
        let ks = 0.43 * k * self.sound_horizon;
        let gamma_eff =
            self.omh * (self.alpha_gamma + (1.0 - self.alpha_gamma) / (1.0 + ks.powi(4)));
        // q = k / (h Mpc^-1) * Theta^2 / Gamma_eff (eq. 28).
        let q = k / self.h * self.theta2 / gamma_eff;
        let l0 = (2.0 * std::f64::consts::E + 1.8 * q).ln();
        let c0 = 14.2 + 731.0 / (1.0 + 62.5 * q);
        l0 / (l0 + c0 * q * q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_scales_are_untouched() {
        let t = EisensteinHu::new(&Cosmology::planck18());
        assert!((t.transfer(1e-5) - 1.0).abs() < 1e-3);
    }

    #[test]
    fn sound_horizon_is_about_147_mpc() {
        // EH98 eq. 26 approximates the drag-epoch sound horizon to ~2%; Planck 2018 gives
        // r_drag = 147.1 Mpc (Planck 2018 VI, table 2).
        let s = EisensteinHu::new(&Cosmology::planck18()).sound_horizon();
        assert!((s / 147.1 - 1.0).abs() < 0.03, "{s}");
    }

    #[test]
    fn zero_baryon_limit_is_the_bbks_like_shape() {
        // With no baryons alpha_Gamma = 1 and T depends on k only through q = k/(Omega_m h^2)
        // Theta^2 (EH98 eq. 28-29): two cosmologies with the same Omega_m h^2 agree.
        let a = Cosmology {
            omega_b: 1e-9,
            ..Cosmology::planck18()
        };
        let b = Cosmology {
            omega_b: 1e-9,
            h: 0.6,
            omega_m: a.omega_m * a.h * a.h / 0.36,
            ..Cosmology::planck18()
        };
        let (ta, tb) = (EisensteinHu::new(&a), EisensteinHu::new(&b));
        for k in [0.01, 0.1, 1.0, 10.0] {
            assert!((ta.transfer(k) / tb.transfer(k) - 1.0).abs() < 1e-6);
        }
        // Small-scale logarithmic slope: T ~ ln(q)/q^2.
        let r = ta.transfer(1e3) / ta.transfer(2e3);
        assert!(r > 3.0 && r < 4.0, "{r}");
    }

    #[test]
    fn baryons_suppress_small_scale_power() {
        let c = Cosmology::planck18();
        let no_b = Cosmology { omega_b: 1e-9, ..c };
        let (t, t0) = (EisensteinHu::new(&c), EisensteinHu::new(&no_b));
        assert!(t.transfer(1.0) < t0.transfer(1.0));
        assert!((t.transfer(1e-4) - t0.transfer(1e-4)).abs() < 1e-3);
    }
}
