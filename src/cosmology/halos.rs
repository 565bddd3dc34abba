//! Minimum halo mass and the collapsed fraction of mass in halos above it.
//!
//! Press-Schechter: F(>nu) = erfc(nu / sqrt 2). Sheth-Tormen (a = 0.73, p = 0.175, A = 0.353 as
//! in 21cmFAST): integrating the multiplicity f(nu) = A sqrt(2a/pi) (1 + (a nu^2)^-p)
//! exp(-a nu^2 / 2) from nu to infinity gives the closed form
//! F(>nu) = A [erfc(sqrt(a/2) nu) + 2^-p Gamma(1/2 - p, a nu^2 / 2) / sqrt(pi)],
//! with nu = delta_c / (sigma(M_min) D(z)).

use super::constants::{DELTA_C, K_B, M_P};
use super::cosmology::Cosmology;
use statrs::function::{erf::erfc, gamma};
use std::f64::consts::PI;

/// Which halo mass function the collapsed fraction integrates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MassFunction {
    /// Press & Schechter (1974).
    PressSchechter,
    /// Sheth & Tormen (1999) with the 21cmFAST parameters.
    ShethTormen,
}

const ST_A: f64 = 0.353;
const ST_SMALL_A: f64 = 0.73;
const ST_P: f64 = 0.175;

impl MassFunction {
    /// Collapsed fraction above peak height nu, F(>nu).
    pub fn f_coll_nu(self, nu: f64) -> f64 {
        match self {
            MassFunction::PressSchechter => erfc(nu / std::f64::consts::SQRT_2),
            MassFunction::ShethTormen => {
                let s = 0.5 - ST_P;
                let x = 0.5 * ST_SMALL_A * nu * nu;
                let upper = if x > 0.0 {
                    gamma::gamma_ur(s, x) * gamma::gamma(s)
                } else {
                    gamma::gamma(s)
                };
                ST_A * (erfc((0.5 * ST_SMALL_A).sqrt() * nu) + 2f64.powf(-ST_P) * upper / PI.sqrt())
            }
        }
    }

    /// Multiplicity f(nu) = -dF/dnu.
    pub fn multiplicity(self, nu: f64) -> f64 {
        match self {
            MassFunction::PressSchechter => (2.0 / PI).sqrt() * (-0.5 * nu * nu).exp(),
            MassFunction::ShethTormen => {
                let anu2 = ST_SMALL_A * nu * nu;
                ST_A * (2.0 * ST_SMALL_A / PI).sqrt()
                    * (1.0 + anu2.powf(-ST_P))
                    * (-0.5 * anu2).exp()
            }
        }
    }
}

/// Bryan & Norman (1998) virial overdensity Delta_c = 18 pi^2 + 82 d - 39 d^2, d = Omega_m(z) - 1.
pub fn delta_vir(c: &Cosmology, z: f64) -> f64 {
    let d = c.omega_m_z(z) - 1.0;
    18.0 * PI * PI + 82.0 * d - 39.0 * d * d
}

/// Halo mass (Msun) with circular velocity `v_c` (km/s) at z: Barkana & Loeb (2001) eq. 25
/// inverted, M = 1e8/h (V_c / 23.4)^3 [Om/Om(z) Delta_c/(18 pi^2)]^(-1/2) ((1+z)/10)^(-3/2).
pub fn mass_from_circular_velocity(c: &Cosmology, v_c: f64, z: f64) -> f64 {
    let bracket = c.omega_m / c.omega_m_z(z) * delta_vir(c, z) / (18.0 * PI * PI);
    1e8 / c.h * (v_c / 23.4).powi(3) / bracket.sqrt() / ((1.0 + z) / 10.0).powf(1.5)
}

/// Mean molecular weight used with a virial temperature: 1.22 (neutral) below 1e4 K,
/// 0.59 (ionized) above.
pub fn mean_molecular_weight(t_vir: f64) -> f64 {
    if t_vir < 1e4 {
        1.22
    } else {
        0.59
    }
}

/// Virial temperature (K) of a halo with circular velocity `v_c` (km/s) for weight `mu`:
/// T_vir = mu m_p V_c^2 / (2 k_B).
pub fn virial_temperature(v_c: f64, mu: f64) -> f64 {
    mu * M_P * (v_c * 1e5).powi(2) / (2.0 * K_B)
}

