//! The nested-sampling driver (Skilling 2006, Bayesian Analysis 1, 833): kill the worst live
//! point, shrink the prior volume by `exp(-1/n_live)`, replace it by a draw above its
//! likelihood, until the live points cannot change ln Z by more than `dlogz`.

use super::checkpoint::{self, Fingerprint};
use super::ellipsoid::MultiEllipsoid;
use super::evaluator::Evaluator;
use super::linalg::{cholesky_jitter, logaddexp, mean_cov};
use super::result::{evidence, NestedResult};
use super::settings::{Method, NestedSettings};
use super::state::{Points, State};
use super::{rejection, slice};
use crate::error::SamplerError;
use crate::likelihood::LogLikelihood;
use crate::parameters::ParameterSet;
use crate::progress::Progress;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::time::{Duration, Instant};

/// A nested sampler over the free parameters of a [`ParameterSet`].
///
/// Sampling happens in the unit cube of the free parameters; the likelihood sees `theta`
/// from [`ParameterSet::prior_transform`], fixed parameters included.
///
/// ```
/// use spinflip_samplers::nested::{NestedSampler, NestedSettings};
/// use spinflip_samplers::{FnLikelihood, ParameterSet, Prior};
///
/// // Unit Gaussian in U[-10, 10]^2: Z = 1/400, ln Z = -5.991.
/// let params = ParameterSet::iid(2, Prior::uniform(-10.0, 10.0).unwrap()).unwrap();
/// let like = FnLikelihood::new(2, |t: &[f64]| {
///     -0.5 * (t[0] * t[0] + t[1] * t[1]) - (2.0 * std::f64::consts::PI).ln()
/// });
/// let settings = NestedSettings { n_live: 100, seed: 1, ..Default::default() };
/// let result = NestedSampler::new(&params, &like, settings).unwrap().run().unwrap();
/// let exact = -(400f64).ln();
/// assert!((result.log_evidence - exact).abs() < 4.0 * result.log_evidence_err);
/// let posterior = result.posterior();
/// assert!(posterior.mean()[0].abs() < 0.3);
/// ```
pub struct NestedSampler<'a, L: ?Sized> {
    params: &'a ParameterSet,
    likelihood: &'a L,
    settings: NestedSettings,
}

impl<'a, L: LogLikelihood + ?Sized> NestedSampler<'a, L> {
    /// Checks the dimensions and settings.
    pub fn new(
        params: &'a ParameterSet,
        likelihood: &'a L,
        settings: NestedSettings,
    ) -> Result<Self, SamplerError> {
        if likelihood.n_params() != params.n_params() {
            return Err(SamplerError::Dimension {
                what: "likelihood parameters (n_params of the likelihood vs the parameter set)"
                    .into(),
                expected: params.n_params(),
                got: likelihood.n_params(),
            });
        }
        settings.validate(params.n_free())?;
        Ok(NestedSampler {
            params,
            likelihood,
            settings,
        })
    }

    /// The settings.
    pub fn settings(&self) -> &NestedSettings {
        &self.settings
    }

    /// Runs from the start.
    pub fn run(&self) -> Result<NestedResult, SamplerError> {
        let start = Instant::now();
        let mut eval = Evaluator::new(self.params, self.likelihood);
        let state = self.initial_state(&mut eval)?;
        self.drive(state, &mut eval, start)
    }

    /// Continues the run saved in the checkpoint file of the settings. With the same seed
    /// and settings the result is identical to that of an uninterrupted run.
    pub fn resume(&self) -> Result<NestedResult, SamplerError> {
        let start = Instant::now();
        let path = match &self.settings.checkpoint {
            Some(c) => c.path.clone(),
            None => {
                return Err(SamplerError::InvalidSetting {
                    setting: "checkpoint".into(),
                    reason: "resume needs the checkpoint path in the settings".into(),
                })
            }
        };
        let state = checkpoint::load(&path, &self.fingerprint())?;
        let mut eval = Evaluator::new(self.params, self.likelihood);
        self.drive(state, &mut eval, start)
    }

    fn fingerprint(&self) -> Fingerprint {
        Fingerprint::new(
            self.params.names(),
            self.params.n_free(),
            &self.settings,
            self.likelihood.preferred_batch().max(1),
        )
    }

