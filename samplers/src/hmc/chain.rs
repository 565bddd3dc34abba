//! One NUTS chain: its position, step size, metric and adaptation state, and its draws.

use super::adapt::{DualAveraging, Welford, Windows};
use super::metric::{Metric, MetricKind};
use super::nuts::{initial_step_size, transition};
use super::target::{Point, Target};
use super::transport::TransportMap;
use crate::error::SamplerError;
use crate::likelihood::GradLogLikelihood;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// Everything of one chain that evolves (and goes into a checkpoint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chain {
    /// The chain's random stream.
    pub rng: Xoshiro256PlusPlus,
    /// Position in the sampler's coordinates: unconstrained `y`, or `z` with `y = T(z)`
    /// once a transport map is fitted.
    #[serde(with = "crate::exact_f64::vec")]
    pub y: Vec<f64>,
    /// `ln p(y)`.
    #[serde(with = "crate::exact_f64::scalar")]
    pub logp: f64,
    /// Its gradient.
    #[serde(with = "crate::exact_f64::vec")]
    pub grad: Vec<f64>,
    /// The log-likelihood at `y`.
    #[serde(with = "crate::exact_f64::scalar")]
    pub log_like: f64,
    /// Current step size.
    #[serde(with = "crate::exact_f64::scalar")]
    pub step_size: f64,
    /// Current metric.
    pub metric: Metric,
    /// Step-size adaptation.
    pub dual: DualAveraging,
    /// Draws of the current metric window.
    pub window: Welford,
    /// Whether the metric is a fitted transport map ([`MetricKind::Transport`]).
    #[serde(default)]
    pub transport: bool,
    /// The current window's draws in `y` (transport metric only), row-major.
    #[serde(default, with = "crate::exact_f64::vec")]
    pub window_draws: Vec<f64>,
    /// The fitted transport map (after the first metric window).
    #[serde(default)]
    pub map: Option<TransportMap>,
    /// Kept draws: every parameter (fixed ones included) in physical units, `n x n_params`.
    #[serde(with = "crate::exact_f64::vec")]
    pub draws: Vec<f64>,
    /// Log-likelihood of each kept draw.
    #[serde(with = "crate::exact_f64::vec")]
    pub draws_log_like: Vec<f64>,
    /// Divergent transitions during warmup and after it.
    pub divergences: [u64; 2],
    /// Kept transitions that hit the depth limit.
    pub max_depth_hits: u64,
    /// Sum of the tree depths of the kept transitions.
    pub depth_sum: u64,
    /// Sum of the acceptance statistics of the kept transitions.
    #[serde(with = "crate::exact_f64::scalar")]
    pub accept_sum: f64,
    /// Gradient evaluations.
    pub n_calls: u64,
}

impl Chain {
    /// A chain at `y0` (evaluated), with the metric `inv_metric` (a covariance of `y`) or
    /// a unit one, and Stan's initial step size.
    pub fn new<L: GradLogLikelihood + ?Sized>(
        target: &mut Target<'_, L>,
        y0: &[f64],
        kind: MetricKind,
        inv_metric: Option<&[f64]>,
        target_accept: f64,
        mut rng: Xoshiro256PlusPlus,
    ) -> Result<Self, SamplerError> {
        let d = y0.len();
        let (metric, map) = match (inv_metric, kind) {
            (None, _) => (Metric::unit(d, kind), None),
            (Some(c), MetricKind::Diag) => {
                (Metric::diag((0..d).map(|i| c[i * d + i]).collect()), None)
            }
            (Some(c), MetricKind::Dense) => (Metric::dense(c.to_vec(), d), None),
            (Some(c), MetricKind::Transport) => {
                (Metric::unit(d, kind), Some(TransportMap::gaussian(y0, c)))
            }
        };
        target.set_map(map.clone());
        let x0 = match &map {
            Some(m) => {
                let mut z = vec![0.0; d];
                m.inverse(y0, &mut z);
                z
            }
            None => y0.to_vec(),
        };
        let point = target.point(&x0)?;
        let eps = initial_step_size(target, &metric, &point, 1.0, &mut rng)?;
        Ok(Chain {
            rng,
            y: point.y,
            logp: point.logp,
            grad: point.grad,
            log_like: point.log_like,
            step_size: eps,
            metric,
            dual: DualAveraging::new(target_accept, eps),
            window: Welford::new(d, kind == MetricKind::Dense),
            transport: kind == MetricKind::Transport,
            window_draws: Vec::new(),
            map,
            draws: Vec::new(),
            draws_log_like: Vec::new(),
            divergences: [0, 0],
            max_depth_hits: 0,
            depth_sum: 0,
            accept_sum: 0.0,
            n_calls: target.n_calls,
        })
    }

