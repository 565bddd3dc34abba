//! The driver: one loop that steps any [`Sampler`], with budgets, interrupts, observers and
//! the one resume convention.

use super::checkpoint::{fingerprint_difference, read, Checkpointer};
use super::observer::Observer;
use super::sampler::{Sampler, SamplerState};
use super::stop::{Start, StopReason};
use crate::error::SamplerError;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to do with an existing checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resume {
    /// Start from scratch (an existing checkpoint is overwritten as the run goes).
    #[default]
    Never,
    /// Resume from the checkpoint if there is one and its run did not finish; start from
    /// scratch if there is none or its run finished. A checkpoint of another run (another
    /// fingerprint) is refused with the difference named.
    IfPresent,
    /// Resume from the checkpoint; a missing one is an error.
    Required,
}

/// The result of a driven run and why it stopped.
#[derive(Debug, Clone)]
pub struct Outcome<O> {
    /// What the sampler produced (also for runs stopped by a budget or an interrupt: then
    /// it describes the run so far).
    pub output: O,
    /// Why the run stopped.
    pub stop: StopReason,
    /// How it began.
    pub start: Start,
}

struct CheckpointPlan {
    path: PathBuf,
    every: Option<usize>,
    interval: Option<Duration>,
}

/// Steps a [`Sampler`] to the end: see the [module docs](super).
pub struct Driver<'o, S: Sampler> {
    sampler: S,
    observers: Vec<Box<dyn Observer<S> + 'o>>,
    max_calls: Option<u64>,
    max_iterations: Option<usize>,
    time_limit: Option<Duration>,
    interrupt: Option<Arc<AtomicBool>>,
    checkpoint: Option<CheckpointPlan>,
    resume: Resume,
    problem: Option<Value>,
}

impl<'o, S: Sampler> Driver<'o, S> {
    /// A driver with no budget, no observer and no checkpoint.
    pub fn new(sampler: S) -> Self {
        Driver {
            sampler,
            observers: Vec::new(),
            max_calls: None,
            max_iterations: None,
            time_limit: None,
            interrupt: None,
            checkpoint: None,
            resume: Resume::Never,
            problem: None,
        }
    }

    /// Attach an observer (called in the order attached; the checkpointer runs first).
    pub fn observe(mut self, observer: impl Observer<S> + 'o) -> Self {
        self.observers.push(Box::new(observer));
        self
    }

    /// Stop once this many likelihood calls are spent ([`StopReason::CallBudget`]).
    pub fn max_calls(mut self, n: u64) -> Self {
        self.max_calls = Some(n);
        self
    }

    /// Stop once this many iterations are done ([`StopReason::MaxIterations`]).
    pub fn max_iterations(mut self, n: usize) -> Self {
        self.max_iterations = Some(n);
        self
    }

    /// Stop after this much wall time in this session ([`StopReason::TimeLimit`]).
    pub fn time_limit(mut self, t: Duration) -> Self {
        self.time_limit = Some(t);
        self
    }

    /// Stop at the next step once `flag` is set ([`StopReason::Interrupted`]); pass
    /// [`interrupt_flag`](super::interrupt_flag) for the process-wide Ctrl-C flag.
    pub fn interruptible(mut self, flag: Arc<AtomicBool>) -> Self {
        self.interrupt = Some(flag);
        self
    }

    /// Write a checkpoint to `path` every `every` iterations and/or every `interval` of
    /// wall time, and when the run stops.
    pub fn checkpoint(
        mut self,
        path: impl Into<PathBuf>,
        every: Option<usize>,
        interval: Option<Duration>,
    ) -> Self {
        self.checkpoint = Some(CheckpointPlan {
            path: path.into(),
            every: every.filter(|&e| e > 0),
            interval,
        });
        self
    }

    /// What to do with an existing checkpoint at the checkpoint path.
    pub fn resume(mut self, resume: Resume) -> Self {
        self.resume = resume;
        self
    }

    /// Add what identifies the problem (data, noise, model file...) to the fingerprint, so
    /// a checkpoint of the same sampler on other data is refused.
    pub fn problem_fingerprint(mut self, fingerprint: Value) -> Self {
        self.problem = Some(fingerprint);
        self
    }

    /// The sampler being driven.
    pub fn sampler(&self) -> &S {
        &self.sampler
    }

