//! The LSTM emulator of the global 21-cm signal, after 21cmLSTM (Dorigo Jones et al. 2024):
//! network ([`network`], candle), training ([`train`], with the hand-written
//! backpropagation through time of [`bptt`]), fast CPU inference ([`fast`]),
//! model files ([`model_file`]), error metrics ([`metrics`]) and the
//! [`GlobalEmulator`] forward model.
//!
//! # Default architecture
//!
//! 21cmLSTM uses 2 layers of 451 units (2.46 M weights, 46 ms per call on an A100). Here the
//! default is 2 layers of [`LstmConfig::DEFAULT_HIDDEN`] = 32 units (13.6 k weights). Per
//! signal that is 5.6 M multiply-adds and 0.14 M sigmoid/tanh; with the peaks measured on
//! the build machine (one core, AVX-512: 88 G multiply-adds/s in an FMA loop, 3.0 G
//! sigmoids/s) the lower bound is about 110 us per signal, which leaves room for the 0.25 ms
//! batch-1 budget, while 16 units (40 us bound) likely lacks the capacity for a 0.15% error.
//! Measured (release build, machine shared with other builds): 0.41 ms per call at batch 1,
//! 0.22-0.24 ms per signal batched (2.0-2.2 x the bound); `spinflip bench emulator` prints
//! the current numbers. A per-signal cost of 20 us is below the bound of any two-layer
//! LSTM with 16 or more units on one core of this CPU.

pub mod adam;
// Index loops mirror the gate layout.
#[allow(clippy::needless_range_loop)]
pub mod bptt;
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
pub use train::{train, LrSchedule, TrainConfig, TrainData, TrainOptions};
pub use weights::LstmWeights;
