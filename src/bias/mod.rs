//! `spinflip bias`: posterior emulation bias (Dorigo Jones et al. 2023). For K mock
//! observations (made with the simulator) at several noise levels, fit the same data with the
//! emulator and with the simulator and compare the posteriors.
//!
//! Statistics are computed in the sampling coordinates: log10 of log-uniform parameters.
//! - bias per parameter: |mean_emu - mean_sim| / std_sim (DJ+23);
//! - width ratio: std_emu / std_sim;
//! - KL(P_sim || P_emu) in the Gaussian approximation of both posteriors (free parameters);
//! - ln Z_emu - ln Z_sim;
//! - the emulator's rms error at the truth on the fitted channels, and the bound
//!   D_KL <= (N_d / 2) (RMSE / sigma)^2 of Bevins, Gessey-Jones & Handley (2025);
//! - the floor (`[mocks] floor`, on by default): the same mock fitted a second time with the
//!   simulator under another sampler seed, |mean_sim' - mean_sim| / std_sim per parameter
//!   and ln Z_sim' - ln Z_sim: what the same numbers are for two identical models, i.e. the
//!   sampling noise in every bias and dlnZ of the table. A bias is only measured where it
//!   stands clear of its floor.

pub mod config;
mod report;

pub use config::BiasConfig;
pub use report::{BiasCase, BiasReport};

use crate::config::{DataConfig, MockConfig, ModelConfig, OutputConfig, RunConfig};
use crate::fit::run_fit;
use crate::models::{lookup, ModelKind, SharedModel};
use crate::problem::Problem;
use crate::SpinflipError;
use rand::{Rng, SeedableRng};
use spinflip_likelihoods::Noise;
use spinflip_samplers::progress::format_duration;
use spinflip_samplers::{ParameterSet, Prior, WeightedSamples};
use std::time::Instant;

