//! The nested-sampling driver (Skilling 2006, Bayesian Analysis 1, 833): kill the worst live
//! point, shrink the prior volume by `exp(-1/n_live)`, replace it by a draw above its
//! likelihood, until the live points cannot change ln Z by more than `dlogz`.

use super::ellipsoid::MultiEllipsoid;
use super::evaluator::Evaluator;
use super::extremes::LiveExtremes;
use super::fingerprint::{Fingerprint, STATE_VERSION};
use super::linalg::{cholesky_jitter, logaddexp, mean_cov};
use super::result::{evidence, NestedResult};
use super::settings::{restart_taper, Method, NestedSettings, RESTART_LIVE_FACTOR};
use super::state::{Points, Restart, State};
use super::{rejection, slice};
use crate::driver::{Driver, ProgressObserver, Resume, Sampler, SamplerState, StopReason};
use crate::error::SamplerError;
use crate::likelihood::LogLikelihood;
use crate::parameters::ParameterSet;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::time::Duration;

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

    /// The run as a state machine, for a [`Driver`] with observers of your own.
    pub fn stepper(&self) -> NestedRun<'_, 'a, L> {
        let d = self.params.n_free();
        NestedRun {
            sampler: self,
            eval: Evaluator::new(self.params, self.likelihood),
            method: self.settings.method,
            interval: self.settings.update_interval,
            n_repeats: self.settings.n_repeats(d),
            // Set for the actual separation when a restart happens (or a resumed state has one).
            restarted: self.settings.restarted(0.0),
            extremes: None,
        }
    }

    /// A driver with the settings' checkpoint and progress bar.
    fn driver(&self) -> Driver<'static, NestedRun<'_, 'a, L>> {
        let mut d = Driver::new(self.stepper());
        if let Some(c) = &self.settings.checkpoint {
            d = d.checkpoint(c.path.clone(), Some(c.every), None);
        }
        if self.settings.progress {
            d = d.observe(ProgressObserver::new("nested sampling", None));
        }
        d
    }

    /// Runs from the start.
    pub fn run(&self) -> Result<NestedResult, SamplerError> {
        Ok(self.driver().run()?.output)
    }

    /// Continues the run saved in the checkpoint file of the settings. With the same seed
    /// and settings the result is identical to that of an uninterrupted run.
    pub fn resume(&self) -> Result<NestedResult, SamplerError> {
        if self.settings.checkpoint.is_none() {
            return Err(SamplerError::InvalidSetting {
                setting: "checkpoint".into(),
                reason: "resume needs the checkpoint path in the settings".into(),
            });
        }
        Ok(self.driver().resume(Resume::Required).run()?.output)
    }

    fn fingerprint(&self) -> Fingerprint {
        Fingerprint::new(
            self.params.names(),
            self.params.n_free(),
            &self.settings,
            self.likelihood.preferred_batch().max(1),
        )
    }
}

/// A nested-sampling run as a [`Sampler`] state machine (from [`NestedSampler::stepper`]):
/// one step kills the worst live point (or all points tied at the minimum) and replaces it.
pub struct NestedRun<'s, 'a, L: ?Sized> {
    sampler: &'s NestedSampler<'a, L>,
    eval: Evaluator<'a, L>,
    method: Method,
    /// The settings' bound refit interval; `None`: see [`NestedRun::interval`].
    interval: Option<usize>,
    n_repeats: usize,
    /// The settings after a restart for separated modes (kept in step with the state's
    /// restart by [`NestedRun::sync_restarted`]: the taper follows where the modes separated).
    restarted: NestedSettings,
    /// The live points' extreme ln L as of the state [`Stamp`]ed with it (rebuilt when the
    /// state is not the one this run left: a resumed or restarted run).
    extremes: Option<(Stamp, LiveExtremes)>,
}

/// What identifies a state between steps for the cached [`LiveExtremes`]: every step adds
/// dead points, so the iteration and calls change with the live points.
type Stamp = (usize, u64, usize);

fn stamp(state: &State) -> Stamp {
    (state.iteration, state.n_calls, state.live.len())
}

impl<L: LogLikelihood + ?Sized> NestedRun<'_, '_, L> {
    /// Iterations between bound refits unless set: `n_live / 10`, or a tenth of the current
    /// live points over [`RESTART_LIVE_FACTOR`] when more, so that a taper from many more
    /// live points than the restart's does not spend its time refitting (at 32,000 live
    /// points, refits every 50 iterations took ~80% of a cheap likelihood's run time). Up to
    /// `RESTART_LIVE_FACTOR * n_live` live points, every default run included, it is
    /// `n_live / 10` as before.
    fn interval(&self, state: &State) -> usize {
        self.interval.unwrap_or_else(|| {
            let base = self.sampler.settings.update_interval();
            base.max(state.live.len() / RESTART_LIVE_FACTOR / 10)
        })
    }

