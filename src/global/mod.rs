//! The semi-analytic global 21-cm signal simulator on the 21cmGEM parameters.
//!
//! One file per physics piece: [`reionization`] (Q(z), tau, zeta), [`thermal`] (T_K, x_e),
//! [`xray`] (X-ray emission and absorption), [`lyman_alpha`] (J_alpha), [`coupling`] (x_c,
//! x_alpha, T_S), [`signal`] (dT_b), tied together by [`GlobalSimulator`].

pub mod brent;
pub mod coupling;
pub mod kind;
pub mod lyman_alpha;
pub mod params;
pub mod reionization;
pub mod sampling;
pub mod signal;
pub mod simulator;
pub mod thermal;
pub mod xray;

pub use kind::GlobalSimulatorKind;
pub use params::{GlobalParams, PARAM_LATEX, PARAM_LOG, PARAM_NAMES, PARAM_RANGES};
pub use sampling::{parameter_design, parameter_design_in, unit_cube_design, Sampling, SubBox};
pub use simulator::{output_redshifts, GlobalHistories, GlobalSimulator, GlobalTables, N_OUT};