    /// Moves the chain to the coordinates of `map` (fitted to the window's draws of every
    /// chain): the same point, re-evaluated (one gradient call), a new initial step size,
    /// and an empty window.
    pub fn adopt_map<L: GradLogLikelihood + ?Sized>(
        &mut self,
        target: &mut Target<'_, L>,
        map: TransportMap,
    ) -> Result<(), SamplerError> {
        let calls_before = target.n_calls;
        target.set_map(self.map.clone());
        let y = target.y_of(&self.y);
        let mut z = vec![0.0; y.len()];
        map.inverse(&y, &mut z);
        target.set_map(Some(map.clone()));
        self.map = Some(map);
        self.window_draws.clear();
        let here = target.point(&z)?;
        self.y = here.y.clone();
        self.logp = here.logp;
        self.grad = here.grad.clone();
        self.log_like = here.log_like;
        self.step_size =
            initial_step_size(target, &self.metric, &here, self.step_size, &mut self.rng)?;
        self.dual.restart(self.step_size);
        self.n_calls += target.n_calls - calls_before;
        Ok(())
    }

    fn point(&self) -> Point {
        Point {
            y: self.y.clone(),
            logp: self.logp,
            grad: self.grad.clone(),
            log_like: self.log_like,
        }
    }

    /// Iteration `i` (0-based, warmup first) of the run.
    pub fn iterate<L: GradLogLikelihood + ?Sized>(
        &mut self,
        target: &mut Target<'_, L>,
        i: usize,
        windows: &Windows,
        max_depth: usize,
    ) -> Result<(), SamplerError> {
        let calls_before = target.n_calls;
        target.set_map(self.map.clone());
        let (next, stats) = transition(
            target,
            &self.metric,
            &self.point(),
            self.step_size,
            max_depth,
            &mut self.rng,
        )?;
        self.y = next.y;
        self.logp = next.logp;
        self.grad = next.grad;
        self.log_like = next.log_like;
        let warmup = windows.warmup;
        if i < warmup {
            self.divergences[0] += u64::from(stats.divergent);
            self.step_size = self.dual.update(stats.accept_stat);
            if windows.in_window(i) {
                if self.transport {
                    self.window_draws.extend(target.y_of(&self.y));
                } else {
                    self.window.add(&self.y);
                }
            }
            // A transport map is fitted to the draws of every chain at once
            // (`NutsRun::step`, then `adopt_map`).
            if !self.transport && windows.window_ends().contains(&i) {
                let est = self.window.regularised();
                let d = self.y.len();
                self.metric = if self.metric.is_dense() {
                    Metric::dense(est, d)
                } else {
                    Metric::diag(est)
                };
                self.window = Welford::new(d, self.metric.is_dense());
                let here = self.point();
                self.step_size =
                    initial_step_size(target, &self.metric, &here, self.step_size, &mut self.rng)?;
                self.dual.restart(self.step_size);
            }
            if i + 1 == warmup {
                self.step_size = self.dual.final_step_size();
            }
        } else {
            self.divergences[1] += u64::from(stats.divergent);
            self.max_depth_hits += u64::from(stats.depth >= max_depth);
            self.depth_sum += stats.depth as u64;
            self.accept_sum += stats.accept_stat;
            let theta = target.theta_of(&self.y).to_vec();
            self.draws.extend(theta);
            self.draws_log_like.push(self.log_like);
        }
        self.n_calls += target.n_calls - calls_before;
        Ok(())
    }
}
