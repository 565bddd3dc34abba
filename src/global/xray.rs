//! X-ray heating with energy-dependent absorption by the neutral IGM.
//!
//! Sources emit L_X/SFR = 3e40 f_X erg/s/(Msun/yr) (band 0.2-95 keV, Cohen et al. 2017
//! convention) with L_nu proportional to nu^-alpha_X above nu_min. A photon emitted at z' with
//! energy E' is absorbed by neutral H and He with optical depth
//! tau(E', z', z) = int c dt n_HI sigma_H(E'') + n_HeI sigma_HeI(E''), E'' = E'(1+z'')/(1+z'),
//! so soft photons deposit energy next to their source and hard ones far away (or never): this
//! is how nu_min and alpha_X shape the heating history.
//!
//! Discretisation: coarse redshift cells (dz = 0.5) from z = 5 to 60 and 40 log-spaced energy
//! bins 0.1-30 keV. For each (source cell j, receiving cell i <= j, energy k) the kernel
//! A[j][i][k] = ((1+z_i)/(1+z_j)) (exp(-tau to the top of cell i) - exp(-tau to its bottom))
//! is the fraction of emitted energy absorbed in cell i (energy conserving: photons are never
//! counted twice). It depends only on the cosmology, so it is built once; a call contracts it
//! with the spectrum (alpha_X, nu_min) and the emission history (f_star, V_c, f_X).
//! The absorbers are taken to be fully neutral (the bulk IGM before reionization ends).

use crate::cosmology::constants::C_CM_S;
use crate::cosmology::Cosmology;

/// H I photoionization cross section (cm^2), hydrogenic form from PHYSICS.md:
/// sigma_0 (nu_th/nu)^4 exp(4 - 4 atan(eps)/eps)/(1 - exp(-2 pi/eps)), eps = sqrt(nu/nu_th - 1).
pub fn sigma_hi(e_ev: f64) -> f64 {
    const E_TH: f64 = 13.6;
    if e_ev < E_TH {
        return 0.0;
    }
    let r = e_ev / E_TH;
    let eps = (r - 1.0).sqrt();
    if eps < 1e-6 {
        return 6.3e-18;
    }
    6.3e-18 * r.powi(-4) * (4.0 - 4.0 * eps.atan() / eps).exp()
        / (1.0 - (-2.0 * std::f64::consts::PI / eps).exp())
}

/// He I photoionization cross section (cm^2): Verner et al. (1996, ApJ 465, 487) fit with their
/// table 1 parameters (E_0 = 13.61 eV, sigma_0 = 949.2 Mb, y_a = 1.469, P = 3.188,
/// y_w = 2.039, y_0 = 0.4434, y_1 = 2.136; threshold 24.59 eV).
pub fn sigma_hei(e_ev: f64) -> f64 {
    if e_ev < 24.59 {
        return 0.0;
    }
    let (e0, s0, ya, p, yw, y0, y1) = (13.61, 949.2e-18, 1.469, 3.188, 2.039, 0.4434, 2.136);
    let x = e_ev / e0 - y0;
    let y = (x * x + y1 * y1).sqrt();
    let f =
        ((x - 1.0).powi(2) + yw * yw) * y.powf(0.5 * p - 5.5) * (1.0 + (y / ya).sqrt()).powf(-p);
    s0 * f
}

/// Reference X-ray luminosity per star formation rate for f_X = 1, erg/s/(Msun/yr).
pub const L_X_PER_SFR: f64 = 3e40;
/// Band over which L_X/SFR is normalised, keV.
pub const L_X_BAND_KEV: (f64, f64) = (0.2, 95.0);

/// The precomputed absorption kernel.
#[derive(Debug, Clone)]
pub struct XrayKernel {
    /// Cell edges in z (ascending), `n_cells + 1` values.
    pub edges: Vec<f64>,
    /// Energy bin edges, keV.
    pub energy_edges: Vec<f64>,
    /// A[j][i][k], pairs (j, i <= j) in order j(j+1)/2 + i, energy fastest.
    kernel: Vec<f64>,
}

