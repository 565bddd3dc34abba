//! Parameter-independent tables of one cosmology, built once and shared (`Arc`).

use super::cosmology::Cosmology;
use super::growth::{dln_growth_dz, growth_factor};
use super::halos::{mass_from_circular_velocity, peak_height, CollapsedFraction, MassFunction};
use super::power::{PowerSpectrum, SigmaTable};
use spinflip_likelihoods::ModelError;
use std::sync::{Arc, OnceLock};

/// sigma(M), the collapsed-fraction function and the power spectrum of a cosmology.
#[derive(Debug, Clone)]
pub struct CosmologyTables {
    /// The cosmology.
    pub cosmology: Cosmology,
    /// Linear power spectrum at z = 0.
    pub power: PowerSpectrum,
    /// sigma(M) at z = 0.
    pub sigma: SigmaTable,
    /// Sheth-Tormen F(>nu).
    pub sheth_tormen: CollapsedFraction,
    /// Press-Schechter F(>nu).
    pub press_schechter: CollapsedFraction,
}

impl CosmologyTables {
    /// Build the tables for `c` (a few tens of ms).
    pub fn new(c: Cosmology) -> Result<Self, ModelError> {
        c.validate()?;
        let power = PowerSpectrum::new(&c);
        let sigma = SigmaTable::new(&c, &power);
        Ok(Self {
            cosmology: c,
            power,
            sigma,
            sheth_tormen: CollapsedFraction::new(MassFunction::ShethTormen),
            press_schechter: CollapsedFraction::new(MassFunction::PressSchechter),
        })
    }

    /// The Planck 2018 tables, built on first use and shared by every caller and thread.
    pub fn planck18() -> Arc<Self> {
        static TABLES: OnceLock<Arc<CosmologyTables>> = OnceLock::new();
        TABLES
            .get_or_init(|| {
                Arc::new(Self::new(Cosmology::planck18()).expect("Planck 2018 is valid"))
            })
            .clone()
    }

    fn table(&self, kind: MassFunction) -> &CollapsedFraction {
        match kind {
            MassFunction::ShethTormen => &self.sheth_tormen,
            MassFunction::PressSchechter => &self.press_schechter,
        }
    }

    /// Fraction of matter in halos above `m_min` (Msun) at z.
    pub fn f_coll(&self, kind: MassFunction, z: f64, m_min: f64) -> f64 {
        let s = self.sigma.ln_sigma(m_min.ln()).exp();
        let d = growth_factor(&self.cosmology, z);
        self.table(kind).f_coll(peak_height(s, d))
    }

    /// Collapsed fraction above the mass of circular velocity `v_c` (km/s) at z.
    pub fn f_coll_vc(&self, kind: MassFunction, z: f64, v_c: f64) -> f64 {
        self.f_coll(
            kind,
            z,
            mass_from_circular_velocity(&self.cosmology, v_c, z),
        )
    }

    /// d f_coll / dz above the V_c threshold (M_min moves with z), analytic:
    /// dF/dz = -f(nu) nu (-dln sigma/dln M dln M_min/dz - dln D/dz).
    pub fn df_coll_dz_vc(&self, kind: MassFunction, z: f64, v_c: f64) -> f64 {
        let c = &self.cosmology;
        let m = mass_from_circular_velocity(c, v_c, z);
        let ln_m = m.ln();
        let s = self.sigma.ln_sigma(ln_m).exp();
        let nu = peak_height(s, growth_factor(c, z));
        let h = 1e-3 * (1.0 + z);
        let dlnm_dz = (mass_from_circular_velocity(c, v_c, z + h).ln()
            - mass_from_circular_velocity(c, v_c, z - h).ln())
            / (2.0 * h);
        let dnu_dz = nu * (-self.sigma.dln_sigma_dln_m(ln_m) * dlnm_dz - dln_growth_dz(c, z));
        -kind.multiplicity(nu) * dnu_dz
    }

    /// d f_coll / dt (s^-1) above the V_c threshold: dF/dt = -(dF/dz) H (1+z).
    pub fn df_coll_dt_vc(&self, kind: MassFunction, z: f64, v_c: f64) -> f64 {
        -self.df_coll_dz_vc(kind, z, v_c) * self.cosmology.hubble(z) * (1.0 + z)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analytic_derivative_matches_finite_difference() {
        let t = CosmologyTables::planck18();
        for kind in [MassFunction::ShethTormen, MassFunction::PressSchechter] {
            for (z, vc) in [(8.0, 16.5), (20.0, 4.2), (12.0, 60.0)] {
                let h = 1e-3;
                let fd = (t.f_coll_vc(kind, z + h, vc) - t.f_coll_vc(kind, z - h, vc)) / (2.0 * h);
                let an = t.df_coll_dz_vc(kind, z, vc);
                assert!((an / fd - 1.0).abs() < 2e-3, "{kind:?} z={z} {an} {fd}");
                assert!(t.df_coll_dt_vc(kind, z, vc) > 0.0);
            }
        }
    }

    #[test]
    fn sheth_tormen_exceeds_press_schechter_for_rare_halos() {
        // ST predicts more rare (high-nu) halos than PS: the reason 21cmFAST uses it at cosmic dawn.
        let t = CosmologyTables::planck18();
        let st = t.f_coll_vc(MassFunction::ShethTormen, 20.0, 16.5);
        let ps = t.f_coll_vc(MassFunction::PressSchechter, 20.0, 16.5);
        assert!(st > ps && st < 1e-2 && ps > 0.0, "{st} {ps}");
    }
}
