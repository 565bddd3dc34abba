//! The LSTM emulator of the global 21-cm signal, after 21cmLSTM (Dorigo Jones et al. 2024):
//! network ([`network`], candle), training ([`train`]), fast CPU inference ([`fast`]),
//! model files ([`model_file`]), error metrics ([`metrics`]) and the
//! [`GlobalEmulator`] forward model.
//!
//! # Default architecture
//!
//! 21cmLSTM uses 2 layers of 451 units (2.46 M weights, 46 ms per call on an A100). Here the
//! default is 2 layers of [`LstmConfig::DEFAULT_HIDDEN`] units: at batch 1 an LSTM step is
//! bound by streaming its weights through the core (each weight is used once per step), and
//! with 32 units the `(4h x 2h)` fused matrix of the upper layer and the `(4h x h)` one of
//! the lower layer (48 KiB together) stay in L1/L2 for all 451 steps. That is the largest
//! size whose measured batch-1 cost stays within the 0.25 ms budget (see `spinflip bench
//! emulator`), while keeping two layers as 21cmLSTM.

pub mod adam;
pub mod checkpoint;
pub mod config;
#[allow(clippy::module_inception)]
pub mod emulator;
// Index loops are the vectorisation layout in the kernels.
#[allow(clippy::needless_range_loop)]
pub mod fast;
#[allow(clippy::needless_range_loop, clippy::excessive_precision)]
mod fast_avx512;
// Polynomial coefficients are kept as published (Cephes), digits beyond f32 included.
#[allow(clippy::excessive_precision)]
pub mod fast_math;
pub mod hash;
pub mod metrics;
pub mod model_file;
pub mod network;
pub mod peak;
pub mod preprocessing;
pub mod train;
pub mod weights;

pub use config::LstmConfig;
pub use emulator::GlobalEmulator;
pub use fast::FastLstm;
pub use metrics::{relative_rms_error, ErrorReport};
pub use model_file::{load_model, save_model, EmulatorModel, ModelSidecar};
pub use preprocessing::Normalisation;
pub use train::{train, TrainConfig, TrainData, TrainOptions};
pub use weights::LstmWeights;
