//! The affine-invariant ensemble sampler with the stretch move (Goodman & Weare 2010).

use super::result::EnsembleResult;
use super::settings::{EnsembleSettings, Init, Stop, MIN_STEPS};
use super::state::ChainState;
use crate::diagnostics::ensemble_autocorr_time;
use crate::driver::{Driver, ProgressObserver, Resume, Sampler, StopReason};
use crate::error::SamplerError;
use crate::likelihood::LogLikelihood;
use crate::parameters::ParameterSet;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Steps between convergence checks at step `step`: `check_every` up to `40 check_every`
/// steps, then doubled each time the chain doubles, so checks stay 2.5-5% of the chain
/// apart. Each check transforms every walker's whole history, so a fixed interval would
/// cost O(N^2 log N) over a run of N steps (a quarter of a long emulator run's time); this
/// costs O(N log N). A function of the step alone, so a resumed run checks where the
/// original would.
pub fn check_interval(step: usize, check_every: usize) -> usize {
    let c = check_every.max(1);
    let mut interval = c;
    while step >= 40 * interval {
        interval *= 2;
    }
    interval
}

/// Affine-invariant ensemble MCMC over the free parameters of a [`ParameterSet`].
///
/// Each step updates the two halves of the ensemble in turn with the stretch move of
/// Goodman & Weare (2010, Comm. App. Math. Comp. Sci. 5, 65): walker `x_k` proposes
/// `y = x_j + z (x_k - x_j)` with `x_j` drawn from the other half and `z` from
/// `g(z) ∝ 1/sqrt(z)` on `[1/a, a]`, accepted with probability
/// `min(1, z^(d-1) p(y) / p(x_k))`, where `p` is prior times likelihood. A half-ensemble's
/// proposals go to the likelihood as one batch
/// ([`LogLikelihood::log_likelihood_batch`]), so emulators vectorise and
/// [`Parallel`](crate::Parallel) spreads simulators over threads; proposals outside the prior
/// are rejected without a likelihood call. The batch is fixed by `n_walkers`, so
/// [`LogLikelihood::preferred_batch`] is not used: pick `n_walkers` as twice a multiple of it
/// for the best use of an emulator. The same seed gives the same chain.
///
/// ```
/// use spinflip_samplers::mcmc::{EnsembleSampler, EnsembleSettings, Stop};
/// use spinflip_samplers::{FnLikelihood, ParameterSet, Prior};
///
/// let params = ParameterSet::iid(2, Prior::uniform(-10.0, 10.0).unwrap()).unwrap();
/// let likelihood = FnLikelihood::new(2, |t: &[f64]| -0.5 * (t[0] * t[0] + t[1] * t[1]));
/// let settings = EnsembleSettings {
///     n_walkers: 16,
///     stop: Stop::autocorr(20_000),
///     seed: 1,
///     progress: false,
///     ..Default::default()
/// };
/// let result = EnsembleSampler::new(&params, &likelihood, settings)?.run()?;
/// assert!(result.converged);
/// assert!(result.r_hat.iter().all(|&r| r < 1.05));
/// let posterior = result.posterior();
/// assert!(posterior.mean()[0].abs() < 0.2);
/// # Ok::<(), spinflip_samplers::SamplerError>(())
/// ```
pub struct EnsembleSampler<'a, L: LogLikelihood + ?Sized> {
    params: &'a ParameterSet,
    likelihood: &'a L,
    settings: EnsembleSettings,
}

impl<'a, L: LogLikelihood + ?Sized> EnsembleSampler<'a, L> {
    /// A sampler for `likelihood` over `params`; checks the settings and that the likelihood
    /// takes `params.n_params()` values.
    pub fn new(
        params: &'a ParameterSet,
        likelihood: &'a L,
        settings: EnsembleSettings,
    ) -> Result<Self, SamplerError> {
        if likelihood.n_params() != params.n_params() {
            return Err(SamplerError::Dimension {
                what: "likelihood parameters vs parameter set".into(),
                expected: params.n_params(),
                got: likelihood.n_params(),
            });
        }
        settings.validate(params.n_free())?;
        Ok(EnsembleSampler {
            params,
            likelihood,
            settings,
        })
    }

    /// The settings in use.
    pub fn settings(&self) -> &EnsembleSettings {
        &self.settings
    }

    /// The run as a state machine, for a [`Driver`] with observers of your own.
    pub fn stepper(&self) -> EnsembleRun<'_, 'a, L> {
        EnsembleRun { sampler: self }
    }

