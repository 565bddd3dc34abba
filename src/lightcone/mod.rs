//! The 21-cm light-cone map simulator: a 21cmFAST-style semi-numerical model (Gaussian
//! initial conditions, Zel'dovich density, excursion-set reionisation, spin-temperature
//! fluctuations from X-ray heating and Ly-alpha coupling summed over shells at their
//! retarded redshifts) that writes dT_b light-cones for map inference (Gillet et al. 2019).
//!
//! One concept per file: [`params`] (the four Gillet et al. parameters), [`geometry`]
//! (box, nodes, slices), [`fft`], [`initial`] (initial conditions), [`density`] (linear or
//! Zel'dovich density at the nodes), [`filters`] (windows and
//! coded smoothed fields), [`sources`] (conditional collapsed fractions), [`shells`] and
//! [`xray`] (the X-ray and Ly-alpha shells), [`ionization`] (excursion set), [`spin`] (T_K,
//! x_e, T_S, dT_b per cell), [`lightcone`] (slices), [`summaries`] (power spectra), tied
//! together by [`MapSimulator`]; [`mod@bench`] times it. The comparison with 21cmFAST 4.1.1 is in
//! `docs/maps_21cmfast_comparison.md`.
//!
//! ```no_run
//! use spinflip::lightcone::{MapGeometry, MapParams, MapSimulator};
//! let sim = MapSimulator::planck18(MapGeometry::default()).unwrap();
//! let out = sim.simulate(&MapParams::fiducial(), 42).unwrap();
//! assert_eq!(out.light_cone.n_los, 787);
//! ```

pub mod bench;
pub mod density;
pub mod fft;
pub mod filters;
pub mod geometry;
pub mod initial;
pub mod ionization;
#[allow(clippy::module_inception)]
pub mod lightcone;
pub mod params;
pub mod shells;
mod simd;
pub mod simulator;
pub mod sources;
pub mod spin;
pub mod summaries;
pub mod xray;

pub use density::DensityModel;
pub use geometry::{Layout, MapGeometry};
pub use ionization::IonizationFilter;
pub use lightcone::LightCone;
pub use params::{MapParams, MAP_PARAM_NAMES, MAP_PARAM_RANGES, N_MAP_PARAMS};
pub use simulator::{
    MapOptions, MapOutput, MapSimulator, MapTables, NodeSummary, SfrdConvention, StageTimes,
};
