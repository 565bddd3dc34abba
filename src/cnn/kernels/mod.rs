//! The hand-written CPU layers of the map CNN, forward and backward, on plain `f32` slices.
//! They check their buffers' extents with assertions (internal invariants: the callers in
//! [`super::cpu`] size every buffer from the validated configuration); user input is
//! checked before it reaches them.
//!
//! - [`corr`]: direct 2-D cross-correlation (convolution forward, input and weight
//!   gradients), AVX-512 with a portable fallback;
//! - [`pool`]: fused ReLU + max-pooling with arg-max indices;
//! - [`dropout`]: seeded masks;
//! - [`batchnorm`]: batch normalisation over a batch of feature vectors;
//! - [`dense`]: matrix products through the `gemm` crate, and the MSE loss (shared with
//!   the MLPs: [`crate::nn::dense`]).

pub mod batchnorm;
pub mod corr;
pub use crate::nn::dense;
pub mod dropout;
pub mod pool;
