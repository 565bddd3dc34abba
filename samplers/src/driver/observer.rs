//! Observers: what happens around the steps of a run (progress, checkpoints, chain files),
//! attached to a [`Driver`](super::Driver) rather than written into each algorithm.

use super::sampler::Sampler;
use super::stop::{Start, StopReason};
use crate::error::SamplerError;
use std::path::{Path, PathBuf};

/// Something that watches a run. Every method has a do-nothing default; an error stops the
/// run (a checkpoint that cannot be written is worth stopping for).
pub trait Observer<S: Sampler> {
    /// Once, before the first step (of this session).
    fn on_start(
        &mut self,
        _sampler: &S,
        _state: &S::State,
        _start: &Start,
    ) -> Result<(), SamplerError> {
        Ok(())
    }

    /// After every step; `before` is the iteration count before the step (a nested-sampling
    /// step can kill several tied points at once).
    fn on_step(
        &mut self,
        _sampler: &S,
        _state: &S::State,
        _before: usize,
    ) -> Result<(), SamplerError> {
        Ok(())
    }

    /// Once, when the run stops, before [`Sampler::finish`].
    fn on_stop(
        &mut self,
        _sampler: &S,
        _state: &S::State,
        _stop: StopReason,
    ) -> Result<(), SamplerError> {
        Ok(())
    }

    /// Once, with the run's result.
    fn on_output(&mut self, _output: &S::Output, _stop: StopReason) -> Result<(), SamplerError> {
        Ok(())
    }
}

/// Results that can write the chain files users' tools read (PolyChord layout, getdist,
/// JSON summary) under a file root.
pub trait WriteChains {
    /// Write every chain file under `root` (a prefix such as `chains/run`).
    fn write_chains(&self, root: &Path) -> Result<(), SamplerError>;
}

/// Writes the chains when a run finishes (not when it was interrupted: an interrupted run
/// has a checkpoint, not results).
#[derive(Debug, Clone)]
pub struct ChainWriter {
    root: PathBuf,
}

impl ChainWriter {
    /// Chains go under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ChainWriter { root: root.into() }
    }
}

impl<S: Sampler> Observer<S> for ChainWriter
where
    S::Output: WriteChains,
{
    fn on_output(&mut self, output: &S::Output, stop: StopReason) -> Result<(), SamplerError> {
        if stop == StopReason::Interrupted {
            return Ok(());
        }
        output.write_chains(&self.root)
    }
}
