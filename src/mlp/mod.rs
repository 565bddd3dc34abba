//! Small fully connected networks on tables of summaries: the power-spectrum baseline of
//! the map CNN (binned Delta^2 -> the four parameters, after Prelogovic & Mesinger 2024)
//! and, for the map likelihoods, emulators of summaries as functions of the parameters.
//!
//! - [`network`]: the layers on a flat parameter vector, batched `f32` training passes and
//!   an `f64` single-point forward with its input vector-Jacobian product;
//! - [`features`]: named input/output blocks, log transform, standardisation;
//! - [`data`]: tables from NPZ files;
//! - [`model_file`]: safetensors weights + JSON sidecar;
//! - [`train`]: training on the shared epoch loop of [`crate::nn`];
//! - [`eval`]: R^2 and MAE on held-out rows, predicted-vs-true PNGs.

pub mod data;
pub mod eval;
pub mod features;
pub mod model_file;
pub mod network;
pub mod train;

pub use data::{Block, Table};
pub use features::{Features, Transform};
pub use model_file::{load_mlp, save_mlp, MlpModel, MlpSidecar};
pub use network::{Activation, Mlp64, MlpBatch, MlpSpec};
pub use train::{train_mlp, MlpTrainConfig, MlpTrainOptions};
