//! The 21-cm brightness temperature contrast against the CMB.

use crate::cosmology::Cosmology;

/// dT_b in mK: 27 x_HI (1 + delta) (Omega_b h^2/0.023) sqrt(0.15/(Omega_m h^2) (1+z)/10)
/// (1 - T_cmb/T_S) (Furlanetto, Oh & Briggs 2006 eq. 2 with delta = 0 for the global signal).
pub fn brightness_temperature(c: &Cosmology, z: f64, x_hi: f64, t_s: f64) -> f64 {
    let h2 = c.h * c.h;
    27.0 * x_hi
        * (c.omega_b * h2 / 0.023)
        * (0.15 / (c.omega_m * h2) * (1.0 + z) / 10.0).sqrt()
        * (1.0 - c.t_cmb(z) / t_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturated_and_uncoupled_limits() {
        let c = Cosmology::planck18();
        // T_S = T_cmb: no signal.
        assert_eq!(brightness_temperature(&c, 10.0, 1.0, c.t_cmb(10.0)), 0.0);
        // T_S >> T_cmb: the emission ceiling, ~ 27 sqrt((1+z)/10) mK for Planck-like values.
        let sat = brightness_temperature(&c, 9.0, 1.0, 1e9);
        assert!((sat - 27.0).abs() < 1.5, "{sat}");
        // Ionized: nothing.
        assert_eq!(brightness_temperature(&c, 9.0, 0.0, 5.0), 0.0);
    }
}
