//! Everything a run needs to continue: live and dead points, counters, bounds, the RNG.
//! Serialised whole into checkpoints, so a resumed run is bit-identical to an uninterrupted one.

use super::ellipsoid::MultiEllipsoid;
use crate::exact_f64;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// Points with their log-likelihoods and birth contours, row-major.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Points {
    /// Unit-cube coordinates, `n_free` per point (live points during a run; empty in results).
    #[serde(with = "exact_f64::vec")]
    pub u: Vec<f64>,
    /// Physical parameters, `n_params` per point (fixed ones included).
    #[serde(with = "exact_f64::vec")]
    pub theta: Vec<f64>,
    /// Log-likelihood of each point.
    #[serde(with = "exact_f64::vec")]
    pub log_l: Vec<f64>,
    /// Likelihood contour the point was drawn above (`-inf` for the initial prior draws).
    #[serde(with = "exact_f64::vec")]
    pub birth: Vec<f64>,
    /// Log of the prior mass assigned to each dead point (empty for live points).
    #[serde(with = "exact_f64::vec")]
    pub log_dx: Vec<f64>,
}

impl Points {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.log_l.len()
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.log_l.is_empty()
    }

    /// Removes live point `i` (`d` cube and `p` physical coordinates per point), moving the
    /// last point into its place.
    pub fn remove(&mut self, i: usize, d: usize, p: usize) {
        let last = self.len() - 1;
        fn swap_remove_row(v: &mut Vec<f64>, i: usize, last: usize, w: usize) {
            if w == 0 || v.is_empty() {
                return;
            }
            if i != last {
                let (head, tail) = v.split_at_mut(last * w);
                head[i * w..(i + 1) * w].copy_from_slice(&tail[..w]);
            }
            v.truncate(last * w);
        }
        swap_remove_row(&mut self.u, i, last, d);
        swap_remove_row(&mut self.theta, i, last, p);
        self.log_l.swap_remove(i);
        self.birth.swap_remove(i);
        if self.log_dx.len() > i {
            self.log_dx.swap_remove(i);
        }
    }
}

/// Where the first attempt of a run restarted for separated modes stood when it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Restart {
    /// Expected ln X when the bounds first held separated modes.
    #[serde(with = "exact_f64::scalar")]
    pub log_x: f64,
    /// Iterations of the first attempt.
    pub iteration: usize,
    /// Likelihood calls of the first attempt (included in the run's total).
    pub n_calls: u64,
}

/// The state of a run between two iterations.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// The random number generator.
    pub rng: Xoshiro256PlusPlus,
    /// Live points.
    pub live: Points,
    /// Dead points in death order.
    pub dead: Points,
    /// Iterations done (= number of dead points).
    pub iteration: usize,
    /// Most groups of bounding ellipsoids certainly apart from each other at one refit:
    /// separated modes the run saw (0 in checkpoints from before it was tracked).
    #[serde(default)]
    pub max_modes: usize,
    /// Set when the run started again for separated modes
    /// ([`restart_on_modes`](super::NestedSettings::restart_on_modes)).
    #[serde(default)]
    pub restart: Option<Restart>,
    /// Likelihood calls spent.
    pub n_calls: u64,
    /// ln Z accumulated from the dead points.
    #[serde(with = "exact_f64::scalar")]
    pub log_z: f64,
    /// Expected ln of the prior volume inside the current contour.
    #[serde(with = "exact_f64::scalar")]
    pub log_x: f64,
    /// Bounding ellipsoids (rejection sampling).
    pub bound: Option<MultiEllipsoid>,
    /// Cholesky factor of the live points' covariance (slice sampling).
    #[serde(with = "exact_f64::vec")]
    pub whiten: Vec<f64>,
    /// Iteration of the last bound/whitening update.
    pub last_update: Option<usize>,
    /// Slice width multiplier, adapted so that expansions and contractions balance.
    #[serde(with = "exact_f64::scalar")]
    pub slice_scale: f64,
    /// Wall time spent before the current session, seconds.
    pub elapsed: f64,
    /// Running mean of the candidates evaluated per new live point (rejection sampling);
    /// sets the adaptive batch size.
    #[serde(default = "one")]
    pub calls_per_accept: f64,
    /// Points drawn above the bound and not needed then, in order (`birth` holds the contour
    /// they were drawn above): candidates of earlier rejection batches, and the ends of
    /// slice chains run in lockstep with the one that replaced a dead point. Each is a draw
    /// inside that contour, so once above a later contour it is one inside the later
    /// contour too: used before new draws (dynesty's queue does the same).
    #[serde(default)]
    pub queue: Points,
    /// [`Method::Auto`](super::Method::Auto): whether new points are slice sampled until the
    /// next bound update (chosen at each update by the predicted calls per point).
    #[serde(default)]
    pub slicing: bool,
    /// Running mean of the likelihood calls per slice-sampled point (0 before the first).
    #[serde(default, with = "exact_f64::scalar")]
    pub calls_per_slice_point: f64,
    /// New points drawn by slice sampling (the others by rejection; chains run in lockstep
    /// count one each, whether or not their point is used later).
    #[serde(default)]
    pub n_sliced: usize,
}

impl State {
    /// Moves the first queued point above `log_l_min` into live point `slot` (born at
    /// `log_l_min`; `d` cube and `p` physical coordinates per point) and drops the queue up
    /// to it, or the whole queue when none is above. Whether a point was taken.
    pub fn take_queued(&mut self, slot: usize, log_l_min: f64, d: usize, p: usize) -> bool {
        let q = &mut self.queue;
        let Some(k) = q.log_l.iter().position(|&v| v > log_l_min) else {
            *q = Default::default();
            return false;
        };
        let live = &mut self.live;
        live.u[slot * d..(slot + 1) * d].copy_from_slice(&q.u[k * d..(k + 1) * d]);
        live.theta[slot * p..(slot + 1) * p].copy_from_slice(&q.theta[k * p..(k + 1) * p]);
        live.log_l[slot] = q.log_l[k];
        live.birth[slot] = log_l_min;
        q.u.drain(..(k + 1) * d);
        q.theta.drain(..(k + 1) * p);
        q.log_l.drain(..=k);
        q.birth.drain(..=k);
        true
    }
}

fn one() -> f64 {
    1.0
}
