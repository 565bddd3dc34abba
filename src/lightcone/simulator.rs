//! [`MapSimulator`]: parameters and a seed in, a light-cone out. Tables that depend only on
//! the cosmology and the geometry ([`MapTables`]) are built once and shared by every
//! light-cone and thread; one light-cone runs on one thread.
//!
//! Per light-cone: initial conditions -> the shells' smoothed fields, once (the sources use the
//! linear field, and a linear field at node z is D(z) times the z = 0 one) and the Zel'dovich
//! displacements -> for each node from z = 35 down: the evolved density, shell star-formation
//! tables and X-ray / Ly-alpha weights, per-cell shell sums, T_K and x_e, excursion-set
//! ionisation (on the evolved density, refiltered every 5% of growth), T_S and dT_b -> slices
//! of the light-cone. With [`DensityModel::Linear`] the excursion-set fields are also filtered
//! only once.

use super::density::{DensityModel, Displacement};
use super::fft::{Fft3, FftScratch};
use super::filters::{
    annulus_window, smooth_sharp_k, smooth_with, CodedField, SHARP_K_FACTOR, TABLE_NODES,
};
use super::geometry::{ComovingDistance, Layout, MapGeometry, Z_HEAT_MAX};
use super::initial::{gaussian_density, grid_power, mode_wavenumbers, CELL_RADIUS_FACTOR};
use super::ionization::{
    neutral_fraction, node_thresholds, IonizationFilter, IonizationRadii, NodeIonization,
};
use super::lightcone::LightCone;
use super::params::MapParams;
use super::shells::{Shells, N_SHELLS};
use super::sources::{Conditional, HaloThreshold};
use super::spin::{
    brightness_box, evolve_cells, CellState, NodeConstants, StepInputs, ThermalTables,
};
use super::xray::{xray_weights, XraySource, XrayTables, XrayWeights, XrayWork};
use crate::cosmology::constants::K_B;
use crate::cosmology::power::top_hat_window;
use crate::cosmology::{Cosmology, CosmologyTables};
use rustfft::num_complex::Complex32;
use spinflip_likelihoods::ModelError;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Star formation efficiency: 21cmFAST 4.1.1's `F_STAR10` default (10^-1.3), which its
/// constant-efficiency source model (`SOURCE_MODEL = CONST-ION-EFF`, the `const-zeta`
/// template) uses as a mass-independent f_star in SFRD = f_star rho_b dF_coll/dt.
pub const F_STAR: f64 = 0.050_118_723_362_727_23;

/// Temperature given to ionised cells' gas, K (photo-heated; it does not enter dT_b).
pub const T_IONIZED: f32 = 1e4;

/// The evolved-density excursion-set fields are remade when the growth factor has grown by
/// this factor since they were last made.
pub const EULERIAN_REFRESH: f64 = 1.05;

/// A shell whose mean contribution is below this fraction of both the node's X-ray and
/// Ly-alpha sums adds its mean to every cell instead of its own field (saves per-cell work
/// where it cannot be seen).
pub const SKIP_FRACTION: f64 = 1e-4;

/// Everything that depends only on the cosmology and the geometry.
pub struct MapTables {
    /// sigma(M), collapsed fractions, P(k).
    pub cosmology: Arc<CosmologyTables>,
    /// Comoving distance table.
    pub distance: ComovingDistance,
    /// Nodes and slices.
    pub layout: Layout,
    /// FFT plans.
    pub fft: Fft3,
    /// |k| of each half-complex mode, 1/Mpc.
    pub mode_k: Vec<f32>,
    /// sqrt(P_grid / V) of each mode (initial conditions).
    pub ic_amplitude: Vec<f32>,
    /// Shells of the X-ray and Ly-alpha sums.
    pub shells: Shells,
    /// Fourier windows of shells 1..n_in_box (shell 0 is the cell, unfiltered).
    pub shell_windows: Vec<Vec<f32>>,
    /// X-ray attenuation tables.
    pub xray: XrayTables,
    /// Tabulated thermal and coupling functions.
    pub thermal: ThermalTables,
    /// Per-node constants.
    pub nodes: Vec<NodeConstants>,
}