    /// Run to the stopping rule (resuming from the checkpoint if asked and present).
    pub fn run(&self) -> Result<EnsembleResult, SamplerError> {
        let mut d = Driver::new(self.stepper());
        if let Some(cp) = &self.settings.checkpoint {
            d = d
                .checkpoint(cp.path.clone(), Some(cp.every), None)
                .resume(if cp.resume {
                    Resume::IfPresent
                } else {
                    Resume::Never
                });
        }
        if self.settings.progress {
            d = d.observe(ProgressObserver::new("mcmc", None));
        }
        Ok(d.run()?.output)
    }

    /// The adaptive stopping rule (emcee documentation): at checks (every `check_every`
    /// steps, sparser on long chains: [`check_interval`]) estimate tau on the whole chain;
    /// converged when the chain is longer than `n_tau` times every tau and no tau moved by
    /// more than `tau_rtol` since the last check.
    fn check_convergence(&self, st: &mut ChainState) -> Result<(), SamplerError> {
        let Stop::AutoCorr {
            check_every,
            n_tau,
            tau_rtol,
            ..
        } = self.settings.stop
        else {
            return Ok(());
        };
        if !st.step.is_multiple_of(check_interval(st.step, check_every)) {
            return Ok(());
        }
        let (w, d) = (self.settings.n_walkers, self.params.n_free());
        let tau = ensemble_autocorr_time(&st.chain, st.step, w, d, self.settings.tau_window)?;
        let long = tau.iter().all(|t| n_tau * t < st.step as f64);
        let stable = st.last_tau.as_ref().is_some_and(|old| {
            old.iter()
                .zip(&tau)
                .all(|(o, t)| (o - t).abs() < tau_rtol * t)
        });
        st.converged = long && stable && st.step >= MIN_STEPS;
        st.last_tau = Some(tau);
        Ok(())
    }

    /// Log posterior and log-likelihood of `n` free-parameter points (row-major). Points
    /// outside the prior get `-inf` without a likelihood call.
    fn evaluate(
        &self,
        free: &[f64],
        log_prob: &mut [f64],
        log_like: &mut [f64],
        n_calls: &mut u64,
    ) -> Result<(), SamplerError> {
        let (d, p) = (self.params.n_free(), self.params.n_params());
        let n = log_prob.len();
        let mut theta = vec![0.0; n * p];
        let mut prior = vec![f64::NEG_INFINITY; n];
        let mut batch = Vec::with_capacity(n * p);
        let mut inside = Vec::with_capacity(n);
        for i in 0..n {
            let t = &mut theta[i * p..(i + 1) * p];
            self.params.embed_free(&free[i * d..(i + 1) * d], t)?;
            prior[i] = self.params.log_prior(t)?;
            if prior[i] > f64::NEG_INFINITY {
                batch.extend_from_slice(t);
                inside.push(i);
            }
        }
        log_prob.fill(f64::NEG_INFINITY);
        log_like.fill(f64::NEG_INFINITY);
        if inside.is_empty() {
            return Ok(());
        }
        let mut out = vec![0.0; inside.len()];
        *n_calls += inside.len() as u64;
        match self.likelihood.log_likelihood_batch(&batch, &mut out) {
            Ok(()) => {}
            // A batch-level recoverable failure rejects the whole batch.
            Err(e) if e.is_recoverable() => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        for (&i, &v) in inside.iter().zip(&out) {
            if v.is_nan() || v == f64::INFINITY {
                return Err(SamplerError::NonFiniteLikelihood {
                    value: v,
                    theta: theta[i * p..(i + 1) * p].to_vec(),
                });
            }
            log_like[i] = v;
            log_prob[i] = prior[i] + v;
        }
        Ok(())
    }

    /// Starting walkers with finite posterior, per [`Init`].
    fn initial_state(&self) -> Result<ChainState, SamplerError> {
        let (w, d) = (self.settings.n_walkers, self.params.n_free());
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.settings.seed);
        let mut pos = vec![0.0; w * d];
        let mut log_prob = vec![f64::NEG_INFINITY; w];
        let mut log_like = vec![f64::NEG_INFINITY; w];
        let mut n_calls = 0;
        let mut theta = vec![0.0; self.params.n_params()];
        let free_idx = self.params.free_indices();
        let mut todo: Vec<usize> = (0..w).collect();
        let max_rounds = match self.settings.init {
            Init::Walkers(_) => 1,
            _ => self.settings.max_init_attempts,
        };
        for _ in 0..max_rounds {
            for &k in &todo {
                let x = &mut pos[k * d..(k + 1) * d];
                match &self.settings.init {
                    Init::Prior => {
                        let cube: Vec<f64> = (0..d).map(|_| rng.random::<f64>()).collect();
                        self.params.prior_transform(&cube, &mut theta)?;
                        for (xi, &j) in x.iter_mut().zip(free_idx) {
                            *xi = theta[j];
                        }
                    }
                    Init::Ball { center, scale } => {
                        for ((xi, c), s) in x.iter_mut().zip(center).zip(scale) {
                            *xi = c + s * rng.sample::<f64, _>(StandardNormal);
                        }
                    }
                    Init::Walkers(given) => x.copy_from_slice(&given[k * d..(k + 1) * d]),
                }
            }
            let pts: Vec<f64> = todo
                .iter()
                .flat_map(|&k| pos[k * d..(k + 1) * d].to_vec())
                .collect();
            let mut lp = vec![0.0; todo.len()];
            let mut ll = vec![0.0; todo.len()];
            self.evaluate(&pts, &mut lp, &mut ll, &mut n_calls)?;
            for (i, &k) in todo.iter().enumerate() {
                log_prob[k] = lp[i];
                log_like[k] = ll[i];
            }
            todo.retain(|&k| log_prob[k] == f64::NEG_INFINITY);
            if todo.is_empty() {
                break;
            }
        }
        if let Some(&k) = todo.first() {
            let how = match self.settings.init {
                Init::Walkers(_) => "the given starting point".to_string(),
                _ => format!("{} draws", self.settings.max_init_attempts),
            };
            return Err(SamplerError::InvalidSetting {
                setting: "init".into(),
                reason: format!(
                    "walker {k} has zero posterior (outside the prior or log-likelihood -inf) after {how}; \
                     move the starting ball/walkers inside the prior where the likelihood is finite"
                ),
            });
        }
        // The stretch move never leaves the affine hull of the walkers.
        for j in 0..d {
            let first = pos[j];
            if (0..w).all(|k| pos[k * d + j] == first) {
                return Err(SamplerError::InvalidSetting {
                    setting: "init".into(),
                    reason: format!(
                        "all walkers share the value {first} of free parameter {j}; the stretch \
                         move cannot leave that hyperplane: spread the starting walkers"
                    ),
                });
            }
        }
        Ok(ChainState {
            step: 0,
            rng,
            n_walkers: w,
            n_dim: d,
            pos,
            log_prob,
            log_like,
            chain: Vec::new(),
            chain_log_prob: Vec::new(),
            chain_log_like: Vec::new(),
            accepted: vec![0; w],
            n_calls,
            last_tau: None,
            converged: false,
            elapsed_s: 0.0,
        })
    }