    /// Makes [`Self::settings`] those of `state`'s restart, if it has one (a resumed run
    /// learns it from the state).
    fn sync_restarted(&mut self, state: &State) {
        if let Some(r) = &state.restart {
            if self.restarted.taper != restart_taper(r.log_x) {
                self.restarted = self.sampler.settings.restarted(r.log_x);
            }
        }
    }

    /// The settings in force: the user's, or the strong taper after a restart.
    fn settings(&self, state: &State) -> &NestedSettings {
        if state.restart.is_some() {
            &self.restarted
        } else {
            &self.sampler.settings
        }
    }

    /// `n` uniform draws in the cube, evaluated in one batch, as live points born at `-inf`.
    fn prior_draws(
        &mut self,
        n: usize,
        rng: &mut Xoshiro256PlusPlus,
        n_calls: &mut u64,
    ) -> Result<Points, SamplerError> {
        let d = self.sampler.params.n_free();
        let u: Vec<f64> = (0..n * d).map(|_| rng.random()).collect();
        let (theta, log_l) = self.eval.evaluate(&u, n_calls)?;
        Ok(Points {
            theta: theta.to_vec(),
            log_l: log_l.to_vec(),
            birth: vec![f64::NEG_INFINITY; n],
            u,
            log_dx: Vec::new(),
        })
    }

    /// Starts the run again from new prior draws with the strong taper, keeping the RNG
    /// stream, the calls spent and the modes seen.
    fn restart(&mut self, state: &mut State) -> Result<(), SamplerError> {
        state.restart = Some(Restart {
            log_x: state.log_x,
            iteration: state.iteration,
            n_calls: state.n_calls,
        });
        self.sync_restarted(state);
        let n0 = self.restarted.n_live_start();
        state.live = self.prior_draws(n0, &mut state.rng, &mut state.n_calls)?;
        state.dead = Points::default();
        state.iteration = 0;
        state.log_z = f64::NEG_INFINITY;
        state.log_x = 0.0;
        state.bound = None;
        state.whiten = Vec::new();
        state.last_update = None;
        state.slice_scale = 1.0;
        state.calls_per_accept = 1.0;
        state.queue = Points::default();
        state.slicing = false;
        Ok(())
    }

    /// ln Z the live points could still add (relative to the ln Z so far).
    fn remaining(&self, state: &State) -> f64 {
        let scan = || {
            state
                .live
                .log_l
                .iter()
                .cloned()
                .fold(f64::NEG_INFINITY, f64::max)
        };
        let l_max = match &self.extremes {
            Some((s, e)) if *s == stamp(state) => {
                debug_assert_eq!(e.max(), scan());
                e.max()
            }
            _ => scan(),
        };
        logaddexp(state.log_z, l_max + state.log_x) - state.log_z
    }

    /// Refits the ellipsoids (rejection) or the whitening matrix (slice) to the live points;
    /// both for [`Method::Auto`], which then chooses the move until the next update.
    fn update_bound(&self, state: &mut State) {
        let d = self.sampler.params.n_free();
        let log_enlarge = self.sampler.settings.enlarge.ln();
        if self.method != Method::Rejection {
            let idx: Vec<usize> = (0..state.live.len()).collect();
            let (_, cov) = mean_cov(&state.live.u, d, &idx);
            state.whiten = cholesky_jitter(&cov, d);
        }
        // Auto with fewer than 2 d live points cannot fit ellipsoids: slice sampling only.
        let auto_rejects = self.method == Method::Auto && state.live.len() >= 2 * d;
        if self.method == Method::Slice || (self.method == Method::Auto && !auto_rejects) {
            state.slicing = true;
            // Slice sampling needs no bounds, but the same decomposition of the live points
            // tells whether they have split into separated modes, for the warning. It uses
            // no random numbers, so the run is unchanged; every 4th update, as modes last
            // (each costs about 1 ms at 30-D: 0.15 s in a 5 M-call run).
            if (state.iteration / self.interval(state)).is_multiple_of(4) {
                let modes = MultiEllipsoid::fit(&state.live.u, d, state.log_x, log_enlarge, true)
                    .separated_groups();
                state.max_modes = state.max_modes.max(modes);
            }
        } else {
            let bound = MultiEllipsoid::fit(&state.live.u, d, state.log_x, log_enlarge, true);
            state.max_modes = state.max_modes.max(bound.separated_groups());
            if auto_rejects {
                state.slicing = self.rejection_cost(state, &bound) > self.slice_cost(state);
            }
            state.bound = Some(bound);
        }
        state.last_update = Some(state.iteration);
    }