impl std::fmt::Debug for MapTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapTables")
            .field("geometry", &self.layout.geometry)
            .field("nodes", &self.layout.nodes.len())
            .field("n_los", &self.layout.n_los())
            .finish()
    }
}

impl MapTables {
    /// Build the tables for `geometry` with cosmology tables `cosmology` (a fraction of a
    /// second at the default geometry; grows with cells^3).
    pub fn new(cosmology: Arc<CosmologyTables>, geometry: MapGeometry) -> Result<Self, ModelError> {
        let c = cosmology.cosmology;
        let distance = ComovingDistance::new(&c);
        let layout = Layout::new(&geometry, &c, &distance)?;
        let n = geometry.cells;
        let fft = Fft3::new(n);
        let mode_k = mode_wavenumbers(n, geometry.box_mpc);
        let volume = geometry.box_mpc.powi(3);
        let ic_amplitude = grid_power(n, geometry.box_mpc, &cosmology.power)
            .iter()
            .map(|&p| (p / volume).sqrt() as f32)
            .collect();
        let shells = Shells::new(&c, &cosmology.power, &distance, &layout);
        let shell_windows = (1..shells.n_in_box)
            .map(|j| {
                let (ri, ro) = (shells.inner(j), shells.radius[j]);
                mode_k
                    .iter()
                    .map(|&k| annulus_window(k as f64, ri, ro) as f32)
                    .collect()
            })
            .collect();
        let xray = XrayTables::new(&c, &layout, &shells, &distance);
        let nodes = layout
            .nodes
            .iter()
            .map(|&z| NodeConstants::new(&c, z))
            .collect();
        Ok(Self {
            cosmology,
            distance,
            layout,
            fft,
            mode_k,
            ic_amplitude,
            shells,
            shell_windows,
            xray,
            thermal: ThermalTables::default(),
            nodes,
        })
    }

    /// Planck 2018 tables for `geometry`.
    pub fn planck18(geometry: MapGeometry) -> Result<Self, ModelError> {
        Self::new(CosmologyTables::planck18(), geometry)
    }

    /// The cosmology.
    pub fn cosmology(&self) -> &Cosmology {
        &self.cosmology.cosmology
    }
}

/// Box-mean diagnostics of one node.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct NodeSummary {
    /// Redshift.
    pub z: f64,
    /// Mean kinetic temperature of the gas outside fully ionised cells, K (ionised gas is at
    /// ~1e4 K, [`T_IONIZED`]).
    pub t_k_mean: f64,
    /// Its standard deviation over cells, K.
    pub t_k_std: f64,
    /// Mean electron fraction outside ionised regions.
    pub x_e_mean: f64,
    /// Mean neutral fraction.
    pub x_hi_mean: f64,
    /// Mean dT_b, mK (0 before the light-cone's range).
    pub t_b_mean: f64,
    /// Standard deviation of dT_b over cells, mK.
    pub t_b_std: f64,
    /// Mean spin temperature of neutral cells, K.
    pub t_s_mean: f64,
    /// Global Sheth-Tormen collapsed fraction.
    pub f_coll: f64,
}

/// Wall time of each stage of one light-cone.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StageTimes {
    /// Initial conditions (Gaussian field and one FFT).
    pub initial_conditions: Duration,
    /// Smoothing (one inverse FFT per shell and per excursion-set radius) and coding.
    pub smoothing: Duration,
    /// Per-node tables: shell star formation, X-ray attenuation, ionisation thresholds.
    pub node_tables: Duration,
    /// Per-cell shell sums (X-ray and Ly-alpha).
    pub shell_sums: Duration,
    /// Per-cell T_K and x_e.
    pub thermal: Duration,
    /// Per-cell ionisation.
    pub ionization: Duration,
    /// Per-cell T_S and dT_b.
    pub brightness: Duration,
    /// Light-cone slices.
    pub light_cone: Duration,
}

impl StageTimes {
    /// Sum of all stages.
    pub fn total(&self) -> Duration {
        self.initial_conditions
            + self.smoothing
            + self.node_tables
            + self.shell_sums
            + self.thermal
            + self.ionization
            + self.brightness
            + self.light_cone
    }

