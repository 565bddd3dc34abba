//! Nested sampling on problems with known evidence. Each test asserts
//! |ln Z - exact| < 3 reported sigma AND below an absolute bound (about 4 sigma of the
//! expected error sqrt(H / n_live) at the chosen n_live, so a broken error estimate cannot
//! hide a bad ln Z), and checks posterior moments.
//!
//! Seeds are fixed for determinism. Seeds 1-5 were run by hand for every problem
//! (`SPINFLIP_TEST_SEED=k cargo test --test nested_known_answers -- --nocapture`): all pass,
//! the worst at 2.65 sigma (mixture, seed 5; 20-D slice runs reach 2.5), so seed 2 is not a lucky pick.

mod nested_problems;
use nested_problems as common;

use spinflip_samplers::nested::{Method, NestedResult, NestedSampler, NestedSettings};
use spinflip_samplers::{FnLikelihood, LogLikelihood, ParameterSet, Prior};

fn run<L: LogLikelihood>(p: &ParameterSet, l: &L, n_live: usize, method: Method) -> NestedResult {
    let s = NestedSettings {
        n_live,
        method,
        seed: seed(),
        ..Default::default()
    };
    NestedSampler::new(p, l, s).unwrap().run().unwrap()
}

/// Seed 2, or `SPINFLIP_TEST_SEED` to check other seeds by hand.
fn seed() -> u64 {
    std::env::var("SPINFLIP_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2)
}

fn check_evidence(r: &NestedResult, exact: f64, abs_bound: f64) {
    let dev = (r.log_evidence - exact).abs();
    eprintln!(
        "ln Z = {:.3} +- {:.3} (exact {exact:.3}), H = {:.2}, {} calls",
        r.log_evidence, r.log_evidence_err, r.information, r.n_calls
    );
    assert!(r.converged);
    assert!(dev < 3.0 * r.log_evidence_err, "{dev} > 3 sigma");
    assert!(dev < abs_bound, "{dev} > {abs_bound}");
}

fn gaussian_case(d: usize, n_live: usize, abs_bound: f64, method: Method) -> NestedResult {
    let (p, l, exact) = common::gaussian(d);
    let r = run(&p, &l, n_live, method);
    check_evidence(&r, exact, abs_bound);
    // H = KL(N(0, I) || U[-10, 10]^d) = d (ln 20 - ln(2 pi e) / 2)
    let h = d as f64 * (20f64.ln() - 0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln());
    assert!(
        (r.information - h).abs() < 0.1 * h,
        "H {} vs {h}",
        r.information
    );
    let post = r.posterior();
    let (mean, cov) = (post.mean(), post.covariance());
    for j in 0..d {
        assert!(mean[j].abs() < 0.15, "mean[{j}] = {}", mean[j]);
        assert!((cov[j * d + j].sqrt() - 1.0).abs() < 0.15, "std[{j}]");
    }
    r
}

#[test]
fn gaussian_2d() {
    // n_live 200: sqrt(H / n) = sqrt(3.2 / 200) = 0.13, bound ~ 4 sigma
    let r = gaussian_case(2, 200, 0.5, Method::Auto);
    assert_eq!(r.method, Method::Auto);
    // An ellipse bounds a Gaussian's contours closely: rejection throughout.
    assert_eq!(r.n_sliced, 0);
}

#[test]
fn gaussian_5d() {
    // sqrt(7.9 / 200) = 0.2
    gaussian_case(5, 200, 0.8, Method::Auto);
}

#[test]
fn gaussian_10d() {
    // sqrt(15.8 / 300) = 0.23
    gaussian_case(10, 300, 0.9, Method::Auto);
}

#[test]
fn gaussian_20d_slice() {
    // sqrt(31.5 / 100) = 0.56
    gaussian_case(20, 100, 2.2, Method::Slice);
}

#[test]
fn gaussian_20d_auto() {
    // sqrt(31.5 / 200) = 0.4. Auto rejects while the ellipsoids' volume over X is below
    // slice sampling's calls per point (30 steps of ~4 calls): on a Gaussian mostly.
    gaussian_case(20, 200, 1.6, Method::Auto);
}

#[test]
fn gaussian_5d_slice() {
    gaussian_case(5, 100, 1.2, Method::Slice);
}

#[test]
fn slice_steps_without_stepping_out_cost_fewer_calls_for_the_same_answer() {
    // 12-D, 150 live points, both moves at the same seed: both within the evidence bounds
    // (sqrt(18.9 / 150) = 0.36), and the default (no stepping out) in fewer calls: 0.66x
    // over 16 seeds at 500 live points (samplers/README.md); 0.85 leaves room for one seed.
    let (p, l, exact) = common::gaussian(12);
    let with = |step_out: bool| {
        let s = NestedSettings {
            n_live: 150,
            method: Method::Slice,
            seed: seed(),
            step_out,
            ..Default::default()
        };
        NestedSampler::new(&p, &l, s).unwrap().run().unwrap()
    };
    let (fast, stepped) = (with(false), with(true));
    check_evidence(&fast, exact, 1.4);
    check_evidence(&stepped, exact, 1.4);
    assert!(
        (fast.n_calls as f64) < 0.85 * stepped.n_calls as f64,
        "{} calls without stepping out, {} with",
        fast.n_calls,
        stepped.n_calls
    );
}

#[test]
fn slice_chains_in_lockstep_share_batched_calls() {
    // 10-D, 150 live points, 8 chains per batch through a likelihood that records its batch
    // sizes: the evidence bounds hold (sqrt(H / n) = 0.32), after the initial live points no
    // batch exceeds 8 and most calls come in batches of several points, and the calls are
    // within a few per cent of one chain's (a queued end is dropped when the contour has
    // passed it, ~8 / (2 x 150) of them; nested_suite, 8 seeds at 20-D and 500 live: +1%).
    let (p, l, exact) = common::gaussian(10);
    let run = |k: usize, l: &dyn LogLikelihood| {
        let s = NestedSettings {
            n_live: 150,
            method: Method::Slice,
            seed: seed(),
            slice_chains: k,
            ..Default::default()
        };
        NestedSampler::new(&p, l, s).unwrap().run().unwrap()
    };
    let lanes = common::Lanes::new(&l, 1);
    let (lockstep, single) = (run(8, &lanes), run(1, &l));
    check_evidence(&lockstep, exact, 1.3);
    let sizes = lanes.sizes();
    assert_eq!(sizes.iter().sum::<usize>() as u64, lockstep.n_calls);
    assert_eq!(sizes[0], 150);
    assert!(sizes[1..].iter().all(|&b| b <= 8));
    let in_groups: usize = sizes[1..].iter().filter(|&&b| b >= 4).sum();
    let share = in_groups as f64 / (lockstep.n_calls - 150) as f64;
    assert!(share > 0.7, "{share} of the calls in batches of 4 or more");
    let ratio = lockstep.n_calls as f64 / single.n_calls as f64;
    eprintln!("{share:.3} of calls in batches >= 4; calls {ratio:.3}x one chain's");
    assert!((0.85..1.2).contains(&ratio), "{ratio}");
}

#[test]
fn correlated_gaussian_5d() {
    // Covariance C_ij = rho^|i-j| with rho = 0.9 (Kac-Murdock-Szego); its inverse is
    // tridiagonal and ln det C = (d - 1) ln(1 - rho^2). Normalised: ln Z = -5 ln 20.
    let d = 5;
    let rho: f64 = 0.9;
    let s2 = 1.0 - rho * rho;
    let log_det = (d - 1) as f64 * s2.ln();
    let norm = -0.5 * (d as f64 * (2.0 * std::f64::consts::PI).ln() + log_det);
    let like = FnLikelihood::new(d, move |x: &[f64]| {
        // x^T C^-1 x for the AR(1) covariance: x0^2 + sum (x_i - rho x_{i-1})^2 / (1 - rho^2)
        let mut q = x[0] * x[0];
        for i in 1..x.len() {
            q += (x[i] - rho * x[i - 1]).powi(2) / s2;
        }
        norm - 0.5 * q
    });
    let p = ParameterSet::iid(d, Prior::uniform(-10.0, 10.0).unwrap()).unwrap();
    let r = run(&p, &like, 300, Method::Auto);
    check_evidence(&r, -(d as f64) * 20f64.ln(), 0.8);
    let cov = r.posterior().covariance();
    for i in 0..d - 1 {
        let c = cov[i * d + i + 1] / (cov[i * d + i] * cov[(i + 1) * d + i + 1]).sqrt();
        assert!((c - rho).abs() < 0.05, "corr({i}, {}) = {c}", i + 1);
    }
}

#[test]
fn gaussian_mixture_2d() {
    // 0.5 N((-3, 0), I) + 0.5 N((3, 0), I): normalised, ln Z = -2 ln 20;
    // E[x] = 0, Var[x] = 1 + 9 = 10, Var[y] = 1.
    let p = ParameterSet::iid(2, Prior::uniform(-10.0, 10.0).unwrap()).unwrap();
    let like = FnLikelihood::new(2, |t: &[f64]| {
        let c = -(2.0 * std::f64::consts::PI).ln() + 0.5f64.ln();
        let a = c - 0.5 * ((t[0] + 3.0).powi(2) + t[1] * t[1]);
        let b = c - 0.5 * ((t[0] - 3.0).powi(2) + t[1] * t[1]);
        let m = a.max(b);
        m + ((a - m).exp() + (b - m).exp()).ln()
    });
    let r = run(&p, &like, 200, Method::Auto);
    check_evidence(&r, -2.0 * 20f64.ln(), 0.5);
    let post = r.posterior();
    let (m, c) = (post.mean(), post.covariance());
    assert!(m[0].abs() < 0.4, "{m:?}"); // mode weights fluctuate by ~ 1/sqrt(n_eff)
    assert!((c[0] - 10.0).abs() < 1.0, "{c:?}");
    assert!((c[3] - 1.0).abs() < 0.15, "{c:?}");
}

#[test]
fn gaussian_shells() {
    // sqrt(2.7 / 300) = 0.095
    let (p, l, exact) = common::shells();
    let r = run(&p, &l, 300, Method::Auto);
    check_evidence(&r, exact, 0.4);
    // Each shell holds half the mass: the mean of |x| is the centre distance 3.5.
    let post = r.posterior();
    let absx: f64 = (0..post.len())
        .map(|i| post.weights[i] * post.row(i)[0].abs())
        .sum::<f64>()
        / post.weights.iter().sum::<f64>();
    assert!((absx - 3.5).abs() < 0.15, "{absx}");
}

#[test]
fn eggbox() {
    // sqrt(6.1 / 400) = 0.12
    let (p, l, exact) = common::eggbox();
    let r = run(&p, &l, 400, Method::Auto);
    check_evidence(&r, exact, 0.5);
    // Symmetric about the box centre 5 pi.
    let m = r.posterior().mean();
    let c = 5.0 * std::f64::consts::PI;
    assert!((m[0] - c).abs() < 1.0 && (m[1] - c).abs() < 1.0, "{m:?}");
}

/// As [`run`], through a likelihood that prefers batches of 16 (an emulator's SIMD groups)
/// with the emulator fits' batch cap of 64: the same evidence bounds hold, every batch
/// after the initial live points is a multiple of 16, and the calls are about those of
/// one-at-a-time sampling (the candidates above the bound that a batch does not need are
/// queued for the next points, not thrown away: without the queue these runs took 4-6x).
fn run_lanes<L: LogLikelihood>(p: &ParameterSet, l: L, n_live: usize) -> NestedResult {
    let lanes = common::Lanes::new(l, 16);
    let s = NestedSettings {
        n_live,
        seed: seed(),
        batch_size: 64,
        ..Default::default()
    };
    let r = NestedSampler::new(p, &lanes, s.clone())
        .unwrap()
        .run()
        .unwrap();
    let single = NestedSampler::new(p, &lanes.inner, NestedSettings { batch_size: 1, ..s })
        .unwrap()
        .run()
        .unwrap();
    // Seed to seed the calls scatter by a few per cent (samplers/README.md: 20-30 seeds per
    // problem, batched and single within 1%); 1.3x leaves room for one seed's draw.
    common::assert_calls_near_one_at_a_time(r.n_calls, single.n_calls, 1.3);
    let mut sizes = lanes.sizes();
    assert_eq!(sizes.iter().sum::<usize>() as u64, r.n_calls);
    assert_eq!(sizes[0], n_live, "the initial live points are one batch");
    // A run restarted for separated modes draws its new live points in one batch too.
    if r.restart.is_some() {
        let n0 = r.settings.n_live_start();
        let k = sizes
            .iter()
            .position(|&b| b == n0)
            .expect("the restart's batch");
        sizes.remove(k);
    }
    assert!(
        sizes[1..].iter().all(|&b| b % 16 == 0 && b <= 64),
        "batch sizes {:?}",
        &sizes[1..sizes.len().min(40)]
    );
    r
}

#[test]
fn gaussian_5d_in_batches_of_16() {
    let (p, l, exact) = common::gaussian(5);
    let r = run_lanes(&p, l, 200);
    check_evidence(&r, exact, 0.8);
}

#[test]
fn shells_in_batches_of_16() {
    let (p, l, exact) = common::shells();
    let r = run_lanes(&p, l, 300);
    check_evidence(&r, exact, 0.4);
}

#[test]
fn eggbox_in_batches_of_16() {
    let (p, l, exact) = common::eggbox();
    let r = run_lanes(&p, l, 400);
    check_evidence(&r, exact, 0.5);
}

#[test]
fn errors_of_tapered_runs_match_their_scatter() {
    // 2,000 live points tapering to 200 over 12 e-folds carry the posterior bulk of a 2-D
    // Gaussian with many live points: the reported error must shrink to match (it was
    // sqrt(H / 200), 2-3x too large: RMS of (ln Z - exact) / error ~0.3). Over 16 seeds the
    // RMS of a calibrated error is 1 +- 0.18; [0.6, 1.5] holds it at 2.5 sigma.
    let (p, l, exact) = common::gaussian(2);
    let mut sum_sq = 0.0;
    let mut mean_err = 0.0;
    let n = 16;
    for seed in 1..=n {
        let s = NestedSettings {
            n_live: 200,
            n_live_start: Some(2000),
            taper: 12.0,
            seed,
            ..Default::default()
        };
        let r = NestedSampler::new(&p, &l, s).unwrap().run().unwrap();
        sum_sq += ((r.log_evidence - exact) / r.log_evidence_err).powi(2);
        mean_err += r.log_evidence_err / n as f64;
    }
    let rms = (sum_sq / n as f64).sqrt();
    let untapered = (3.2f64 / 200.0).sqrt();
    eprintln!("RMS {rms:.2}, mean error {mean_err:.3} (sqrt(H / 200) = {untapered:.3})");
    assert!((0.6..1.5).contains(&rms), "RMS offset / error {rms}");
    assert!(mean_err < 0.6 * untapered, "{mean_err}");
}

#[test]
fn auto_slices_where_ellipsoids_bound_the_contour_badly() {
    // A product of 10 Laplace densities: its contours are cross-polytopes (|x|_1 < r), whose
    // bounding ellipsoids are far larger than they are, so rejection needs many candidates
    // per point late in the run and Auto turns to slice sampling. Normalised in U[-10, 10]
    // per axis: ln Z = 10 ln((1 - e^-10) / 20).
    let d = 10;
    let like = FnLikelihood::new(d, |x: &[f64]| {
        x.iter().map(|v| -v.abs() - 2f64.ln()).sum::<f64>()
    });
    let p = ParameterSet::iid(d, Prior::uniform(-10.0, 10.0).unwrap()).unwrap();
    let exact = d as f64 * ((-(-10f64).exp()).ln_1p() - 20f64.ln());
    let (auto, rejection) = (
        run(&p, &like, 200, Method::Auto),
        run(&p, &like, 200, Method::Rejection),
    );
    eprintln!(
        "auto: {} of {} points sliced, {} calls; rejection {} calls",
        auto.n_sliced, auto.n_iterations, auto.n_calls, rejection.n_calls
    );
    // sqrt(H / n) = sqrt(13 / 200) = 0.25
    check_evidence(&auto, exact, 1.3);
    check_evidence(&rejection, exact, 1.3);
    assert!(auto.n_sliced > 0 && rejection.n_sliced == 0);
    // Seeds 1-7: 0.44-0.75 of rejection's calls (1.2-3.1k of ~4.5k points sliced).
    assert!(
        (auto.n_calls as f64) < 0.85 * rejection.n_calls as f64,
        "auto {} calls, rejection {}",
        auto.n_calls,
        rejection.n_calls
    );
}
