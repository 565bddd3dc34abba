//! The fingerprint of a nested-sampling run: the settings that shape it. A checkpoint is
//! resumed only by a run with the same fingerprint (see [`crate::driver`]).

use super::settings::{Method, NestedSettings};
use serde::{Deserialize, Serialize};

/// Layout version of the serialised [`State`](super::state::State); bump when it changes.
pub const STATE_VERSION: u32 = 1;

/// What must agree between a checkpoint and the run resuming it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Parameter names, fixed ones included.
    pub names: Vec<String>,
    /// Free dimensions.
    pub n_free: usize,
    /// Live points.
    pub n_live: usize,
    /// Live points at the start (`n_live` in checkpoints from before the taper existed).
    #[serde(default)]
    pub n_live_start: usize,
    /// E-folds over which the start's live points taper to `n_live`.
    #[serde(default)]
    pub taper: f64,
    /// Whether the run restarts with a strong taper when modes separate (false in
    /// checkpoints from before the restart existed, which never restarted).
    #[serde(default)]
    pub restart_on_modes: bool,
    /// Sampling method as set (`Auto` chooses its move during the run; checkpoints of
    /// automatic runs from before session 17 (2026-12-03) hold the method it resolved to by dimension, and
    /// are refused rather than resumed with the other rule).
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
    /// Slice sampling: whether intervals are stepped out (absent for rejection runs, and in
    /// checkpoints from before it was a setting, whose slice runs all stepped out: those
    /// are refused rather than resumed with another move).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_out: Option<bool>,
    /// Slice chains in lockstep (1 for rejection runs, which slice nothing; checkpoints from
    /// before it was a setting ran one chain).
    #[serde(default = "one")]
    pub slice_chains: usize,
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
            n_live_start: s.n_live_start(),
            taper: s.taper,
            restart_on_modes: s.restarts_on_modes(n_free),
            method: s.method,
            seed: s.seed,
            dlogz: s.dlogz,
            enlarge: s.enlarge,
            update_interval: s.update_interval(),
            batch_size: s.batch_size,
            n_repeats: s.n_repeats(n_free),
            step_out: (s.method != Method::Rejection).then_some(s.step_out),
            slice_chains: if s.method == Method::Rejection {
                1
            } else {
                s.slice_chains
            },
            preferred_batch,
        }
    }
}
