//! How a run began and why it stopped, and the process-wide interrupt flag a Ctrl-C
//! handler sets.

use serde::{Deserialize, Serialize};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::sync::OnceLock;

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The sampler's own stopping rule was met (nested: the live points can add less than
    /// `dlogz` to ln Z; ensemble: the chain is long against its autocorrelation time).
    Converged,
    /// A fixed-length run took all its steps.
    StepsDone,
    /// The iteration (or step) cap was reached before convergence.
    MaxIterations,
    /// The likelihood-call budget was spent before convergence.
    CallBudget,
    /// The wall-time limit was reached before convergence.
    TimeLimit,
    /// The interrupt flag was raised (Ctrl-C): the state was checkpointed if a checkpoint
    /// was configured, and the run can be resumed.
    Interrupted,
}

impl StopReason {
    /// Whether the run is complete: resuming it would add nothing.
    pub fn is_finished(self) -> bool {
        matches!(self, StopReason::Converged | StopReason::StepsDone)
    }

    /// A few words for messages.
    pub fn describe(self) -> &'static str {
        match self {
            StopReason::Converged => "converged",
            StopReason::StepsDone => "all steps done",
            StopReason::MaxIterations => "iteration limit reached",
            StopReason::CallBudget => "likelihood-call budget spent",
            StopReason::TimeLimit => "time limit reached",
            StopReason::Interrupted => "interrupted",
        }
    }
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// How a run began.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// From the sampler's initial state.
    Fresh,
    /// From a checkpoint.
    Resumed {
        /// Iterations the checkpoint had done.
        iteration: usize,
        /// Likelihood calls it had spent.
        n_calls: u64,
    },
    /// From scratch although a checkpoint existed, because its run had finished.
    Restarted {
        /// Why the old run ended.
        previous: StopReason,
    },
}

/// The process-wide interrupt flag. A program installs a Ctrl-C (SIGINT) handler that sets
/// it; every [`Driver`](super::Driver) built with
/// [`interruptible`](super::Driver::interruptible) stops at its next step when it is set.
pub fn interrupt_flag() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)))
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_converged_and_complete_runs_are_finished() {
        assert!(StopReason::Converged.is_finished());
        assert!(StopReason::StepsDone.is_finished());
        for r in [
            StopReason::MaxIterations,
            StopReason::CallBudget,
            StopReason::TimeLimit,
            StopReason::Interrupted,
        ] {
            assert!(!r.is_finished(), "{r}");
        }
        assert_eq!(
            serde_json::to_string(&StopReason::CallBudget).unwrap(),
            "\"call_budget\""
        );
    }
}
