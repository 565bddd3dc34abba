//! The LSTM emulator of the global 21-cm signal, after 21cmLSTM (Dorigo Jones et al. 2024):
//! network ([`network`], candle), training ([`train`], with the hand-written
//! backpropagation through time of [`bptt`]), fast CPU inference ([`fast`]),
//! model files ([`model_file`]), error metrics ([`metrics`]) and the
//! [`GlobalEmulator`] forward model.
//!
//! # Default architecture
//!
//! 21cmLSTM uses 2 layers of 451 units, one channel per step (2.46 M weights, 46 ms per call
//! on an A100); that network is expressible here (`--hidden 451 --outputs-per-step 1`). The
//! default is 2 layers of [`LstmConfig::DEFAULT_HIDDEN`] = 64 units walking 41 steps of
//! [`LstmConfig::DEFAULT_OUTPUTS_PER_STEP`] = 11 channels each (the dense head maps each
//! step's hidden state to 11 consecutive channels; 52 k weights). The signal is smooth on the
//! scale of 11 channels (dz = 1.1), so the shorter recurrence costs no accuracy, while it
//! divides the sequential work by 11: per signal 2.1 M multiply-adds and 26 k sigmoid/tanh,
//! a lower bound of ~32 us on one AVX-512 core (against ~110 us for 2 x LSTM(32) over 451
//! steps), and training epochs ~3x faster with 4x the units. `spinflip bench emulator`
//! prints the measured cost and its ratio to that bound.
//!
//! The training loss defaults to the squared DJ+24 eq. 3 error averaged over signals
//! ([`train::LossKind::Relative`]), the metric the model is judged by, rather than the MSE of
//! the normalised signal; see the README for the shipped model's numbers.

// Index loops mirror the gate layout.
#[allow(clippy::needless_range_loop)]
pub mod bptt;
pub mod config;
#[allow(clippy::module_inception)]
pub mod emulator;
// Index loops are the vectorisation layout in the kernels.
#[allow(clippy::needless_range_loop)]
pub mod fast;
#[allow(clippy::excessive_precision)]
mod fast_avx2;
#[allow(clippy::needless_range_loop, clippy::excessive_precision)]
mod fast_avx512;
mod fast_neon;
// Polynomial coefficients are kept as published (Cephes), digits beyond f32 included.
#[allow(clippy::excessive_precision)]
pub mod fast_math;
pub mod isa;
pub mod kind;
pub mod metrics;
pub mod model_file;
pub mod network;
pub mod packed;
pub mod peak;
pub mod preprocessing;
pub mod train;
pub mod weights;

pub use config::LstmConfig;
pub use emulator::GlobalEmulator;
pub use fast::FastLstm;
pub use kind::{default_emulator_path, GlobalEmulatorKind, DEFAULT_EMULATOR};
pub use metrics::{relative_rms_error, ErrorReport};
pub use model_file::{load_model, save_model, EmulatorModel, ModelSidecar};
pub use preprocessing::Normalisation;
pub use train::{train, LrSchedule, TrainConfig, TrainData, TrainOptions};
pub use weights::LstmWeights;
