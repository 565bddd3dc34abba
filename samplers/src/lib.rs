//! # spinflip-samplers
//!
//! Pure-numerics Bayesian samplers: nested sampling (evidence and posterior) and an
//! affine-invariant ensemble MCMC, with output that anesthetic and getdist read unmodified.
//!
//! The contract with a model is small:
//! - [`LogLikelihood`]: `log_likelihood(theta)` plus a batched form that emulators override;
//! - [`ParameterSet`]: an ordered list of named parameters with [`Prior`]s, giving the
//!   nested-sampling `prior_transform` (unit cube to physical parameters) and `log_prior`.
//!
//! Nothing here knows about physics or neural networks.
#![warn(missing_docs)]

pub mod diagnostics;
pub mod driver;
pub mod error;
pub(crate) mod exact_f64;
// Index loops mirror the matrix algebra of the metric and its adaptation.
#[allow(clippy::needless_range_loop)]
pub mod hmc;
pub mod likelihood;
pub mod map;
pub mod mcmc;
pub mod nested;
pub mod output;
pub mod parameters;
pub mod prior;
pub mod progress;
pub mod samples;
pub mod transform;

pub use error::{LikelihoodError, SamplerError};
pub use likelihood::{FnLikelihood, GradLogLikelihood, LogLikelihood, Parallel};
pub use mcmc::{EnsembleResult, EnsembleSampler, EnsembleSettings, Stop};
pub use nested::{NestedResult, NestedSampler, NestedSettings};
pub use parameters::{Parameter, ParameterSet};
pub use prior::Prior;
pub use samples::{PosteriorSummary, WeightedSamples};
