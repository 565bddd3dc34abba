//! Hamiltonian Monte Carlo with the No-U-Turn Sampler: gradient-based sampling for
//! likelihoods that provide gradients ([`GradLogLikelihood`](crate::GradLogLikelihood)).
//!
//! [`NutsSampler`] runs several chains in parallel with Stan's warmup (dual-averaged step
//! size, diagonal or dense metric estimated in doubling windows, or a [transport
//! map](transport) fitted to the pooled warmup draws for curved posteriors), counts divergences, and
//! reports rank-normalised R-hat and bulk/tail ESS; it is a [`Sampler`](crate::driver::Sampler)
//! state machine, so it checkpoints and resumes through the common driver.

pub mod adapt;
pub mod chain;
pub mod metric;
pub mod nuts;
pub mod result;
pub mod sampler;
pub mod settings;
pub mod state;
pub mod target;
pub mod transport;

pub use metric::{Metric, MetricKind};
pub use result::{NutsResult, NutsSummary};
pub use sampler::{NutsRun, NutsSampler};
pub use settings::NutsSettings;
