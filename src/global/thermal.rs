//! Temperature T_K and residual electron fraction x_e of the neutral IGM (outside ionized
//! bubbles), integrated in z from z = 50 down: adiabatic cooling, Compton heating by the CMB,
//! X-ray heating and ionization, recombination.

use crate::cosmology::constants::{EV_ERG, E_HI_EV, K_B};
use crate::cosmology::Cosmology;

/// RECFAST initial conditions at z = 50 (as tabulated in 21cmFAST): x_e.
pub const X_E_Z50: f64 = 2.1652e-4;
/// RECFAST initial conditions at z = 50: T_K in K.
pub const T_K_Z50: f64 = 49.356;

/// Recombination coefficient of the neutral IGM (cm^3/s): case B, 2.59e-13 (T/1e4)^-0.75,
/// because recombinations to the ground state emit photons that are re-absorbed on the spot
/// in neutral gas. The neutral IGM is not clumped (C = 1). Reproduces the RECFAST x_e decline
/// from z = 50 to 20 to ~1%.
pub fn alpha_recombination(t: f64) -> f64 {
    super::reionization::alpha_b(t.max(1.0))
}

/// Compton coupling coefficient k_C in dT/dz = -k_C (T_cmb - T) (per unit z):
/// 1.51e-4 x_e/(1 + x_e + f_He) / E(z) / h T_cmb^4 / (1+z).
pub fn compton_rate_per_z(c: &Cosmology, z: f64, x_e: f64) -> f64 {
    let t_cmb = c.t_cmb(z);
    1.51e-4 * x_e / (1.0 + x_e + c.f_he()) / c.e_of_z(z) / c.h * t_cmb.powi(4) / (1.0 + z)
}

/// Shull & van Steenberg (1985) fraction of a fast electron's energy that heats the gas
/// (fit in PHYSICS.md).
pub fn f_heat(x_e: f64) -> f64 {
    0.9971 * (1.0 - (1.0 - x_e.clamp(0.0, 1.0).powf(0.2663)).powf(1.3163))
}

/// Shull & van Steenberg (1985) fraction going into H I ionization.
pub fn f_ion_hi(x_e: f64) -> f64 {
    0.3908 * (1.0 - x_e.clamp(0.0, 1.0).powf(0.4092)).powf(1.7592)
}

/// Shull & van Steenberg (1985) fraction going into Lyman-alpha excitation.
pub fn f_lya(x_e: f64) -> f64 {
    0.4766 * (1.0 - x_e.clamp(0.0, 1.0).powf(0.2735)).powf(1.5221)
}

/// The state of the neutral IGM.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThermalState {
    /// Kinetic temperature, K.
    pub t_k: f64,
    /// Electron fraction (per H atom).
    pub x_e: f64,
}

impl ThermalState {
    /// RECFAST values at z = 50.
    pub fn recfast_z50() -> Self {
        Self {
            t_k: T_K_Z50,
            x_e: X_E_Z50,
        }
    }

    /// Advance from `z` down to `z - dz`, depositing `energy` erg per baryon of X-ray energy in
    /// the step. Operator split: adiabatic (exact), recombination + X-ray ionization (implicit,
    /// stable for any step), Compton (implicit), heat, particle-number change.
    pub fn step(&mut self, c: &Cosmology, z: f64, dz: f64, energy: f64) {
        let z1 = z - dz;
        let zm = z - 0.5 * dz;
        let x = self.x_e;
        // Ionizations per H atom: energy per baryon -> per H atom (N_b/N_H = 1 + f_He).
        let ion = energy * f_ion_hi(x) / (E_HI_EV * EV_ERG) * (1.0 + c.f_he());
        let r = alpha_recombination(self.t_k) * c.n_h0() * (1.0 + zm).powi(3) * c.dt_dz(zm) * dz;
        let b = x + ion;
        let x_new = if r * b < 1e-12 {
            b - r * b * b
        } else {
            ((1.0 + 4.0 * r * b).sqrt() - 1.0) / (2.0 * r)
        }
        .clamp(0.0, 1.0);

        let mut t = self.t_k * ((1.0 + z1) / (1.0 + z)).powi(2);
        let kc = compton_rate_per_z(c, zm, 0.5 * (x + x_new)) * dz;
        t = (t + kc * c.t_cmb(zm)) / (1.0 + kc);
        t += 2.0 * f_heat(x) * energy / (3.0 * K_B * (1.0 + x));
        t *= 1.0 - (x_new - x) / (1.0 + x_new);
        self.t_k = t;
        self.x_e = x_new;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secondary_fractions_limits() {
        // Neutral gas: ~1/3 heat, ~0.39 ionization, ~0.48 excitation; ionized gas: all heat.
        assert!((f_heat(1e-4) - 0.15).abs() < 0.1);
        assert!((f_heat(1.0) - 0.9971).abs() < 1e-12);
        assert!(f_ion_hi(1.0).abs() < 1e-12 && f_lya(1.0).abs() < 1e-12);
        let x = 1e-3;
        assert!(f_heat(x) + f_ion_hi(x) + f_lya(x) < 1.05);
    }

    #[test]
    fn no_sources_follow_recfast() {
        // RECFAST via 21cmFAST: z = 35: x_e = 2.0537e-4, T = 25.635 K; z = 20: 1.9191e-4,
        // 9.032 K. Our approximations (case-A recombination, first-order split steps) are
        // held to 2% in T_K and 3% in x_e.
        let c = Cosmology::planck18();
        let mut s = ThermalState::recfast_z50();
        let dz = 0.1;
        let mut z = 50.0;
        for (z_target, x_ref, t_ref) in [(35.0, 2.0537e-4, 25.635), (20.0, 1.9191e-4, 9.032)] {
            while z > z_target + 1e-9 {
                s.step(&c, z, dz, 0.0);
                z -= dz;
            }
            assert!((s.t_k / t_ref - 1.0).abs() < 0.02, "z={z} T={}", s.t_k);
            assert!((s.x_e / x_ref - 1.0).abs() < 0.03, "z={z} x_e={}", s.x_e);
        }
    }

    #[test]
    fn heating_raises_temperature_by_the_deposited_energy() {
        let c = Cosmology::planck18();
        let mut a = ThermalState::recfast_z50();
        let mut b = a;
        a.step(&c, 20.0, 0.1, 0.0);
        let e = 1e-15;
        b.step(&c, 20.0, 0.1, e);
        let expected = 2.0 * f_heat(X_E_Z50) * e / (3.0 * K_B * (1.0 + X_E_Z50));
        assert!(((b.t_k - a.t_k) / expected - 1.0).abs() < 0.02);
        assert!(b.x_e > a.x_e);
    }
}
