//! The IGM outside ionised regions, cell by cell: kinetic temperature T_K and electron
//! fraction x_e evolved between nodes (adiabatic expansion including the cell's own
//! compression, Compton heating, X-ray heating and ionisation with Shull & van Steenberg
//! fractions, recombination), then collisional and Wouthuysen-Field coupling, the spin
//! temperature and dT_b.
//!
//! The physics is the global simulator's ([`crate::global::thermal`],
//! [`crate::global::coupling`], [`crate::global::lyman_alpha::s_alpha`],
//! [`crate::global::signal::brightness_temperature`]) applied per cell; the functions of T_K
//! and x_e that cost transcendentals are tabulated once (in T_K^(1/4) and x_e^(1/4), where
//! they are smooth) so a cell update costs a few square roots.

use crate::cosmology::constants::{EV_ERG, E_HI_EV, H_PLANCK, K_B, NU_ALPHA};
use crate::cosmology::growth::growth_factor;
use crate::cosmology::Cosmology;
use crate::global::coupling::{spin_temperature, CollisionalRates};
use crate::global::signal::brightness_temperature;
use crate::global::thermal::{alpha_recombination, compton_rate_per_z, f_heat, f_ion_hi, f_lya};

/// RECFAST electron fraction at z = 35 (as tabulated in 21cmFAST; PHYSICS.md section 3).
pub const X_E_Z35: f64 = 2.0537e-4;
/// RECFAST kinetic temperature at z = 35, K.
pub const T_K_Z35: f64 = 25.635;
/// Ceiling on T_K (21cmFAST's MAX_TK) against runaway heating over coarse steps.
pub const MAX_T_K: f32 = 5e4;

/// Ratio of temperature to density fluctuations of the gas, delta_T = c_T delta, before
/// sources (21cmFAST's `cT_approx`, a fit by Munoz 2023): 0.58 - 0.006 (z - 10).
pub fn adiabatic_index(z: f64) -> f64 {
    0.58 - 0.006 * (z - 10.0)
}

/// Several smooth functions tabulated on one uniform grid in u (values interleaved per
/// node, so one index serves all), linear interpolation, clamped to the grid.
#[derive(Debug, Clone)]
pub struct UniformTable<const M: usize> {
    lo: f32,
    inv_step: f32,
    last: usize,
    values: Vec<[f32; M]>,
}

impl<const M: usize> UniformTable<M> {
    /// Tabulate `f` on `n` points over [lo, hi].
    pub fn new(lo: f64, hi: f64, n: usize, f: impl Fn(f64) -> [f64; M]) -> Self {
        let step = (hi - lo) / (n - 1) as f64;
        Self {
            lo: lo as f32,
            inv_step: (1.0 / step) as f32,
            last: n - 2,
            values: (0..n)
                .map(|i| f(lo + i as f64 * step).map(|v| v as f32))
                .collect(),
        }
    }

    /// Interpolated values at u.
    #[inline(always)]
    pub fn eval(&self, u: f32) -> [f32; M] {
        let x = ((u - self.lo) * self.inv_step).max(0.0);
        let i = (x as usize).min(self.last);
        let t = (x - i as f32).min(1.0);
        let (a, b) = (&self.values[i], &self.values[i + 1]);
        std::array::from_fn(|m| a[m] + t * (b[m] - a[m]))
    }
}

/// x^(1/4) by two square roots.
#[inline(always)]
pub fn quarter_power(x: f32) -> f32 {
    x.sqrt().sqrt()
}

/// Functions of T_K (on u = T^(1/4)) and of x_e (on v = x_e^(1/4)), built once from the
/// global simulator's functions.
#[derive(Debug, Clone)]
pub struct ThermalTables {
    /// kappa_HH, kappa_eH + kappa_pH (cm^3/s) and T^(-2/3) (for S_alpha) against u.
    pub temperature: UniformTable<3>,
    /// Shull & van Steenberg fractions f_heat, f_ion,HI, f_Lya against v.
    pub fractions: UniformTable<3>,
    /// The case-B recombination coefficient is alpha_1e4 (T/1e4)^-0.75 = this times u^-3
    /// ([`alpha_recombination`] above 1 K).
    pub alpha_u3: f32,
}

