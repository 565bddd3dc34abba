//! Settings of a nested-sampling run.

use crate::error::SamplerError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// How a new live point is drawn above the likelihood bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Whichever of rejection and slice sampling is predicted to need fewer likelihood calls
    /// per new point, chosen again at every bound update: rejection's expected candidates
    /// are the volume of the bounding ellipsoids inside the cube over the contour's expected
    /// volume X, slice sampling's are `n_repeats` times its measured calls per step (at first
    /// `1 + SLICE_CONTRACTIONS`). On Gaussians of 12-30 dimensions rejection stays cheaper
    /// (3-10x fewer calls than slice sampling, calibrated; samplers/README.md), on contours
    /// far from ellipsoidal slice sampling takes over. With fewer than `2 d` live points it
    /// is always slice sampling (too few to fit ellipsoids).
    #[default]
    Auto,
    /// Uniform draws in multi-ellipsoidal bounds, kept if above the bound (MultiNest style).
    Rejection,
    /// Slice sampling along random whitened directions from a live point (PolyChord style).
    Slice,
}

/// The restart for separated modes ([`NestedSettings::restart_on_modes`]) is made in at most
/// this many free dimensions: its extra prior draws find a narrow mode whose share of the
/// early contours falls as (width ratio)^d, out of reach above this (samplers/README.md).
pub const RESTART_MAX_FREE: usize = 10;

/// Live points at the start of a run restarted for separated modes, per `n_live`
/// ([`NestedSettings::restart_on_modes`]).
pub const RESTART_LIVE_FACTOR: usize = 8;
/// E-folds of prior volume over which a restarted run tapers to `n_live` at least: 8 e-folds
/// lost the heavy mode of the 3-D mixture in 6 of 100 layouts, 12 in 3 (samplers/README.md).
pub const RESTART_TAPER: f64 = 12.0;
/// A restarted run tapers over at least this many times the e-folds at which the modes
/// separated: in more dimensions the modes separate later and a narrow mode's share of the
/// contour stays small for longer. A 10-D mixture (widths 0.2 / 0.3 / 0.4, separated at
/// ln X = -7 to -13.5): 12 e-folds missed its heavy mode in 18 of 20 layouts (and layout 1
/// even from 256,000 live points), twice the e-folds in 12 of 20, three times in 5 of 20 for
/// 1.45x the calls. Modes separated before ln X = -4 (most 3-D and 4-D mixtures of
/// samplers/README.md) keep [`RESTART_TAPER`]; the others there missed as often as before.
pub const RESTART_TAPER_PER_EFOLD: f64 = 3.0;

/// The taper of a run restarted for separated modes that separated at prior volume
/// `exp(log_x_separated)`.
pub fn restart_taper(log_x_separated: f64) -> f64 {
    RESTART_TAPER.max(-RESTART_TAPER_PER_EFOLD * log_x_separated)
}

/// Where and how often to write a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointSettings {
    /// The checkpoint file (JSON).
    pub path: PathBuf,
    /// Write it every this many iterations (and when the run stops).
    pub every: usize,
}

