//! `spinflip fit`: run a sampler on a [`Problem`], write chains, a JSON summary and plots.

pub mod bench;
mod summary;

pub use summary::{FitSummary, Log10Stats, ParamFit, INTERVAL_KIND};

use crate::config::{RunConfig, SamplerKind};
use crate::problem::Problem;
use crate::SpinflipError;
use spinflip_samplers::driver::{
    interrupt_flag, ChainWriter, Driver, Outcome, ProgressObserver, Resume, Sampler, Start,
    StopReason, WriteChains,
};
use spinflip_samplers::hmc::{NutsSampler, NutsSettings};
use spinflip_samplers::map::{find_map, MapResult, MapSettings};
use spinflip_samplers::mcmc::{EnsembleSampler, EnsembleSettings, Stop};
use spinflip_samplers::nested::{NestedSampler, NestedSettings};
use spinflip_samplers::output::with_suffix;
use spinflip_samplers::WeightedSamples;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a fit produced.
pub struct FitOutcome {
    /// The summary written to `root_fit.json`.
    pub summary: FitSummary,
    /// The weighted posterior samples.
    pub posterior: WeightedSamples,
    /// Why the sampler stopped.
    pub stop: StopReason,
    /// Whether the run started fresh or resumed a checkpoint.
    pub start: Start,
}

/// The checkpoint file of a fit: `root.checkpoint` (every sampler, one convention).
pub fn checkpoint_path(root: &Path) -> PathBuf {
    with_suffix(root, ".checkpoint")
}

/// Wall time between periodic checkpoints unless `[sampler] checkpoint_seconds` says
/// otherwise: a killed run loses at most this much work, and runs shorter than this write
/// a checkpoint only when they stop.
pub const DEFAULT_CHECKPOINT_SECONDS: f64 = 10.0;

/// The files a fit writes under its root (chains, summaries, plots), removed before a fresh
/// run so that nothing stale looks current.
pub const RESULT_SUFFIXES: [&str; 9] = [
    ".txt",
    "_dead-birth.txt",
    "_phys_live-birth.txt",
    ".paramnames",
    ".stats",
    ".json",
    "_fit.json",
    "_corner.png",
    "_predictive.png",
];