impl Default for ThermalTables {
    fn default() -> Self {
        let rates = CollisionalRates::default();
        // u = T^(1/4) from 0.5 (T = 0.06 K) to 16 (65536 K, above MAX_T_K).
        let t = |u: f64| u.powi(4).max(1e-3);
        Self {
            temperature: UniformTable::new(0.5, 16.0, 4096, |u| {
                let tk = t(u);
                [
                    rates.hh.eval(tk),
                    rates.eh.eval(tk) + rates.ph.eval(tk),
                    tk.powf(-2.0 / 3.0),
                ]
            }),
            fractions: UniformTable::new(0.0, 1.0, 2048, |v| {
                let x = v.powi(4);
                [f_heat(x), f_ion_hi(x), f_lya(x)]
            }),
            alpha_u3: (alpha_recombination(1e4) * 1e3) as f32,
        }
    }
}

/// Per-node constants of the cell updates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeConstants {
    /// Redshift.
    pub z: f64,
    /// Linear growth factor.
    pub growth: f64,
    /// CMB temperature, K.
    pub t_cmb: f64,
    /// |dt/dz|, s.
    pub dt_dz: f64,
    /// Hydrogen density at the mean, cm^-3.
    pub n_h: f64,
    /// Compton coupling per unit z at x_e/(1 + x_e + f_He) = 1.
    pub compton: f64,
    /// x_c / [(1 + delta) ((1 - x_e) kappa_HH + x_e kappa_e)].
    pub x_c_pref: f64,
    /// S_alpha = exp(-s_alpha_pref T^(-2/3) ((1 + delta)(1 - x_e))^(1/3)) (the Chuzhoy &
    /// Shapiro form of [`crate::global::lyman_alpha::s_alpha`] with the cell's H I density).
    pub s_alpha_pref: f64,
    /// x_alpha per unit S_alpha J_alpha: 1.66e11/(1 + z).
    pub x_alpha_pref: f64,
    /// J_alpha from X-ray excitation per unit f_Lya x energy deposition rate per baryon
    /// (1 + delta): c n_b / (4 pi h nu_alpha^2 H).
    pub j_x_pref: f64,
    /// dT_b / [x_HI (1 - T_cmb/T_S)] at delta = 0, mK.
    pub t_b_pref: f64,
}

impl NodeConstants {
    /// Constants at z.
    pub fn new(c: &Cosmology, z: f64) -> Self {
        let a3 = (1.0 + z).powi(3);
        let n_h = c.n_h0() * a3;
        let t_cmb = c.t_cmb(z);
        let tau_gp = 1.342_881e-7 * n_h / c.hubble(z);
        Self {
            z,
            growth: growth_factor(c, z),
            t_cmb,
            dt_dz: c.dt_dz(z),
            n_h,
            compton: compton_rate_per_z(c, z, 1.0) * (2.0 + c.f_he()),
            x_c_pref: crate::cosmology::constants::T_STAR
                / (t_cmb * crate::cosmology::constants::A_10)
                * n_h,
            s_alpha_pref: 0.803 * (1e-6 * tau_gp).cbrt(),
            x_alpha_pref: 1.66e11 / (1.0 + z),
            j_x_pref: crate::cosmology::constants::C_CM_S * c.n_b0() * a3
                / (4.0 * std::f64::consts::PI * H_PLANCK * NU_ALPHA * NU_ALPHA * c.hubble(z)),
            t_b_pref: brightness_temperature(c, z, 1.0, f64::INFINITY),
        }
    }
}

/// T_K and x_e of every cell.
#[derive(Debug, Clone, PartialEq)]
pub struct CellState {
    /// Kinetic temperature of the neutral gas, K.
    pub t_k: Vec<f32>,
    /// Electron fraction (per H atom) of the neutral gas.
    pub x_e: Vec<f32>,
}

impl CellState {
    /// RECFAST at z = 35 with temperature fluctuations c_T(z) delta (21cmFAST's
    /// `init_first_Ts`); `one_plus_delta` is the density at z = 35.
    pub fn initial(one_plus_delta: &[f32]) -> Self {
        let ct = adiabatic_index(super::geometry::Z_HEAT_MAX);
        Self {
            t_k: one_plus_delta
                .iter()
                .map(|&o| (T_K_Z35 * (1.0 + ct * (o as f64 - 1.0))).max(1.0) as f32)
                .collect(),
            x_e: vec![X_E_Z35 as f32; one_plus_delta.len()],
        }
    }
}

