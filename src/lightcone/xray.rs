//! X-ray heating and ionisation from the shells: the SED, its attenuation by the neutral IGM
//! between each shell and the receiving cell, and the per-(node, shell) weights that turn a
//! shell's star formation rate into energy deposited per baryon.
//!
//! Heating rate per baryon in a cell at node z (derived in the module's tests' terms, as in
//! Mesinger, Furlanetto & Cen 2011 eq. 11 with 21cmFAST's normalisation):
//! Gamma = f_heat(x_e) (1 - x_e) sum_j s_j w_j, with s_j the shell's star formation rate per
//! unit redshift (-dF/dz'', normalised) and
//! w_j = A dz''_j ((1+z''_j)/(1+z))^-alpha int dE (E/E_0)^(-alpha-1) e^(-tau_j(E)) S(E),
//! A = c (1+z)^3 f_star rho_b0 e_X / (E_0^2 I), e_X = (L_X/SFR) yr/Msun the X-ray energy per
//! gram of stars, I = int_1^(2 keV/E_0) x^-alpha dx (L_X/SFR counts E_0..2 keV, 21cmFAST's
//! convention), S(E) = sum_i f_i sigma_i(E) (E - E_i) over H I and He I per baryon, E the
//! received energy (emitted above E_0: E >= E_0 (1+z)/(1+z'')) up to 10 keV.
//! The optical depth uses the box-mean electron fraction and the global neutral filling
//! factor 1 - zeta F_ST/(1 - x_e) along the path, as 21cmFAST does.

use super::geometry::{ComovingDistance, Layout};
use super::shells::{Shells, N_SHELLS};
use crate::cosmology::constants::{C_CM_S, EV_ERG};
use crate::cosmology::Cosmology;
use crate::global::xray::{sigma_hei, sigma_hi};

/// Received-energy grid: lowest energy, keV (below E_0 (1+z)/(1+z'') for every shell).
pub const E_LOW_KEV: f64 = 0.07;
/// Highest received energy integrated, keV (21cmFAST's NU_X_MAX).
pub const E_HIGH_KEV: f64 = 10.0;
/// Upper end of the band L_X/SFR is defined over, keV (21cmFAST's NU_X_BAND_MAX).
pub const BAND_MAX_KEV: f64 = 2.0;
/// Points of the energy grid (log-spaced).
pub const N_ENERGY: usize = 100;
/// He II ionisation threshold, eV.
const E_HEII_EV: f64 = 54.4;
/// He I ionisation threshold, eV.
const E_HEI_EV: f64 = 24.59;
/// H I ionisation threshold, eV.
const E_HI_EV: f64 = 13.6;

/// He II photoionisation cross section (hydrogenic, Z = 2): sigma_HI's form at E/4 divided
/// by Z^2 (PHYSICS.md).
pub fn sigma_heii(e_ev: f64) -> f64 {
    if e_ev < E_HEII_EV {
        0.0
    } else {
        sigma_hi(e_ev / 4.0) / 4.0
    }
}

/// Tables of the attenuation geometry (cosmology + layout only).
#[derive(Debug, Clone)]
pub struct XrayTables {
    /// Received energies, keV.
    pub energy_kev: Vec<f64>,
    /// ln-spacing of the energy grid.
    pub dln_e: f64,
    /// S(E) = sum f_i sigma_i (E - E_i), H I + He I per baryon, erg cm^2.
    pub s_energy: Vec<f64>,
    /// Sum f_i sigma_i, H I + He I per baryon, cm^2 (primary ionisations).
    pub s_number: Vec<f64>,
    /// Optical depth through each shell (node k, shell j, energy i at `(k * N_SHELLS + j) *
    /// N_ENERGY + i`) of neutral H I + He I at the mean density, per unit neutral fraction.
    pub dtau_neutral: Vec<f32>,
    /// The same for He II (weighted by the electron fraction).
    pub dtau_heii: Vec<f32>,
}

