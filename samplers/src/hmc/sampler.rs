//! The NUTS sampler over the free parameters of a [`ParameterSet`], several chains in
//! parallel, as a [`Sampler`] state machine for the [`Driver`].

use super::adapt::Windows;
use super::chain::Chain;
use super::metric::MetricKind;
use super::result::NutsResult;
use super::settings::NutsSettings;
use super::state::{NutsState, STATE_VERSION};
use super::target::Target;
use super::transport::{MapDegree, TransportMap};
use crate::driver::{Driver, ProgressObserver, Sampler, StopReason};
use crate::error::SamplerError;
use crate::likelihood::GradLogLikelihood;
use crate::parameters::ParameterSet;
use crate::transform::Unconstrained;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

/// The No-U-Turn Sampler (Hoffman & Gelman 2014) with Stan's warmup, over a likelihood with
/// gradients; each prior's support is mapped to the real line ([`crate::transform`]) so no
/// step leaves the prior.
///
/// ```
/// use spinflip_samplers::hmc::{NutsSampler, NutsSettings};
/// use spinflip_samplers::{GradLogLikelihood, LikelihoodError, LogLikelihood, ParameterSet, Prior};
///
/// /// A unit Gaussian at (1, -1).
/// struct G;
/// impl LogLikelihood for G {
///     fn n_params(&self) -> usize { 2 }
///     fn log_likelihood(&self, t: &[f64]) -> Result<f64, LikelihoodError> {
///         Ok(-0.5 * ((t[0] - 1.0).powi(2) + (t[1] + 1.0).powi(2)))
///     }
/// }
/// impl GradLogLikelihood for G {
///     fn log_likelihood_and_gradient(&self, t: &[f64], g: &mut [f64]) -> Result<f64, LikelihoodError> {
///         g[0] = -(t[0] - 1.0);
///         g[1] = -(t[1] + 1.0);
///         self.log_likelihood(t)
///     }
/// }
/// let params = ParameterSet::iid(2, Prior::uniform(-10.0, 10.0).unwrap()).unwrap();
/// let settings = NutsSettings { n_chains: 2, n_warmup: 300, n_samples: 500, seed: 3, ..Default::default() };
/// let r = NutsSampler::new(&params, &G, settings)?.run()?;
/// let mean = r.posterior().mean();
/// assert!((mean[0] - 1.0).abs() < 0.2 && (mean[1] + 1.0).abs() < 0.2);
/// assert!(r.r_hat.iter().all(|&x| x < 1.05));
/// # Ok::<(), spinflip_samplers::SamplerError>(())
/// ```
pub struct NutsSampler<'a, L: ?Sized> {
    params: &'a ParameterSet,
    likelihood: &'a L,
    settings: NutsSettings,
    unc: Unconstrained,
}

impl<'a, L: GradLogLikelihood + Sync + ?Sized> NutsSampler<'a, L> {
    /// Checks the dimensions and settings.
    pub fn new(
        params: &'a ParameterSet,
        likelihood: &'a L,
        settings: NutsSettings,
    ) -> Result<Self, SamplerError> {
        if likelihood.n_params() != params.n_params() {
            return Err(SamplerError::Dimension {
                what: "likelihood parameters vs parameter set".into(),
                expected: params.n_params(),
                got: likelihood.n_params(),
            });
        }
        if params.n_free() == 0 {
            return Err(SamplerError::InvalidSetting {
                setting: "params".into(),
                reason: "every parameter is fixed: nothing to sample".into(),
            });
        }
        settings.validate(params.n_params())?;
        settings.validate_inv_metric(params.n_free())?;
        Ok(NutsSampler {
            params,
            likelihood,
            settings,
            unc: Unconstrained::new(params),
        })
    }

    /// The settings.
    pub fn settings(&self) -> &NutsSettings {
        &self.settings
    }

    /// The run as a state machine, for a [`Driver`] with observers of your own.
    pub fn stepper(&self) -> NutsRun<'_, 'a, L> {
        NutsRun { sampler: self }
    }

    /// Run warmup and sampling.
    pub fn run(&self) -> Result<NutsResult, SamplerError> {
        let mut d = Driver::new(self.stepper());
        if self.settings.progress {
            d = d.observe(ProgressObserver::new("nuts", None));
        }
        Ok(d.run()?.output)
    }
}

/// A NUTS run as a [`Sampler`] (from [`NutsSampler::stepper`]): one step is one iteration
/// of every chain, the chains in parallel (each with its own random stream, so the result
/// does not depend on the number of threads).
pub struct NutsRun<'s, 'a, L: ?Sized> {
    sampler: &'s NutsSampler<'a, L>,
}

impl<L: GradLogLikelihood + Sync + ?Sized> Sampler for NutsRun<'_, '_, L> {
    type State = NutsState;
    type Output = NutsResult;

