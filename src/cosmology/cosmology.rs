//! The background cosmology as a value.

use super::constants::{C_CM_S, G_NEWTON, H100_S, MPC_CM, MSUN_G, M_P};
use spinflip_likelihoods::ModelError;

/// A flat Lambda-CDM cosmology. All densities are today's values; distances are comoving Mpc
/// (not Mpc/h).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cosmology {
    /// Dimensionless Hubble constant h = H0 / (100 km/s/Mpc).
    pub h: f64,
    /// Total matter density parameter.
    pub omega_m: f64,
    /// Baryon density parameter.
    pub omega_b: f64,
    /// Radiation density parameter (photons and neutrinos).
    pub omega_r: f64,
    /// rms linear overdensity in spheres of 8/h Mpc at z = 0.
    pub sigma_8: f64,
    /// Primordial spectral index.
    pub n_s: f64,
    /// Helium mass fraction.
    pub y_he: f64,
    /// CMB temperature today, K.
    pub t_cmb0: f64,
}

impl Default for Cosmology {
    fn default() -> Self {
        Self::planck18()
    }
}

impl Cosmology {
    /// Planck 2018 (the 21cmFAST v4 default): h = 0.6766, Omega_m = 0.30964,
    /// Omega_b = 0.04897, sigma_8 = 0.8102, n_s = 0.9665.
    pub fn planck18() -> Self {
        Self {
            h: 0.6766,
            omega_m: 0.30964,
            omega_b: 0.04897,
            omega_r: 8.6e-5,
            sigma_8: 0.8102,
            n_s: 0.9665,
            y_he: 0.24,
            t_cmb0: 2.7255,
        }
    }

    /// Check that every parameter is finite and physical.
    pub fn validate(&self) -> Result<(), ModelError> {
        let checks: [(&str, f64, f64, f64); 8] = [
            ("h", self.h, 0.2, 2.0),
            ("omega_m", self.omega_m, 0.01, 1.0),
            ("omega_b", self.omega_b, 1e-4, self.omega_m),
            ("omega_r", self.omega_r, 0.0, 1e-2),
            ("sigma_8", self.sigma_8, 0.1, 3.0),
            ("n_s", self.n_s, 0.5, 1.5),
            ("y_he", self.y_he, 0.0, 0.5),
            ("t_cmb0", self.t_cmb0, 1.0, 5.0),
        ];
        for (name, value, min, max) in checks {
            if !value.is_finite() {
                return Err(ModelError::NonFinite {
                    name: name.into(),
                    value,
                });
            }
            if value < min || value > max {
                return Err(ModelError::OutOfRange {
                    name: name.into(),
                    value,
                    min,
                    max,
                });
            }
        }
        Ok(())
    }

    /// Dark-energy density (flat universe).
    pub fn omega_lambda(&self) -> f64 {
        1.0 - self.omega_m - self.omega_r
    }

    /// H0 in s^-1.
    pub fn hubble0(&self) -> f64 {
        self.h * H100_S
    }

    /// E(z) = H(z)/H0.
    pub fn e_of_z(&self, z: f64) -> f64 {
        let a = 1.0 + z;
        (self.omega_m * a * a * a + self.omega_r * a * a * a * a + self.omega_lambda()).sqrt()
    }

    /// Hubble rate H(z) in s^-1.
    pub fn hubble(&self, z: f64) -> f64 {
        self.hubble0() * self.e_of_z(z)
    }

    /// |dt/dz| = 1/(H (1+z)) in s.
    pub fn dt_dz(&self, z: f64) -> f64 {
        1.0 / (self.hubble(z) * (1.0 + z))
    }

    /// Matter density parameter at redshift z.
    pub fn omega_m_z(&self, z: f64) -> f64 {
        let a3 = (1.0 + z).powi(3);
        self.omega_m * a3 / self.e_of_z(z).powi(2)
    }

    /// Critical density today, g/cm^3.
    pub fn rho_crit0(&self) -> f64 {
        3.0 * self.hubble0().powi(2) / (8.0 * std::f64::consts::PI * G_NEWTON)
    }

