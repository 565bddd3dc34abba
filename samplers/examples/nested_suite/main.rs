//! Benchmark suite for the nested sampler: problems with known evidences run over fixed
//! seeds, one table row per run (ln Z error against the reported one, calls, mode masses).
//!
//! `cargo run --release -p spinflip-samplers --example nested_suite -- PROBLEM [SEEDS] [N_LIVE]
//! [N_LIVE_START] [TAPER]` with PROBLEM one of `mixture2`, `mixture3`, `mixture4`, `mixture5`,
//! `mixture10` (weights 0.6 / 0.3 / 0.1, widths 0.05 / 0.2 / 0.5: the heavy mode is the
//! narrowest; the layout seed is the run's seed), `mixture3b` (0.8 / 0.15 / 0.05, widths 0.03
//! / 0.3 / 0.6), `twomodes12`, `twomodes20` (weights 0.7 / 0.3, both widths 0.3), `laplace10`,
//! `laplace20`, `student10`, `student20` (products of Laplace or Student-t2 densities), `shells`, `eggbox`, `loggamma2`, `loggamma10`, `rosenbrock` (references by
//! quadrature or in closed form), `gauss12`, `gauss20`, `gauss30`, `gauss50`, `corr30`, `wide30` (the 30-D
//! Gaussian in a box 100 times wider); SEEDS like
//! `1..20`. `NESTED_TRACE=1` prints live points near each mode every 200 iterations;
//! `NESTED_REPEATS=N` sets the slice steps per point (default: the sampler's rule);
//! `NESTED_RESTART=0` switches off the restart for separated modes.
//! `NESTED_METHOD=rejection|slice|auto` sets the method (default: auto).
//! `NESTED_BATCH=Q` makes the likelihood prefer batches of `Q` (as the emulator's 16) with
//! rejection batches of up to `4 Q` (the CLI's 64), to measure batched runs.
//! `NESTED_WARNINGS=1` prints each run's warnings.
//! `NESTED_VALLEY=C` probes for valleys between isolated live points (see `ValleyProbe`).
//! `NESTED_SLICE_CHAINS=K` runs `K` slice chains in lockstep (`NestedSettings::slice_chains`).
//! `nested_suite dump PROBLEM SEED` prints the problem as JSON for
//! `scripts/nested_suite_peers.py` (dynesty and UltraNest on the same problems).

mod problems;

use problems::Problem;
use spinflip_samplers::driver::{Driver, Observer};
use spinflip_samplers::nested::linalg::mean_cov;
use spinflip_samplers::nested::state::State;
use spinflip_samplers::nested::{Method, NestedRun, NestedSampler, NestedSettings};
use spinflip_samplers::SamplerError;
use spinflip_samplers::{FnLikelihood, LikelihoodError, LogLikelihood, ParameterSet, Prior};

/// A likelihood that prefers batches of `q` (as an emulator does), for `NESTED_BATCH`.
struct Batched<L> {
    inner: L,
    q: usize,
}

impl<L: LogLikelihood> LogLikelihood for Batched<L> {
    fn n_params(&self) -> usize {
        self.inner.n_params()
    }
    fn log_likelihood(&self, theta: &[f64]) -> Result<f64, LikelihoodError> {
        self.inner.log_likelihood(theta)
    }
    fn preferred_batch(&self) -> usize {
        self.q
    }
}

/// `D:WEIGHTS:WIDTHS` (as `10:0.6,0.3,0.1:0.2,0.3,0.4`): a mixture of your choosing.
fn custom_mixture(spec: &str, seed: u64) -> Result<Problem, String> {
    let bad = || {
        format!("mixture:{spec}: expected mixture:D:WEIGHTS:WIDTHS, as mixture:10:0.6,0.3,0.1:0.2,0.3,0.4")
    };
    let parts: Vec<&str> = spec.split(':').collect();
    let [d, w, s] = parts[..] else {
        return Err(bad());
    };
    let list = |t: &str| -> Result<Vec<f64>, String> {
        t.split(',')
            .map(|x| {
                x.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|v| *v > 0.0 && v.is_finite())
            })
            .collect::<Option<Vec<f64>>>()
            .ok_or_else(bad)
    };
    let d: usize = d.parse().ok().filter(|&d| d >= 1).ok_or_else(bad)?;
    let (w, s) = (list(w)?, list(s)?);
    // Centres go at least 3 apart in [-4, 4]^d one by one: more than these could jam.
    let most = match d {
        1 => 3,
        2 => 6,
        _ => 10,
    };
    if w.len() != s.len() || w.len() > most {
        return Err(format!("{}; at most {most} modes in {d}-D", bad()));
    }
    Ok(problems::mixture(d, &w, &s, seed))
}