/// Settings of a [`NestedSampler`](super::NestedSampler) run.
///
/// `Default` gives 500 live points, `dlogz = 0.1`, [`Method::Auto`], seed 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NestedSettings {
    /// Number of live points: more gives a smaller ln Z error (it scales as `1/sqrt(n_live)`)
    /// for proportionally more likelihood calls.
    pub n_live: usize,
    /// Live points at the start, tapered linearly in ln X down to `n_live` over the first
    /// `taper` e-folds of prior volume (a point killed without a replacement each time there
    /// are more than the schedule asks for). A mode that holds a small share of the early
    /// contours is seen by ~`n_live_start / n_live` times more draws while the bound still
    /// covers it, for the price of cheap early iterations. `None` gives `n_live`: no taper.
    pub n_live_start: Option<usize>,
    /// E-folds of prior volume (from ln X = 0) over which `n_live_start` tapers to `n_live`.
    pub taper: f64,
    /// Start again with a strong taper when the bounds first hold separated modes
    /// (rejection or automatic runs with at most [`RESTART_MAX_FREE`] free parameters, and
    /// only when `n_live_start` is not set): from new prior draws,
    /// with [`RESTART_LIVE_FACTOR`]` * n_live` live points tapered over [`restart_taper`]
    /// e-folds (12, or three times the e-folds at which the modes separated if more). A
    /// narrow heavy mode among broad ones is lost when no live point lands in it before the
    /// bounds close around the others; on the 3-D mixture of samplers/README.md
    /// 500 live points lose it in 12 of 20 layouts, the restart in 3 of 100, for 4x the calls
    /// on multimodal problems only (a single mode never restarts). The calls of the first
    /// attempt are counted. `false` keeps the first attempt and its warning.
    pub restart_on_modes: bool,
    /// Stop when the live points could add at most this much to ln Z.
    pub dlogz: f64,
    /// How new points are drawn.
    pub method: Method,
    /// Seed of the random number generator: the same seed gives the same run.
    pub seed: u64,
    /// Volume enlargement factor of the bounding ellipsoids (rejection), >= 1.
    pub enlarge: f64,
    /// Refit the bounding ellipsoids every this many iterations; `None` gives `n_live / 10`,
    /// or an 80th of the live points while a taper holds more than 8 x `n_live` of them.
    pub update_interval: Option<usize>,
    /// Most candidates proposed and evaluated per batch in rejection sampling; the batch adapts
    /// to the acceptance rate up to this cap. 1 spends the fewest likelihood calls; larger
    /// caps suit emulators (one vectorised call per batch) and [`Parallel`](crate::Parallel).
    /// Batches are rounded up to a multiple of the likelihood's
    /// [`preferred_batch`](crate::LogLikelihood::preferred_batch), which may exceed this cap.
    pub batch_size: usize,
    /// Slice-sampling steps per new point (PolyChord's `num_repeats`); `None` gives
    /// `ceil(1.5 d)`, from a sweep with `nested_suite` (500 live points; mean of ln Z minus
    /// exact over 16 seeds, 8 at 50-D, with the mean reported error): 12-D -0.03 (0.18), 20-D
    /// +0.12 (0.23), 30-D +0.16 (0.28), correlated 30-D +0.37 (0.49), 50-D +0.55 (0.37); the
    /// spread over seeds is 0.8-1.1x the reported error. PolyChord's 5 d costs 3.3x the calls
    /// and is no better (30-D: +0.22 +- 0.12 at 17.4 M calls against 5.2 M), so the small high
    /// offset is not from too few steps at 30-D (dynesty's rslice: +0.31 there); at 50-D it
    /// is (2 d: +0.35), so set `2 * d` above ~40 free parameters.
    /// Near one step per dimension ln Z falls off a cliff (30-D, `d` steps: -1.3 to -1.6, 5
    /// reported sigma), hence the margin.
    pub n_repeats: Option<usize>,
    /// Slice sampling: step each interval out until both ends are outside the contour
    /// before shrinking it (Neal 2003's stepping out, as PolyChord and dynesty do). Off by
    /// default: one randomly placed interval, its width adapted so that a step shrinks it
    /// [`SLICE_CONTRACTIONS`](super::SLICE_CONTRACTIONS) times on average, costs
    /// 0.67-0.78x the calls at the same ln Z offsets (samplers/README.md, "Many dimensions").
    /// Stepping out adapts to slices of very different lengths within one run.
    pub step_out: bool,
    /// Slice sampling: chains run in lockstep per new point, each round's proposals
    /// evaluated in one batched call (the first chain's end replaces the dead point, the
    /// others are queued for the next ones). 1 (the default) evaluates one point at a time;
    /// more lets a threaded likelihood ([`Parallel`](crate::Parallel), a simulator) or a
    /// batched emulator use its cores while slicing, for a few per cent more calls (a queued
    /// point is dropped when the contour has passed it: about `slice_chains / (2 n_live)`
    /// of them). Set it to the number of cores for a threaded likelihood (on 2 cores the
    /// simulator main job sliced 1.36x faster with 8); with a likelihood that evaluates in
    /// SIMD groups use multiples of its
    /// [`preferred_batch`](crate::LogLikelihood::preferred_batch): a smaller batch costs
    /// the whole group (samplers/README.md, "Slice chains in lockstep").
    pub slice_chains: usize,
    /// Stop after this many iterations in total (not converged); `None` for no limit.
    pub max_iterations: Option<usize>,
    /// Stop after this many likelihood calls in total (not converged); `None` for no limit.
    pub max_calls: Option<u64>,
    /// Give up (`SamplerError::Stalled`) after this many consecutive rejected candidates.
    pub max_rejections: u64,
    /// Periodic checkpoints, for resuming a killed run.
    pub checkpoint: Option<CheckpointSettings>,
    /// Show a progress bar on stderr (only when stderr is a terminal).
    pub progress: bool,
}