    /// Critical density today in Msun per comoving Mpc^3.
    pub fn rho_crit0_msun_mpc3(&self) -> f64 {
        self.rho_crit0() * MPC_CM.powi(3) / MSUN_G
    }

    /// Mean matter density today in Msun per comoving Mpc^3.
    pub fn rho_m0_msun_mpc3(&self) -> f64 {
        self.omega_m * self.rho_crit0_msun_mpc3()
    }

    /// Comoving hydrogen number density, cm^-3.
    pub fn n_h0(&self) -> f64 {
        self.rho_crit0() * self.omega_b * (1.0 - self.y_he) / M_P
    }

    /// Comoving helium number density, cm^-3.
    pub fn n_he0(&self) -> f64 {
        self.rho_crit0() * self.omega_b * self.y_he / (4.0 * M_P)
    }

    /// Comoving baryon (nucleus) number density n_H + n_He, cm^-3.
    pub fn n_b0(&self) -> f64 {
        self.n_h0() + self.n_he0()
    }

    /// Helium-to-hydrogen number ratio f_He.
    pub fn f_he(&self) -> f64 {
        self.y_he / (4.0 * (1.0 - self.y_he))
    }

    /// Comoving baryon mass density, g/cm^3.
    pub fn rho_b0(&self) -> f64 {
        self.rho_crit0() * self.omega_b
    }

    /// CMB temperature at z, K.
    pub fn t_cmb(&self, z: f64) -> f64 {
        self.t_cmb0 * (1.0 + z)
    }

    /// Speed of light over H0, in Mpc (the Hubble distance).
    pub fn hubble_distance_mpc(&self) -> f64 {
        C_CM_S / self.hubble0() / MPC_CM
    }

    /// Optical depth to Thomson scattering up to `z_max` for an ionized fraction history
    /// `q(z)` of the H II + He II regions (He doubly ionized below z = 3). Trapezoid in z with
    /// `n` steps.
    pub fn thomson_optical_depth(&self, z_max: f64, n: usize, q: impl Fn(f64) -> f64) -> f64 {
        let (nh, nhe) = (self.n_h0(), self.n_he0());
        let dz = z_max / n as f64;
        let integrand = |z: f64| {
            let ne0 = if z < 3.0 {
                nh + 2.0 * nhe
            } else {
                q(z) * (nh + nhe)
            };
            (1.0 + z).powi(2) / self.hubble(z) * ne0
        };
        let mut s = 0.5 * (integrand(0.0) + integrand(z_max));
        for i in 1..n {
            s += integrand(i as f64 * dz);
        }
        super::constants::SIGMA_T * C_CM_S * s * dz
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn critical_density_matches_textbook_value() {
        // rho_crit = 2.775e11 h^2 Msun/Mpc^3 (e.g. Mo, van den Bosch & White 2010, sec. 3.2).
        let c = Cosmology::planck18();
        let r = c.rho_crit0_msun_mpc3() / (c.h * c.h);
        assert!((r / 2.775e11 - 1.0).abs() < 2e-3, "{r}");
    }

    #[test]
    fn hydrogen_density_is_about_1p9e7() {
        // n_H0 = 1.9e-7 cm^-3 for Omega_b h^2 = 0.0224, Y = 0.24.
        let n = Cosmology::planck18().n_h0();
        assert!((n / 1.9e-7 - 1.0).abs() < 0.03, "{n}");
    }

    #[test]
    fn instantaneous_reionization_optical_depth() {
        // Planck 2018: tau = 0.054 corresponds to instantaneous reionization at z ~ 7.7.
        let c = Cosmology::planck18();
        let tau = c.thomson_optical_depth(30.0, 3000, |z| if z < 7.7 { 1.0 } else { 0.0 });
        assert!((tau - 0.054).abs() < 0.003, "{tau}");
    }

    #[test]
    fn rejects_bad_cosmology() {
        let c = Cosmology {
            h: f64::NAN,
            ..Cosmology::planck18()
        };
        assert!(matches!(c.validate(), Err(ModelError::NonFinite { .. })));
        let c = Cosmology {
            omega_m: 2.0,
            ..Cosmology::planck18()
        };
        assert!(matches!(c.validate(), Err(ModelError::OutOfRange { .. })));
    }
}