/// The per-cell inputs of one step that do not depend on the cell's state.
#[derive(Debug, Clone, Copy)]
pub struct StepInputs {
    /// Redshift step (previous node minus this one, > 0).
    pub dz: f64,
    /// (1 + z)^2 / (1 + z_prev)^2: adiabatic cooling of the step.
    pub expansion: f64,
    /// Heating per unit f_heat (1 - x_e)/(1 + x_e) is `s_e[c]` K (the shell sum is already in
    /// kelvin: 2/(3 k_B) times the energy per baryon deposited over the step); ionisations
    /// per H atom per kelvin of that sum per unit (1 - x_e), secondary per unit f_ion.
    pub ion_per_kelvin_secondary: f64,
    /// Primary ionisations per H atom per kelvin of the shell sum per unit (1 - x_e).
    pub ion_per_kelvin_primary: f64,
    /// He/H number ratio.
    pub f_he: f64,
}

impl StepInputs {
    /// Inputs of the step from `prev` to `now` (primary ionisations per erg `primary_per_erg`,
    /// the ratio of the shells' w^N and w^E sums).
    pub fn new(
        c: &Cosmology,
        prev: &NodeConstants,
        now: &NodeConstants,
        primary_per_erg: f64,
    ) -> Self {
        let erg_per_kelvin = 1.5 * K_B;
        let per_h = 1.0 + c.f_he();
        Self {
            dz: prev.z - now.z,
            expansion: ((1.0 + now.z) / (1.0 + prev.z)).powi(2),
            ion_per_kelvin_secondary: per_h * erg_per_kelvin / (E_HI_EV * EV_ERG),
            ion_per_kelvin_primary: per_h * erg_per_kelvin * primary_per_erg,
            f_he: c.f_he(),
        }
    }
}

/// Advance every cell from the previous node to `now`. `opd_prev`, `opd_now` are 1 + delta
/// at the two nodes, `s_e` the X-ray shell sum in kelvin (see [`StepInputs`]).
pub fn evolve_cells(
    tables: &ThermalTables,
    now: &NodeConstants,
    step: &StepInputs,
    opd_prev: &[f32],
    opd_now: &[f32],
    s_e: &[f32],
    state: &mut CellState,
) {
    super::simd::dispatch!(evolve_cells_body(
        tables, now, step, opd_prev, opd_now, s_e, state
    ))
}

#[inline(always)]
fn evolve_cells_body(
    tables: &ThermalTables,
    now: &NodeConstants,
    step: &StepInputs,
    opd_prev: &[f32],
    opd_now: &[f32],
    s_e: &[f32],
    state: &mut CellState,
) {
    let expansion = step.expansion as f32;
    let kc_unit = (now.compton * step.dz) as f32;
    let t_cmb = now.t_cmb as f32;
    let rec_unit = (now.n_h * now.dt_dz * step.dz) as f32;
    let (sec, prim) = (
        step.ion_per_kelvin_secondary as f32,
        step.ion_per_kelvin_primary as f32,
    );
    let f_he = step.f_he as f32;
    let alpha_u3 = tables.alpha_u3;
    for ((((t, x), &on), &op), &se) in state
        .t_k
        .iter_mut()
        .zip(state.x_e.iter_mut())
        .zip(opd_now)
        .zip(opd_prev)
        .zip(s_e)
    {
        let xe = *x;
        // Adiabatic: T proportional to (1+z)^2 (1+delta)^(2/3), the density term to first
        // order over the step (d ln(1+delta) = 2 (o_n - o_p)/(o_n + o_p)).
        let compression = (4.0 / 3.0) * (on - op) / (on + op).max(1e-3);
        let mut tk = *t * expansion * (1.0 + compression).max(0.5);
        // Compton, implicit.
        let kc = kc_unit * xe / (1.0 + xe + f_he);
        tk = (tk + kc * t_cmb) / (1.0 + kc);
        // X-rays.
        let [f_heat, f_ion, _] = tables.fractions.eval(quarter_power(xe));
        let neutral = 1.0 - xe;
        tk += f_heat * neutral / (1.0 + xe) * se;
        let b = xe + neutral * (f_ion * sec + prim) * se;
        // Recombination (case B, the cell's density), implicit.
        let u = quarter_power(tk.max(1.0));
        let r = alpha_u3 / (u * u * u) * rec_unit * on;
        let x_new = if r * b < 1e-6 {
            b - r * b * b
        } else {
            ((1.0 + 4.0 * r * b).sqrt() - 1.0) / (2.0 * r)
        }
        .clamp(0.0, 1.0);
        tk *= 1.0 - (x_new - xe) / (1.0 + x_new);
        *t = tk.clamp(0.1, MAX_T_K);
        *x = x_new;
    }
}

