//! Progress of long runs on stderr.
//!
//! - [`Progress`]: a spinner with a status message, drawn only when stderr is a terminal
//!   (the samplers' [`ProgressObserver`](crate::driver::ProgressObserver) adds plain lines
//!   for other stderrs).
//! - [`Counter`]: `done / total` of a known amount of work (signals, light-cones, batches):
//!   a bar on a terminal and otherwise a plain line at most every [`interval`], e.g.
//!   `simulate: 1200/10000 signals (12%), 3m10s elapsed, ~23m left`, so a batch job or a
//!   run under `nohup` shows it is alive and how far it got.
//!
//! The interval of plain lines is 10 s unless the environment variable
//! [`INTERVAL_ENV`] (`SPINFLIP_PROGRESS_SECONDS`) gives another number of seconds
//! (fractions allowed; 0 prints at every update).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The environment variable that sets the interval of plain progress lines, in seconds.
pub const INTERVAL_ENV: &str = "SPINFLIP_PROGRESS_SECONDS";

/// Interval of plain progress lines when [`INTERVAL_ENV`] is not set.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

/// The interval of plain progress lines: [`INTERVAL_ENV`] if it holds a finite number of
/// seconds >= 0, else [`DEFAULT_INTERVAL`].
pub fn interval() -> Duration {
    std::env::var(INTERVAL_ENV)
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(DEFAULT_INTERVAL, Duration::from_secs_f64)
}

/// A duration the way a log line wants it: `45s`, `3m10s`, `2h05m`.
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// A spinner with a status message; does nothing when hidden.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A spinner labelled `prefix`, visible if `enabled` and stderr is a terminal.
    pub fn new(enabled: bool, prefix: &str) -> Self {
        if !enabled || !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{spinner} {prefix} [{elapsed_precise}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.set_prefix(prefix.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar: Some(bar) }
    }

    /// Whether anything is drawn; callers skip formatting messages when not.
    pub fn is_visible(&self) -> bool {
        self.bar.is_some()
    }

    /// Replaces the status message.
    pub fn set_message(&self, msg: String) {
        if let Some(b) = &self.bar {
            b.set_message(msg);
        }
    }

    /// Leaves the final message on screen.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish();
        }
    }
}

/// Progress through `total` units of work; see the [module docs](self). Shared by reference
/// between threads (`inc` from a parallel loop).
///
/// ```
/// use spinflip_samplers::progress::Counter;
/// let p = Counter::new(false, "simulate", 100, "signals"); // false: --quiet
/// for _ in 0..100 {
///     p.inc(1);
/// }
/// p.finish();
/// ```
#[derive(Debug)]
pub struct Counter {
    shown: Shown,
}

#[derive(Debug)]
enum Shown {
    Hidden,
    Bar(ProgressBar),
    Lines(Lines),
}

#[derive(Debug)]
struct Lines {
    label: String,
    unit: String,
    total: u64,
    every: Duration,
    start: Instant,
    state: Mutex<LineState>,
}

#[derive(Debug)]
struct LineState {
    done: u64,
    /// Work done before this run (a resumed run): not counted in the rate.
    before: u64,
    last: Instant,
    msg: String,
}