impl Default for NestedSettings {
    fn default() -> Self {
        NestedSettings {
            n_live: 500,
            n_live_start: None,
            taper: 5.0,
            restart_on_modes: true,
            dlogz: 0.1,
            method: Method::Auto,
            seed: 0,
            enlarge: 1.25,
            update_interval: None,
            batch_size: 1,
            n_repeats: None,
            step_out: false,
            slice_chains: 1,
            max_iterations: None,
            max_calls: None,
            max_rejections: 10_000_000,
            checkpoint: None,
            progress: false,
        }
    }
}

fn invalid(setting: &str, reason: String) -> SamplerError {
    SamplerError::InvalidSetting {
        setting: setting.into(),
        reason,
    }
}

impl NestedSettings {
    /// Checks the settings for a problem with `d` free dimensions.
    pub fn validate(&self, d: usize) -> Result<(), SamplerError> {
        let method = self.method;
        if self.n_live < d + 1 {
            return Err(invalid(
                "n_live",
                format!(
                    "{} live points cannot span {d} dimensions: use at least d + 1 = {}",
                    self.n_live,
                    d + 1
                ),
            ));
        }
        if method == Method::Rejection && self.n_live < 2 * d {
            return Err(invalid(
                "n_live",
                format!(
                    "rejection sampling fits ellipsoids to the live points and needs at least \
                     2 d = {} of them, got {}",
                    2 * d,
                    self.n_live
                ),
            ));
        }
        if let Some(n0) = self.n_live_start {
            if n0 < self.n_live {
                return Err(invalid(
                    "n_live_start",
                    format!(
                        "must be at least n_live = {} (the taper only removes live points), got {n0}",
                        self.n_live
                    ),
                ));
            }
        }
        if !(self.taper > 0.0 && self.taper.is_finite()) {
            return Err(invalid(
                "taper",
                format!(
                    "must be a positive, finite number of e-folds, got {}",
                    self.taper
                ),
            ));
        }
        if !(self.dlogz > 0.0 && self.dlogz.is_finite()) {
            return Err(invalid(
                "dlogz",
                format!("must be positive and finite, got {}", self.dlogz),
            ));
        }
        if !(self.enlarge >= 1.0 && self.enlarge.is_finite()) {
            return Err(invalid(
                "enlarge",
                format!("must be a finite factor >= 1, got {}", self.enlarge),
            ));
        }
        if self.update_interval == Some(0) {
            return Err(invalid("update_interval", "must be at least 1".into()));
        }
        if self.batch_size == 0 {
            return Err(invalid("batch_size", "must be at least 1".into()));
        }
        if self.slice_chains == 0 {
            return Err(invalid("slice_chains", "must be at least 1".into()));
        }
        if self.n_repeats == Some(0) {
            return Err(invalid("n_repeats", "must be at least 1".into()));
        }
        if self.max_rejections == 0 {
            return Err(invalid("max_rejections", "must be at least 1".into()));
        }
        if let Some(c) = &self.checkpoint {
            if c.every == 0 {
                return Err(invalid("checkpoint.every", "must be at least 1".into()));
            }
        }
        Ok(())
    }

    /// Live points at the start.
    pub fn n_live_start(&self) -> usize {
        self.n_live_start.unwrap_or(self.n_live).max(self.n_live)
    }

    /// The settings a run continues with after a restart for modes that separated at prior
    /// volume `exp(log_x_separated)`: the strong taper ([`restart_taper`]), and no further
    /// restart.
    pub fn restarted(&self, log_x_separated: f64) -> NestedSettings {
        NestedSettings {
            n_live_start: Some(RESTART_LIVE_FACTOR * self.n_live),
            taper: restart_taper(log_x_separated),
            restart_on_modes: false,
            ..self.clone()
        }
    }

    /// Whether a run restarts when the bounds first hold separated modes: rejection or
    /// automatic runs in at most [`RESTART_MAX_FREE`] free dimensions, without a taper of the
    /// user's.
    pub fn restarts_on_modes(&self, d: usize) -> bool {
        self.restart_on_modes
            && self.n_live_start.is_none()
            && self.method != Method::Slice
            && d <= RESTART_MAX_FREE
    }