/// Run the whole experiment and write its reports. Unless `quiet`, a line on stderr before
/// every fit (which fit, time elapsed and left) and the fits' own progress.
pub fn run_bias(cfg: &BiasConfig, quiet: bool) -> Result<BiasReport, SpinflipError> {
    // The emulator's kind and the kind whose model it emulates (its mocks' kind).
    let emu_kind = lookup(&cfg.emulator.kind)?;
    let sim_kind = lookup(&emu_kind.mock_kind())?;
    let emu = emu_kind.load(&cfg.emulator)?;
    let sim = sim_kind.load(&ModelConfig::of_kind(sim_kind.name()))?;
    let names = sim.param_names();
    if emu.param_names() != names {
        return Err(SpinflipError::config(
            "emulator",
            format!(
                "the emulator's parameters {:?} differ from the simulator's {:?}",
                emu.param_names(),
                names
            ),
        ));
    }
    let truths = truths(cfg, &names, sim_kind.as_ref(), &sim)?;
    let runs_dir = spinflip_samplers::output::with_suffix(&cfg.output.root, "_runs");
    // What must match for a finished case to be reused: the whole configuration.
    let fingerprint = format!("{cfg:?}");
    let mut cases = Vec::new();
    // A line before every fit (with the time left), and the fits' own progress under it:
    // one fit can take minutes, so a count alone would leave a batch job silent that long.
    let per_case = if cfg.mocks.floor { 3 } else { 2 };
    let n_fits = per_case * truths.len() * cfg.mocks.noise.len();
    let clock = Instant::now();
    let mut fits_done = 0usize;
    let announce = |done: usize, what: String| {
        if quiet {
            return;
        }
        let elapsed = clock.elapsed();
        let left = if done > 0 {
            let rest = elapsed.mul_f64((n_fits - done) as f64 / done as f64);
            format!(", ~{} left", format_duration(rest))
        } else {
            String::new()
        };
        eprintln!(
            "bias: fit {}/{n_fits}, {what}; {} elapsed{left}",
            done + 1,
            format_duration(elapsed)
        );
    };
    for (k, truth) in truths.iter().enumerate() {
        for (j, &noise) in cfg.mocks.noise.iter().enumerate() {
            let seed = cfg
                .mocks
                .seed
                .wrapping_mul(1_000_003)
                .wrapping_add((k * 1000 + j) as u64);
            let run_cfg = |kind: &str, tag: &str| RunConfig {
                output: OutputConfig {
                    root: runs_dir.join(format!("t{k}_n{noise}_{tag}")),
                    plots: false,
                },
                model: ModelConfig {
                    kind: kind.to_string(),
                    ..cfg.emulator.clone()
                },
                data: DataConfig {
                    file: None,
                    mock: Some(MockConfig {
                        truth: names.iter().cloned().zip(truth.iter().copied()).collect(),
                        noise,
                        seed,
                        model: Some(sim_kind.name().to_string()),
                    }),
                    band: None,
                    sigma: None,
                    covariance: None,
                },
                params: cfg.params.clone(),
                foreground: None,
                sampler: crate::config::SamplerConfig {
                    quiet: quiet || cfg.sampler.quiet,
                    ..cfg.sampler.clone()
                },
            };
            let ce = run_cfg(emu_kind.name(), "emu");
            let cs = run_cfg(sim_kind.name(), "sim");
            let pe = Problem::with_models(&ce, emu.clone(), Some(sim.clone()))?;
            let ps = Problem::with_models(&cs, sim.clone(), Some(sim.clone()))?;
            // The configuration plus both problems' checkpoint fingerprints (the mock data,
            // priors, noise, and the bytes of a model file given by path).
            let case_fingerprint =
                format!("{fingerprint}\n{}\n{}", pe.fingerprint(), ps.fingerprint());
            // A case finished by an earlier (killed) run of the same experiment is read back.
            let case_file = runs_dir.join(format!("t{k}_n{noise}_case.json"));
            if let Some(case) = finished_case(&case_file, &case_fingerprint) {
                fits_done += per_case;
                if !quiet {
                    eprintln!(
                        "bias: truth {k}, noise {noise} mK done by an earlier run ({}): max bias {:.3} sigma",
                        case_file.display(),
                        case.max_bias()
                    );
                }
                cases.push(case);
                continue;
            }
            announce(fits_done, format!("truth {k}, noise {noise} mK, emulator"));
            let fe = run_fit(&ce, &pe, quiet)?;
            fits_done += 1;
            announce(fits_done, format!("truth {k}, noise {noise} mK, simulator"));
            let fs = run_fit(&cs, &ps, quiet)?;
            fits_done += 1;
            // The floor: the same mock, the same simulator, another sampler seed.
            let again = if cfg.mocks.floor {
                let mut c2 = run_cfg(sim_kind.name(), "sim2");
                c2.sampler.seed = cfg.sampler.seed.wrapping_add(FLOOR_SEED_OFFSET);
                let p2 = Problem::with_models(&c2, sim.clone(), Some(sim.clone()))?;
                announce(
                    fits_done,
                    format!("truth {k}, noise {noise} mK, simulator again (floor)"),
                );
                let f2 = run_fit(&c2, &p2, quiet)?;
                fits_done += 1;
                Some(f2)
            } else {
                None
            };
            let se = pe
                .likelihood
                .predict_data(&pe.truth.clone().unwrap_or_default())
                .ok();
            let ss = ps
                .likelihood
                .predict_data(&ps.truth.clone().unwrap_or_default())
                .ok();
            let rmse = match (se, ss) {
                (Some(a), Some(b)) => (a.iter().zip(&b).map(|(x, y)| (x - y).powi(2)).sum::<f64>()
                    / a.len() as f64)
                    .sqrt(),
                _ => f64::NAN,
            };
            let mut case = compare(
                k,
                truth,
                noise,
                &pe.params,
                &fe.posterior,
                &fs.posterior,
                (fe.summary.log_evidence, fs.summary.log_evidence),
                rmse,
                pe.likelihood.data().len(),
            )?;
            if let Some(f2) = &again {
                let fl = compare(
                    k,
                    truth,
                    noise,
                    &ps.params,
                    &f2.posterior,
                    &fs.posterior,
                    (f2.summary.log_evidence, fs.summary.log_evidence),
                    0.0,
                    ps.likelihood.data().len(),
                )?;
                case.floor = fl.bias;
                case.delta_log_z_floor = fl.delta_log_z;
            }
            if !quiet {
                let floor = if case.floor.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (floor {:.3} sigma, dlnZ {:+.3})",
                        case.max_floor(),
                        case.delta_log_z_floor
                    )
                };
                eprintln!(
                    "  max bias {:.3} sigma, KL {:.3} (bound {:.3}), dlnZ {:+.3}, rmse {:.3} mK{floor}",
                    case.max_bias(),
                    case.kl,
                    case.kl_bound,
                    case.delta_log_z,
                    case.rmse_mk
                );
            }
            write_case(&case_file, &case_fingerprint, &case)?;
            cases.push(case);
            // Rewrite the report after every case, so a run that is stopped (or one slow
            // fit) still leaves the finished cases' table behind.
            BiasReport {
                names: names.clone(),
                noise_levels: cfg.mocks.noise.clone(),
                cases: cases.clone(),
            }
            .write(&cfg.output.root)?;
        }
    }
    Ok(BiasReport {
        names: names.clone(),
        noise_levels: cfg.mocks.noise.clone(),
        cases,
    })
}