    /// (name, duration) pairs in pipeline order.
    pub fn stages(&self) -> [(&'static str, Duration); 8] {
        [
            ("initial conditions", self.initial_conditions),
            ("smoothing (FFTs)", self.smoothing),
            ("node tables", self.node_tables),
            ("shell sums", self.shell_sums),
            ("T_K, x_e", self.thermal),
            ("ionisation", self.ionization),
            ("T_S, dT_b", self.brightness),
            ("light-cone slices", self.light_cone),
        ]
    }

    /// Add another light-cone's times.
    pub fn add(&mut self, o: &StageTimes) {
        self.initial_conditions += o.initial_conditions;
        self.smoothing += o.smoothing;
        self.node_tables += o.node_tables;
        self.shell_sums += o.shell_sums;
        self.thermal += o.thermal;
        self.ionization += o.ionization;
        self.brightness += o.brightness;
        self.light_cone += o.light_cone;
    }
}

/// One simulated light-cone and its diagnostics.
#[derive(Debug, Clone)]
pub struct MapOutput {
    /// The parameters.
    pub params: MapParams,
    /// The seed of the initial conditions.
    pub seed: u64,
    /// dT_b light-cone and its plane means.
    pub light_cone: LightCone,
    /// Box means per node (descending z).
    pub nodes: Vec<NodeSummary>,
    /// Stage times.
    pub times: StageTimes,
}

/// How a shell's per-cell star formation rate is normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SfrdConvention {
    /// 21cmFAST's `SOURCE_MODEL = CONST-ION-EFF` (`SpinTemperatureBox.c`): the rate is the
    /// conditional -dF/dz at fixed current overdensity and fixed M_min
    /// ([`Conditional::rate_at_fixed_density`]) times (1 + delta), rescaled by
    /// F_ST/<F_cond> (collapsed fractions, not rates). Its box mean is
    /// F_ST d ln F_PS/dz rather than dF_ST/dz: ~1.5 times the Sheth-Tormen rate at cosmic
    /// dawn (the Press-Schechter tail is steeper), falling towards 1 as halos become common.
    /// With it L_X, zeta and T_vir mean what they mean in 21cmFAST (and in Gillet et al.).
    TwentyOneCmFast,
    /// The self-consistent rate: (1 + delta) times the full -dF_cond/dz (M_min(T_vir, z) and
    /// the region's overdensity growing), rescaled so its box mean is the global
    /// Sheth-Tormen -dF_ST/dz.
    GlobalRate,
}

/// Settings of the model that are not parameters of the prior.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapOptions {
    /// Star formation efficiency.
    pub f_star: f64,
    /// Excursion-set filter.
    pub filter: IonizationFilter,
    /// Normalisation of the star formation rate.
    pub sfrd: SfrdConvention,
    /// Density at the nodes.
    pub density: DensityModel,
}

impl Default for MapOptions {
    fn default() -> Self {
        Self {
            f_star: F_STAR,
            filter: IonizationFilter::SharpK,
            sfrd: SfrdConvention::TwentyOneCmFast,
            density: DensityModel::Zeldovich,
        }
    }
}

/// The light-cone simulator.
#[derive(Debug, Clone)]
pub struct MapSimulator {
    tables: Arc<MapTables>,
    options: MapOptions,
}

impl MapSimulator {
    /// A simulator on shared tables.
    pub fn new(tables: Arc<MapTables>) -> Self {
        Self {
            tables,
            options: MapOptions::default(),
        }
    }

    /// Planck 2018 at `geometry` (builds the tables).
    pub fn planck18(geometry: MapGeometry) -> Result<Self, ModelError> {
        Ok(Self::new(Arc::new(MapTables::planck18(geometry)?)))
    }

    /// Replace the model options.
    pub fn with_options(mut self, options: MapOptions) -> Self {
        self.options = options;
        self
    }

    /// The shared tables.
    pub fn tables(&self) -> &Arc<MapTables> {
        &self.tables
    }

    /// The layout (nodes and slices).
    pub fn layout(&self) -> &Layout {
        &self.tables.layout
    }

    /// Simulate one light-cone (single-threaded).
    pub fn simulate(&self, params: &MapParams, seed: u64) -> Result<MapOutput, ModelError> {
        self.simulate_from(params, seed, None)
    }