    /// Expected candidates per new point by rejection from `bound`: the volume it is sampled
    /// from (the union inside the cube) over the contour's expected volume X. The union's
    /// volume is estimated from draws of an RNG of its own, seeded by the iteration, so the
    /// run's stream (and a resumed run) is unchanged.
    fn rejection_cost(&self, state: &State, bound: &MultiEllipsoid) -> f64 {
        let seed = self.sampler.settings.seed ^ (state.iteration as u64).rotate_left(32);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let log_v = bound.log_volume_in_cube(&mut rng, COST_DRAWS);
        (log_v - state.log_x).exp().max(1.0)
    }

    /// Expected calls per new point by slice sampling: the running mean once measured, else
    /// `n_repeats` steps of one call plus the adapted contractions (and with stepping out the
    /// interval's two ends).
    fn slice_cost(&self, state: &State) -> f64 {
        if state.calls_per_slice_point > 0.0 {
            return state.calls_per_slice_point;
        }
        let ends = if self.sampler.settings.step_out {
            2.0
        } else {
            0.0
        };
        self.n_repeats as f64 * (1.0 + slice::SLICE_CONTRACTIONS + ends)
    }
}

/// Draws that estimate the bounds' volume inside the cube for [`Method::Auto`]'s choice:
/// a relative error of 7% where the cube cuts half the bound (binomial), small against the
/// factors between the two moves' costs.
const COST_DRAWS: usize = 200;

impl<L: LogLikelihood + ?Sized> Sampler for NestedRun<'_, '_, L> {
    type State = State;
    type Output = NestedResult;

