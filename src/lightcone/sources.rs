//! Where the stars are: the collapsed fraction above M_min(T_vir) in a smoothed region
//! (extended Press-Schechter, conditional on the region's linear overdensity) and its rate of
//! change, which sets the star formation rate density; both normalised to the global
//! Sheth-Tormen collapsed fraction as 21cmFAST does ("EPS normalised to ST").
//!
//! Conditional collapsed fraction (PHYSICS.md section 2), with the z = 0 linear overdensity
//! delta_0 of a region of variance S_R and S_min = sigma^2(M_min(z)):
//! F(delta_0, z) = erfc(x), x = (delta_c/D(z) - delta_0) / sqrt(2 (S_min - S_R)),
//! and the region is fully collapsed (F = 1, no further star formation) when x < 0.

use crate::cosmology::constants::DELTA_C;
use crate::cosmology::growth::{dln_growth_dz, growth_factor};
use crate::cosmology::halos::{mass_from_virial_temperature, peak_height, MassFunction};
use crate::cosmology::CosmologyTables;
use statrs::function::erf::{erfc, erfc_inv};
use std::f64::consts::PI;

/// The halo population of one light-cone: a sharp cut at the mass of virial temperature
/// T_vir (21cmFAST's `M_MIN_in_Mass = False`), Sheth-Tormen globally.
#[derive(Debug, Clone)]
pub struct HaloThreshold<'a> {
    tables: &'a CosmologyTables,
    t_vir: f64,
}

/// Everything about the threshold at one redshift.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThresholdAt {
    /// Redshift.
    pub z: f64,
    /// Linear growth factor D(z).
    pub growth: f64,
    /// d ln D / dz.
    pub dln_growth_dz: f64,
    /// M_min, Msun.
    pub m_min: f64,
    /// S_min = sigma^2(M_min) at z = 0.
    pub s_min: f64,
    /// d S_min / dz.
    pub ds_min_dz: f64,
    /// Global Sheth-Tormen collapsed fraction above M_min.
    pub f_st: f64,
    /// -dF_ST/dz (>= 0): the global star formation rate per unit redshift, in units of the
    /// baryon density.
    pub rate_st: f64,
}

impl<'a> HaloThreshold<'a> {
    /// Halos above virial temperature `t_vir` (K).
    pub fn new(tables: &'a CosmologyTables, t_vir: f64) -> Self {
        Self { tables, t_vir }
    }

    /// M_min at z (Barkana & Loeb 2001, through [`mass_from_virial_temperature`]).
    pub fn m_min(&self, z: f64) -> f64 {
        mass_from_virial_temperature(&self.tables.cosmology, self.t_vir, z)
    }

    /// All threshold quantities at z.
    pub fn at(&self, z: f64) -> ThresholdAt {
        let c = &self.tables.cosmology;
        let growth = growth_factor(c, z);
        let dlnd = dln_growth_dz(c, z);
        let m = self.m_min(z);
        let ln_m = m.ln();
        let sigma = self.tables.sigma.ln_sigma(ln_m).exp();
        let h = 1e-3 * (1.0 + z);
        let dlnm_dz = (self.m_min(z + h).ln() - self.m_min(z - h).ln()) / (2.0 * h);
        let dlns_dz = self.tables.sigma.dln_sigma_dln_m(ln_m) * dlnm_dz;
        let nu = peak_height(sigma, growth);
        let f_st = self.tables.sheth_tormen.f_coll(nu);
        // -dF/dz = f(nu) dnu/dz, nu = delta_c/(sigma D).
        let dnu_dz = nu * (-dlns_dz - dlnd);
        let rate_st = (MassFunction::ShethTormen.multiplicity(nu) * dnu_dz).max(0.0);
        ThresholdAt {
            z,
            growth,
            dln_growth_dz: dlnd,
            m_min: m,
            s_min: sigma * sigma,
            ds_min_dz: 2.0 * sigma * sigma * dlns_dz,
            f_st,
            rate_st,
        }
    }
}

/// The conditional collapsed fraction in regions of z = 0 variance `s_r` at one redshift.
#[derive(Debug, Clone, Copy)]
pub struct Conditional {
    /// delta_c / D(z).
    barrier: f64,
    /// sqrt(2 (S_min - S_R)).
    width: f64,
    /// d barrier / dz.
    dbarrier_dz: f64,
    /// d width / dz divided by width.
    dlnwidth_dz: f64,
    /// -d ln D / dz.
    dlngrowth_dz_neg: f64,
}

impl Conditional {
    /// For regions of variance `s_r` (z = 0) at the threshold `t`. Regions as massive as
    /// M_min or lighter (S_R >= S_min, only on fine grids with high T_vir) get a width of
    /// 1e-3 sqrt(S_min): a near-step at the barrier.
    pub fn new(t: &ThresholdAt, s_r: f64) -> Self {
        let ds = (t.s_min - s_r).max(1e-6 * t.s_min);
        let barrier = DELTA_C / t.growth;
        Self {
            barrier,
            width: (2.0 * ds).sqrt(),
            dbarrier_dz: -barrier * t.dln_growth_dz,
            dlnwidth_dz: 0.5 * t.ds_min_dz / ds,
            dlngrowth_dz_neg: -t.dln_growth_dz,
        }
    }

