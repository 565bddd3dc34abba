//! Map data as likelihoods (issue 14): light-cone summaries inside the built-in samplers.
//!
//! - [`cnn_summary`]: the map CNN's estimates averaged over a light-cone's slices;
//! - [`summary_emulator`]: the mean summary `mu(theta)` from an MLP, with exact gradients;
//! - [`covariance`]: the summary covariance from simulations, with the Hartlap factor;
//! - [`bundle`]: the three pieces on disk, checked against each other;
//! - [`ps_summary`]: binned power spectra of a light-cone (21CMMC convention, in log10);
//! - [`ps_compressed`]: the same bins compressed by a network to parameter estimates;
//! - [`ps_noise`]: thermal noise in the power-spectrum likelihood (bias and variance);
//! - [`kind`]: the `maps_cnn` and `maps_ps` model kinds (priors, fiducial, mocks from the
//!   simulator);
//! - [`scatter`]: a parameter-dependent covariance (the power spectrum's);
//! - [`joint`]: both summaries of one light-cone together (`maps_joint`, and
//!   `maps_joint_compressed` with the compressed power spectrum).

pub mod bundle;
pub mod cnn_summary;
pub mod covariance;
pub mod joint;
pub mod kind;
pub mod ps_compressed;
pub mod ps_noise;
pub mod ps_summary;
pub mod scatter;
pub mod summary_emulator;

pub use bundle::SummaryBundle;
pub use cnn_summary::CnnSummarizer;
pub use covariance::SimCovariance;
pub use joint::{JointBundle, MAPS_JOINT, MAPS_JOINT_COMPRESSED};
pub use kind::{MapBundle, MapSummaryKind, MAPS_CNN, MAPS_PS, MAPS_PS_COMPRESSED};
pub use summary_emulator::SummaryEmulator;