/// Halo mass (Msun) with virial temperature `t_vir` (K) at z (Barkana & Loeb 2001 eq. 26):
/// M = (7030.97/h) sqrt(Om(z)/(Om Delta_c)) (T_vir/(mu (1+z)))^1.5.
pub fn mass_from_virial_temperature(c: &Cosmology, t_vir: f64, z: f64) -> f64 {
    let mu = mean_molecular_weight(t_vir);
    7030.97 / c.h
        * (c.omega_m_z(z) / (c.omega_m * delta_vir(c, z))).sqrt()
        * (t_vir / (mu * (1.0 + z))).powf(1.5)
}

/// The collapsed fraction F(>nu) on a table in nu, shared by every call.
#[derive(Debug, Clone)]
pub struct CollapsedFraction {
    kind: MassFunction,
    d_nu: f64,
    ln_f: Vec<f64>,
}

impl CollapsedFraction {
    const NU_MAX: f64 = 40.0;
    const N: usize = 8001;

    /// Tabulate ln F(>nu) for 0 <= nu <= 40 (linear interpolation; relative error < 1e-5).
    pub fn new(kind: MassFunction) -> Self {
        let d_nu = Self::NU_MAX / (Self::N - 1) as f64;
        let ln_f = (0..Self::N)
            .map(|i| kind.f_coll_nu(i as f64 * d_nu).max(1e-300).ln())
            .collect();
        Self { kind, d_nu, ln_f }
    }

    /// The mass function tabulated.
    pub fn kind(&self) -> MassFunction {
        self.kind
    }

    /// F(>nu) from the table (0 beyond nu = 40).
    pub fn f_coll(&self, nu: f64) -> f64 {
        let x = nu.max(0.0) / self.d_nu;
        if x >= (self.ln_f.len() - 1) as f64 {
            return 0.0;
        }
        let i = x as usize;
        let t = x - i as f64;
        (self.ln_f[i] * (1.0 - t) + self.ln_f[i + 1] * t).exp()
    }
}

/// Peak height nu = delta_c / (sigma(M) D(z)).
pub fn peak_height(sigma_m: f64, growth: f64) -> f64 {
    DELTA_C / (sigma_m * growth)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simpson(f: impl Fn(f64) -> f64, a: f64, b: f64, n: usize) -> f64 {
        let h = (b - a) / n as f64;
        let mut s = f(a) + f(b);
        for i in 1..n {
            s += f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        s * h / 3.0
    }

    #[test]
    fn closed_forms_integrate_the_multiplicity() {
        for kind in [MassFunction::PressSchechter, MassFunction::ShethTormen] {
            for nu in [0.5, 1.5, 3.0, 6.0] {
                let num = simpson(|x| kind.multiplicity(x), nu, 60.0, 200_000);
                let f = kind.f_coll_nu(nu);
                assert!((num / f - 1.0).abs() < 1e-6, "{kind:?} {nu}: {num} vs {f}");
            }
        }
        // PS puts all mass in halos.
        assert!((MassFunction::PressSchechter.f_coll_nu(0.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn table_matches_direct_evaluation() {
        let t = CollapsedFraction::new(MassFunction::ShethTormen);
        for nu in [0.3, 2.345, 7.77, 15.2] {
            let d = MassFunction::ShethTormen.f_coll_nu(nu);
            assert!((t.f_coll(nu) / d - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn circular_velocity_and_virial_temperature_agree() {
        // V_c = 16.5 km/s with mu = 0.59 is ~1e4 K, and both BL01 mass relations agree
        // when mu is the same (they are the same relation).
        let c = Cosmology::planck18();
        let t = virial_temperature(16.5, 0.59);
        assert!((t / 1e4 - 1.0).abs() < 0.05, "{t}");
        let t2 = virial_temperature(30.0, 0.59);
        for z in [6.0, 15.0, 30.0] {
            let m1 = mass_from_circular_velocity(&c, 30.0, z);
            let m2 = mass_from_virial_temperature(&c, t2, z);
            assert!((m1 / m2 - 1.0).abs() < 0.01, "{m1} {m2}");
        }
        // Atomic-cooling threshold ~ 1e8 Msun at z ~ 10 (Barkana & Loeb 2001, fig. 6).
        let m = mass_from_virial_temperature(&c, 1e4, 10.0);
        assert!(m > 2e7 && m < 2e8, "{m}");
    }
}