    /// Simulate one light-cone from given initial conditions: `density0` is the z = 0 linear
    /// density on the grid (cells^3, C order, line of sight last), cell-averaged like
    /// [`super::initial`]'s fields, e.g. 21cmFAST's `lowres_density` for a comparison of the
    /// two codes on the same structures. `None` draws them from `seed`.
    pub fn simulate_from(
        &self,
        params: &MapParams,
        seed: u64,
        density0: Option<&[f32]>,
    ) -> Result<MapOutput, ModelError> {
        params.validate()?;
        let n = self.tables.layout.geometry.cells;
        if let Some(d) = density0 {
            if d.len() != n * n * n {
                return Err(ModelError::Dimension {
                    what: "initial density (cells^3)".into(),
                    expected: n * n * n,
                    got: d.len(),
                });
            }
            if let Some(bad) = d.iter().find(|x| !x.is_finite()) {
                return Err(ModelError::NonFinite {
                    name: "initial density".into(),
                    value: *bad as f64,
                });
            }
        }
        if !(self.options.f_star > 0.0 && self.options.f_star <= 1.0) {
            return Err(ModelError::Invalid {
                field: "f_star".into(),
                reason: format!("{} is not in (0, 1]", self.options.f_star),
            });
        }
        let mut run = Run::new(self, params, seed);
        run.go(density0)?;
        Ok(run.finish())
    }
}

/// Work and state of one light-cone.
struct Run<'a> {
    sim: &'a MapSimulator,
    t: &'a MapTables,
    params: MapParams,
    seed: u64,
    times: StageTimes,
    delta0: Vec<f32>,
    delta_k: Vec<Complex32>,
    displacement: Option<Displacement>,
    shell_fields: Vec<CodedField>,
    ion_fields: Vec<CodedField>,
    radii: IonizationRadii,
    state: CellState,
    light_cone: LightCone,
    nodes: Vec<NodeSummary>,
}

impl<'a> Run<'a> {
    fn new(sim: &'a MapSimulator, params: &MapParams, seed: u64) -> Self {
        let t = &*sim.tables;
        let g = &t.layout.geometry;
        let radii = IonizationRadii::new(
            t.cosmology(),
            &t.cosmology.sigma,
            g.cell_mpc(),
            g.box_mpc,
            params.r_mfp,
        );
        Self {
            sim,
            t,
            params: *params,
            seed,
            times: StageTimes::default(),
            delta0: Vec::new(),
            delta_k: Vec::new(),
            displacement: None,
            shell_fields: Vec::new(),
            ion_fields: Vec::new(),
            radii,
            state: CellState {
                t_k: Vec::new(),
                x_e: Vec::new(),
            },
            light_cone: LightCone::new(&t.layout),
            nodes: Vec::with_capacity(t.layout.nodes.len()),
        }
    }

    fn finish(self) -> MapOutput {
        MapOutput {
            params: self.params,
            seed: self.seed,
            light_cone: self.light_cone,
            nodes: self.nodes,
            times: self.times,
        }
    }

    /// Initial conditions (drawn, or given) and every smoothed field.
    fn fields(&mut self, scratch: &mut FftScratch, given: Option<&[f32]>) {
        let t = self.t;
        let n = t.layout.geometry.cells;
        let n3 = n * n * n;
        let clock = Instant::now();
        self.delta0 = vec![0.0; n3];
        let dk = match given {
            None => gaussian_density(
                self.seed,
                &t.ic_amplitude,
                &t.fft,
                scratch,
                &mut self.delta0,
            ),
            Some(d) => {
                self.delta0.copy_from_slice(d);
                let mut work = d.to_vec();
                let mut k = vec![Complex32::default(); t.fft.complex_len()];
                t.fft.forward(&mut work, &mut k, scratch);
                let norm = 1.0 / n3 as f32;
                k.iter_mut().for_each(|z| *z *= norm);
                k
            }
        };
        self.times.initial_conditions += clock.elapsed();

        let clock = Instant::now();
        let mut work = vec![Complex32::default(); t.fft.complex_len()];
        let mut out = vec![0.0f32; n3];
        let cell = CodedField::new(&self.delta0);
        self.shell_fields.push(cell.clone());
        for w in &t.shell_windows {
            smooth_with(&dk, |m| w[m], &t.fft, &mut work, scratch, &mut out);
            self.shell_fields.push(CodedField::new(&out));
        }
        self.ion_fields = match self.sim.options.density {
            DensityModel::Linear => ionization_fields(
                cell,
                &dk,
                &self.radii,
                self.sim.options.filter,
                t,
                &mut work,
                scratch,
                &mut out,
            ),
            DensityModel::Zeldovich => {
                self.displacement = Some(Displacement::new(
                    &dk,
                    t.layout.geometry.box_mpc,
                    &t.fft,
                    scratch,
                ));
                Vec::new()
            }
        };
        self.delta_k = dk;
        self.times.smoothing += clock.elapsed();
    }

