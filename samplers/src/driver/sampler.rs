//! The contract between an algorithm and the [`Driver`](super::Driver).

use super::stop::StopReason;
use crate::error::SamplerError;

/// What the driver needs to know of a run's state: counters for budgets and progress, the
/// wall time of earlier sessions, and a byte encoding for checkpoints.
///
/// `decode(encode(s))` must give back a state that continues exactly as `s` would (random
/// number generator included), so that resumed runs are bit-identical.
pub trait SamplerState: Sized {
    /// Iterations (nested: dead points; ensemble: steps) done so far.
    fn iteration(&self) -> usize;
    /// Likelihood calls spent so far.
    fn n_calls(&self) -> u64;
    /// Wall time of the run so far in seconds, summed over resumed sessions.
    fn elapsed(&self) -> f64;
    /// Record the wall time so far.
    fn set_elapsed(&mut self, seconds: f64);
    /// The state as bytes, for a checkpoint.
    fn encode(&self) -> Result<Vec<u8>, SamplerError>;
    /// The state back from [`encode`](Self::encode)'s bytes; `Err` carries the reason.
    fn decode(bytes: &[u8]) -> Result<Self, String>;
}

/// A sampling algorithm as a state machine, stepped by a [`Driver`](super::Driver).
///
/// The driver calls [`init`](Sampler::init) (or decodes a checkpoint), then, until
/// [`terminated`](Sampler::terminated) returns a reason or a budget runs out,
/// [`step`](Sampler::step); then [`finish`](Sampler::finish). One step should be short
/// (one nested-sampling iteration, one ensemble step): budgets, interrupts and checkpoints
/// act between steps.
pub trait Sampler {
    /// Everything that evolves during a run.
    type State: SamplerState;
    /// What a run produces.
    type Output;

    /// The algorithm's name, written into checkpoints (`"nested"`, `"ensemble"`).
    fn name(&self) -> &'static str;

    /// Everything that shapes the run (settings, seed, parameter names), as a JSON object:
    /// a checkpoint is resumed only by a run with the same fingerprint.
    fn fingerprint(&self) -> serde_json::Value;

    /// The starting state.
    fn init(&mut self) -> Result<Self::State, SamplerError>;

    /// Checks that a decoded state fits this run (array sizes); `Err` carries the reason.
    fn check_state(&self, state: &Self::State) -> Result<(), String>;

    /// The algorithm's own reason to stop before the next step, if any.
    fn terminated(&self, state: &Self::State) -> Option<StopReason>;

    /// One step.
    fn step(&mut self, state: &mut Self::State) -> Result<(), SamplerError>;

    /// A one-line status for progress displays.
    fn status(&self, state: &Self::State) -> String;

    /// The result of the run that stopped for `stop`.
    fn finish(
        &mut self,
        state: Self::State,
        stop: StopReason,
    ) -> Result<Self::Output, SamplerError>;
}