fn problem(name: &str, seed: u64) -> Result<Problem, String> {
    let heavy_narrow = |d| problems::mixture(d, &[0.6, 0.3, 0.1], &[0.05, 0.2, 0.5], seed);
    if let Some(spec) = name.strip_prefix("mixture:") {
        return custom_mixture(spec, seed);
    }
    Ok(match name {
        "mixture2" => heavy_narrow(2),
        "mixture3" => heavy_narrow(3),
        "mixture4" => heavy_narrow(4),
        "mixture5" => heavy_narrow(5),
        // Other weights and widths: a heavier, narrower mode among wider ones.
        "mixture3b" => problems::mixture(3, &[0.8, 0.15, 0.05], &[0.03, 0.3, 0.6], seed),
        "mixture10" => heavy_narrow(10),
        // Two modes of equal width and unequal weight in many dimensions (modes of unequal
        // widths hold shares of the early contours falling as the width ratio^d).
        "twomodes12" => problems::mixture(12, &[0.7, 0.3], &[0.3, 0.3], seed),
        "twomodes20" => problems::mixture(20, &[0.7, 0.3], &[0.3, 0.3], seed),
        // Contours far from ellipsoids: heavy tails, corners.
        "laplace10" => problems::heavy_tails(10, false),
        "laplace20" => problems::heavy_tails(20, false),
        "student10" => problems::heavy_tails(10, true),
        "student20" => problems::heavy_tails(20, true),
        "shells" => problems::shells(),
        "eggbox" => problems::eggbox(),
        "loggamma2" => problems::log_gamma(2),
        "loggamma10" => problems::log_gamma(10),
        "rosenbrock" => problems::rosenbrock(),
        "gauss12" => problems::correlated_gaussian(12, 0.0, 8.0),
        "gauss20" => problems::correlated_gaussian(20, 0.0, 8.0),
        "gauss30" => problems::correlated_gaussian(30, 0.0, 8.0),
        "gauss50" => problems::correlated_gaussian(50, 0.0, 8.0),
        "corr30" => problems::correlated_gaussian(30, 0.9, 8.0),
        // A posterior 100 times narrower than the prior box, as in most real fits.
        "wide30" => problems::correlated_gaussian(30, 0.0, 800.0),
        _ => return Err(format!("unknown problem {name}")),
    })
}

/// Prints, every 200 iterations, the live points near each mode and whether the bound
/// holds each mode's centre.
struct Tracer {
    centres: Vec<Vec<f64>>,
    widths: Vec<f64>,
}

impl<'s, 'a, L: spinflip_samplers::LogLikelihood + ?Sized> Observer<NestedRun<'s, 'a, L>>
    for Tracer
{
    fn on_step(
        &mut self,
        _: &NestedRun<'s, 'a, L>,
        st: &State,
        before: usize,
    ) -> Result<(), SamplerError> {
        if !before.is_multiple_of(200) {
            return Ok(());
        }
        let d = self.centres[0].len();
        let mut scratch = vec![0.0; d];
        let counts: Vec<String> = self
            .centres
            .iter()
            .zip(&self.widths)
            .map(|(c, w)| {
                let n = st
                    .live
                    .u
                    .chunks(d)
                    .filter(|x| {
                        x.iter()
                            .zip(c)
                            .map(|(a, b)| (a - b).powi(2))
                            .sum::<f64>()
                            .sqrt()
                            < 6.0 * w * (d as f64).sqrt()
                    })
                    .count();
                let r = st.bound.as_ref().map_or(f64::NAN, |b| {
                    b.ellipsoids()
                        .iter()
                        .map(|e| e.radius2(c, &mut scratch).sqrt())
                        .fold(f64::INFINITY, f64::min)
                });
                format!("{n}({r:.2})")
            })
            .collect();
        let lmin = st.live.log_l.iter().cloned().fold(f64::INFINITY, f64::min);
        println!(
            "  it {before} lnX {:.2} lnL* {:.2} ellipsoids {} lnV {:.2} modes {}",
            st.log_x,
            lmin,
            st.bound.as_ref().map_or(0, |b| b.ellipsoids().len()),
            st.bound.as_ref().map_or(0.0, |b| b.log_volume()),
            counts.join(" ")
        );
        Ok(())
    }
}

