//! The global 21-cm signal simulator on the 21cmGEM parameters.
//!
//! One call: collapsed fraction above M_min(V_c) (Sheth-Tormen) on a z grid -> zeta solved for
//! tau -> X-ray emission, absorption and heating -> stellar + X-ray Ly-alpha background ->
//! T_K, x_e (from the RECFAST state at z = 50) -> x_c, x_alpha, T_S -> dT_b on z = 5..50.

use super::coupling::{spin_temperature, x_alpha, CollisionalRates};
use super::lyman_alpha::{s_alpha, LymanAlphaTables};
use super::params::{GlobalParams, N_PARAMS, PARAM_NAMES};
use super::reionization::ReionizationTables;
use super::signal::brightness_temperature;
use super::thermal::{f_lya, ThermalState};
use super::xray::{XrayKernel, L_X_PER_SFR};
use crate::cosmology::constants::{C_CM_S, H_PLANCK, MSUN_G, NU_ALPHA, YEAR_S};
use crate::cosmology::growth::growth_factor;
use crate::cosmology::halos::{mass_from_circular_velocity, peak_height, MassFunction};
use crate::cosmology::{Cosmology, CosmologyTables};
use spinflip_likelihoods::{ForwardModel, ModelError};
use std::sync::{Arc, OnceLock};

/// Step of the internal and output redshift grids.
pub const DZ: f64 = 0.1;
/// Lowest output redshift.
pub const Z_OUT_MIN: f64 = 5.0;
/// Highest output redshift (where the IGM state starts from RECFAST).
pub const Z_OUT_MAX: f64 = 50.0;
/// Number of output channels (z = 5.0, 5.1, ..., 50.0).
pub const N_OUT: usize = 451;
/// Top of the source grid: sources between 50 and 60 still light up z < 50.
const Z_TOP: f64 = 60.0;
const N_FULL: usize = 600;
const I_OUT_MIN: usize = 50;
const I_OUT_MAX: usize = 500;

/// The 451 output redshifts, ascending.
pub fn output_redshifts() -> Vec<f64> {
    (0..N_OUT)
        .map(|k| ((Z_OUT_MIN + k as f64 * DZ) * 10.0).round() / 10.0)
        .collect()
}

/// Everything the simulator precomputes for one cosmology (built once, shared).
#[derive(Debug)]
pub struct GlobalTables {
    /// sigma(M), collapsed fractions.
    pub cosmology: Arc<CosmologyTables>,
    reion: ReionizationTables,
    lya: LymanAlphaTables,
    xray: XrayKernel,
    rates: CollisionalRates,
    /// ln M(V_c = 1 km/s, z) on the full grid: ln M_min = 3 ln V_c + this.
    ln_m_unit: Vec<f64>,
    /// Growth factor on the full grid.
    growth: Vec<f64>,
}

impl GlobalTables {
    /// Build all tables for `c`.
    pub fn new(c: Cosmology) -> Result<Self, ModelError> {
        let ct = Arc::new(CosmologyTables::new(c)?);
        Ok(Self::with_cosmology_tables(ct))
    }

    fn with_cosmology_tables(ct: Arc<CosmologyTables>) -> Self {
        let c = ct.cosmology;
        let z: Vec<f64> = (0..=N_FULL).map(|i| i as f64 * DZ).collect();
        Self {
            reion: ReionizationTables::new(&c, N_FULL, DZ),
            lya: LymanAlphaTables::new(&c, N_FULL, DZ),
            xray: XrayKernel::new(&c),
            rates: CollisionalRates::default(),
            ln_m_unit: z
                .iter()
                .map(|&zz| mass_from_circular_velocity(&c, 1.0, zz).ln())
                .collect(),
            growth: z.iter().map(|&zz| growth_factor(&c, zz)).collect(),
            cosmology: ct,
        }
    }

    /// The Planck 2018 tables, built on first use and shared by all simulators and threads.
    pub fn planck18() -> Arc<Self> {
        static T: OnceLock<Arc<GlobalTables>> = OnceLock::new();
        T.get_or_init(|| Arc::new(Self::with_cosmology_tables(CosmologyTables::planck18())))
            .clone()
    }
}

/// Histories of the global IGM against redshift (ascending z = 5..50, 451 values each).
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalHistories {
    /// Redshifts.
    pub z: Vec<f64>,
    /// Brightness temperature, mK.
    pub dtb: Vec<f64>,
    /// Mean neutral fraction (1 - Q)(1 - x_e).
    pub x_hi: Vec<f64>,
    /// Ionized volume filling factor Q.
    pub q: Vec<f64>,
    /// Kinetic temperature of the neutral IGM, K.
    pub t_k: Vec<f64>,
    /// Spin temperature, K.
    pub t_s: Vec<f64>,
    /// CMB temperature, K.
    pub t_cmb: Vec<f64>,
    /// Ly-alpha background (stars + X-ray excitation), cm^-2 s^-1 Hz^-1 sr^-1.
    pub j_alpha: Vec<f64>,
    /// Wouthuysen-Field coupling coefficient.
    pub x_alpha: Vec<f64>,
    /// Collisional coupling coefficient.
    pub x_c: Vec<f64>,
    /// Electron fraction in the neutral IGM.
    pub x_e: Vec<f64>,
    /// Ionizing efficiency that reproduces tau (0 without sources).
    pub zeta: f64,
    /// Redshifts of the full reionization history, z = 0, 0.1, ..., 60 (ascending).
    pub reionization_z: Vec<f64>,
    /// Q on `reionization_z` (what tau integrates).
    pub reionization_q: Vec<f64>,
}