impl XrayKernel {
    /// Cell width in z.
    pub const DZ: f64 = 0.5;
    /// Lowest redshift.
    pub const Z_MIN: f64 = 5.0;
    /// Highest redshift with sources.
    pub const Z_MAX: f64 = 60.0;
    /// Number of energy bins.
    pub const N_E: usize = 40;
    const E_MIN_KEV: f64 = 0.1;
    const E_MAX_KEV: f64 = 30.0;
    /// Quadrature steps for tau per cell.
    const SUB: usize = 8;

    /// Build the kernel for cosmology `c` (neutral IGM absorbers).
    pub fn new(c: &Cosmology) -> Self {
        let n = ((Self::Z_MAX - Self::Z_MIN) / Self::DZ).round() as usize;
        let edges: Vec<f64> = (0..=n).map(|i| Self::Z_MIN + i as f64 * Self::DZ).collect();
        let ne = Self::N_E;
        let ratio = (Self::E_MAX_KEV / Self::E_MIN_KEV).powf(1.0 / ne as f64);
        let energy_edges: Vec<f64> = (0..=ne)
            .map(|k| Self::E_MIN_KEV * ratio.powi(k as i32))
            .collect();
        let (nh, nhe) = (c.n_h0(), c.n_he0());
        // d tau / dz'' per unit cross section at z'': c |dt/dz| n(z'').
        let opacity = |zz: f64, e_ev: f64| {
            C_CM_S
                * c.dt_dz(zz)
                * (1.0 + zz).powi(3)
                * (nh * sigma_hi(e_ev) + nhe * sigma_hei(e_ev))
        };
        let mut kernel = vec![0.0; n * (n + 1) / 2 * ne];
        for j in 0..n {
            let zj = edges[j] + 0.5 * Self::DZ;
            for k in 0..ne {
                let e0 = 1e3 * (energy_edges[k] * energy_edges[k + 1]).sqrt();
                let mut tau: f64 = 0.0;
                // Walk down from the source (cell centre) through the cells below.
                for i in (0..=j).rev() {
                    let (top, bottom) = if i == j {
                        (zj, edges[j])
                    } else {
                        (edges[i + 1], edges[i])
                    };
                    let sub = if i == j { Self::SUB / 2 } else { Self::SUB };
                    let h = (top - bottom) / sub as f64;
                    let before = (-tau).exp();
                    for s in 0..sub {
                        let zz = top - (s as f64 + 0.5) * h;
                        tau += opacity(zz, e0 * (1.0 + zz) / (1.0 + zj)) * h;
                    }
                    let z_abs = 0.5 * (top + bottom);
                    let absorbed = before - (-tau).exp();
                    kernel[(j * (j + 1) / 2 + i) * ne + k] = absorbed * (1.0 + z_abs) / (1.0 + zj);
                    if (-tau).exp() < 1e-12 {
                        break;
                    }
                }
            }
        }
        Self {
            edges,
            energy_edges,
            kernel,
        }
    }

    /// Number of redshift cells.
    pub fn n_cells(&self) -> usize {
        self.edges.len() - 1
    }

    /// Fraction of the emitted X-ray energy in each energy bin for slope `alpha` and cutoff
    /// `nu_min` (keV), normalised so the 0.2-95 keV band holds 1.
    pub fn spectral_weights(&self, alpha: f64, nu_min: f64) -> Vec<f64> {
        let int = |a: f64, b: f64| {
            if b <= a {
                0.0
            } else if (alpha - 1.0).abs() < 1e-9 {
                (b / a).ln()
            } else {
                (b.powf(1.0 - alpha) - a.powf(1.0 - alpha)) / (1.0 - alpha)
            }
        };
        let norm = int(nu_min.max(L_X_BAND_KEV.0), L_X_BAND_KEV.1);
        self.energy_edges
            .windows(2)
            .map(|w| int(w[0].max(nu_min), w[1]) / norm)
            .collect()
    }