    /// 1 + delta at node `k` into `out` (linear: clamped at 0).
    fn one_plus_delta(&self, k: usize, out: &mut [f32]) {
        let g = self.t.nodes[k].growth as f32;
        match &self.displacement {
            Some(d) => d.one_plus_delta(g, out),
            None => {
                for (o, &d0) in out.iter_mut().zip(&self.delta0) {
                    *o = (1.0 + g * d0).max(0.0);
                }
            }
        }
    }

    fn go(&mut self, given: Option<&[f32]>) -> Result<(), ModelError> {
        let t = self.t;
        let c = *t.cosmology();
        let p = self.params;
        let opts = self.sim.options;
        let n = t.layout.geometry.cells;
        let n3 = n * n * n;
        let mut scratch = t.fft.scratch();
        self.fields(&mut scratch, given);
        let halos = HaloThreshold::new(&t.cosmology, p.t_vir());
        let src = XraySource {
            l_x: p.l_x(),
            e0_kev: p.e0_kev,
            alpha: p.alpha_x,
            f_star: opts.f_star,
        };
        let first_needed = t.layout.first_needed_node();
        let mut opd = vec![0.0f32; n3];
        let mut opd_prev = vec![0.0f32; n3];
        self.one_plus_delta(0, &mut opd);
        self.state = CellState::initial(&opd);
        debug_assert_eq!(t.layout.nodes[0], Z_HEAT_MAX);
        let mut work = vec![Complex32::default(); t.fft.complex_len()];
        let mut real = vec![0.0f32; n3];
        let mut eulerian: Vec<CodedField> = Vec::new();
        // Growth factor of the last Eulerian excursion-set fields.
        let mut eulerian_growth = 0.0f64;

        let mut s_e = vec![0.0f32; n3];
        let mut s_a = vec![0.0f32; n3];
        let mut x_hi = vec![0.0f32; n3];
        let mut t_b = vec![0.0f32; n3];
        let mut prev_x_hi = vec![0.0f32; n3];
        let mut prev_t_b = vec![0.0f32; n3];
        let mut ionized = vec![0u8; n3];
        let mut ion = NodeIonization::default();
        let mut table = Vec::with_capacity(TABLE_NODES);
        let mut tab_e = vec![0.0f32; TABLE_NODES];
        let mut xw = XrayWeights::default();
        let mut xwork = XrayWork::default();
        let mut q_hi = vec![1.0; N_SHELLS];
        let mut mean_rate = vec![0.0; N_SHELLS];
        let mut x_e_mean = mean(&self.state.x_e);
        let mut j_x_per_kelvin = 0.0f32;

        for (k, &z) in t.layout.nodes.iter().enumerate() {
            let now = &t.nodes[k];
            let here = halos.at(z);
            if k > 0 {
                let clock = Instant::now();
                std::mem::swap(&mut opd, &mut opd_prev);
                self.one_plus_delta(k, &mut opd);
                self.times.smoothing += clock.elapsed();
                // Shell tables and weights.
                let clock = Instant::now();
                let prev = &t.nodes[k - 1];
                let dz_step = prev.z - now.z;
                let shells = t.shells.of_node(k);
                for (j, sh) in shells.iter().enumerate() {
                    let th = halos.at(sh.z);
                    mean_rate[j] = match opts.sfrd {
                        SfrdConvention::GlobalRate => th.rate_st,
                        SfrdConvention::TwentyOneCmFast => {
                            // A region as large as the universe: the unconditional limit.
                            let u = Conditional::new(&th, 0.0);
                            let f = u.f_coll(0.0);
                            if f > 0.0 {
                                th.f_st * u.rate_at_fixed_density(0.0) / f
                            } else {
                                0.0
                            }
                        }
                    };
                    q_hi[j] = (1.0 - p.zeta * th.f_st / (1.0 - x_e_mean)).clamp(1e-4, 1.0);
                }
                xray_weights(
                    &t.xray, &t.shells, &c, k, z, &src, x_e_mean, &q_hi, &mut xwork, &mut xw,
                );
                let kelvin = now.dt_dz * dz_step * 2.0 / (3.0 * K_B);
                let (mut sum_e, mut sum_n) = (0.0, 0.0);
                for ((m, e), nn) in mean_rate.iter().zip(&xw.energy).zip(&xw.number) {
                    sum_e += m * e;
                    sum_n += m * nn;
                }
                let primary_per_erg = if sum_e > 0.0 { sum_n / sum_e } else { 0.0 };
                j_x_per_kelvin =
                    (now.x_alpha_pref * now.j_x_pref * 1.5 * K_B / (now.dt_dz * dz_step)) as f32;
                let w_e: Vec<f64> = xw.energy.iter().map(|w| w * kelvin).collect();
                let w_a: Vec<f64> = shells
                    .iter()
                    .map(|s| s.lya_weight * opts.f_star * now.x_alpha_pref)
                    .collect();
                // Shells beyond the box add their mean everywhere.
                let mut base_e = 0.0;
                let mut base_a = 0.0;
                for j in t.shells.n_in_box..N_SHELLS {
                    base_e += mean_rate[j] * w_e[j];
                    base_a += mean_rate[j] * w_a[j];
                }
                s_e.iter_mut().for_each(|x| *x = base_e as f32);
                s_a.iter_mut().for_each(|x| *x = base_a as f32);
                self.times.node_tables += clock.elapsed();

                let total_e: f64 = (0..N_SHELLS).map(|j| mean_rate[j] * w_e[j]).sum();
                let total_a: f64 = (0..N_SHELLS).map(|j| mean_rate[j] * w_a[j]).sum();
                // Below 1e-6 K of heating and 1e-6 in x_alpha the sources do nothing visible.
                if total_e > 1e-6 || total_a > 1e-6 {
                    for (j, f) in self.shell_fields.iter().enumerate() {
                        if mean_rate[j] <= 0.0 {
                            continue;
                        }
                        // A shell giving under SKIP_FRACTION of both sums adds its mean.
                        let share = mean_rate[j]
                            * (w_e[j] / total_e.max(f64::MIN_POSITIVE)
                                + w_a[j] / total_a.max(f64::MIN_POSITIVE));
                        if share < SKIP_FRACTION {
                            let (me, ma) = (
                                (mean_rate[j] * w_e[j]) as f32,
                                (mean_rate[j] * w_a[j]) as f32,
                            );
                            s_e.iter_mut().for_each(|x| *x += me);
                            s_a.iter_mut().for_each(|x| *x += ma);
                            continue;
                        }
                        let clock = Instant::now();
                        let sh = &shells[j];
                        let th = halos.at(sh.z);
                        let cond = Conditional::new(&th, t.shells.variance[j]);
                        table.clear();
                        let fix = match opts.sfrd {
                            SfrdConvention::GlobalRate => {
                                table.extend((0..TABLE_NODES).map(|m| {
                                    let d0 = f.node_value(m);
                                    (1.0 + sh.growth * d0).max(0.0) * cond.rate(d0)
                                }));
                                let m = f.mean_of(&table);
                                if m > 0.0 {
                                    mean_rate[j] / m
                                } else {
                                    0.0
                                }
                            }
                            SfrdConvention::TwentyOneCmFast => {
                                table
                                    .extend((0..TABLE_NODES).map(|m| cond.f_coll(f.node_value(m))));
                                let m = f.mean_of(&table);
                                table.clear();
                                table.extend((0..TABLE_NODES).map(|m| {
                                    let d0 = f.node_value(m);
                                    (1.0 + sh.growth * d0).max(0.0) * cond.rate_at_fixed_density(d0)
                                }));
                                if m > 0.0 {
                                    th.f_st / m
                                } else {
                                    0.0
                                }
                            }
                        };
                        // The X-ray and Ly-alpha tables are the same shape (the shell's rate)
                        // with different weights: one lookup, two sums.
                        for (te, &r) in tab_e.iter_mut().zip(&table) {
                            *te = (r * fix) as f32;
                        }
                        self.times.node_tables += clock.elapsed();
                        let clock = Instant::now();
                        shell_sum(
                            &f.codes,
                            &tab_e,
                            w_e[j] as f32,
                            w_a[j] as f32,
                            &mut s_e,
                            &mut s_a,
                        );
                        self.times.shell_sums += clock.elapsed();
                    }
                } else {
                    s_e.iter_mut().for_each(|x| *x = 0.0);
                    s_a.iter_mut().for_each(|x| *x = 0.0);
                }

                let clock = Instant::now();
                let step = StepInputs::new(&c, prev, now, primary_per_erg);
                evolve_cells(
                    &t.thermal,
                    now,
                    &step,
                    &opd_prev,
                    &opd,
                    &s_e,
                    &mut self.state,
                );
                x_e_mean = mean(&self.state.x_e);
                self.times.thermal += clock.elapsed();
            }

            // Ionisation, on the evolved density when there is one (as 21cmFAST does: the
            // excursion set sees delta(z)/D(z) in place of the linear delta_0).
            let active = p.zeta * here.f_st >= super::ionization::MIN_GLOBAL_IONIZATION;
            // delta(z)/D(z) departs from delta_0 only through the (small) non-linear part, so
            // fields made within 5% of growth are reused: every third node.
            if active
                && self.displacement.is_some()
                && now.growth > EULERIAN_REFRESH * eulerian_growth
            {
                eulerian_growth = now.growth;
                let clock = Instant::now();
                let inv_d = 1.0 / now.growth as f32;
                for (r, &o) in real.iter_mut().zip(&opd) {
                    *r = (o - 1.0) * inv_d;
                }
                let cell = CodedField::new(&real);
                let mut dk = vec![Complex32::default(); t.fft.complex_len()];
                t.fft.forward(&mut real, &mut dk, &mut scratch);
                let norm = 1.0 / n3 as f32;
                dk.iter_mut().for_each(|z| *z *= norm);
                eulerian = ionization_fields(
                    cell,
                    &dk,
                    &self.radii,
                    opts.filter,
                    t,
                    &mut work,
                    &mut scratch,
                    &mut real,
                );
                self.times.smoothing += clock.elapsed();
            }
            let fields: &[CodedField] = if self.displacement.is_some() {
                &eulerian
            } else {
                &self.ion_fields
            };
            let clock = Instant::now();
            if active {
                node_thresholds(
                    &here,
                    p.zeta,
                    x_e_mean,
                    &self.radii,
                    fields,
                    &mut table,
                    &mut ion,
                );
            } else {
                ion.active = false;
            }
            self.times.node_tables += clock.elapsed();
            let clock = Instant::now();
            neutral_fraction(&ion, fields, &self.state.x_e, &mut ionized, &mut x_hi);
            self.times.ionization += clock.elapsed();

            // Spin temperature and dT_b where the light-cone needs this node.
            let mut summary = NodeSummary {
                z,
                f_coll: here.f_st,
                ..Default::default()
            };
            let clock = Instant::now();
            let (mut ts_sum, mut ts_n) = (0.0f64, 0usize);
            if k >= first_needed {
                (ts_sum, ts_n) = brightness_box(
                    &t.thermal,
                    now,
                    &opd,
                    &x_hi,
                    &self.state,
                    &s_a,
                    &s_e,
                    j_x_per_kelvin,
                    &mut t_b,
                );
            }
            self.times.brightness += clock.elapsed();

            let clock = Instant::now();
            if k > first_needed {
                self.light_cone
                    .fill_between(&t.layout, k, &prev_t_b, &prev_x_hi, &t_b, &x_hi);
            }
            self.times.light_cone += clock.elapsed();

            // Diagnostics of the gas outside fully ionised cells.
            let (tk_m, tk_s) = mean_std(
                self.state
                    .t_k
                    .iter()
                    .zip(&x_hi)
                    .filter(|(_, &xh)| xh > 0.0)
                    .map(|(&tk, _)| tk),
            );
            let (tb_m, tb_s) = mean_std(t_b.iter().copied());
            summary.t_k_mean = tk_m;
            summary.t_k_std = tk_s;
            summary.x_e_mean = x_e_mean;
            summary.x_hi_mean = mean(&x_hi);
            summary.t_b_mean = if k >= first_needed { tb_m } else { 0.0 };
            summary.t_b_std = if k >= first_needed { tb_s } else { 0.0 };
            summary.t_s_mean = if ts_n > 0 { ts_sum / ts_n as f64 } else { 0.0 };
            if !summary.t_k_mean.is_finite() || !summary.t_b_mean.is_finite() {
                return Err(ModelError::Failed(format!(
                    "non-finite state at z = {z:.2}: mean T_K = {}, mean dT_b = {}",
                    summary.t_k_mean, summary.t_b_mean
                )));
            }
            self.nodes.push(summary);
            std::mem::swap(&mut prev_t_b, &mut t_b);
            std::mem::swap(&mut prev_x_hi, &mut x_hi);
        }
        Ok(())
    }
}

