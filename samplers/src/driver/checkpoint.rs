//! The one checkpoint convention of every sampler.
//!
//! A checkpoint file is the 8-byte magic `SFCKPT01`, a little-endian `u64` header length, a
//! JSON [`CheckpointHeader`] (which sampler, the run's fingerprint, counters, and why the run
//! stopped if it did), then the sampler's own state bytes ([`SamplerState::encode`]). Files are
//! written atomically (temporary file, then rename), so a kill during a write leaves the
//! previous checkpoint intact.

use super::observer::Observer;
use super::sampler::{Sampler, SamplerState};
use super::stop::StopReason;
use crate::error::SamplerError;
use crate::output::{ensure_parent, write_atomic};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const MAGIC: &[u8; 8] = b"SFCKPT01";
/// Version of the envelope (the state's own layout is versioned in each fingerprint).
const FORMAT: u32 = 1;

/// What a checkpoint says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointHeader {
    /// The sampler that wrote it ([`Sampler::name`]).
    pub sampler: String,
    /// Envelope version.
    pub format: u32,
    /// The run's fingerprint: a checkpoint is resumed only by an identical one.
    pub fingerprint: Value,
    /// Iterations done.
    pub iteration: usize,
    /// Likelihood calls spent.
    pub n_calls: u64,
    /// Wall time so far, seconds.
    pub elapsed_s: f64,
    /// Why the run stopped, for the checkpoint written at its end; `None` mid-run.
    pub stop: Option<StopReason>,
}

fn fail(path: &Path, reason: impl Into<String>) -> SamplerError {
    SamplerError::Checkpoint {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// Write a checkpoint atomically.
pub fn write(path: &Path, header: &CheckpointHeader, state: &[u8]) -> Result<(), SamplerError> {
    let json = serde_json::to_vec(header)
        .map_err(|e| fail(path, format!("cannot encode the header: {e}")))?;
    let mut out = Vec::with_capacity(16 + json.len() + state.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(state);
    ensure_parent(path)?;
    write_atomic(path, &out)
}

/// Read a checkpoint: its header and the state bytes.
pub fn read(path: &Path) -> Result<(CheckpointHeader, Vec<u8>), SamplerError> {
    let bytes = std::fs::read(path).map_err(|e| SamplerError::io(path, e))?;
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return Err(fail(
            path,
            "not a spinflip checkpoint (or one from an older version): delete it to start over",
        ));
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&bytes[8..16]);
    let hlen = usize::try_from(u64::from_le_bytes(len)).unwrap_or(usize::MAX);
    let body = bytes
        .get(16..16usize.saturating_add(hlen))
        .ok_or_else(|| fail(path, "truncated header"))?;
    let header: CheckpointHeader =
        serde_json::from_slice(body).map_err(|e| fail(path, format!("unreadable header ({e})")))?;
    if header.format != FORMAT {
        return Err(fail(
            path,
            format!(
                "format {} but this build reads format {FORMAT}",
                header.format
            ),
        ));
    }
    Ok((header, bytes[16 + hlen..].to_vec()))
}

/// The differences between a checkpoint's fingerprint and a run's, said for a user
/// (`"n_live: checkpoint has 200, this run has 400"`, several joined by `"; "`), or `None`
/// if they agree.
pub fn fingerprint_difference(saved: &Value, run: &Value) -> Option<String> {
    fn walk(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    match (x.get(k), y.get(k)) {
                        (Some(u), Some(v)) => walk(&p, u, v, out),
                        (Some(u), None) => {
                            out.push(format!("{p}: checkpoint has {u}, this run has none"))
                        }
                        (None, Some(v)) => {
                            out.push(format!("{p}: checkpoint has none, this run has {v}"))
                        }
                        (None, None) => {}
                    }
                }
            }
            _ if a == b => {}
            _ => out.push(format!(
                "{}: checkpoint has {a}, this run has {b}",
                if path.is_empty() { "fingerprint" } else { path }
            )),
        }
    }
    let mut out = Vec::new();
    walk("", saved, run, &mut out);
    (!out.is_empty()).then(|| out.join("; "))
}

