//! # spinflip
//!
//! Bayesian inference on the 21-cm signal of cosmic dawn and reionization: a physical
//! global-signal simulator on the 21cmGEM parameters, a neural (LSTM) emulator of it,
//! likelihoods, nested sampling and ensemble MCMC, and a C ABI for other samplers.
//!
//! The numerics crates are re-exported: [`samplers`] (no physics, no networks) and
//! [`likelihoods`] (generic over a [`likelihoods::ForwardModel`]).
#![warn(missing_docs)]

pub use spinflip_likelihoods as likelihoods;
pub use spinflip_samplers as samplers;

pub mod bias;
pub mod capi;
pub mod cli;
pub mod config;
pub mod cosmology;
pub mod emulator;
pub mod error;
pub mod fit;
pub mod global;
pub mod io;
pub mod lightcone;
pub mod models;
pub mod plot;
pub mod priors;
pub mod problem;

pub use error::SpinflipError;