/// Run the sampler the configuration asks for on `problem` and write every output under
/// `cfg.output.root`.
///
/// The run checkpoints to `root.checkpoint` (every `[sampler] checkpoint_every` iterations
/// and every `checkpoint_seconds`), stops at the next step when the process-wide
/// [`interrupt_flag`] is raised (Ctrl-C in `spinflip fit`), and resumes from an unfinished
/// checkpoint of the same run when started again (a checkpoint of another run is refused;
/// `[sampler] resume = true` requires one). Results are written only when the run ends
/// (not when interrupted), and the checkpoint is removed once they are.
pub fn run_fit(
    cfg: &RunConfig,
    problem: &Problem,
    quiet: bool,
) -> Result<FitOutcome, SpinflipError> {
    let root = cfg.output.root.as_path();
    spinflip_samplers::output::ensure_parent(root)?;
    let s = &cfg.sampler;
    let progress = !(quiet || s.quiet);
    let mut notes: Vec<String> = problem.prior_cuts.iter().map(|c| c.message()).collect();
    let mut ess_min: Option<f64> = None;
    let min_of = |v: &[f64]| v.iter().cloned().fold(f64::INFINITY, f64::min);
    let (posterior, log_z, n_calls, wall, sampler_name, stop, start) = match s.kind {
        SamplerKind::Nested => {
            let mut settings = NestedSettings {
                seed: s.seed,
                ..Default::default()
            };
            if let Some(n) = s.n_live {
                settings.n_live = n;
            }
            if let Some(d) = s.dlogz {
                settings.dlogz = d;
            }
            settings.n_live_start = s.n_live_start;
            settings.n_repeats = s.n_repeats;
            if let Some(b) = s.step_out {
                settings.step_out = b;
            }
            if let Some(k) = s.slice_chains {
                settings.slice_chains = k;
            }
            if let Some(m) = s.method {
                settings.method = m;
            }
            if let Some(t) = s.taper {
                settings.taper = t;
            }
            if let Some(r) = s.restart_on_modes {
                settings.restart_on_modes = r;
            }
            settings.batch_size = s
                .batch_size
                .unwrap_or_else(|| problem.kind.preferred_batch());
            let sampler = NestedSampler::new(&problem.params, problem, settings)?;
            let o = drive(cfg, problem, sampler.stepper(), "nested sampling", progress)?;
            let r = &o.output;
            ess_min = Some(r.posterior().effective_sample_size());
            notes.extend(r.warnings());
            (
                r.posterior(),
                Some((r.log_evidence, r.log_evidence_err)),
                r.n_calls,
                r.wall_time.as_secs_f64(),
                "nested",
                o.stop,
                o.start,
            )
        }
        SamplerKind::Ensemble => {
            let n_free = problem.params.n_free();
            let mut settings = EnsembleSettings {
                seed: s.seed,
                n_walkers: s
                    .n_walkers
                    .unwrap_or((4 * n_free).max(32).next_multiple_of(2)),
                ..Default::default()
            };
            if let Some(n) = s.n_steps {
                settings.stop = Stop::Steps(n);
            } else if let Some(m) = s.max_steps {
                settings.stop = Stop::autocorr(m);
            }
            let sampler = EnsembleSampler::new(&problem.params, problem, settings)?;
            let o = drive(cfg, problem, sampler.stepper(), "ensemble mcmc", progress)?;
            let r = &o.output;
            ess_min = Some(min_of(&r.effective_sample_size));
            (
                r.posterior(),
                None,
                r.n_calls,
                r.wall_time_s,
                "ensemble",
                o.stop,
                o.start,
            )
        }
        SamplerKind::Nuts => {
            // Chains start at the mode of the unconstrained density (inside the prior even
            // where the physical MAP sits on a bound): warmup then adapts instead of searching.
            let t0 = std::time::Instant::now();
            let map = find_map(
                &problem.params,
                problem,
                &MapSettings {
                    unconstrained: true,
                    ..map_settings(s)
                },
            )?;
            let map_calls = map.n_calls;
            // The Laplace covariance there is the first metric: with a unit one, the first
            // iterations on parameters of very different widths cost hundreds of steps each.
            let mut settings = NutsSettings {
                seed: s.seed,
                init: Some(map.theta),
                init_inv_metric: map.covariance_unconstrained,
                ..Default::default()
            };
            if let Some(n) = s.n_chains {
                settings.n_chains = n;
            }
            if let Some(n) = s.n_warmup {
                settings.n_warmup = n;
            }
            if let Some(n) = s.n_samples {
                settings.n_samples = n;
            }
            if let Some(a) = s.target_accept {
                settings.target_accept = a;
            }
            if let Some(m) = s.metric {
                settings.metric = m;
            }
            let sampler = NutsSampler::new(&problem.params, problem, settings)?;
            let o = drive(cfg, problem, sampler.stepper(), "nuts", progress)?;
            let r = &o.output;
            ess_min = Some(min_of(&r.ess_bulk));
            let div = r.total_divergences();
            if div > 0 {
                notes.push(format!(
                    "{div} divergent transitions after warmup: the posterior may be biased where \
                     they happened; raise [sampler] target_accept toward 0.95. If they persist, \
                     a parameter may set other parameters' widths (a funnel): no metric, the \
                     transport map included, follows its neck; fit the non-centred form"
                ));
            }
            if r.r_hat.iter().any(|&x| x > 1.01) {
                notes.push(format!(
                    "R-hat above 1.01 ({:?}): the chains disagree; run more samples",
                    r.r_hat
                ));
            }
            (
                r.posterior(),
                None,
                r.n_calls + map_calls,
                t0.elapsed().as_secs_f64(),
                "nuts",
                o.stop,
                o.start,
            )
        }
        SamplerKind::Map => {
            let t0 = std::time::Instant::now();
            let map = find_map(&problem.params, problem, &map_settings(s))?;
            remove_results(root)?;
            let json = serde_json::to_vec_pretty(&map)
                .map_err(|e| SpinflipError::config("map", e.to_string()))?;
            let path = with_suffix(root, "_map.json");
            spinflip_samplers::output::write_atomic(&path, &json)?;
            if map.covariance.is_none() {
                notes.push(
                    "no Laplace covariance: the MAP sits on a prior bound or the Hessian there \
                     is not negative definite; the summary shows the point only"
                        .into(),
                );
            }
            let draws = laplace_draws(problem, &map, s.seed)?;
            (
                draws,
                map.log_evidence_laplace.map(|z| (z, f64::NAN)),
                map.n_calls,
                t0.elapsed().as_secs_f64(),
                "map",
                StopReason::Converged,
                Start::Fresh,
            )
        }
    };
    // Samplers that move only the free parameters report only those: the reports want every
    // parameter, in the problem's order.
    let posterior = full_posterior(problem, posterior)?;
    let mut summary = FitSummary::new(cfg, problem, &posterior, log_z, n_calls, wall, sampler_name);
    summary.notes = notes;
    summary.ess_min = ess_min.filter(|e| e.is_finite());
    summary.write(&with_suffix(root, "_fit.json"))?;
    if cfg.output.plots {
        crate::fit::plots(root, problem, &posterior, s.seed)?;
    }
    // The results are complete: the checkpoint has nothing left to offer.
    let ckpt = checkpoint_path(root);
    if ckpt.exists() {
        std::fs::remove_file(&ckpt).map_err(|e| SpinflipError::io(&ckpt, e))?;
    }
    Ok(FitOutcome {
        summary,
        posterior,
        stop,
        start,
    })
}

