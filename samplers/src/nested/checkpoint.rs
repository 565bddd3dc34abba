//! Checkpoints: the whole run state as JSON (floats as exact bit patterns), written
//! atomically, plus a fingerprint of the settings that shape the run so a checkpoint is never
//! resumed into a different problem.

use super::settings::{Method, NestedSettings};
use super::state::State;
use crate::error::SamplerError;
use crate::output::{ensure_parent, write_atomic};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Format version; bump when [`State`] changes shape.
const VERSION: u32 = 1;

/// What must agree between a checkpoint and the run resuming it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Parameter names, fixed ones included.
    pub names: Vec<String>,
    /// Free dimensions.
    pub n_free: usize,
    /// Live points.
    pub n_live: usize,
    /// Resolved sampling method.
    pub method: Method,
    /// Seed.
    pub seed: u64,
    /// Termination tolerance.
    pub dlogz: f64,
    /// Ellipsoid enlargement.
    pub enlarge: f64,
    /// Bound refit interval.
    pub update_interval: usize,
    /// Rejection batch size.
    pub batch_size: usize,
    /// Slice steps per point.
    pub n_repeats: usize,
    /// The likelihood's preferred batch (rejection batches are multiples of it). Checkpoints
    /// from before it was recorded were written with no preference, 1.
    #[serde(default = "one")]
    pub preferred_batch: usize,
}

fn one() -> usize {
    1
}

impl Fingerprint {
    /// The fingerprint of a run; `preferred_batch` is the likelihood's
    /// [`preferred_batch`](crate::LogLikelihood::preferred_batch).
    pub fn new(
        names: Vec<String>,
        n_free: usize,
        s: &NestedSettings,
        preferred_batch: usize,
    ) -> Self {
        Fingerprint {
            names,
            n_free,
            n_live: s.n_live,
            method: s.method.resolve(n_free),
            seed: s.seed,
            dlogz: s.dlogz,
            enlarge: s.enlarge,
            update_interval: s.update_interval(),
            batch_size: s.batch_size,
            n_repeats: s.n_repeats(n_free),
            preferred_batch,
        }
    }

    /// The first difference with `other`, described for the user.
    fn difference(&self, run: &Fingerprint) -> Option<String> {
        macro_rules! cmp {
            ($($f:ident),*) => {$(
                if self.$f != run.$f {
                    return Some(format!(
                        concat!(stringify!($f), " differs: checkpoint has {:?}, this run has {:?}"),
                        self.$f, run.$f
                    ));
                }
            )*};
        }
        cmp!(
            names,
            n_free,
            n_live,
            method,
            seed,
            dlogz,
            enlarge,
            update_interval,
            batch_size,
            n_repeats,
            preferred_batch
        );
        None
    }
}

#[derive(Serialize, Deserialize)]
struct Checkpoint {
    version: u32,
    fingerprint: Fingerprint,
    state: State,
}

/// Writes the state to `path` atomically.
pub fn save(path: &Path, fingerprint: &Fingerprint, state: &State) -> Result<(), SamplerError> {
    ensure_parent(path)?;
    let c = Checkpoint {
        version: VERSION,
        fingerprint: fingerprint.clone(),
        state: state.clone(),
    };
    let bytes = serde_json::to_vec(&c).map_err(|e| SamplerError::Checkpoint {
        path: path.display().to_string(),
        reason: format!("cannot serialise: {e}"),
    })?;
    write_atomic(path, &bytes)
}

/// Reads the state from `path`, refusing it unless it was written by a run with the same
/// fingerprint.
pub fn load(path: &Path, fingerprint: &Fingerprint) -> Result<State, SamplerError> {
    let fail = |reason: String| SamplerError::Checkpoint {
        path: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| SamplerError::io(path, e))?;
    let c: Checkpoint = serde_json::from_slice(&bytes)
        .map_err(|e| fail(format!("not a nested-sampling checkpoint ({e})")))?;
    if c.version != VERSION {
        return Err(fail(format!(
            "format version {} but this build reads version {VERSION}",
            c.version
        )));
    }
    if let Some(diff) = c.fingerprint.difference(fingerprint) {
        return Err(fail(diff));
    }
    let (n, d, p) = (
        c.fingerprint.n_live,
        c.fingerprint.n_free,
        c.fingerprint.names.len(),
    );
    let s = &c.state;
    let consistent = s.live.len() == n
        && s.live.u.len() == n * d
        && s.live.theta.len() == n * p
        && s.live.birth.len() == n
        && s.dead.len() == s.iteration
        && s.dead.theta.len() == s.iteration * p
        && s.dead.birth.len() == s.iteration
        && s.dead.log_dx.len() == s.iteration;
    if !consistent {
        return Err(fail(
            "array lengths are inconsistent (file corrupted?)".into(),
        ));
    }
    Ok(c.state)
}