/// The observer that writes checkpoints: every `every` iterations and/or every `interval`
/// of wall time, and always when the run stops.
pub struct Checkpointer {
    path: PathBuf,
    fingerprint: Value,
    every: Option<usize>,
    interval: Option<Duration>,
    last: Instant,
}

impl Checkpointer {
    /// A checkpointer for the run whose full fingerprint is `fingerprint`.
    pub fn new(
        path: PathBuf,
        fingerprint: Value,
        every: Option<usize>,
        interval: Option<Duration>,
    ) -> Self {
        Checkpointer {
            path,
            fingerprint,
            every,
            interval,
            last: Instant::now(),
        }
    }

    /// Write `state` now.
    pub fn save<S: Sampler>(
        &mut self,
        sampler: &S,
        state: &S::State,
        stop: Option<StopReason>,
    ) -> Result<(), SamplerError> {
        let header = CheckpointHeader {
            sampler: sampler.name().to_string(),
            format: FORMAT,
            fingerprint: self.fingerprint.clone(),
            iteration: state.iteration(),
            n_calls: state.n_calls(),
            elapsed_s: state.elapsed(),
            stop,
        };
        write(&self.path, &header, &state.encode()?)?;
        self.last = Instant::now();
        Ok(())
    }
}

impl<S: Sampler> Observer<S> for Checkpointer {
    fn on_step(
        &mut self,
        sampler: &S,
        state: &S::State,
        before: usize,
    ) -> Result<(), SamplerError> {
        let it = state.iteration();
        let crossed = self.every.is_some_and(|e| it / e != before / e);
        let timed = self.interval.is_some_and(|t| self.last.elapsed() >= t);
        if crossed || timed {
            self.save(sampler, state, None)?;
        }
        Ok(())
    }

    fn on_stop(
        &mut self,
        sampler: &S,
        state: &S::State,
        stop: StopReason,
    ) -> Result<(), SamplerError> {
        self.save(sampler, state, Some(stop))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn differences_name_the_setting_and_both_values() {
        let a = json!({"n_live": 200, "seed": 1, "problem": {"data": "ab"}});
        assert_eq!(fingerprint_difference(&a, &a), None);
        let b = json!({"n_live": 400, "seed": 1, "problem": {"data": "ab"}});
        assert_eq!(
            fingerprint_difference(&a, &b).unwrap(),
            "n_live: checkpoint has 200, this run has 400"
        );
        let c = json!({"n_live": 200, "seed": 1, "problem": {"data": "cd"}});
        assert_eq!(
            fingerprint_difference(&a, &c).unwrap(),
            "problem.data: checkpoint has \"ab\", this run has \"cd\""
        );
        let d = json!({"n_live": 200, "seed": 1});
        assert!(fingerprint_difference(&a, &d)
            .unwrap()
            .contains("this run has none"));
    }

    #[test]
    fn files_round_trip_and_garbage_is_refused() {
        let dir = std::env::temp_dir().join(format!("sf_ckpt_{}", std::process::id()));
        let path = dir.join("x.checkpoint");
        let h = CheckpointHeader {
            sampler: "nested".into(),
            format: FORMAT,
            fingerprint: json!({"seed": 3}),
            iteration: 7,
            n_calls: 99,
            elapsed_s: 1.5,
            stop: Some(StopReason::CallBudget),
        };
        write(&path, &h, b"state bytes").unwrap();
        let (h2, s) = read(&path).unwrap();
        assert_eq!(h2, h);
        assert_eq!(s, b"state bytes");
        std::fs::write(&path, b"{\"json\": 1}").unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("not a spinflip checkpoint"), "{e}");
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&1000u64.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();
        assert!(read(&path).unwrap_err().to_string().contains("truncated"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