/// Drive `sampler` with the fit's checkpoint, resume rule, interrupt flag, progress and
/// chain writer; an interrupted run becomes [`SpinflipError::Interrupted`].
fn drive<S>(
    cfg: &RunConfig,
    problem: &Problem,
    sampler: S,
    label: &str,
    progress: bool,
) -> Result<Outcome<S::Output>, SpinflipError>
where
    S: Sampler,
    S::Output: WriteChains,
{
    let root = cfg.output.root.as_path();
    let s = &cfg.sampler;
    let ckpt = checkpoint_path(root);
    let seconds = s.checkpoint_seconds.unwrap_or(DEFAULT_CHECKPOINT_SECONDS);
    let mut d = Driver::new(sampler)
        .problem_fingerprint(problem.fingerprint())
        .checkpoint(
            ckpt.clone(),
            s.checkpoint_every,
            (seconds > 0.0).then(|| Duration::from_secs_f64(seconds)),
        )
        .resume(if s.resume {
            Resume::Required
        } else {
            Resume::IfPresent
        })
        .interruptible(interrupt_flag());
    if progress {
        let every = crate::samplers::progress::interval();
        d = d.observe(ProgressObserver::new(label, Some(every)));
    }
    // A fresh run clears the previous run's results first; a resumed one keeps them until
    // it writes its own (they are the same run's).
    let will_resume = ckpt.exists();
    if !will_resume {
        remove_results(root)?;
    }
    let o = d.observe(ChainWriter::new(root)).run()?;
    if let Start::Resumed { iteration, .. } = o.start {
        if !quiet_of(cfg) {
            eprintln!(
                "resumed from the checkpoint {} at iteration {iteration}",
                ckpt.display()
            );
        }
    }
    if o.stop == StopReason::Interrupted {
        return Err(SpinflipError::Interrupted {
            checkpoint: ckpt.display().to_string(),
        });
    }
    Ok(o)
}

fn quiet_of(cfg: &RunConfig) -> bool {
    cfg.sampler.quiet
}

fn map_settings(s: &crate::config::SamplerConfig) -> MapSettings {
    MapSettings {
        seed: s.seed,
        n_starts: s.n_starts.unwrap_or(MapSettings::default().n_starts),
        ..Default::default()
    }
}