    fn name(&self) -> &'static str {
        "nested"
    }

    fn fingerprint(&self) -> serde_json::Value {
        let mut v =
            serde_json::to_value(self.sampler.fingerprint()).unwrap_or(serde_json::Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.insert("state_version".into(), STATE_VERSION.into());
        }
        v
    }

    /// `n_live_start` uniform draws in the cube, evaluated in one batch.
    fn init(&mut self) -> Result<State, SamplerError> {
        let n = self.sampler.settings.n_live_start();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.sampler.settings.seed);
        let mut n_calls = 0;
        let live = self.prior_draws(n, &mut rng, &mut n_calls)?;
        Ok(State {
            rng,
            live,
            dead: Points::default(),
            iteration: 0,
            n_calls,
            max_modes: 0,
            restart: None,
            log_z: f64::NEG_INFINITY,
            log_x: 0.0,
            bound: None,
            whiten: Vec::new(),
            last_update: None,
            slice_scale: 1.0,
            calls_per_accept: 1.0,
            queue: Points::default(),
            elapsed: 0.0,
            slicing: false,
            calls_per_slice_point: 0.0,
            n_sliced: 0,
        })
    }

    fn check_state(&self, s: &State) -> Result<(), String> {
        let settings = self.settings(s);
        let (n, d, p) = (
            s.live.len(),
            self.sampler.params.n_free(),
            self.sampler.params.n_params(),
        );
        let most = if settings.restarts_on_modes(d) {
            self.restarted.n_live_start()
        } else {
            settings.n_live_start()
        };
        let consistent = (settings.n_live..=most).contains(&n)
            && s.live.u.len() == n * d
            && s.live.theta.len() == n * p
            && s.live.birth.len() == n
            && s.dead.len() == s.iteration
            && s.dead.theta.len() == s.iteration * p
            && s.dead.birth.len() == s.iteration
            && s.dead.log_dx.len() == s.iteration
            && s.queue.u.len() == s.queue.len() * d
            && s.queue.theta.len() == s.queue.len() * p
            && s.queue.birth.len() == s.queue.len();
        if consistent {
            Ok(())
        } else {
            Err("array lengths are inconsistent (file corrupted?)".into())
        }
    }

    fn terminated(&self, state: &State) -> Option<StopReason> {
        let s = &self.sampler.settings;
        if self.remaining(state) < s.dlogz {
            return Some(StopReason::Converged);
        }
        if s.max_iterations.is_some_and(|m| state.iteration >= m) {
            return Some(StopReason::MaxIterations);
        }
        if s.max_calls.is_some_and(|m| state.n_calls >= m) {
            return Some(StopReason::CallBudget);
        }
        None
    }

    fn step(&mut self, state: &mut State) -> Result<(), SamplerError> {
        let d = self.sampler.params.n_free();
        self.sync_restarted(state);
        if state
            .last_update
            .is_none_or(|u| state.iteration - u >= self.interval(state))
        {
            self.update_bound(state);
            if state.max_modes >= 2
                && state.restart.is_none()
                && self.sampler.settings.restarts_on_modes(d)
            {
                return self.restart(state);
            }
        }
        let sampler = self.sampler;
        let s = &sampler.settings;
        let (n, p) = (state.live.len(), sampler.params.n_params());
        let mut extremes = match self.extremes.take() {
            Some((s, e)) if s == stamp(state) => e,
            _ => LiveExtremes::new(&state.live.log_l),
        };
        debug_assert_eq!(extremes.len(), n);
        let log_l_min = extremes.min();
        // Live points tied at the minimum (a likelihood plateau, typically -inf where the
        // model cannot be evaluated) die together: k of n tied points hold k/n of the
        // volume, not 1 - exp(-k/n) (Fowlie, Handley & Su 2021, MNRAS 503, 1199).
        let mut dying = extremes.argmins();
        debug_assert_eq!(
            dying,
            (0..n)
                .filter(|&i| state.live.log_l[i] == log_l_min)
                .collect::<Vec<_>>()
        );
        let worst = dying[0];
        if dying.len() == n {
            dying = vec![worst]; // a plateau everywhere: no volume information in ties
        }
        let k = dying.len();
        let (log_dx, log_x_next) = if k == 1 {
            // ln(X_i - X_{i+1}) for X_{i+1} = X_i exp(-1/n).
            let log_shrink = (-(-1.0 / n as f64).exp_m1()).ln();
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
        // The taper: while there are more live points than the schedule asks for, the dead
        // leave no replacement.
        let target = self.settings(state).live_target(state.log_x);
        let surplus = n.saturating_sub(target).min(k);
        let (removed, replaced) = dying.split_at(surplus);
        let slicing = match self.method {
            Method::Slice => true,
            Method::Rejection => false,
            Method::Auto => state.slicing,
        };
        for &slot in replaced {
            if state.take_queued(slot, log_l_min, d, p) {
                extremes.set(slot, state.live.log_l[slot]);
                continue;
            }
            if slicing {
                let before = state.n_calls;
                let made =
                    slice::replace(state, &mut self.eval, slot, log_l_min, s, self.n_repeats)?;
                // Calls per point made, into a running mean with the weight of `made` points.
                let used = (state.n_calls - before) as f64 / made as f64;
                if state.n_sliced == 0 {
                    state.calls_per_slice_point = used;
                } else {
                    for _ in 0..made {
                        state.calls_per_slice_point += 0.05 * (used - state.calls_per_slice_point);
                    }
                }
                state.n_sliced += made;
            } else {
                rejection::replace(
                    state,
                    &mut self.eval,
                    slot,
                    log_l_min,
                    s.batch_size,
                    s.max_rejections,
                )?;
            }
            extremes.set(slot, state.live.log_l[slot]);
        }
        let mut removed = removed.to_vec();
        removed.sort_unstable_by(|a, b| b.cmp(a));
        for slot in removed {
            state.live.remove(slot, d, p);
            extremes.swap_remove(slot);
        }
        state.iteration += k;
        self.extremes = Some((stamp(state), extremes));
        Ok(())
    }

    fn status(&self, state: &State) -> String {
        format!(
            "iter {}  ln Z {:.3}  dlogz {:.3} (stop < {})  calls {}  eff {:.1}%",
            state.iteration,
            state.log_z,
            self.remaining(state),
            self.sampler.settings.dlogz,
            state.n_calls,
            100.0 * state.iteration as f64 / state.n_calls.max(1) as f64
        )
    }

    /// Adds the final live points, each with prior mass `X / n_live`, and computes ln Z, H.
    fn finish(&mut self, state: State, stop: StopReason) -> Result<NestedResult, SamplerError> {
        self.sync_restarted(&state);
        let s = self.sampler;
        let (n, p) = (state.live.len(), s.params.n_params());
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
        // The error from the fewest live points the run had (the taper's extra ones sit at
        // large X, where little posterior mass is).
        let (log_z, h, err) = evidence(&[&state.dead, &live], s.settings.n_live);
        Ok(NestedResult {
            log_evidence: log_z,
            log_evidence_err: err,
            information: h,
            n_calls: state.n_calls,
            n_iterations: state.iteration,
            max_modes: state.max_modes,
            wall_time: Duration::from_secs_f64(state.elapsed),
            converged: stop == StopReason::Converged,
            method: self.method,
            n_sliced: state.n_sliced,
            settings: self.settings(&state).clone(),
            restart: state.restart,
            names: s.params.names(),
            latex: s.params.params().iter().map(|q| q.latex.clone()).collect(),
            dead: state.dead,
            live,
        })
    }
}

impl SamplerState for State {
    fn iteration(&self) -> usize {
        self.iteration
    }
    fn n_calls(&self) -> u64 {
        self.n_calls
    }
    fn elapsed(&self) -> f64 {
        self.elapsed
    }
    fn set_elapsed(&mut self, seconds: f64) {
        self.elapsed = seconds;
    }
    fn encode(&self) -> Result<Vec<u8>, SamplerError> {
        serde_json::to_vec(self).map_err(|e| SamplerError::Checkpoint {
            path: String::new(),
            reason: format!("cannot serialise the state: {e}"),
        })
    }
    fn decode(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("not a nested-sampling state ({e})"))
    }
}