/// Spin temperature of one neutral cell.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn cell_spin_temperature(
    tables: &ThermalTables,
    now: &NodeConstants,
    t_k: f32,
    x_e: f32,
    one_plus_delta: f32,
    lya_sum: f32,
    xray_sum_kelvin: f32,
    j_x_per_kelvin: f32,
) -> f32 {
    let [k_hh, k_e, t_m23] = tables.temperature.eval(quarter_power(t_k));
    let neutral = 1.0 - x_e;
    let x_c = now.x_c_pref as f32 * one_plus_delta * (neutral * k_hh + x_e * k_e);
    let s_alpha =
        (-(now.s_alpha_pref as f32) * t_m23 * (one_plus_delta * neutral).max(0.0).cbrt()).exp();
    let [_, _, f_lya] = tables.fractions.eval(quarter_power(x_e));
    // lya_sum is already x_alpha / S_alpha from stars; X-ray excitation adds its share.
    let x_a =
        s_alpha * (lya_sum + j_x_per_kelvin * one_plus_delta * f_lya * neutral * xray_sum_kelvin);
    spin_temperature(now.t_cmb, t_k as f64, x_a as f64, x_c as f64) as f32
}

/// dT_b (mK) of every cell at node `now`: T_S from the cell's T_K, x_e, density and the
/// shell sums, then x_HI (1 + delta)(1 - T_cmb/T_S) times the prefactor of
/// [`brightness_temperature`]. Fully ionised cells get 0. Returns the sum and count of T_S over
/// cells with neutral gas.
#[allow(clippy::too_many_arguments)]
pub fn brightness_box(
    tables: &ThermalTables,
    now: &NodeConstants,
    one_plus_delta: &[f32],
    x_hi: &[f32],
    state: &CellState,
    lya_sum: &[f32],
    xray_sum_kelvin: &[f32],
    j_x_per_kelvin: f32,
    t_b: &mut [f32],
) -> (f64, usize) {
    super::simd::dispatch!(brightness_box_body(
        tables,
        now,
        one_plus_delta,
        x_hi,
        state,
        lya_sum,
        xray_sum_kelvin,
        j_x_per_kelvin,
        t_b
    ))
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn brightness_box_body(
    tables: &ThermalTables,
    now: &NodeConstants,
    one_plus_delta: &[f32],
    x_hi: &[f32],
    state: &CellState,
    lya_sum: &[f32],
    xray_sum_kelvin: &[f32],
    j_x_per_kelvin: f32,
    t_b: &mut [f32],
) -> (f64, usize) {
    let pref = now.t_b_pref as f32;
    let t_cmb = now.t_cmb as f32;
    let (mut ts_sum, mut ts_n) = (0.0f64, 0usize);
    for c in 0..t_b.len() {
        let xh = x_hi[c];
        if xh <= 0.0 {
            t_b[c] = 0.0;
            continue;
        }
        let opd = one_plus_delta[c].max(0.0);
        let ts = cell_spin_temperature(
            tables,
            now,
            state.t_k[c],
            state.x_e[c],
            opd,
            lya_sum[c],
            xray_sum_kelvin[c],
            j_x_per_kelvin,
        );
        ts_sum += ts as f64;
        ts_n += 1;
        t_b[c] = pref * xh * opd * (1.0 - t_cmb / ts);
    }
    (ts_sum, ts_n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::global::coupling::x_alpha;
    use crate::global::lyman_alpha::s_alpha;
    use crate::global::thermal::ThermalState;

    #[test]
    fn tables_reproduce_the_global_functions() {
        let t = ThermalTables::default();
        let r = CollisionalRates::default();
        for tk in [2.0f64, 9.0, 35.0, 400.0, 8000.0] {
            let u = quarter_power(tk as f32);
            let alpha = t.alpha_u3 / (u * u * u);
            assert!((alpha as f64 / alpha_recombination(tk) - 1.0).abs() < 1e-5);
            let [hh, e, m23] = t.temperature.eval(u);
            assert!((hh as f64 / r.hh.eval(tk) - 1.0).abs() < 5e-3);
            assert!((e as f64 / (r.eh.eval(tk) + r.ph.eval(tk)) - 1.0).abs() < 5e-3);
            assert!((m23 as f64 / tk.powf(-2.0 / 3.0) - 1.0).abs() < 1e-3);
        }
        for x in [1e-4f64, 2e-3, 0.1, 0.7] {
            let [h, i, l] = t.fractions.eval(quarter_power(x as f32));
            assert!((h as f64 - f_heat(x)).abs() < 2e-3);
            assert!((i as f64 - f_ion_hi(x)).abs() < 2e-3);
            assert!((l as f64 - f_lya(x)).abs() < 2e-3);
        }
    }

    #[test]
    fn mean_density_cell_follows_the_global_thermal_history() {
        // Without sources a delta = 0 cell must track ThermalState from z = 35 (RECFAST).
        let c = Cosmology::planck18();
        let tables = ThermalTables::default();
        let mut cells = CellState::initial(&[1.0]);
        let mut global = ThermalState {
            t_k: T_K_Z35,
            x_e: X_E_Z35,
        };
        let zs = super::super::geometry::node_redshifts(10.0);
        for w in zs.windows(2) {
            let (prev, now) = (NodeConstants::new(&c, w[0]), NodeConstants::new(&c, w[1]));
            let step = StepInputs::new(&c, &prev, &now, 0.0);
            evolve_cells(&tables, &now, &step, &[1.0], &[1.0], &[0.0], &mut cells);
            // Fine steps for the reference.
            let n = 20;
            for i in 0..n {
                let z = w[0] - i as f64 * (w[0] - w[1]) / n as f64;
                global.step(&c, z, (w[0] - w[1]) / n as f64, 0.0);
            }
        }
        assert!(
            (cells.t_k[0] as f64 / global.t_k - 1.0).abs() < 0.01,
            "{} {}",
            cells.t_k[0],
            global.t_k
        );
        assert!(
            (cells.x_e[0] as f64 / global.x_e - 1.0).abs() < 0.01,
            "{} {}",
            cells.x_e[0],
            global.x_e
        );
    }

    #[test]
    fn spin_temperature_limits_and_coupling() {
        let c = Cosmology::planck18();
        let t = ThermalTables::default();
        let now = NodeConstants::new(&c, 15.0);
        // No Ly-alpha: only collisions, T_S between T_K and T_cmb, near T_cmb at z = 15.
        let ts = cell_spin_temperature(&t, &now, 8.0, 2e-4, 1.0, 0.0, 0.0, 0.0);
        assert!(ts > 8.0 && ts < now.t_cmb as f32, "{ts}");
        // Strong Ly-alpha: T_S -> T_K.
        let ts = cell_spin_temperature(&t, &now, 8.0, 2e-4, 1.0, 1e4, 0.0, 0.0);
        assert!((ts - 8.0).abs() < 0.01, "{ts}");
        // The cell S_alpha at the mean density is the global one.
        let tk = 20.0f32;
        let s_cell =
            (-(now.s_alpha_pref as f32) * t.temperature.eval(quarter_power(tk))[2]).exp() as f64;
        let s_glob = s_alpha(&c, 15.0, tk as f64, 1.0);
        assert!((s_cell / s_glob - 1.0).abs() < 2e-3, "{s_cell} {s_glob}");
        assert!((now.x_alpha_pref - x_alpha(15.0, 1.0, 1.0)).abs() < 1e-3);
    }
}