/// `NESTED_VALLEY=C`: every 100 iterations of a run's first attempt, live points whose
/// nearest neighbour (in units of each coordinate's spread) is more than `C` times the
/// median nearest-neighbour distance away are tested for a valley: ln L at the midpoint to
/// that neighbour below the bound means the contour is not connected there (a separate
/// mode). A probe of whether isolated points betray modes the bounds never split off: on
/// 7-D mixtures it found valleys in runs that saw one mode, but built into the sampler (at
/// each bound update, C = 2) it also found them on the main job's curved, thin contours
/// (0.2 to 72 below the bound, 4 of 4 seeds), restarting it for nothing; so it stays a
/// probe (samplers/README.md).
struct ValleyProbe<'p> {
    log_l: &'p problems::LogL,
    lo: f64,
    hi: f64,
    factor: f64,
    tests: std::rc::Rc<std::cell::Cell<(usize, usize)>>,
}

impl<'s, 'a, L: spinflip_samplers::LogLikelihood + ?Sized> Observer<NestedRun<'s, 'a, L>>
    for ValleyProbe<'_>
{
    fn on_step(
        &mut self,
        _: &NestedRun<'s, 'a, L>,
        st: &State,
        before: usize,
    ) -> Result<(), SamplerError> {
        if !before.is_multiple_of(100) || st.restart.is_some() {
            return Ok(());
        }
        let n = st.live.log_l.len();
        let d = st.live.u.len() / n;
        let row = |i: usize| &st.live.u[i * d..(i + 1) * d];
        let all: Vec<usize> = (0..n).collect();
        let (_, cov) = mean_cov(&st.live.u, d, &all);
        let sd: Vec<f64> = (0..d).map(|k| cov[k * d + k].sqrt().max(1e-12)).collect();
        let dist = |a: &[f64], b: &[f64]| {
            a.iter()
                .zip(b)
                .zip(&sd)
                .map(|((x, y), s)| ((x - y) / s).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        let nn: Vec<(usize, f64)> = (0..n)
            .map(|i| {
                (0..n)
                    .filter(|&j| j != i)
                    .map(|j| (j, dist(row(i), row(j))))
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .unwrap_or((i, 0.0))
            })
            .collect();
        let mut sorted: Vec<f64> = nn.iter().map(|x| x.1).collect();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[n / 2];
        let l_min = st.live.log_l.iter().cloned().fold(f64::INFINITY, f64::min);
        let (mut tests, mut valleys) = self.tests.get();
        for (i, &(j, r)) in nn.iter().enumerate() {
            if r > self.factor * median {
                tests += 1;
                let mid: Vec<f64> = row(i)
                    .iter()
                    .zip(row(j))
                    .map(|(a, b)| self.lo + 0.5 * (a + b) * (self.hi - self.lo))
                    .collect();
                if (self.log_l)(&mid) < l_min {
                    if valleys == 0 {
                        eprintln!(
                            "  valley at iteration {before}, ln X {:.2} (NN {:.2} x median)",
                            st.log_x,
                            r / median
                        );
                    }
                    valleys += 1;
                }
            }
        }
        self.tests.set((tests, valleys));
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args
        .first()
        .ok_or("usage: nested_suite PROBLEM [SEEDS] [N_LIVE] [N_LIVE_START] [TAPER] | nested_suite dump PROBLEM SEED")?;
    if name == "dump" {
        // The problem as JSON, for scripts/nested_suite_peers.py to run dynesty/UltraNest on.
        let (pname, seed) = (
            args.get(1).ok_or("dump PROBLEM SEED")?,
            args.get(2).ok_or("dump PROBLEM SEED")?,
        );
        println!("{}", problem(pname, seed.parse()?)?.spec);
        return Ok(());
    }
    let seeds = args.get(1).map(String::as_str).unwrap_or("1..5");
    let (a, b) = seeds.split_once("..").ok_or("SEEDS like 1..5")?;
    let (a, b): (u64, u64) = (a.parse()?, b.parse()?);
    let n_live: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(500);
    let n_live_start: Option<usize> = args.get(3).map(|s| s.parse()).transpose()?;
    let taper: f64 = args.get(4).map(|s| s.parse()).transpose()?.unwrap_or(5.0);
    // Slice steps per point (default: the sampler's rule), for sweeps over the setting.
    let n_repeats: Option<usize> = std::env::var("NESTED_REPEATS")
        .ok()
        .map(|s| s.parse())
        .transpose()?;
    // NESTED_RESTART=0 switches off the restart for separated modes (the old default).
    let restart_on_modes = std::env::var("NESTED_RESTART").map_or(true, |v| v != "0");
    let method = match std::env::var("NESTED_METHOD").as_deref() {
        Ok("rejection") => Method::Rejection,
        Ok("slice") => Method::Slice,
        Ok("auto") | Err(_) => Method::Auto,
        Ok(m) => return Err(format!("NESTED_METHOD={m}: use rejection, slice or auto").into()),
    };
    let q: usize = std::env::var("NESTED_BATCH")
        .ok()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1);
    let slice_chains: usize = std::env::var("NESTED_SLICE_CHAINS")
        .ok()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1);
    println!("problem seed n_live lnZ exact err |dlnZ|/err calls seconds modes warned parts(found/expected)");
    let mut bad = 0;
    let mut silent = 0;
    for seed in a..=b {
        let p = problem(name, seed)?;
        let params = ParameterSet::iid(p.d, Prior::uniform(p.lo, p.hi)?)?;
        let f = &p.log_l;
        let like = Batched {
            inner: FnLikelihood::new(p.d, |t: &[f64]| f(t)),
            q,
        };
        let settings = NestedSettings {
            n_live,
            n_live_start,
            taper,
            seed,
            n_repeats,
            restart_on_modes,
            method,
            batch_size: if q > 1 { 4 * q } else { 1 },
            slice_chains,
            ..Default::default()
        };
        let sampler = NestedSampler::new(&params, &like, settings)?;
        let valley = std::env::var("NESTED_VALLEY")
            .ok()
            .and_then(|v| v.parse::<f64>().ok());
        let r = if let Some(factor) = valley {
            let tests = std::rc::Rc::new(std::cell::Cell::new((0, 0)));
            let probe = ValleyProbe {
                log_l: &p.log_l,
                lo: p.lo,
                hi: p.hi,
                factor,
                tests: tests.clone(),
            };
            let out = Driver::new(sampler.stepper()).observe(probe).run()?.output;
            let (t, v) = tests.get();
            eprintln!("  valley probe: {t} isolated points tested, {v} valleys");
            out
        } else if std::env::var_os("NESTED_TRACE").is_some() {
            let tracer = Tracer {
                centres: p
                    .centres
                    .iter()
                    .map(|c| c.iter().map(|x| (x - p.lo) / (p.hi - p.lo)).collect())
                    .collect(),
                widths: p.widths.iter().map(|w| w / (p.hi - p.lo)).collect(),
            };
            Driver::new(sampler.stepper()).observe(tracer).run()?.output
        } else {
            sampler.run()?
        };
        eprintln!(
            "  seed {seed}: {} of {} new points slice sampled; restarted at ln X {}",
            r.n_sliced,
            r.n_iterations,
            r.restart.map_or("-".into(), |x| format!("{:.2}", x.log_x))
        );
        if std::env::var_os("NESTED_WARNINGS").is_some() {
            for w in r.warnings() {
                eprintln!("  warning: {w}");
            }
        }
        let post = r.posterior();
        let wsum: f64 = post.weights.iter().sum();
        let parts: Vec<String> = p
            .parts
            .iter()
            .map(|(_, mass, inside)| {
                let m: f64 = (0..post.weights.len())
                    .filter(|&i| inside(post.row(i)))
                    .map(|i| post.weights[i])
                    .sum::<f64>()
                    / wsum;
                format!("{m:.3}/{mass:.3}")
            })
            .collect();
        let z = (r.log_evidence - p.log_z).abs() / r.log_evidence_err;
        if z > 3.0 {
            bad += 1;
            if r.warnings().is_empty() {
                silent += 1;
            }
        }
        println!(
            "{} {seed} {n_live} {:.3} {:.3} {:.3} {:.2} {} {:.2} {} {} {}",
            p.name,
            r.log_evidence,
            p.log_z,
            r.log_evidence_err,
            z,
            r.n_calls,
            r.wall_time.as_secs_f64(),
            r.max_modes,
            u8::from(!r.warnings().is_empty()),
            parts.join(" ")
        );
    }
    println!(
        "runs with |dlnZ| > 3 err: {bad} of {}, {silent} of them without a warning",
        b - a + 1
    );
    Ok(())
}
