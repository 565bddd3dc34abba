//! `spinflip fit`: run a sampler on a [`Problem`], write chains, a JSON summary and plots.

mod summary;

pub use summary::{FitSummary, ParamFit};

use crate::config::{RunConfig, SamplerKind};
use crate::problem::Problem;
use crate::SpinflipError;
use spinflip_samplers::mcmc::{EnsembleSampler, EnsembleSettings, Stop};
use spinflip_samplers::nested::{NestedSampler, NestedSettings};
use spinflip_samplers::output::with_suffix;
use spinflip_samplers::WeightedSamples;
use std::path::Path;

/// What a fit produced.
pub struct FitOutcome {
    /// The summary written to `root_fit.json`.
    pub summary: FitSummary,
    /// The weighted posterior samples.
    pub posterior: WeightedSamples,
}

/// Run the sampler the configuration asks for on `problem` and write every output under
/// `cfg.output.root`. Nothing is written under the root unless the run finishes (except
/// the sampler's checkpoint), so a failed run leaves no files that look like results.
pub fn run_fit(
    cfg: &RunConfig,
    problem: &Problem,
    quiet: bool,
) -> Result<FitOutcome, SpinflipError> {
    let root = cfg.output.root.as_path();
    spinflip_samplers::output::ensure_parent(root)?;
    let s = &cfg.sampler;
    let progress = !(quiet || s.quiet);
    let (posterior, log_z, n_calls, wall, sampler_name) = match s.kind {
        SamplerKind::Nested => {
            let mut settings = NestedSettings {
                seed: s.seed,
                progress,
                ..Default::default()
            };
            if let Some(n) = s.n_live {
                settings.n_live = n;
            }
            if let Some(d) = s.dlogz {
                settings.dlogz = d;
            }
            if let Some(every) = s.checkpoint_every.filter(|&e| e > 0) {
                settings.checkpoint = Some(spinflip_samplers::nested::CheckpointSettings {
                    path: with_suffix(root, ".checkpoint.json"),
                    every,
                });
            }
            let sampler = NestedSampler::new(&problem.params, problem, settings)?;
            let resume = s.resume
                && sampler
                    .settings()
                    .checkpoint
                    .as_ref()
                    .is_some_and(|c| c.path.exists());
            let r = if resume {
                sampler.resume()?
            } else {
                sampler.run()?
            };
            r.write_chains(root)?;
            (
                r.posterior(),
                Some((r.log_evidence, r.log_evidence_err)),
                r.n_calls,
                r.wall_time.as_secs_f64(),
                "nested",
            )
        }
        SamplerKind::Ensemble => {
            let n_free = problem.params.n_free();
            let mut settings = EnsembleSettings {
                seed: s.seed,
                progress,
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
            if let Some(every) = s.checkpoint_every.filter(|&e| e > 0) {
                settings.checkpoint = Some(spinflip_samplers::mcmc::CheckpointSettings {
                    path: with_suffix(root, ".checkpoint.json"),
                    every,
                    resume: s.resume,
                });
            }
            let r = EnsembleSampler::new(&problem.params, problem, settings)?.run()?;
            r.write_chains(root)?;
            (r.posterior(), None, r.n_calls, r.wall_time_s, "ensemble")
        }
    };
    let summary = FitSummary::new(cfg, problem, &posterior, log_z, n_calls, wall, sampler_name);
    summary.write(&with_suffix(root, "_fit.json"))?;
    if cfg.output.plots {
        crate::fit::plots(root, problem, &posterior, s.seed)?;
    }
    Ok(FitOutcome { summary, posterior })
}

/// Corner plot (`root_corner.png`) and posterior-predictive plot (`root_predictive.png`).
pub fn plots(
    root: &Path,
    problem: &Problem,
    posterior: &WeightedSamples,
    seed: u64,
) -> Result<(), SpinflipError> {
    use crate::plot::bands::{Bands, PredictivePlot};
    use crate::plot::corner::{corner_plot, CornerOptions};
    use rand::SeedableRng;
    use spinflip_samplers::Prior;

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
    let log10 = free
        .iter()
        .map(|&j| matches!(problem.params.params()[j].prior, Prior::LogUniform { .. }))
        .collect();
    let truth = problem
        .truth
        .as_ref()
        .map(|t| free.iter().map(|&j| t[j]).collect());
    corner_plot(
        &with_suffix(root, "_corner.png"),
        &sub,
        &CornerOptions {
            log10,
            truth,
            panel_px: None,
        },
    )?;

    // Posterior predictive: the model at up to 300 equal-weight posterior draws.
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x5eed);
    let draws = posterior.resample_equal(&mut rng);
    let step = (draws.len() / 300).max(1);
    let curves: Vec<Vec<f64>> = (0..draws.len())
        .step_by(step)
        .filter_map(|i| problem.likelihood.predict_data(draws.row(i)).ok())
        .collect();
    let data = problem.likelihood.data();
    let bands = Bands::from_curves(&data.freq_mhz, &curves);
    PredictivePlot {
        title: "posterior predictive",
        x_label: "frequency [MHz]",
        y_label: "T [mK]",
        bands: &bands,
        data: Some((&data.freq_mhz, &data.temp_mk, data.sigma_mk.as_deref())),
        truth: problem.truth_signal.as_deref(),
    }
    .save(&with_suffix(root, "_predictive.png"))
}