    /// The run's full fingerprint: the sampler's, plus the problem's under `"problem"`.
    pub fn fingerprint(&self) -> Value {
        let mut fp = self.sampler.fingerprint();
        if let (Some(p), Some(o)) = (&self.problem, fp.as_object_mut()) {
            o.insert("problem".into(), p.clone());
        }
        fp
    }

    /// The starting state: fresh, or decoded from the checkpoint as [`Resume`] asks.
    fn start(&mut self, fingerprint: &Value) -> Result<(S::State, Start), SamplerError> {
        let path = match (&self.checkpoint, self.resume) {
            (_, Resume::Never) => return Ok((self.sampler.init()?, Start::Fresh)),
            (None, _) => {
                return Err(SamplerError::InvalidSetting {
                    setting: "resume".into(),
                    reason: "resuming needs a checkpoint path".into(),
                })
            }
            (Some(c), r) => {
                if !c.path.exists() {
                    if r == Resume::Required {
                        return Err(SamplerError::Checkpoint {
                            path: c.path.display().to_string(),
                            reason: "no such file: nothing to resume".into(),
                        });
                    }
                    return Ok((self.sampler.init()?, Start::Fresh));
                }
                c.path.clone()
            }
        };
        let fail = |reason: String| SamplerError::Checkpoint {
            path: path.display().to_string(),
            reason,
        };
        let (header, bytes) = read(&path)?;
        if header.sampler != self.sampler.name() {
            return Err(fail(format!(
                "written by the {} sampler, this run uses the {} sampler: delete it or change the \
                 output root",
                header.sampler,
                self.sampler.name()
            )));
        }
        if let Some(diff) = fingerprint_difference(&header.fingerprint, fingerprint) {
            return Err(fail(format!(
                "it belongs to another run ({diff}); delete it, or use another output root"
            )));
        }
        if let Some(prev) = header.stop.filter(|s| s.is_finished()) {
            if self.resume == Resume::IfPresent {
                return Ok((self.sampler.init()?, Start::Restarted { previous: prev }));
            }
        }
        let state =
            S::State::decode(&bytes).map_err(|e| fail(format!("unreadable state ({e})")))?;
        self.sampler.check_state(&state).map_err(fail)?;
        let start = Start::Resumed {
            iteration: state.iteration(),
            n_calls: state.n_calls(),
        };
        Ok((state, start))
    }

    /// Run to a stop; see [`StopReason`] for the ways it can end.
    pub fn run(mut self) -> Result<Outcome<S::Output>, SamplerError> {
        let fingerprint = self.fingerprint();
        let (mut state, start) = self.start(&fingerprint)?;
        let mut checkpointer = self
            .checkpoint
            .take()
            .map(|c| Checkpointer::new(c.path, fingerprint, c.every, c.interval));
        for o in &mut self.observers {
            o.on_start(&self.sampler, &state, &start)?;
        }
        let session = Instant::now();
        // Wall time of earlier sessions (zero for a fresh state).
        let base = state.elapsed();
        let stop = loop {
            if let Some(r) = self.sampler.terminated(&state) {
                break r;
            }
            if self.max_iterations.is_some_and(|m| state.iteration() >= m) {
                break StopReason::MaxIterations;
            }
            if self.max_calls.is_some_and(|m| state.n_calls() >= m) {
                break StopReason::CallBudget;
            }
            if self.time_limit.is_some_and(|t| session.elapsed() >= t) {
                break StopReason::TimeLimit;
            }
            if self
                .interrupt
                .as_ref()
                .is_some_and(|f| f.load(Ordering::Relaxed))
            {
                break StopReason::Interrupted;
            }
            let before = state.iteration();
            self.sampler.step(&mut state)?;
            state.set_elapsed(base + session.elapsed().as_secs_f64());
            if let Some(c) = &mut checkpointer {
                Observer::<S>::on_step(c, &self.sampler, &state, before)?;
            }
            for o in &mut self.observers {
                o.on_step(&self.sampler, &state, before)?;
            }
        };
        state.set_elapsed(base + session.elapsed().as_secs_f64());
        if let Some(c) = &mut checkpointer {
            Observer::<S>::on_stop(c, &self.sampler, &state, stop)?;
        }
        for o in &mut self.observers {
            o.on_stop(&self.sampler, &state, stop)?;
        }
        let output = self.sampler.finish(state, stop)?;
        for o in &mut self.observers {
            o.on_output(&output, stop)?;
        }
        Ok(Outcome {
            output,
            stop,
            start,
        })
    }
}
