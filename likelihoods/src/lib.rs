//! # spinflip-likelihoods
//!
//! Likelihoods of 21-cm data given a forward model. A [`ForwardModel`] maps parameters
//! `theta` to outputs on a fixed grid (the physical simulator and the neural emulator both
//! implement it). [`GaussianLikelihood`] turns model + data vector + [`Noise`] into a
//! [`spinflip_samplers::LogLikelihood`] that the samplers explore; [`GlobalSignalLikelihood`]
//! is a thin layer on it for spectra (band cut, optional [`LogPolyForeground`]); a
//! [`CovarianceModel`] makes its covariance depend on the parameters.
#![warn(missing_docs)]

pub mod covariance_model;
pub mod error;
pub mod foreground;
pub mod forward_model;
pub mod gaussian;
pub mod global_signal;
pub mod mock;
pub mod noise;
pub mod spectrum;

pub use covariance_model::CovarianceModel;
pub use error::ModelError;
pub use foreground::LogPolyForeground;
pub use forward_model::ForwardModel;
pub use gaussian::{AdditiveTerm, DataLikelihood, GaussianLikelihood, Taps};
pub use global_signal::GlobalSignalLikelihood;
pub use mock::{mock_spectrum, mock_vector};
pub use noise::Noise;
pub use spectrum::Spectrum;