impl XrayTables {
    /// Build for `layout`'s nodes and `shells`.
    pub fn new(c: &Cosmology, layout: &Layout, shells: &Shells, _dist: &ComovingDistance) -> Self {
        let ratio = (E_HIGH_KEV / E_LOW_KEV).powf(1.0 / (N_ENERGY - 1) as f64);
        let energy_kev: Vec<f64> = (0..N_ENERGY)
            .map(|i| E_LOW_KEV * ratio.powi(i as i32))
            .collect();
        let (f_h, f_he) = (1.0 / (1.0 + c.f_he()), c.f_he() / (1.0 + c.f_he()));
        let s_energy = energy_kev
            .iter()
            .map(|&e| {
                let ev = 1e3 * e;
                (f_h * sigma_hi(ev) * (ev - E_HI_EV) + f_he * sigma_hei(ev) * (ev - E_HEI_EV))
                    * EV_ERG
            })
            .collect();
        let s_number = energy_kev
            .iter()
            .map(|&e| f_h * sigma_hi(1e3 * e) + f_he * sigma_hei(1e3 * e))
            .collect();
        let nk = layout.nodes.len();
        let mut dtau_neutral = vec![0f32; nk * N_SHELLS * N_ENERGY];
        let mut dtau_heii = vec![0f32; nk * N_SHELLS * N_ENERGY];
        let nb0 = c.n_b0();
        // Cross sections per baryon on a fine ln E grid (10 eV to 40 keV), interpolated.
        let (ln_lo, ln_hi, nx) = ((10.0f64).ln(), (4e4f64).ln(), 8192usize);
        let dx = (ln_hi - ln_lo) / (nx - 1) as f64;
        let sig: Vec<[f64; 2]> = (0..nx)
            .map(|i| {
                let ev = (ln_lo + i as f64 * dx).exp();
                [
                    f_h * sigma_hi(ev) + f_he * sigma_hei(ev),
                    f_he * sigma_heii(ev),
                ]
            })
            .collect();
        let cross = |ln_ev: f64| {
            let x = ((ln_ev - ln_lo) / dx).clamp(0.0, (nx - 1) as f64 - 1e-9);
            let i = x as usize;
            let t = x - i as f64;
            [
                sig[i][0] + t * (sig[i + 1][0] - sig[i][0]),
                sig[i][1] + t * (sig[i + 1][1] - sig[i][1]),
            ]
        };
        let ln_ev: Vec<f64> = energy_kev.iter().map(|&e| (1e3 * e).ln()).collect();
        const SUB: usize = 6;
        for (k, &zn) in layout.nodes.iter().enumerate() {
            for (j, sh) in shells.of_node(k).iter().enumerate() {
                let h = (sh.z_outer - sh.z_inner) / SUB as f64;
                let base = (k * N_SHELLS + j) * N_ENERGY;
                for s in 0..SUB {
                    let zz = sh.z_inner + (s as f64 + 0.5) * h;
                    // c |dt/dz| n_b(z) dz: baryons per cm^2 along the path.
                    let column = C_CM_S * c.dt_dz(zz) * nb0 * (1.0 + zz).powi(3) * h;
                    let ln_stretch = ((1.0 + zz) / (1.0 + zn)).ln();
                    for (i, &le) in ln_ev.iter().enumerate() {
                        let [neutral, heii] = cross(le + ln_stretch);
                        dtau_neutral[base + i] += (column * neutral) as f32;
                        dtau_heii[base + i] += (column * heii) as f32;
                    }
                }
            }
        }
        Self {
            energy_kev,
            dln_e: ratio.ln(),
            s_energy,
            s_number,
            dtau_neutral,
            dtau_heii,
        }
    }
}

/// The X-ray source parameters of one light-cone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct XraySource {
    /// L_X/SFR between E_0 and 2 keV, erg/s per (Msun/yr).
    pub l_x: f64,
    /// E_0, keV.
    pub e0_kev: f64,
    /// Spectral energy index alpha_X.
    pub alpha: f64,
    /// Star formation efficiency f_star.
    pub f_star: f64,
}

impl XraySource {
    /// I = int_1^(2 keV/E_0) x^-alpha dx.
    pub fn band_integral(&self) -> f64 {
        let b = BAND_MAX_KEV / self.e0_kev;
        if (self.alpha - 1.0).abs() < 1e-9 {
            b.ln()
        } else {
            (b.powf(1.0 - self.alpha) - 1.0) / (1.0 - self.alpha)
        }
    }

    /// The prefactor A at node redshift z (erg/s per baryon per erg^2 cm^2 of spectral
    /// integral, per unit star formation rate per redshift).
    pub fn prefactor(&self, c: &Cosmology, z: f64) -> f64 {
        use crate::cosmology::constants::{MSUN_G, YEAR_S};
        let e0 = self.e0_kev * 1e3 * EV_ERG;
        let e_x = self.l_x * YEAR_S / MSUN_G;
        C_CM_S * (1.0 + z).powi(3) * self.f_star * c.rho_b0() * e_x
            / (e0 * e0 * self.band_integral())
    }
}

/// Per-node X-ray weights: energy (w^E) and primary-ionisation (w^N) weight of each shell.
#[derive(Debug, Clone, Default)]
pub struct XrayWeights {
    /// w^E_j, erg/s per baryon per unit (-dF/dz'') (before f_heat (1 - x_e)).
    pub energy: Vec<f64>,
    /// w^N_j, primary photoionisations per second per baryon per unit (-dF/dz'').
    pub number: Vec<f64>,
}

/// Work buffers for [`xray_weights`].
#[derive(Debug, Clone)]
pub struct XrayWork {
    tau: Vec<f64>,
    spectrum: Vec<f64>,
}

impl Default for XrayWork {
    fn default() -> Self {
        Self {
            tau: vec![0.0; N_ENERGY],
            spectrum: vec![0.0; N_ENERGY],
        }
    }
}