    fn name(&self) -> &'static str {
        "nuts"
    }

    fn fingerprint(&self) -> serde_json::Value {
        let s = &self.sampler.settings;
        let mut f = serde_json::json!({
            "names": self.sampler.params.names(),
            "n_free": self.sampler.params.n_free(),
            "n_chains": s.n_chains,
            "n_warmup": s.n_warmup,
            "target_accept": s.target_accept,
            "max_depth": s.max_depth,
            "metric": s.metric,
            "seed": s.seed,
            "init": s.init,
            "state_version": STATE_VERSION,
        });
        // Only when set, so that checkpoints of runs without it still resume.
        if let Some(c) = &s.init_inv_metric {
            f["init_inv_metric"] = serde_json::json!(c);
        }
        f
    }

    fn init(&mut self) -> Result<NutsState, SamplerError> {
        let s = &self.sampler.settings;
        let d = self.sampler.unc.dim();
        let mut base = Xoshiro256PlusPlus::seed_from_u64(s.seed);
        let mut chains = Vec::with_capacity(s.n_chains);
        for k in 0..s.n_chains {
            // Chain k's stream: the seed's stream jumped k times (2^128 draws apart).
            let mut rng = base.clone();
            base.jump();
            let mut target = Target::new(self.sampler.likelihood, &self.sampler.unc);
            let y0 = match &s.init {
                Some(theta) => self.sampler.unc.to_y(theta),
                None => {
                    let mut y = vec![0.0; d];
                    let mut found = false;
                    for _ in 0..100 {
                        y.iter_mut().for_each(|v| *v = rng.random_range(-2.0..2.0));
                        if target.point(&y)?.logp.is_finite() {
                            found = true;
                            break;
                        }
                    }
                    if !found {
                        return Err(SamplerError::InvalidSetting {
                            setting: "init".into(),
                            reason: format!(
                                "chain {k}: no point with a finite posterior in 100 random starts; \
                                 give a starting point (init)"
                            ),
                        });
                    }
                    y
                }
            };
            let chain = Chain::new(
                &mut target,
                &y0,
                s.metric,
                s.init_inv_metric.as_deref(),
                s.target_accept,
                rng,
            )?;
            if !chain.logp.is_finite() {
                return Err(SamplerError::InvalidSetting {
                    setting: "init".into(),
                    reason: format!("chain {k} starts where the posterior is zero"),
                });
            }
            chains.push(chain);
        }
        Ok(NutsState {
            chains,
            iteration: 0,
            elapsed: 0.0,
        })
    }

    fn check_state(&self, st: &NutsState) -> Result<(), String> {
        let (k, d) = (self.sampler.settings.n_chains, self.sampler.unc.dim());
        if st.chains.len() != k || st.chains.iter().any(|c| c.y.len() != d) {
            return Err(format!(
                "the state has {} chains of dimension {:?}, this run {k} of {d}",
                st.chains.len(),
                st.chains.first().map(|c| c.y.len())
            ));
        }
        Ok(())
    }

    fn terminated(&self, st: &NutsState) -> Option<StopReason> {
        let s = &self.sampler.settings;
        (st.iteration >= s.n_warmup + s.n_samples).then_some(StopReason::StepsDone)
    }

    fn step(&mut self, st: &mut NutsState) -> Result<(), SamplerError> {
        let s = &self.sampler.settings;
        let windows = Windows::new(s.n_warmup);
        let i = st.iteration;
        let (like, unc) = (self.sampler.likelihood, &self.sampler.unc);
        st.chains.par_iter_mut().try_for_each(|c| {
            let mut target = Target::new(like, unc);
            c.iterate(&mut target, i, &windows, s.max_depth)
        })?;
        if s.metric == MetricKind::Transport && windows.window_ends().contains(&i) {
            // One map from the window's draws of every chain: four chains' draws support a
            // richer map one window earlier than one chain's.
            let d = unc.dim();
            let pooled: Vec<f64> = st
                .chains
                .iter()
                .flat_map(|c| c.window_draws.iter().copied())
                .collect();
            let map = TransportMap::fit(&pooled, d, MapDegree::Nonlinear);
            // Too few draws for the current map's couplings (the first window after a
            // Laplace start): keep it.
            let current = st.chains[0].map.as_ref().map(|m| m.degree());
            if current.is_none_or(|c| map.degree() >= c) {
                st.chains.par_iter_mut().try_for_each(|c| {
                    let mut target = Target::new(like, unc);
                    c.adopt_map(&mut target, map.clone())
                })?;
            } else {
                st.chains.iter_mut().for_each(|c| c.window_draws.clear());
            }
        }
        st.iteration += 1;
        Ok(())
    }

    fn status(&self, st: &NutsState) -> String {
        let s = &self.sampler.settings;
        let div: u64 = st.chains.iter().map(|c| c.divergences[1]).sum();
        let eps: Vec<String> = st
            .chains
            .iter()
            .map(|c| format!("{:.2e}", c.step_size))
            .collect();
        format!(
            "iteration {}/{} ({})  step sizes {}  divergences {div}",
            st.iteration,
            s.n_warmup + s.n_samples,
            if st.iteration < s.n_warmup {
                "warmup"
            } else {
                "sampling"
            },
            eps.join(" ")
        )
    }

    fn finish(&mut self, st: NutsState, _stop: StopReason) -> Result<NutsResult, SamplerError> {
        NutsResult::from_state(self.sampler.params, &self.sampler.settings, st)
    }
}
