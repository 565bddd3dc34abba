//! Simulation-based calibration (Talts et al. 2018) of any fit configuration: `n` truths
//! drawn from the prior, a mock made at each by the configuration's mock model (for the map
//! kinds a light-cone simulated and summarised), nested sampling on each, and for every
//! parameter the posterior CDF at the truth, `F = P(theta < theta_true | data)`. A
//! calibrated posterior makes `F` uniform: its histogram is flat and the central `c`
//! intervals cover the truth in a fraction `c` of the mocks, within binomial scatter.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::Serialize;

use crate::config::RunConfig;
use crate::models::lookup;
use crate::problem::Problem;
use crate::samplers::progress::Counter;
use crate::samplers::{NestedSampler, NestedSettings};
use crate::seeds::mix;
use crate::SpinflipError;

/// Credible levels whose coverage is reported.
pub const LEVELS: [f64; 3] = [0.5, 0.68, 0.95];
/// Bins of the `F` histogram.
pub const BINS: usize = 10;

/// Settings of a calibration run.
#[derive(Debug, Clone)]
pub struct CalibrationSettings {
    /// Mocks.
    pub n: usize,
    /// Seed of the truths, the mocks and the samplers.
    pub seed: u64,
    /// Worker threads (mocks run in parallel).
    pub threads: Option<usize>,
    /// Show progress on stderr (a bar on a terminal, a line every few seconds otherwise).
    pub progress: bool,
}

/// One mock's result.
#[derive(Debug, Clone, Serialize)]
pub struct MockResult {
    /// Index of the mock.
    pub index: usize,
    /// The truth (every parameter).
    pub truth: Vec<f64>,
    /// Posterior mean of each free parameter.
    pub mean: Vec<f64>,
    /// Posterior standard deviation of each free parameter.
    pub std: Vec<f64>,
    /// Posterior CDF at the truth, per free parameter.
    pub cdf_at_truth: Vec<f64>,
    /// Likelihood calls.
    pub n_calls: u64,
}

/// Coverage of one credible level for one parameter.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    /// Nominal level.
    pub level: f64,
    /// Fraction of mocks whose central interval holds the truth.
    pub covered: f64,
    /// Three binomial standard deviations, `3 sqrt(c (1 - c) / n)`.
    pub tolerance: f64,
    /// `|covered - level| <= tolerance`.
    pub ok: bool,
}

/// The report (`ROOT_calibration.json`).
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    /// Model kind.
    pub model: String,
    /// Free parameters.
    pub names: Vec<String>,
    /// Mocks.
    pub n_mocks: usize,
    /// Seed.
    pub seed: u64,
    /// Histogram of `F` per parameter (`BINS` bins over [0, 1]).
    pub histogram: BTreeMap<String, Vec<usize>>,
    /// Chi-square of each histogram against flat (`BINS - 1` degrees of freedom; 95% of
    /// calibrated runs stay below 16.9).
    pub chi2: BTreeMap<String, f64>,
    /// Coverage at [`LEVELS`] per parameter.
    pub coverage: BTreeMap<String, Vec<Coverage>>,
    /// Mean posterior standard deviation per parameter (what the summary constrains).
    pub mean_posterior_std: BTreeMap<String, f64>,
    /// Every coverage within tolerance.
    pub calibrated: bool,
    /// Wall time, s.
    pub wall_time_s: f64,
    /// Per-mock results.
    pub mocks: Vec<MockResult>,
}