    /// One ensemble step: both halves updated in turn, then the ensemble recorded.
    fn step(&self, st: &mut ChainState) -> Result<(), SamplerError> {
        let (w, d) = (self.settings.n_walkers, self.params.n_free());
        let a = self.settings.stretch_scale;
        let half = w / 2;
        let mut prop = vec![0.0; half * d];
        let mut z = vec![0.0; half];
        let mut ln_u = vec![0.0; half];
        let mut lp = vec![0.0; half];
        let mut ll = vec![0.0; half];
        for (active, other) in [(0, half), (half, 0)] {
            // All random numbers are drawn before evaluation: the stream never depends on
            // which points the likelihood rejects.
            for i in 0..half {
                let (k, j) = (active + i, other + st.rng.random_range(0..half));
                let u: f64 = st.rng.random();
                // Inverse CDF of g(z) ∝ 1/sqrt(z) on [1/a, a].
                z[i] = ((a - 1.0) * u + 1.0).powi(2) / a;
                ln_u[i] = st.rng.random::<f64>().ln();
                for q in 0..d {
                    let (xk, xj) = (st.pos[k * d + q], st.pos[j * d + q]);
                    prop[i * d + q] = xj + z[i] * (xk - xj);
                }
            }
            self.evaluate(&prop, &mut lp, &mut ll, &mut st.n_calls)?;
            for i in 0..half {
                let k = active + i;
                if lp[i] == f64::NEG_INFINITY {
                    continue;
                }
                let ln_q = (d as f64 - 1.0) * z[i].ln() + lp[i] - st.log_prob[k];
                if ln_u[i] < ln_q {
                    st.pos[k * d..(k + 1) * d].copy_from_slice(&prop[i * d..(i + 1) * d]);
                    st.log_prob[k] = lp[i];
                    st.log_like[k] = ll[i];
                    st.accepted[k] += 1;
                }
            }
        }
        st.chain.extend_from_slice(&st.pos);
        st.chain_log_prob.extend_from_slice(&st.log_prob);
        st.chain_log_like.extend_from_slice(&st.log_like);
        st.step += 1;
        Ok(())
    }
}