/// The physical global-signal model on the 7 21cmGEM parameters (the "truth" for emulators).
///
/// ```
/// use spinflip::global::{GlobalParams, GlobalSimulator};
/// use spinflip::likelihoods::ForwardModel;
/// let sim = GlobalSimulator::planck18();
/// let mut dtb = vec![0.0; sim.n_outputs()];
/// sim.predict(&GlobalParams::fiducial().to_array(), &mut dtb).unwrap();
/// assert!(dtb.iter().cloned().fold(f64::INFINITY, f64::min) < -50.0);
/// ```
#[derive(Debug, Clone)]
pub struct GlobalSimulator {
    tables: Arc<GlobalTables>,
    grid: Vec<f64>,
    sources: bool,
}

impl GlobalSimulator {
    /// Planck 2018 cosmology (shared tables).
    pub fn planck18() -> Self {
        Self {
            tables: GlobalTables::planck18(),
            grid: output_redshifts(),
            sources: true,
        }
    }

    /// Any valid cosmology (builds its tables: ~0.1-0.5 s).
    pub fn new(c: Cosmology) -> Result<Self, ModelError> {
        Ok(Self {
            tables: Arc::new(GlobalTables::new(c)?),
            grid: output_redshifts(),
            sources: true,
        })
    }

    /// Switch all astrophysical sources off (a test of the adiabatic/Compton/collisional
    /// baseline): no stars, X-rays or reionization; tau is then not matched.
    pub fn without_sources(mut self) -> Self {
        self.sources = false;
        self
    }

    /// The cosmology.
    pub fn cosmology(&self) -> &Cosmology {
        &self.tables.cosmology.cosmology
    }

    /// Full histories at `theta` (validated).
    pub fn histories(&self, theta: &[f64]) -> Result<GlobalHistories, ModelError> {
        let p = GlobalParams::from_slice(theta)?;
        self.histories_for(&p)
    }