/// The excursion-set fields: the cell field `cell` (unfiltered) and the field `dk`
/// (half-complex, inverse FFT = the field) filtered at every larger radius, coded.
#[allow(clippy::too_many_arguments)]
fn ionization_fields(
    cell: CodedField,
    dk: &[Complex32],
    radii: &IonizationRadii,
    filter: IonizationFilter,
    t: &MapTables,
    work: &mut [Complex32],
    scratch: &mut FftScratch,
    out: &mut [f32],
) -> Vec<CodedField> {
    let mut fields = Vec::with_capacity(radii.radius.len());
    fields.push(cell);
    let km = &t.mode_k;
    for &r in &radii.radius[1..] {
        match filter {
            IonizationFilter::SharpK => {
                let k_cut = (1.0 / (SHARP_K_FACTOR * r)) as f32;
                smooth_sharp_k(
                    dk,
                    km,
                    k_cut,
                    t.layout.geometry.box_mpc,
                    &t.fft,
                    work,
                    scratch,
                    out,
                );
            }
            IonizationFilter::TopHat => {
                smooth_with(
                    dk,
                    |m| top_hat_window(km[m] as f64 * r) as f32,
                    &t.fft,
                    work,
                    scratch,
                    out,
                );
            }
        }
        fields.push(CodedField::new(out));
    }
    fields
}