/// Layout version of the serialised [`ChainState`]; bump when it changes.
const STATE_VERSION: u32 = 1;

/// An ensemble run as a [`Sampler`] state machine (from [`EnsembleSampler::stepper`]): one
/// step moves both halves of the ensemble and, on the adaptive rule's schedule, re-estimates
/// the autocorrelation time.
pub struct EnsembleRun<'s, 'a, L: LogLikelihood + ?Sized> {
    sampler: &'s EnsembleSampler<'a, L>,
}

impl<L: LogLikelihood + ?Sized> Sampler for EnsembleRun<'_, '_, L> {
    type State = ChainState;
    type Output = EnsembleResult;

    fn name(&self) -> &'static str {
        "ensemble"
    }

    fn fingerprint(&self) -> serde_json::Value {
        let (p, s) = (self.sampler.params, &self.sampler.settings);
        let names: Vec<&str> = p
            .free_indices()
            .iter()
            .map(|&i| p.params()[i].name.as_str())
            .collect();
        serde_json::json!({
            "names": names,
            "n_walkers": s.n_walkers,
            "n_dim": p.n_free(),
            "seed": s.seed,
            "stretch_scale": s.stretch_scale,
            "state_version": STATE_VERSION,
        })
    }

    fn init(&mut self) -> Result<ChainState, SamplerError> {
        self.sampler.initial_state()
    }

    fn check_state(&self, st: &ChainState) -> Result<(), String> {
        let (w, d) = (
            self.sampler.settings.n_walkers,
            self.sampler.params.n_free(),
        );
        if st.n_walkers != w || st.n_dim != d || st.pos.len() != w * d {
            return Err(format!(
                "the state has {} walkers in {} dimensions, this run {w} in {d}",
                st.n_walkers, st.n_dim
            ));
        }
        Ok(())
    }

    fn terminated(&self, st: &ChainState) -> Option<StopReason> {
        let stop = &self.sampler.settings.stop;
        if st.converged {
            return Some(StopReason::Converged);
        }
        if st.step >= stop.max_steps() {
            return Some(match stop {
                Stop::Steps(_) => StopReason::StepsDone,
                Stop::AutoCorr { .. } => StopReason::MaxIterations,
            });
        }
        None
    }

    fn step(&mut self, st: &mut ChainState) -> Result<(), SamplerError> {
        self.sampler.step(st)?;
        self.sampler.check_convergence(st)
    }

    fn status(&self, st: &ChainState) -> String {
        let max = self.sampler.settings.stop.max_steps();
        let tau = st
            .last_tau
            .as_ref()
            .map(|t| t.iter().cloned().fold(0.0, f64::max));
        match (&self.sampler.settings.stop, tau) {
            (Stop::AutoCorr { n_tau, .. }, Some(t)) => format!(
                "step {}/{max}  calls {}  tau_max {t:.1} (stop when < {:.1} and stable)",
                st.step,
                st.n_calls,
                st.step as f64 / n_tau
            ),
            _ => format!("step {}/{max}  calls {}", st.step, st.n_calls),
        }
    }

    fn finish(
        &mut self,
        st: ChainState,
        _stop: StopReason,
    ) -> Result<EnsembleResult, SamplerError> {
        EnsembleResult::from_state(self.sampler.params, &self.sampler.settings, st)
    }
}

#[cfg(test)]
mod tests {
    use super::check_interval;

    #[test]
    fn checks_are_fixed_then_a_few_percent_of_the_chain_apart() {
        assert_eq!(check_interval(100, 100), 100);
        assert_eq!(check_interval(3_999, 100), 100);
        assert_eq!(check_interval(4_000, 100), 200);
        for step in (4_000..2_000_000).step_by(997) {
            let i = check_interval(step, 100);
            let frac = i as f64 / step as f64;
            assert!(frac > 0.025 && frac <= 0.05, "step {step}: interval {i}");
            assert_eq!(i % 100, 0);
        }
        // Checks over a run of N steps number O(log N), not O(N).
        let checks = (1..=1_000_000usize)
            .filter(|&s| s.is_multiple_of(check_interval(s, 100)))
            .count();
        assert!(checks < 20 + 40 * 10, "{checks} checks");
        assert_eq!(check_interval(5, 0), 1);
    }
}
