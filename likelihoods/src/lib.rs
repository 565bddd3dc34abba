//! # spinflip-likelihoods
//!
//! Likelihoods of 21-cm data given a forward model. A [`ForwardModel`] maps parameters
//! `theta` to a signal on a fixed grid (the physical simulator and the neural emulator both
//! implement it), and [`GlobalSignalLikelihood`] turns model + data + [`Noise`] (+ an optional
//! [`LogPolyForeground`]) into a [`spinflip_samplers::LogLikelihood`] that the samplers explore.
#![warn(missing_docs)]

pub mod error;
pub mod foreground;
pub mod forward_model;
pub mod global_signal;
pub mod mock;
pub mod noise;
pub mod spectrum;

pub use error::ModelError;
pub use foreground::LogPolyForeground;
pub use forward_model::ForwardModel;
pub use global_signal::GlobalSignalLikelihood;
pub use mock::mock_spectrum;
pub use noise::Noise;
pub use spectrum::Spectrum;