/// 4,000 draws from the Laplace approximation (the MAP point where there is no covariance),
/// kept inside the priors, for the summary and the plots.
fn laplace_draws(
    problem: &Problem,
    map: &MapResult,
    seed: u64,
) -> Result<WeightedSamples, SpinflipError> {
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    let params = &problem.params;
    let (p, d) = (params.n_params(), map.free.len());
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x1a91ace);
    let chol = map
        .covariance
        .as_ref()
        .and_then(|c| spinflip_samplers::nested::linalg::cholesky(c, d));
    let n = if chol.is_some() { 4000 } else { 1 };
    let mut theta = Vec::with_capacity(n * p);
    let mut log_likelihood = Vec::with_capacity(n);
    while log_likelihood.len() < n {
        let mut t = map.theta.clone();
        if let Some(l) = &chol {
            let z: Vec<f64> = (0..d).map(|_| StandardNormal.sample(&mut rng)).collect();
            for (a, &i) in map.free.iter().enumerate() {
                t[i] += (0..=a).map(|b| l[a * d + b] * z[b]).sum::<f64>();
            }
            if !params.log_prior(&t)?.is_finite() {
                continue;
            }
        }
        theta.extend_from_slice(&t);
        log_likelihood.push(map.log_likelihood);
    }
    Ok(WeightedSamples {
        names: map.names.clone(),
        latex: map.latex.clone(),
        theta,
        weights: vec![1.0; n],
        log_likelihood,
    })
}

/// `posterior` with a column for every parameter of `problem` in its order (fixed ones at
/// their value), whichever subset and order the sampler reported.
pub fn full_posterior(
    problem: &Problem,
    posterior: WeightedSamples,
) -> Result<WeightedSamples, SpinflipError> {
    let params = problem.params.params();
    if posterior.names.len() == params.len()
        && posterior
            .names
            .iter()
            .zip(params)
            .all(|(a, b)| *a == b.name)
    {
        return Ok(posterior);
    }
    let d = posterior.n_params();
    let source: Vec<Result<usize, f64>> = params
        .iter()
        .map(
            |p| match posterior.names.iter().position(|n| *n == p.name) {
                Some(j) => Ok(Ok(j)),
                None => match p.prior {
                    spinflip_samplers::Prior::Fixed { value } => Ok(Err(value)),
                    _ => Err(SpinflipError::config(
                        "posterior",
                        format!(
                            "the sampler reported no column for free parameter '{}'",
                            p.name
                        ),
                    )),
                },
            },
        )
        .collect::<Result<_, _>>()?;
    let src = &posterior.theta;
    let source = &source;
    let theta = (0..posterior.len())
        .flat_map(|i| {
            source.iter().map(move |s| match *s {
                Ok(j) => src[i * d + j],
                Err(v) => v,
            })
        })
        .collect();
    Ok(WeightedSamples {
        names: params.iter().map(|p| p.name.clone()).collect(),
        latex: params.iter().map(|p| p.latex.clone()).collect(),
        theta,
        weights: posterior.weights,
        log_likelihood: posterior.log_likelihood,
    })
}

/// Remove the result files of an earlier run under `root`.
pub fn remove_results(root: &Path) -> Result<(), SpinflipError> {
    for suffix in RESULT_SUFFIXES {
        let p = with_suffix(root, suffix);
        if p.exists() {
            std::fs::remove_file(&p).map_err(|e| SpinflipError::io(&p, e))?;
        }
    }
    Ok(())
}

/// What the corner plot of `problem`'s free parameters shows: log10 axes for every
/// log-uniform prior, the priors' bounds, the truth of a mock.
pub fn corner_options(problem: &Problem) -> crate::plot::corner::CornerOptions {
    use spinflip_samplers::Prior;
    let free = problem.params.free_indices();
    let params = problem.params.params();
    crate::plot::corner::CornerOptions {
        log10: free
            .iter()
            .map(|&j| matches!(params[j].prior, Prior::LogUniform { .. }))
            .collect(),
        bounds: free.iter().map(|&j| params[j].prior.bounds()).collect(),
        truth: problem
            .truth
            .as_ref()
            .map(|t| free.iter().map(|&j| t[j]).collect()),
        panel_px: None,
    }
}