/// Add one shell's tabulated rate, weighted for X-rays and for Ly-alpha, to the per-cell sums.
fn shell_sum(codes: &[u16], rate: &[f32], w_e: f32, w_a: f32, s_e: &mut [f32], s_a: &mut [f32]) {
    let rate: &[f32; TABLE_NODES] = rate[..TABLE_NODES].try_into().expect("257 nodes");
    super::simd::dispatch!(shell_sum_body(codes, rate, w_e, w_a, s_e, s_a))
}

#[inline(always)]
fn shell_sum_body(
    codes: &[u16],
    rate: &[f32; TABLE_NODES],
    w_e: f32,
    w_a: f32,
    s_e: &mut [f32],
    s_a: &mut [f32],
) {
    for ((&code, e), a) in codes.iter().zip(s_e.iter_mut()).zip(s_a.iter_mut()) {
        let i = (code >> 8) as usize;
        let f = (code & 255) as f32 * (1.0 / 256.0);
        // i <= 255, so i + 1 is a node of the 257-point table.
        let (r0, r1) = (rate[i], rate[i + 1]);
        let r = r0 + f * (r1 - r0);
        *e += w_e * r;
        *a += w_a * r;
    }
}

fn mean(v: &[f32]) -> f64 {
    v.iter().map(|&x| x as f64).sum::<f64>() / v.len().max(1) as f64
}

fn mean_std(it: impl Iterator<Item = f32>) -> (f64, f64) {
    let (mut s, mut s2, mut n) = (0.0f64, 0.0f64, 0usize);
    for x in it {
        let x = x as f64;
        s += x;
        s2 += x * x;
        n += 1;
    }
    if n == 0 {
        return (0.0, 0.0);
    }
    let m = s / n as f64;
    (m, (s2 / n as f64 - m * m).max(0.0).sqrt())
}

/// The cell radius used for the first shell and the smallest excursion-set radius, Mpc.
pub fn cell_radius(g: &MapGeometry) -> f64 {
    CELL_RADIUS_FACTOR * g.cell_mpc()
}