/// The weights of node `k`'s shells, given the source, the box-mean electron fraction
/// `x_e_mean` and each shell's neutral filling factor `q_hi[j]` (global estimate).
#[allow(clippy::too_many_arguments)]
pub fn xray_weights(
    t: &XrayTables,
    shells: &Shells,
    c: &Cosmology,
    k: usize,
    z_node: f64,
    src: &XraySource,
    x_e_mean: f64,
    q_hi: &[f64],
    work: &mut XrayWork,
    out: &mut XrayWeights,
) {
    out.energy.clear();
    out.number.clear();
    let a = src.prefactor(c, z_node);
    for (s, &e) in work.spectrum.iter_mut().zip(&t.energy_kev) {
        *s = (e / src.e0_kev).powf(-src.alpha - 1.0);
    }
    work.tau.iter_mut().for_each(|x| *x = 0.0);
    let ln_lo = t.energy_kev[0].ln();
    let ln_hi = E_HIGH_KEV.ln();
    for (j, sh) in shells.of_node(k).iter().enumerate() {
        let base = (k * N_SHELLS + j) * N_ENERGY;
        let dn = &t.dtau_neutral[base..base + N_ENERGY];
        let dh = &t.dtau_heii[base..base + N_ENERGY];
        let q = q_hi[j];
        // The source sits mid-shell: half its own shell's depth, all the inner shells'.
        let own = |i: usize| q * ((1.0 - x_e_mean) * dn[i] as f64 + x_e_mean * dh[i] as f64);
        let cut = (src.e0_kev * (1.0 + z_node) / (1.0 + sh.z)).ln();
        let (mut we, mut wn) = (0.0, 0.0);
        let mut prev: Option<(f64, f64, f64)> = None;
        for i in 0..N_ENERGY {
            let tau = work.tau[i] + 0.5 * own(i);
            let ln_e = ln_lo + i as f64 * t.dln_e;
            let att = (-tau).exp() * work.spectrum[i];
            // Integrands in ln E: E g(E).
            let e_erg = t.energy_kev[i] * 1e3 * EV_ERG;
            let ge = e_erg * att * t.s_energy[i];
            let gn = e_erg * att * t.s_number[i];
            if let Some((l0, ge0, gn0)) = prev {
                let (lo, hi) = (l0.max(cut), ln_e.min(ln_hi));
                if hi > lo {
                    // Linear in ln E across the interval, clipped at the cut.
                    let f = |a: f64, b: f64, x: f64| a + (b - a) * (x - l0) / (ln_e - l0);
                    we += 0.5 * (hi - lo) * (f(ge0, ge, lo) + f(ge0, ge, hi));
                    wn += 0.5 * (hi - lo) * (f(gn0, gn, lo) + f(gn0, gn, hi));
                }
            }
            prev = Some((ln_e, ge, gn));
        }
        // Photons from further shells cross this one entirely.
        for i in 0..N_ENERGY {
            work.tau[i] += own(i);
        }
        let common = a * sh.dz * ((1.0 + sh.z) / (1.0 + z_node)).powf(-src.alpha);
        out.energy.push(common * we);
        out.number.push(common * wn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosmology::power::PowerSpectrum;
    use crate::lightcone::geometry::MapGeometry;

    #[test]
    fn soft_photons_stay_near_their_sources() {
        let c = Cosmology::planck18();
        let d = ComovingDistance::new(&c);
        let l = Layout::new(&MapGeometry::default(), &c, &d).unwrap();
        let sh = Shells::new(&c, &PowerSpectrum::new(&c), &d, &l);
        let t = XrayTables::new(&c, &l, &sh, &d);
        let k = 40; // z ~ 15
        let q = vec![1.0; N_SHELLS];
        let mut w = XrayWork::default();
        let mut soft = XrayWeights::default();
        let mut hard = XrayWeights::default();
        let src = |e0: f64| XraySource {
            l_x: 1e40,
            e0_kev: e0,
            alpha: 1.0,
            f_star: 0.05,
        };
        xray_weights(
            &t,
            &sh,
            &c,
            k,
            l.nodes[k],
            &src(0.1),
            2e-4,
            &q,
            &mut w,
            &mut soft,
        );
        xray_weights(
            &t,
            &sh,
            &c,
            k,
            l.nodes[k],
            &src(1.5),
            2e-4,
            &q,
            &mut w,
            &mut hard,
        );
        // Fraction of the deposited energy (per unit SFR per redshift) from the inner 10 shells.
        let frac = |x: &XrayWeights| {
            let per_z: Vec<f64> = x
                .energy
                .iter()
                .zip(sh.of_node(k))
                .map(|(e, s)| e / s.dz)
                .collect();
            let tot: f64 = per_z.iter().zip(sh.of_node(k)).map(|(p, s)| p * s.dz).sum();
            per_z
                .iter()
                .zip(sh.of_node(k))
                .take(10)
                .map(|(p, s)| p * s.dz)
                .sum::<f64>()
                / tot
        };
        assert!(
            frac(&soft) > 2.0 * frac(&hard),
            "{} {}",
            frac(&soft),
            frac(&hard)
        );
        assert!(soft.energy.iter().all(|&x| x >= 0.0) && hard.number.iter().all(|&x| x >= 0.0));
    }
}