/// A case file `{ "config": ..., "case": ... }` of the same configuration, if there is one
/// and it reads back whole; anything else means the case is run (again).
fn finished_case(path: &std::path::Path, fingerprint: &str) -> Option<BiasCase> {
    #[derive(serde::Deserialize)]
    struct Saved {
        config: String,
        case: BiasCase,
    }
    let saved: Saved = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    (saved.config == fingerprint).then_some(saved.case)
}

fn write_case(
    path: &std::path::Path,
    fingerprint: &str,
    case: &BiasCase,
) -> Result<(), SpinflipError> {
    let json = serde_json::json!({ "config": fingerprint, "case": case });
    spinflip_samplers::output::ensure_parent(path)?;
    spinflip_samplers::output::write_atomic(path, json.to_string().as_bytes())
        .map_err(SpinflipError::from)
}

/// Added to the sampler seed for the floor's second simulator fit.
const FLOOR_SEED_OFFSET: u64 = 1_000_003;

/// Truths: explicit ones (fiducial for missing names) or draws from the central part of the prior.
fn truths(
    cfg: &BiasConfig,
    names: &[String],
    kind: &dyn ModelKind,
    sim: &SharedModel,
) -> Result<Vec<Vec<f64>>, SpinflipError> {
    let fiducial: std::collections::BTreeMap<String, f64> = kind
        .param_names()
        .into_iter()
        .zip(kind.fiducial())
        .collect();
    if !cfg.mocks.truths.is_empty() {
        return cfg
            .mocks
            .truths
            .iter()
            .enumerate()
            .map(|(i, t)| {
                for k in t.keys() {
                    if !names.contains(k) {
                        return Err(SpinflipError::config(
                            format!("mocks.truths[{i}].{k}"),
                            format!("unknown parameter; known: {}", names.join(", ")),
                        ));
                    }
                }
                names
                    .iter()
                    .map(|n| {
                        t.get(n)
                            .or_else(|| fiducial.get(n))
                            .copied()
                            .ok_or_else(|| {
                                SpinflipError::config(
                                    format!("mocks.truths[{i}].{n}"),
                                    "missing and no fiducial value",
                                )
                            })
                    })
                    .collect()
            })
            .collect();
    }
    let (params, _) = Problem::parameters(kind, sim.as_ref(), &cfg.params, None, false)?;
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(cfg.mocks.seed);
    let f = cfg.mocks.central_fraction;
    (0..cfg.mocks.n_truths)
        .map(|_| {
            let u: Vec<f64> = (0..params.n_free())
                .map(|_| 0.5 + f * (rng.random::<f64>() - 0.5))
                .collect();
            let mut t = vec![0.0; params.n_params()];
            params.prior_transform(&u, &mut t)?;
            Ok(t)
        })
        .collect()
}

/// Sampling coordinates: log10 for log-uniform priors.
fn to_sampling_coords(params: &ParameterSet, s: &WeightedSamples) -> WeightedSamples {
    let free = params.free_indices();
    let d = s.n_params();
    let logs: Vec<bool> = free
        .iter()
        .map(|&j| matches!(params.params()[j].prior, Prior::LogUniform { .. }))
        .collect();
    WeightedSamples {
        names: free.iter().map(|&j| s.names[j].clone()).collect(),
        latex: free.iter().map(|&j| s.latex[j].clone()).collect(),
        theta: (0..s.len())
            .flat_map(|i| free.iter().zip(&logs).map(move |(&j, &l)| (i, j, l)))
            .map(|(i, j, l)| {
                if l {
                    s.theta[i * d + j].log10()
                } else {
                    s.theta[i * d + j]
                }
            })
            .collect(),
        weights: s.weights.clone(),
        log_likelihood: s.log_likelihood.clone(),
    }
}