    /// `n_live` uniform draws in the cube, evaluated in one batch.
    fn initial_state(&self, eval: &mut Evaluator<'_, L>) -> Result<State, SamplerError> {
        let (n, d) = (self.settings.n_live, self.params.n_free());
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.settings.seed);
        let u: Vec<f64> = (0..n * d).map(|_| rng.random()).collect();
        let mut n_calls = 0;
        let (theta, log_l) = eval.evaluate(&u, &mut n_calls)?;
        let live = Points {
            theta: theta.to_vec(),
            log_l: log_l.to_vec(),
            birth: vec![f64::NEG_INFINITY; n],
            u,
            log_dx: Vec::new(),
        };
        Ok(State {
            rng,
            live,
            dead: Points::default(),
            iteration: 0,
            n_calls,
            log_z: f64::NEG_INFINITY,
            log_x: 0.0,
            bound: None,
            whiten: Vec::new(),
            last_update: None,
            slice_scale: 1.0,
            calls_per_accept: 1.0,
            elapsed: 0.0,
        })
    }

    fn drive(
        &self,
        mut state: State,
        eval: &mut Evaluator<'_, L>,
        session_start: Instant,
    ) -> Result<NestedResult, SamplerError> {
        let s = &self.settings;
        let (n, d, p) = (s.n_live, self.params.n_free(), self.params.n_params());
        let method = s.method.resolve(d);
        let fingerprint = self.fingerprint();
        let interval = s.update_interval();
        let n_repeats = s.n_repeats(d);
        // ln(X_i - X_{i+1}) - ln X_i for X_i = exp(-i / n).
        let log_shrink = (-(-1.0 / n as f64).exp_m1()).ln();
        let base_elapsed = state.elapsed;
        let progress = Progress::new(s.progress, "nested sampling");
        let converged = loop {
            let l_max = state
                .live
                .log_l
                .iter()
                .cloned()
                .fold(f64::NEG_INFINITY, f64::max);
            let remaining = logaddexp(state.log_z, l_max + state.log_x) - state.log_z;
            if remaining < s.dlogz {
                break true;
            }
            if s.max_iterations.is_some_and(|m| state.iteration >= m)
                || s.max_calls.is_some_and(|m| state.n_calls >= m)
            {
                break false;
            }
            if state
                .last_update
                .is_none_or(|u| state.iteration - u >= interval)
            {
                self.update_bound(&mut state, method, d);
            }

            let worst = argmin(&state.live.log_l);
            let log_l_min = state.live.log_l[worst];
            // Live points tied at the minimum (a likelihood plateau, typically -inf where
            // the model cannot be evaluated) die together: k of n tied points hold k/n of
            // the volume, not 1 - exp(-k/n) (Fowlie, Handley & Su 2021, MNRAS 503, 1199).
            let mut dying: Vec<usize> = (0..n)
                .filter(|&i| state.live.log_l[i] == log_l_min)
                .collect();
            if dying.len() == n {
                dying = vec![worst]; // a plateau everywhere: no volume information in ties
            }
            let k = dying.len();
            let (log_dx, log_x_next) = if k == 1 {
                (state.log_x + log_shrink, state.log_x - 1.0 / n as f64)
            } else {
                (
                    state.log_x - (n as f64).ln(),
                    state.log_x + ((n - k) as f64 / n as f64).ln(),
                )
            };
            for &i in &dying {
                state
                    .dead
                    .theta
                    .extend_from_slice(&state.live.theta[i * p..(i + 1) * p]);
                state.dead.log_l.push(log_l_min);
                state.dead.birth.push(state.live.birth[i]);
                state.dead.log_dx.push(log_dx);
                state.log_z = logaddexp(state.log_z, log_l_min + log_dx);
            }
            state.log_x = log_x_next;

            for &slot in &dying {
                match method {
                    Method::Slice => slice::replace(
                        &mut state,
                        eval,
                        slot,
                        log_l_min,
                        n_repeats,
                        s.max_rejections,
                    )?,
                    _ => rejection::replace(
                        &mut state,
                        eval,
                        slot,
                        log_l_min,
                        s.batch_size,
                        s.max_rejections,
                    )?,
                }
            }
            let before = state.iteration;
            state.iteration += k;
            let crossed = |every: usize| state.iteration / every != before / every;

            if let Some(c) = &s.checkpoint {
                if crossed(c.every) {
                    state.elapsed = base_elapsed + session_start.elapsed().as_secs_f64();
                    checkpoint::save(&c.path, &fingerprint, &state)?;
                }
            }
            if progress.is_visible() && crossed(100) {
                progress.set_message(format!(
                    "iter {}  ln Z {:.3}  dlogz {:.3} (stop < {})  calls {}  eff {:.1}%",
                    state.iteration,
                    state.log_z,
                    remaining,
                    s.dlogz,
                    state.n_calls,
                    100.0 * state.iteration as f64 / state.n_calls.max(1) as f64
                ));
            }
        };
        progress.finish();
        state.elapsed = base_elapsed + session_start.elapsed().as_secs_f64();
        if let Some(c) = &s.checkpoint {
            checkpoint::save(&c.path, &fingerprint, &state)?;
        }
        Ok(self.finish(state, method, converged))
    }

    /// Refits the ellipsoids (rejection) or the whitening matrix (slice) to the live points.
    fn update_bound(&self, state: &mut State, method: Method, d: usize) {
        if method == Method::Slice {
            let idx: Vec<usize> = (0..state.live.len()).collect();
            let (_, cov) = mean_cov(&state.live.u, d, &idx);
            state.whiten = cholesky_jitter(&cov, d);
        } else {
            state.bound = Some(MultiEllipsoid::fit(
                &state.live.u,
                d,
                state.log_x,
                self.settings.enlarge.ln(),
                true,
            ));
        }
        state.last_update = Some(state.iteration);
    }

    /// Adds the final live points, each with prior mass `X / n_live`, and computes ln Z, H.
    fn finish(&self, state: State, method: Method, converged: bool) -> NestedResult {
        let (n, p) = (self.settings.n_live, self.params.n_params());
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| state.live.log_l[a].total_cmp(&state.live.log_l[b]));
        let log_dx = state.log_x - (n as f64).ln();
        let mut live = Points::default();
        for &i in &order {
            live.theta
                .extend_from_slice(&state.live.theta[i * p..(i + 1) * p]);
            live.log_l.push(state.live.log_l[i]);
            live.birth.push(state.live.birth[i]);
            live.log_dx.push(log_dx);
        }
        let (log_z, h, err) = evidence(&[&state.dead, &live], n);
        NestedResult {
            log_evidence: log_z,
            log_evidence_err: err,
            information: h,
            n_calls: state.n_calls,
            n_iterations: state.iteration,
            wall_time: Duration::from_secs_f64(state.elapsed),
            converged,
            method,
            settings: self.settings.clone(),
            names: self.params.names(),
            latex: self
                .params
                .params()
                .iter()
                .map(|q| q.latex.clone())
                .collect(),
            dead: state.dead,
            live,
        }
    }
}

/// Index of the smallest value (the first one on ties).
fn argmin(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x < v[best] {
            best = i;
        }
    }
    best
}