fn one_mock(
    cfg: &RunConfig,
    base: &Problem,
    i: usize,
    seed: u64,
) -> Result<MockResult, SpinflipError> {
    let params = &base.params;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix(seed, i as u64, 1));
    let cube: Vec<f64> = (0..params.n_free()).map(|_| rng.random::<f64>()).collect();
    let mut truth = vec![0.0; params.n_params()];
    params.prior_transform(&cube, &mut truth)?;
    let mut c = cfg.clone();
    let mock = c.data.mock.as_mut().ok_or_else(|| {
        SpinflipError::config(
            "data.mock",
            "calibration makes its own mocks: the configuration needs a [data.mock] table",
        )
    })?;
    mock.truth = params
        .names()
        .into_iter()
        .zip(truth.iter().copied())
        .collect();
    mock.seed = mix(seed, i as u64, 2);
    let problem = Problem::with_model(&c, base.model.clone())?;
    let settings = NestedSettings {
        n_live: cfg.sampler.n_live.unwrap_or(200),
        seed: mix(seed, i as u64, 3),
        batch_size: cfg
            .sampler
            .batch_size
            .unwrap_or_else(|| problem.kind.preferred_batch()),
        ..Default::default()
    };
    let r = NestedSampler::new(&problem.params, &problem, settings)?.run()?;
    let post = r.posterior();
    let free = params.free_indices();
    let (mut mean, mut std, mut cdf) = (Vec::new(), Vec::new(), Vec::new());
    let m = post.mean();
    let cov = post.covariance();
    let d = post.n_params();
    let wsum: f64 = post.weights.iter().sum();
    for &j in free {
        mean.push(m[j]);
        std.push(cov[j * d + j].sqrt());
        let below: f64 = (0..post.len())
            .filter(|&k| post.row(k)[j] < truth[j])
            .map(|k| post.weights[k])
            .sum();
        cdf.push(below / wsum);
    }
    Ok(MockResult {
        index: i,
        truth,
        mean,
        std,
        cdf_at_truth: cdf,
        n_calls: r.n_calls,
    })
}

/// Run the calibration of `cfg`.
pub fn calibrate(
    cfg: &RunConfig,
    settings: &CalibrationSettings,
) -> Result<Calibration, SpinflipError> {
    if settings.n < 10 {
        return Err(SpinflipError::config(
            "--n",
            format!(
                "{} mocks cannot test coverage; use at least 10 (200 or more for a verdict)",
                settings.n
            ),
        ));
    }
    let kind = lookup(&cfg.model.kind)?;
    let base = Problem::from_config(cfg)?;
    let names: Vec<String> = base
        .params
        .free_indices()
        .iter()
        .map(|&j| base.params.names()[j].clone())
        .collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.threads.unwrap_or(0))
        .build()
        .map_err(|e| SpinflipError::config("--threads", e.to_string()))?;
    let pb = Counter::new(settings.progress, "calibrate", settings.n as u64, "mocks");
    let t0 = std::time::Instant::now();
    let mocks: Vec<MockResult> = pool.install(|| {
        (0..settings.n)
            .into_par_iter()
            .map(|i| {
                let r = one_mock(cfg, &base, i, settings.seed);
                pb.inc(1);
                r
            })
            .collect::<Result<Vec<_>, _>>()
    })?;
    pb.finish();
    let n = mocks.len() as f64;
    let mut out = Calibration {
        model: kind.name().to_string(),
        names: names.clone(),
        n_mocks: mocks.len(),
        seed: settings.seed,
        histogram: BTreeMap::new(),
        chi2: BTreeMap::new(),
        coverage: BTreeMap::new(),
        mean_posterior_std: BTreeMap::new(),
        calibrated: true,
        wall_time_s: t0.elapsed().as_secs_f64(),
        mocks,
    };
    for (q, name) in names.iter().enumerate() {
        let f: Vec<f64> = out.mocks.iter().map(|m| m.cdf_at_truth[q]).collect();
        let mut h = vec![0usize; BINS];
        for &v in &f {
            h[((v * BINS as f64) as usize).min(BINS - 1)] += 1;
        }
        let e = n / BINS as f64;
        let chi2 = h.iter().map(|&c| (c as f64 - e).powi(2) / e).sum();
        let cov: Vec<Coverage> = LEVELS
            .iter()
            .map(|&c| {
                let covered = f.iter().filter(|&&v| (v - 0.5).abs() <= c / 2.0).count() as f64 / n;
                let tolerance = 3.0 * (c * (1.0 - c) / n).sqrt();
                Coverage {
                    level: c,
                    covered,
                    tolerance,
                    ok: (covered - c).abs() <= tolerance,
                }
            })
            .collect();
        out.calibrated &= cov.iter().all(|c| c.ok);
        out.mean_posterior_std.insert(
            name.clone(),
            out.mocks.iter().map(|m| m.std[q]).sum::<f64>() / n,
        );
        out.histogram.insert(name.clone(), h);
        out.chi2.insert(name.clone(), chi2);
        out.coverage.insert(name.clone(), cov);
    }
    Ok(out)
}