impl Counter {
    /// Progress of `total` `unit`s labelled `label`; nothing at all unless `enabled` (a
    /// command's `--quiet` turns it off). A bar when stderr is a terminal, plain lines
    /// every [`interval`] otherwise.
    pub fn new(enabled: bool, label: &str, total: u64, unit: &str) -> Self {
        let shown = if !enabled {
            Shown::Hidden
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            // The unit is part of the template text: braces would be read as keys.
            let unit = unit.replace(['{', '}'], "");
            let style = ProgressStyle::with_template(&format!(
                "{{prefix}}: {{bar:30}} {{pos}}/{{len}} {unit} [{{elapsed_precise}} < \
                 {{eta_precise}}] {{msg}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix(label.to_string());
            Shown::Bar(bar)
        } else {
            let now = Instant::now();
            Shown::Lines(Lines {
                label: label.to_string(),
                unit: unit.to_string(),
                total,
                every: interval(),
                start: now,
                state: Mutex::new(LineState {
                    done: 0,
                    before: 0,
                    last: now,
                    msg: String::new(),
                }),
            })
        };
        Counter { shown }
    }

    /// A counter that shows nothing.
    pub fn hidden() -> Self {
        Counter {
            shown: Shown::Hidden,
        }
    }

    /// Start at `done` units already finished by an earlier run (they do not count toward
    /// the rate that estimates the time left).
    pub fn resumed_at(self, done: u64) -> Self {
        match &self.shown {
            Shown::Hidden => {}
            Shown::Bar(b) => {
                b.set_position(done);
                b.reset_eta();
            }
            Shown::Lines(l) => {
                let mut st = l.lock();
                st.done = done;
                st.before = done;
            }
        }
        self
    }

    /// `n` more units done; prints a line if one is due.
    pub fn inc(&self, n: u64) {
        match &self.shown {
            Shown::Hidden => {}
            Shown::Bar(b) => b.inc(n),
            Shown::Lines(l) => {
                let mut st = l.lock();
                st.done += n;
                if st.last.elapsed() >= l.every {
                    st.last = Instant::now();
                    eprintln!("{}", l.line(&st, l.start.elapsed()));
                }
            }
        }
    }

    /// Replace the status shown after the count (losses, the current epoch); shown with
    /// the next line, not printed by itself.
    pub fn set_message(&self, msg: impl Into<String>) {
        match &self.shown {
            Shown::Hidden => {}
            Shown::Bar(b) => b.set_message(msg.into()),
            Shown::Lines(l) => l.lock().msg = msg.into(),
        }
    }

    /// Whether anything is shown; callers skip formatting messages when not.
    pub fn is_visible(&self) -> bool {
        !matches!(self.shown, Shown::Hidden)
    }

    /// Run `f` (which prints to stderr) with the bar out of its way.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.shown {
            Shown::Bar(b) => b.suspend(f),
            _ => f(),
        }
    }

    /// Clear the bar; the command prints its own summary after it.
    pub fn finish(&self) {
        if let Shown::Bar(b) = &self.shown {
            b.finish_and_clear();
        }
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        // A run that ends in an error must not leave a half-drawn bar above the message.
        if let Shown::Bar(b) = &self.shown {
            if !b.is_finished() {
                b.finish_and_clear();
            }
        }
    }
}

impl Lines {
    fn lock(&self) -> std::sync::MutexGuard<'_, LineState> {
        // A panic elsewhere while printing leaves the counts usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn line(&self, st: &LineState, elapsed: Duration) -> String {
        let mut s = format!("{}: {}/{} {}", self.label, st.done, self.total, self.unit);
        if let Some(pct) = (st.done * 100).checked_div(self.total) {
            s += &format!(" ({pct}%)");
        }
        s += &format!(", {} elapsed", format_duration(elapsed));
        let now = st.done.saturating_sub(st.before);
        if now > 0 && st.done < self.total {
            let left = elapsed.mul_f64((self.total - st.done) as f64 / now as f64);
            s += &format!(", ~{} left", format_duration(left));
        }
        if !st.msg.is_empty() {
            s += &format!("; {}", st.msg);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_log() {
        assert_eq!(format_duration(Duration::from_secs(45)), "45s");
        assert_eq!(format_duration(Duration::from_secs(190)), "3m10s");
        assert_eq!(format_duration(Duration::from_secs(7500)), "2h05m");
    }

    #[test]
    fn a_line_has_the_count_the_share_and_the_time_left() {
        let l = Lines {
            label: "simulate".into(),
            unit: "signals".into(),
            total: 10_000,
            every: Duration::ZERO,
            start: Instant::now(),
            state: Mutex::new(LineState {
                done: 0,
                before: 0,
                last: Instant::now(),
                msg: String::new(),
            }),
        };
        let st = LineState {
            done: 1200,
            before: 200,
            last: Instant::now(),
            msg: "epoch 2/5".into(),
        };
        let line = l.line(&st, Duration::from_secs(190));
        // 1000 units in 190 s: 8800 more take 1672 s.
        assert_eq!(
            line,
            "simulate: 1200/10000 signals (12%), 3m10s elapsed, ~27m52s left; epoch 2/5"
        );
    }
}
