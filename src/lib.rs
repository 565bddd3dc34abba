//! # spinflip
//!
//! Bayesian inference on the 21-cm signal of cosmic dawn and reionization: physical forward
//! models (the global signal, light-cones), neural emulators and summary networks of them
//! (the LSTM emulator, the map CNN, small MLPs), likelihoods of spectra and of map summaries,
//! nested sampling, ensemble MCMC, NUTS and MAP, simulation-based calibration, and a C ABI for
//! other samplers.
//!
//! The numerics crates are re-exported: [`samplers`] (no physics, no networks) and
//! [`likelihoods`] (generic over a [`likelihoods::ForwardModel`]).
//!
//! ## A fit in Rust
//!
//! The shipped emulator fitted to a simulator mock with nested sampling
//! (`examples/fit_global.rs`, run by the test suite; a few seconds in release):
//!
#![doc = concat!("```no_run\n", include_str!("../examples/fit_global.rs"), "\n```")]
//!
//! The same fit from a TOML file is `spinflip fit examples/global_signal.toml`
//! ([`config::RunConfig`], [`problem::Problem`], [`fit::run_fit`]).
//!
//! ## Where things go
//!
//! Dependencies flow one way: `spinflip` -> [`likelihoods`] -> [`samplers`]. A new piece
//! gets its own folder or file and touches little else:
//!
//! | a new ... | goes in | and plugs in through |
//! |---|---|---|
//! | simulator (forward model) | its own folder under `src/` (as [`global`]) | [`likelihoods::ForwardModel`], plus a [`models::ModelKind`] in that folder and one line in [`models::registry::builtins`] |
//! | network | its own folder under `src/` (as [`emulator`]) | its training as an [`nn::Trainable`] on [`nn::run_epochs`]; its model file via [`nn::files`]; as a model, a [`models::ModelKind`] |
//! | summary (of maps or spectra) | [`maps`] (as [`maps::cnn_summary`], [`maps::ps_summary`]) | a [`maps::bundle::Summarizer`] variant, an emulator of its mean ([`mlp`]) and a [`models::ModelKind`] whose [`models::OutputSpace`] is a vector (as [`maps::kind`]) |
//! | likelihood | `likelihoods/src/` (pure numerics; no candle, no physics) | [`likelihoods::DataLikelihood`]; Gaussian ones as a layer on [`likelihoods::GaussianLikelihood`] |
//! | sampler | `samplers/src/<family>/` | [`samplers::driver::Sampler`] (state machine) driven by [`samplers::driver::Driver`] with observers and the common checkpoint |
//! | C entry point | `src/capi/` (one concern per file) | the handle of `capi/handle.rs`, pointer checks of `capi/pointers.rs` |
//! | CLI subcommand | `src/cli/<name>.rs` | one line in `src/cli/mod.rs` and `src/main.rs` |
//!
//! No two files import each other, directly or in a ring (`scripts/check_use_cycles.py`, run
//! in CI): what two files both need goes in a file below them.
#![warn(missing_docs)]

pub use spinflip_likelihoods as likelihoods;
pub use spinflip_samplers as samplers;

pub mod bias;
pub mod calibrate;
pub mod capi;
pub mod cli;
pub mod cnn;
pub mod config;
pub mod cosmology;
pub mod emulator;
pub mod error;
pub mod fit;
pub mod global;
pub mod io;
pub mod lightcone;
pub mod maps;
pub mod mlp;
pub mod models;
pub mod nn;
pub mod plot;
pub mod prior_box;
pub mod problem;
pub mod seeds;

pub use error::SpinflipError;
