//! The map CNN (issue 13), after Gillet et al. (2019): a convolutional network from 2-D
//! light-cone slices (`cells x N_los`) to the four astrophysical parameters (zeta,
//! log10_Tvir, log10_LX, E0_keV), min-max normalised.
//!
//! - [`config`]: the architecture ([`CnnConfig::gillet`] is the paper's) and its costs;
//! - [`layout`]: the flat parameter vector, tensor names, initialisation;
//! - [`network`]: the candle network (reference, GPU path);
//! - [`cpu`]: [`CpuCnn`], the hand-written CPU training and inference path on the flat
//!   layout, built from the layers of [`kernels`];
//! - [`model_file`]: safetensors weights + JSON sidecar, validated on load;
//! - [`noise`]: thermal noise for training and evaluation;
//! - [`data`]: slice data sets (NPZ, float32 or float16);
//! - [`mod@bench`]: timing report and FLOP bound.
//!
//! - [`train`]: training on the shared epoch loop of [`crate::nn`] (optimiser, schedule,
//!   checkpoints), driving [`CpuCnn::forward_backward`] over the flat parameters.

pub mod bench;
pub mod config;
pub mod cpu;
pub mod data;
pub mod eval;
// Index loops follow the tensor layouts in the kernels.
#[allow(clippy::needless_range_loop)]
pub mod kernels;
pub mod layout;
pub mod model_file;
pub mod network;
pub mod noise;
pub mod train;

pub use config::{CnnConfig, ConvSpec, DenseSpec, Padding};
pub use cpu::CpuCnn;
pub use data::SliceSet;
pub use layout::{ParamLayout, TensorSpec};
pub use model_file::{load_model, save_model, CnnModel, CnnSidecar};
pub use network::{CnnNetwork, Mode};