    /// Live points the taper asks for at prior volume `exp(log_x)`.
    pub fn live_target(&self, log_x: f64) -> usize {
        let extra = (self.n_live_start() - self.n_live) as f64;
        let frac = (1.0 + log_x / self.taper).clamp(0.0, 1.0);
        self.n_live + (extra * frac).round() as usize
    }

    /// Bound refit interval in iterations.
    pub fn update_interval(&self) -> usize {
        self.update_interval.unwrap_or((self.n_live / 10).max(1))
    }

    /// Slice steps per new point in `d` dimensions.
    pub fn n_repeats(&self, d: usize) -> usize {
        self.n_repeats.unwrap_or((3 * d).div_ceil(2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_untapered_rejection_runs_restart_and_only_once() {
        let s = NestedSettings {
            n_live: 100,
            ..Default::default()
        };
        assert!(s.restarts_on_modes(3));
        // Not above RESTART_MAX_FREE, nor for slice sampling.
        assert!(!s.restarts_on_modes(RESTART_MAX_FREE + 1));
        let slice = NestedSettings {
            method: Method::Slice,
            ..s.clone()
        };
        assert!(!slice.restarts_on_modes(3));
        // A taper the user set replaces the restart.
        let tapered = NestedSettings {
            n_live_start: Some(300),
            ..s.clone()
        };
        assert!(!tapered.restarts_on_modes(3));
        let r = s.restarted(-3.0);
        assert_eq!(r.n_live_start(), RESTART_LIVE_FACTOR * 100);
        assert_eq!(r.taper, RESTART_TAPER);
        // Modes that separate late get a taper three times the e-folds they took.
        assert_eq!(s.restarted(-9.5).taper, 28.5);
        assert!(
            !r.restarts_on_modes(3),
            "a restarted run does not restart again"
        );
        assert_eq!(r.live_target(0.0), 800);
        assert_eq!(r.live_target(-RESTART_TAPER), 100);
        r.validate(3).unwrap();
    }

    #[test]
    fn the_taper_is_linear_in_ln_x_from_the_start_to_n_live() {
        let s = NestedSettings {
            n_live: 100,
            n_live_start: Some(900),
            taper: 4.0,
            ..Default::default()
        };
        assert_eq!(s.live_target(0.0), 900);
        assert_eq!(s.live_target(-1.0), 700);
        assert_eq!(s.live_target(-2.0), 500);
        assert_eq!(s.live_target(-4.0), 100);
        assert_eq!(s.live_target(-40.0), 100);
        // No taper: always n_live.
        let s = NestedSettings::default();
        assert_eq!(s.live_target(0.0), s.n_live);
    }

    #[test]
    fn invalid_settings_are_refused_with_the_setting_named() {
        let s = NestedSettings {
            n_live: 3,
            ..Default::default()
        };
        let e = s.validate(5).unwrap_err().to_string();
        assert!(e.contains("n_live") && e.contains("d + 1"), "{e}");
        let s = NestedSettings {
            n_live: 8,
            method: Method::Rejection,
            ..Default::default()
        };
        assert!(s.validate(5).unwrap_err().to_string().contains("2 d"));
        let s = NestedSettings {
            n_live: 8,
            method: Method::Slice,
            ..Default::default()
        };
        assert!(s.validate(5).is_ok());
        for dlogz in [0.0, -1.0, f64::NAN] {
            let s = NestedSettings {
                dlogz,
                ..Default::default()
            };
            assert!(s.validate(2).unwrap_err().to_string().contains("dlogz"));
        }
        let s = NestedSettings {
            n_live: 100,
            n_live_start: Some(50),
            ..Default::default()
        };
        assert!(s
            .validate(2)
            .unwrap_err()
            .to_string()
            .contains("n_live_start"));
        for taper in [0.0, f64::INFINITY] {
            let s = NestedSettings {
                taper,
                ..Default::default()
            };
            assert!(s.validate(2).unwrap_err().to_string().contains("taper"));
        }
        // Auto with fewer than 2 d live points slices only, so it is allowed.
        let s = NestedSettings {
            n_live: 8,
            ..Default::default()
        };
        assert!(s.validate(5).is_ok());
    }
}
