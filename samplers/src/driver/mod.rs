//! One loop for every sampler (after argmin's `Executor`): a [`Sampler`] is a state machine
//! (`init` / `step` / `terminated` / `finish`) and the [`Driver`] steps it, checks the budgets
//! (calls, iterations, wall time) and the interrupt flag, and tells its [`Observer`]s:
//! progress lines, checkpoints and chain writers are observers, not part of the algorithms.
//!
//! Every sampler checkpoints and resumes the same way: one file (see [`checkpoint`]) holding the
//! sampler's name, a fingerprint of everything that shapes the run, and the state; a run
//! resumed from it is bit-identical to an uninterrupted one with the same seed.
//!
//! ```
//! use spinflip_samplers::driver::{Driver, StopReason};
//! use spinflip_samplers::nested::{NestedSampler, NestedSettings};
//! use spinflip_samplers::{FnLikelihood, ParameterSet, Prior};
//!
//! let params = ParameterSet::iid(2, Prior::uniform(-5.0, 5.0).unwrap()).unwrap();
//! let like = FnLikelihood::new(2, |t: &[f64]| -0.5 * (t[0] * t[0] + t[1] * t[1]));
//! let sampler = NestedSampler::new(&params, &like, NestedSettings { n_live: 50, ..Default::default() })?;
//! // A call budget stops the run early with a typed reason; the result is still usable.
//! let outcome = Driver::new(sampler.stepper()).max_calls(500).run()?;
//! assert_eq!(outcome.stop, StopReason::CallBudget);
//! assert!(!outcome.output.converged);
//! # Ok::<(), spinflip_samplers::SamplerError>(())
//! ```

pub mod checkpoint;
pub mod observer;
pub mod progress;
pub mod run;
pub mod sampler;
pub mod stop;

pub use checkpoint::{CheckpointHeader, Checkpointer};
pub use observer::{ChainWriter, Observer, WriteChains};
pub use progress::ProgressObserver;
pub use run::{Driver, Outcome, Resume};
pub use sampler::{Sampler, SamplerState};
pub use stop::{interrupt_flag, Start, StopReason};
