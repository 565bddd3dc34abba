//! Progress of a run on stderr: a live status line on a terminal, and a plain line every few
//! seconds otherwise (so a run in a batch job or under `nohup` still shows it is alive).

use super::observer::Observer;
use super::sampler::{Sampler, SamplerState};
use super::stop::{Start, StopReason};
use crate::error::SamplerError;
use crate::progress::Progress;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Shows [`Sampler::status`] as the run goes.
#[derive(Debug)]
pub struct ProgressObserver {
    label: String,
    bar: Option<Progress>,
    log_every: Option<Duration>,
    last: Instant,
}

impl ProgressObserver {
    /// A status line labelled `label`: a spinner when stderr is a terminal, else a line every
    /// `log_every` (`None`: nothing when stderr is not a terminal).
    pub fn new(label: impl Into<String>, log_every: Option<Duration>) -> Self {
        let label = label.into();
        let terminal = std::io::stderr().is_terminal();
        ProgressObserver {
            bar: terminal.then(|| Progress::new(true, &label)),
            log_every: if terminal { None } else { log_every },
            label,
            last: Instant::now(),
        }
    }

    fn due(&mut self) -> bool {
        let every = match (&self.bar, self.log_every) {
            (Some(_), _) => Duration::from_millis(200),
            (None, Some(e)) => e,
            (None, None) => return false,
        };
        if self.last.elapsed() >= every {
            self.last = Instant::now();
            true
        } else {
            false
        }
    }

    fn show(&self, msg: String) {
        match &self.bar {
            Some(b) => b.set_message(msg),
            None => eprintln!("{}: {msg}", self.label),
        }
    }
}

impl<S: Sampler> Observer<S> for ProgressObserver {
    fn on_start(
        &mut self,
        sampler: &S,
        state: &S::State,
        start: &Start,
    ) -> Result<(), SamplerError> {
        if let Start::Resumed { .. } = start {
            if self.bar.is_some() || self.log_every.is_some() {
                self.show(format!("resumed: {}", sampler.status(state)));
            }
        }
        Ok(())
    }

    fn on_step(
        &mut self,
        sampler: &S,
        state: &S::State,
        _before: usize,
    ) -> Result<(), SamplerError> {
        if self.due() {
            self.show(sampler.status(state));
        }
        Ok(())
    }

    fn on_stop(
        &mut self,
        sampler: &S,
        state: &S::State,
        stop: StopReason,
    ) -> Result<(), SamplerError> {
        if let Some(b) = &self.bar {
            b.set_message(format!(
                "{} ({stop}, {:.1} s)",
                sampler.status(state),
                state.elapsed()
            ));
            b.finish();
        } else if self.log_every.is_some() {
            self.show(format!(
                "{} ({stop}, {:.1} s)",
                sampler.status(state),
                state.elapsed()
            ));
        }
        Ok(())
    }
}
