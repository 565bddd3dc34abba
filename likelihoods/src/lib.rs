//! # spinflip-likelihoods
//!
//! Likelihoods of 21-cm data given a forward model. A [`ForwardModel`] maps parameters
//! `theta` to a signal on a fixed grid (the physical simulator and the neural emulator both
//! implement it), and the likelihoods here turn model + data into a
//! [`spinflip_samplers::LogLikelihood`] that the samplers explore.
#![warn(missing_docs)]

pub mod error;
pub mod forward_model;

pub use error::ModelError;
pub use forward_model::ForwardModel;