    /// F(delta_0) in [0, 1].
    pub fn f_coll(&self, delta0: f64) -> f64 {
        let x = (self.barrier - delta0) / self.width;
        if x <= 0.0 {
            1.0
        } else {
            erfc(x)
        }
    }

    /// -dF/dz at fixed delta_0 (>= 0; 0 once the region has collapsed).
    pub fn rate(&self, delta0: f64) -> f64 {
        let x = (self.barrier - delta0) / self.width;
        if x <= 0.0 {
            return 0.0;
        }
        let dx_dz = self.dbarrier_dz / self.width - x * self.dlnwidth_dz;
        (2.0 / PI.sqrt() * (-x * x).exp() * dx_dz).max(0.0)
    }

    /// 21cmFAST's star formation rate per unit redshift (its `dfcoll_dz`): -dF/dz with the
    /// region's current overdensity delta_z = D(z) delta_0 and S_min held fixed, so only the
    /// growth factor in the barrier moves: (2/sqrt(pi)) e^(-x^2) x (-d ln D/dz) (>= 0; 0 once
    /// collapsed). It differs from [`Conditional::rate`] by dropping the growth of the
    /// region's own overdensity and of M_min(T_vir) with time.
    pub fn rate_at_fixed_density(&self, delta0: f64) -> f64 {
        let x = (self.barrier - delta0) / self.width;
        if x <= 0.0 {
            return 0.0;
        }
        (2.0 / PI.sqrt() * (-x * x).exp() * x * self.dlngrowth_dz_neg).max(0.0)
    }

    /// The z = 0 overdensity at which F = `target` (None if `target` > 1: no region reaches
    /// it; `target` <= 0 is reached everywhere, returned as -infinity).
    pub fn delta_for(&self, target: f64) -> Option<f64> {
        if target > 1.0 {
            None
        } else if target <= 0.0 {
            Some(f64::NEG_INFINITY)
        } else if target >= 1.0 {
            Some(self.barrier)
        } else {
            Some(self.barrier - self.width * erfc_inv(target))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_rate_is_the_derivative_of_the_global_fraction() {
        let t = CosmologyTables::planck18();
        let h = HaloThreshold::new(&t, 1e4);
        for z in [8.0, 15.0, 25.0] {
            let d = 1e-3;
            let fd = (h.at(z - d).f_st - h.at(z + d).f_st) / (2.0 * d);
            let a = h.at(z).rate_st;
            assert!((a / fd - 1.0).abs() < 3e-3, "z={z}: {a} {fd}");
        }
    }

    fn t_ref() -> std::sync::Arc<CosmologyTables> {
        CosmologyTables::planck18()
    }

    #[test]
    fn conditional_rate_is_the_derivative_and_threshold_inverts() {
        let t = CosmologyTables::planck18();
        let h = HaloThreshold::new(&t, 10f64.powf(4.7));
        let s_r = 1.2f64.powi(2);
        for (z, delta0) in [(10.0, 0.5), (15.0, -1.0), (20.0, 3.0)] {
            let d = 1e-4;
            let f = |zz: f64| Conditional::new(&h.at(zz), s_r).f_coll(delta0);
            let fd = (f(z - d) - f(z + d)) / (2.0 * d);
            let a = Conditional::new(&h.at(z), s_r).rate(delta0);
            assert!((a / fd - 1.0).abs() < 1e-3, "z={z}: {a} {fd}");
        }
        let c = Conditional::new(&h.at(9.0), s_r);
        let d = c.delta_for(0.3).unwrap();
        assert!((c.f_coll(d) - 0.3).abs() < 1e-9);
        assert!(c.delta_for(1.5).is_none());
        // 21cmFAST's rate: the same barrier derivative with delta_z and M_min frozen.
        let d = 1e-4;
        let g = |zz: f64| {
            let t = h.at(9.0);
            let frozen = ThresholdAt {
                growth: crate::cosmology::growth::growth_factor(&t_ref().cosmology, zz),
                ..t
            };
            // delta_z = D(9) * 0.4 held fixed: delta_0' = delta_z / D(zz).
            Conditional::new(&frozen, s_r).f_coll(t.growth * 0.4 / frozen.growth)
        };
        let fd = (g(9.0 - d) - g(9.0 + d)) / (2.0 * d);
        let a = c.rate_at_fixed_density(0.4);
        assert!((a / fd - 1.0).abs() < 1e-3, "{a} {fd}");
        // Denser regions hold more collapsed mass; collapsed regions stop forming stars.
        assert!(c.f_coll(2.0) > c.f_coll(0.0));
        assert_eq!(c.rate(c.barrier + 1.0), 0.0);
        assert_eq!(c.f_coll(c.barrier + 1.0), 1.0);
    }
}