impl Calibration {
    /// Write `ROOT_calibration.json` and `ROOT_calibration.png` (the `F` histograms with
    /// the flat expectation and its 99% binomial band); returns the files.
    pub fn write(&self, root: &Path) -> Result<Vec<PathBuf>, SpinflipError> {
        use crate::plot::lines::{save_grid, LinePlot, Series};
        const BAND: plotters::style::RGBColor = plotters::style::RGBColor(44, 160, 44);
        let with = |s: &str| {
            let mut p = root.as_os_str().to_owned();
            p.push(s);
            PathBuf::from(p)
        };
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| SpinflipError::config("calibration", e.to_string()))?;
        let jp = with("_calibration.json");
        crate::samplers::output::ensure_parent(&jp)?;
        crate::samplers::output::write_atomic(&jp, json.as_bytes())?;
        let n = self.n_mocks as f64;
        let e = n / BINS as f64;
        let band = 2.58 * (n * 0.1 * 0.9).sqrt();
        let plots: Vec<LinePlot> = self
            .names
            .iter()
            .map(|name| {
                let h = &self.histogram[name];
                // A step outline of the histogram.
                let (mut x, mut y) = (Vec::new(), Vec::new());
                for (b, &c) in h.iter().enumerate() {
                    x.extend([b as f64 / BINS as f64, (b + 1) as f64 / BINS as f64]);
                    y.extend([c as f64, c as f64]);
                }
                let cov = &self.coverage[name];
                LinePlot::new(format!(
                    "{name}: coverage {:.2}/{:.2}/{:.2} at 50/68/95%",
                    cov[0].covered, cov[1].covered, cov[2].covered
                ))
                .x_label("posterior CDF at the truth")
                .y_label("mocks")
                .size(600, 420)
                .series(Series::line("mocks per bin", &x, &y))
                .series(Series::line("flat", &[0.0, 1.0], &[e, e]))
                .series(Series::line("99% band", &[0.0, 1.0], &[e + band; 2]).color(BAND))
                .series(Series::line("", &[0.0, 1.0], &[(e - band).max(0.0); 2]).color(BAND))
            })
            .collect();
        let pp = with("_calibration.png");
        save_grid(&pp, &plots, 2)?;
        Ok(vec![jp, pp])
    }

    /// The table for the terminal.
    pub fn table(&self) -> String {
        let mut s = format!(
            "{} mocks of '{}' in {:.0} s; coverage of the central 50/68/95% intervals (3-sigma binomial tolerance), chi^2 of the flat rank histogram (9 dof), mean posterior std:\n",
            self.n_mocks, self.model, self.wall_time_s
        );
        for name in &self.names {
            let c = &self.coverage[name];
            s += &format!(
                "  {name:<12} {:.3} {:.3} {:.3}  (+-{:.3} {:.3} {:.3}) {}  chi2 {:5.1}  std {:.4}\n",
                c[0].covered,
                c[1].covered,
                c[2].covered,
                c[0].tolerance,
                c[1].tolerance,
                c[2].tolerance,
                if c.iter().all(|x| x.ok) { "ok  " } else { "MISS" },
                self.chi2[name],
                self.mean_posterior_std[name]
            );
        }
        s += if self.calibrated {
            "calibrated: every coverage within tolerance\n"
        } else {
            "NOT calibrated: some coverage outside tolerance\n"
        };
        s
    }
}