/// Corner plot (`root_corner.png`) and posterior-predictive plot (`root_predictive.png`).
pub fn plots(
    root: &Path,
    problem: &Problem,
    posterior: &WeightedSamples,
    seed: u64,
) -> Result<(), SpinflipError> {
    use crate::plot::bands::{Bands, PredictivePlot};
    use crate::plot::corner::corner_plot;
    use rand::SeedableRng;

    // Free parameters only: fixed ones have no posterior to show.
    let free = problem.params.free_indices().to_vec();
    let d = posterior.n_params();
    let sub = WeightedSamples {
        names: free.iter().map(|&j| posterior.names[j].clone()).collect(),
        latex: free.iter().map(|&j| posterior.latex[j].clone()).collect(),
        theta: (0..posterior.len())
            .flat_map(|i| free.iter().map(move |&j| (i, j)))
            .map(|(i, j)| posterior.theta[i * d + j])
            .collect(),
        weights: posterior.weights.clone(),
        log_likelihood: posterior.log_likelihood.clone(),
    };
    corner_plot(
        &with_suffix(root, "_corner.png"),
        &sub,
        &corner_options(problem),
    )?;

    // Posterior predictive: the model at up to 300 equal-weight posterior draws.
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x5eed);
    let draws = posterior.resample_equal(&mut rng);
    let step = (draws.len() / 300).max(1);
    let curves: Vec<Vec<f64>> = (0..draws.len())
        .step_by(step)
        .filter_map(|i| problem.likelihood.predict_data(draws.row(i)).ok())
        .collect();
    let axis = &problem.axis;
    let sigma = problem.data_sigma();
    let data = problem.likelihood.data();
    if let crate::models::OutputSpace::Vector { names, .. } = problem.kind.output() {
        // Summaries in different units: show each as (value - data) / sigma, so the data
        // sit at 0 +- 1 and the bands say how many sigmas the posterior allows.
        let z = |v: &[f64]| -> Vec<f64> {
            v.iter()
                .zip(data.iter().zip(&sigma))
                .map(|(v, (d, s))| (v - d) / s)
                .collect()
        };
        let curves: Vec<Vec<f64>> = curves.iter().map(|c| z(c)).collect();
        let bands = Bands::from_curves(&axis.x, &curves);
        let truth = problem.truth_signal.as_deref().map(z);
        let zero = vec![0.0; data.len()];
        let ones = vec![1.0; data.len()];
        return PredictivePlot {
            title: "summary predictive (data at 0 +- 1 sigma)",
            x_label: &format!("summary: {}", names.join(", ")),
            y_label: "(summary - data) / sigma",
            bands: &bands,
            data: Some((&axis.x, &zero, Some(&ones))),
            truth: truth.as_deref(),
            redshift_axis: false,
        }
        .save(&with_suffix(root, "_predictive.png"));
    }
    let bands = Bands::from_curves(&axis.x, &curves);
    PredictivePlot {
        title: "posterior predictive",
        x_label: &axis.x_label,
        y_label: &axis.y_label,
        bands: &bands,
        data: Some((&axis.x, data, Some(&sigma))),
        truth: problem.truth_signal.as_deref(),
        // Spectra are over frequency in MHz.
        redshift_axis: matches!(
            problem.kind.output(),
            crate::models::OutputSpace::Redshifts { .. }
        ),
    }
    .save(&with_suffix(root, "_predictive.png"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use spinflip_samplers::Prior;

    #[test]
    fn corner_plots_use_log_axes_for_every_log_uniform_prior() {
        // f_star and f_X log-uniform by default, V_c made uniform, tau made log-uniform.
        let cfg = RunConfig::from_toml_str(
            "[output]\nroot = 'out/x'\n[model]\nkind = 'simulator'\n\
             [data.mock]\nnoise = 25.0\nseed = 1\n\
             [params.V_c]\nprior = { dist = 'uniform', min = 4.2, max = 100.0 }\n\
             [params.tau]\nprior = { dist = 'log_uniform', min = 0.04, max = 0.2 }\n\
             [params.R_mfp]\nprior = { dist = 'fixed', value = 30.0 }\n",
            "test",
        )
        .unwrap();
        let p = Problem::from_config(&cfg).unwrap();
        let o = corner_options(&p);
        let free = p.params.free_indices();
        assert_eq!(o.log10.len(), free.len());
        for (k, &j) in free.iter().enumerate() {
            let prior = &p.params.params()[j].prior;
            assert_eq!(
                o.log10[k],
                matches!(prior, Prior::LogUniform { .. }),
                "{}",
                p.params.params()[j].name
            );
            assert_eq!(o.bounds[k], prior.bounds());
        }
        assert_eq!(o.log10, [true, false, true, true, false, false]);
    }
}