    /// Energy absorbed per baryon in each cell, `out[i]`, given the energy emitted per baryon in
    /// each cell, `emitted[j]`, and spectral weights from [`Self::spectral_weights`].
    pub fn deposit(&self, emitted: &[f64], weights: &[f64], out: &mut [f64]) {
        let ne = Self::N_E;
        out.iter_mut().for_each(|o| *o = 0.0);
        // Skip energy bins below nu_min.
        let k0 = weights.iter().position(|&w| w > 0.0).unwrap_or(ne);
        let w = &weights[k0..];
        for (j, &e) in emitted.iter().enumerate() {
            if e <= 0.0 {
                continue;
            }
            let base = j * (j + 1) / 2;
            for (i, o) in out.iter_mut().enumerate().take(j + 1) {
                let a = &self.kernel[(base + i) * ne + k0..(base + i + 1) * ne];
                let s: f64 = a.iter().zip(w).map(|(x, y)| x * y).sum();
                *o += e * s;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_sections_at_threshold_and_1_kev() {
        assert!((sigma_hi(13.6) / 6.3e-18 - 1.0).abs() < 1e-6);
        // Hydrogenic sigma falls roughly as E^-3 (E^-3.5 at high E).
        let r = sigma_hi(500.0) / sigma_hi(1000.0);
        assert!(r > 8.0 && r < 11.5, "{r}");
        // He I at threshold: 7.4 Mb (Verner et al. 1996; Samson et al. 1994 measure 7.4 Mb).
        assert!(
            (sigma_hei(24.6) / 7.4e-18 - 1.0).abs() < 0.05,
            "{}",
            sigma_hei(24.6)
        );
        // Above ~0.3 keV helium dominates the IGM opacity per H atom (Y = 0.24).
        assert!(0.079 * sigma_hei(1000.0) > sigma_hi(1000.0));
    }

    #[test]
    fn kernel_conserves_energy_and_soft_photons_are_local() {
        let k = XrayKernel::new(&Cosmology::planck18());
        let n = k.n_cells();
        let ne = XrayKernel::N_E;
        let j = 30;
        for e in 0..ne {
            let total: f64 = (0..=j)
                .map(|i| k.kernel[(j * (j + 1) / 2 + i) * ne + e])
                .sum();
            // Absorbed energy fraction (with redshift losses) can never exceed 1.
            assert!((0.0..=1.0 + 1e-12).contains(&total));
            if e == 0 {
                // 0.1 keV: absorbed within the source's own cell.
                let own = k.kernel[(j * (j + 1) / 2 + j) * ne];
                assert!(own > 0.99, "{own}");
            }
        }
        // Hard photons (~25 keV) mostly escape.
        let hard: f64 = (0..=j)
            .map(|i| k.kernel[(j * (j + 1) / 2 + i) * ne + ne - 1])
            .sum();
        assert!(hard < 0.2, "{hard}");
        assert_eq!(n, 110);
    }

    #[test]
    fn spectral_weights_normalisation() {
        let k = XrayKernel::new(&Cosmology::planck18());
        // nu_min above 0.2 keV: everything below 30 keV of the 0.2-95 band.
        let w = k.spectral_weights(1.3, 0.5);
        let s: f64 = w.iter().sum();
        let expected =
            (30f64.powf(-0.3) - 0.5f64.powf(-0.3)) / (95f64.powf(-0.3) - 0.5f64.powf(-0.3));
        assert!((s / expected - 1.0).abs() < 1e-9);
        assert!(w[0] == 0.0);
        let w1 = k.spectral_weights(1.0, 0.1);
        assert!(w1[0] > 0.0);
    }
}
