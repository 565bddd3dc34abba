//! Map data as likelihoods (issue 14): light-cone summaries inside the built-in samplers.
//!
//! - [`cnn_summary`]: the map CNN's estimates averaged over a light-cone's slices;
//! - [`summary_emulator`]: the mean summary `mu(theta)` from an MLP, with exact gradients;
//! - [`covariance`]: the summary covariance from simulations, with the Hartlap factor;
//! - [`bundle`]: the three pieces on disk, checked against each other;
//! - [`kind`]: the `maps_cnn` model kind (priors, fiducial, mocks from the simulator).

pub mod bundle;
pub mod cnn_summary;
pub mod covariance;
pub mod kind;
pub mod summary_emulator;

pub use bundle::SummaryBundle;
pub use cnn_summary::CnnSummarizer;
pub use covariance::SimCovariance;
pub use kind::MapsCnnKind;
pub use summary_emulator::SummaryEmulator;