    /// Full histories for validated parameters.
    pub fn histories_for(&self, p: &GlobalParams) -> Result<GlobalHistories, ModelError> {
        let t = &*self.tables;
        let c = t.cosmology.cosmology;
        // 1. Collapsed fraction above M_min(V_c) on the full grid.
        let mut f_coll = vec![0.0; N_FULL + 1];
        if self.sources {
            let ln_vc3 = 3.0 * p.v_c.ln();
            for (i, f) in f_coll.iter_mut().enumerate() {
                let sigma = t.cosmology.sigma.ln_sigma(ln_vc3 + t.ln_m_unit[i]).exp();
                *f = t
                    .cosmology
                    .sheth_tormen
                    .f_coll(peak_height(sigma, t.growth[i]));
            }
            debug_assert_eq!(t.cosmology.sheth_tormen.kind(), MassFunction::ShethTormen);
        }
        // 2. Reionization with zeta solved for tau.
        let mut q = vec![0.0; N_FULL + 1];
        let zeta = if self.sources {
            t.reion.solve_zeta(p.tau, p.r_mfp, &f_coll, &mut q)?
        } else {
            0.0
        };
        // 3. X-ray energy deposited per baryon, per coarse cell, as a rate per unit z.
        let xk = &t.xray;
        let nc = xk.n_cells();
        let stride = (XrayKernel::DZ / DZ).round() as usize;
        let i0 = (XrayKernel::Z_MIN / DZ).round() as usize;
        let msun_per_baryon = c.rho_b0() / c.n_b0() / MSUN_G;
        let l_x = L_X_PER_SFR * p.f_x * YEAR_S;
        let emitted: Vec<f64> = (0..nc)
            .map(|j| {
                let (lo, hi) = (i0 + j * stride, i0 + (j + 1) * stride);
                l_x * p.f_star * (f_coll[lo] - f_coll[hi]).max(0.0) * msun_per_baryon
            })
            .collect();
        let mut absorbed = vec![0.0; nc];
        xk.deposit(
            &emitted,
            &xk.spectral_weights(p.alpha_x, p.nu_min),
            &mut absorbed,
        );
        let rate: Vec<f64> = absorbed.iter().map(|a| a / XrayKernel::DZ).collect();
        let deposit_rate = |z: f64| {
            let x = (z - XrayKernel::Z_MIN) / XrayKernel::DZ - 0.5;
            if x <= 0.0 {
                return rate[0];
            }
            let i = x as usize;
            if i + 1 >= nc {
                return rate[nc - 1];
            }
            let w = x - i as f64;
            rate[i] * (1.0 - w) + rate[i + 1] * w
        };
        // 4. Stellar Ly-alpha: one cumulative source integral.
        let mut g = vec![0.0; N_FULL + 1];
        t.lya.cumulative(&f_coll, &mut g);
        // X-ray excitation: J_X = c f_Lya eps (1+z) n_b / (4 pi h nu_a^2) per unit-z deposit eps.
        let j_x_pref =
            C_CM_S * c.n_b0() / (4.0 * std::f64::consts::PI * H_PLANCK * NU_ALPHA * NU_ALPHA);

        // 5. March the neutral IGM from z = 50 down.
        let mut h = GlobalHistories {
            z: self.grid.clone(),
            dtb: vec![0.0; N_OUT],
            x_hi: vec![0.0; N_OUT],
            q: vec![0.0; N_OUT],
            t_k: vec![0.0; N_OUT],
            t_s: vec![0.0; N_OUT],
            t_cmb: vec![0.0; N_OUT],
            j_alpha: vec![0.0; N_OUT],
            x_alpha: vec![0.0; N_OUT],
            x_c: vec![0.0; N_OUT],
            x_e: vec![0.0; N_OUT],
            zeta,
            reionization_z: (0..=N_FULL).map(|i| i as f64 * DZ).collect(),
            reionization_q: q.clone(),
        };
        let mut state = ThermalState::recfast_z50();
        for i in (I_OUT_MIN..=I_OUT_MAX).rev() {
            let k = i - I_OUT_MIN;
            let z = self.grid[k];
            let (t_k, x_e) = (state.t_k, state.x_e);
            let x_hi_neutral = 1.0 - x_e;
            let mut j = 0.0;
            if self.sources {
                j = t.lya.j_alpha_node(&g, i, p.f_star)
                    + j_x_pref * f_lya(x_e) * deposit_rate(z) * (1.0 + z).powi(4);
            }
            let xa = x_alpha(z, s_alpha(&c, z, t_k, x_hi_neutral), j);
            let xc = t.rates.x_c(&c, z, t_k, x_e);
            let t_cmb = c.t_cmb(z);
            let t_s = spin_temperature(t_cmb, t_k, xa, xc);
            let x_hi = (1.0 - q[i]) * x_hi_neutral;
            let dtb = brightness_temperature(&c, z, x_hi, t_s);
            if !dtb.is_finite() || !t_k.is_finite() || t_k <= 0.0 {
                return Err(ModelError::Failed(format!(
                    "non-finite state at z = {z}: T_K = {t_k}, x_e = {x_e}, dT_b = {dtb}"
                )));
            }
            h.dtb[k] = dtb;
            h.x_hi[k] = x_hi;
            h.q[k] = q[i];
            h.t_k[k] = t_k;
            h.t_s[k] = t_s;
            h.t_cmb[k] = t_cmb;
            h.j_alpha[k] = j;
            h.x_alpha[k] = xa;
            h.x_c[k] = xc;
            h.x_e[k] = x_e;
            if i > I_OUT_MIN {
                let e = if self.sources {
                    deposit_rate(z - 0.5 * DZ) * DZ
                } else {
                    0.0
                };
                state.step(&c, z, DZ, e);
            }
        }
        Ok(h)
    }
}

impl ForwardModel for GlobalSimulator {
    fn param_names(&self) -> Vec<String> {
        PARAM_NAMES.iter().map(|s| s.to_string()).collect()
    }

    fn n_params(&self) -> usize {
        N_PARAMS
    }

    fn grid(&self) -> &[f64] {
        &self.grid
    }

    fn n_outputs(&self) -> usize {
        N_OUT
    }

    /// The 21cmGEM prior box (f_X = 0 is also taken, as its lower edge).
    fn valid_box(&self) -> Option<Vec<(f64, f64)>> {
        Some(crate::global::PARAM_RANGES.to_vec())
    }

    fn predict(&self, theta: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
        self.check_shapes(theta.len(), out.len())?;
        let h = self.histories(theta)?;
        out.copy_from_slice(&h.dtb);
        Ok(())
    }

    /// Points in parallel (rayon); same results as calling `predict` one by one.
    fn predict_batch(
        &self,
        thetas: &[f64],
        out: &mut [f64],
        ok: &mut [bool],
    ) -> Result<(), ModelError> {
        use rayon::prelude::*;
        self.check_batch_shapes(thetas.len(), out.len(), ok.len())?;
        let fatal: Vec<ModelError> = thetas
            .par_chunks(N_PARAMS)
            .zip(out.par_chunks_mut(N_OUT))
            .zip(ok.par_iter_mut())
            .filter_map(|((t, o), k)| match self.predict(t, o) {
                Ok(()) => {
                    *k = true;
                    None
                }
                Err(e) if e.is_recoverable() => {
                    *k = false;
                    None
                }
                Err(e) => Some(e),
            })
            .collect();
        fatal.into_iter().next().map_or(Ok(()), Err)
    }
}

const _: () = assert!(Z_TOP == N_FULL as f64 * DZ);
const _: () = assert!(Z_OUT_MAX == I_OUT_MAX as f64 * DZ);