/// KL(N(mu_p, cov_p) || N(mu_q, cov_q)) for d-dimensional Gaussians.
pub fn gaussian_kl(
    mu_p: &[f64],
    cov_p: &[f64],
    mu_q: &[f64],
    cov_q: &[f64],
) -> Result<f64, SpinflipError> {
    let d = mu_p.len();
    let nq = Noise::covariance(cov_q, d)
        .map_err(|e| SpinflipError::config("posterior covariance", e.to_string()))?;
    let np = Noise::covariance(cov_p, d)
        .map_err(|e| SpinflipError::config("posterior covariance", e.to_string()))?;
    let Noise::Full { chol: lp, .. } = &np else {
        unreachable!("covariance() returns Full")
    };
    // tr(cov_q^-1 cov_p) = sum_j |L_q^-1 m_j|^2 over the columns m_j of L_p (cov_p = L_p L_p^T).
    let trace: f64 = (0..d)
        .map(|j| nq.chi2(&(0..d).map(|i| lp[i * d + j]).collect::<Vec<_>>()))
        .sum();
    let dm: Vec<f64> = mu_q.iter().zip(mu_p).map(|(a, b)| a - b).collect();
    Ok(0.5 * (trace + nq.chi2(&dm) - d as f64 + nq.log_det() - np.log_det()))
}

#[allow(clippy::too_many_arguments)]
fn compare(
    k: usize,
    truth: &[f64],
    noise: f64,
    params: &ParameterSet,
    emu: &WeightedSamples,
    sim: &WeightedSamples,
    log_z: (Option<f64>, Option<f64>),
    rmse_mk: f64,
    n_channels: usize,
) -> Result<BiasCase, SpinflipError> {
    let (e, s) = (
        to_sampling_coords(params, emu),
        to_sampling_coords(params, sim),
    );
    let (me, ms) = (e.mean(), s.mean());
    let (ce, cs) = (e.covariance(), s.covariance());
    let d = me.len();
    let std = |c: &[f64], j: usize| c[j * d + j].max(0.0).sqrt();
    let bias = (0..d)
        .map(|j| (me[j] - ms[j]).abs() / std(&cs, j))
        .collect();
    let width_ratio = (0..d).map(|j| std(&ce, j) / std(&cs, j)).collect();
    let kl = gaussian_kl(&ms, &cs, &me, &ce).unwrap_or(f64::NAN);
    let delta_log_z = match log_z {
        (Some(a), Some(b)) => a - b,
        _ => f64::NAN,
    };
    Ok(BiasCase {
        truth_index: k,
        truth: truth.to_vec(),
        noise_mk: noise,
        bias,
        width_ratio,
        kl,
        delta_log_z,
        log_z_emu: log_z.0.unwrap_or(f64::NAN),
        log_z_sim: log_z.1.unwrap_or(f64::NAN),
        rmse_mk,
        kl_bound: 0.5 * n_channels as f64 * (rmse_mk / noise).powi(2),
        n_channels,
        sampling_names: e.names.clone(),
        floor: Vec::new(),
        delta_log_z_floor: f64::NAN,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_kl_matches_closed_forms() {
        // Equal covariances: KL = dm^T C^-1 dm / 2.
        let c = [4.0, 0.0, 0.0, 1.0];
        let kl = gaussian_kl(&[0.0, 0.0], &c, &[2.0, 1.0], &c).unwrap();
        assert!((kl - 0.5 * (1.0 + 1.0)).abs() < 1e-12);
        // 1-D: KL(N(0,1) || N(0,4)) = ln 2 + 1/8 - 1/2.
        let kl = gaussian_kl(&[0.0], &[1.0], &[0.0], &[4.0]).unwrap();
        assert!((kl - (2f64.ln() + 0.125 - 0.5)).abs() < 1e-12);
    }
}
