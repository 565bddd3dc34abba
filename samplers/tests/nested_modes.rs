//! Modes: a narrow, heavy mode among broad ones (the class that bounds following the live
//! points lose), the restart with tapered live points that finds it, and the warning every
//! multimodal run carries. Problems from the benchmark suite (`examples/nested_suite`).

#[path = "../examples/nested_suite/problems.rs"]
#[allow(dead_code)]
mod problems;

use spinflip_samplers::nested::{Method, NestedResult, NestedSampler, NestedSettings};
use spinflip_samplers::{FnLikelihood, ParameterSet, Prior};

fn run(p: &problems::Problem, settings: NestedSettings) -> NestedResult {
    let params = ParameterSet::iid(p.d, Prior::uniform(p.lo, p.hi).unwrap()).unwrap();
    let f = &p.log_l;
    let like = FnLikelihood::new(p.d, |t: &[f64]| f(t));
    NestedSampler::new(&params, &like, settings)
        .unwrap()
        .run()
        .unwrap()
}

/// 3-D: weights 0.6 / 0.3 / 0.1, widths 0.05 / 0.2 / 0.5, U[-6, 6]^3.
fn mixture(layout: u64) -> problems::Problem {
    problems::mixture(3, &[0.6, 0.3, 0.1], &[0.05, 0.2, 0.5], layout)
}

#[test]
fn the_defaults_find_the_narrow_heavy_mode() {
    // Measured with the suite over layouts 1-100: 500 live points alone miss the heavy mode
    // in 12 of the first 20 (ln Z 5-9 errors low); the restart with 4000 live points tapering
    // over 12 e-folds, which the defaults make when the modes separate, in 4 of 100. Here 8
    // layouts: a miss rate of 5% gives >= 7 good runs with probability 0.94; the rate without
    // the restart, 60%, would give it with probability 0.009.
    let mut good = 0;
    for seed in 1..=8 {
        let p = mixture(seed);
        let r = run(
            &p,
            NestedSettings {
                n_live: 500,
                seed,
                ..Default::default()
            },
        );
        assert_eq!(r.live.len(), 500, "the taper ends at n_live");
        let z = (r.log_evidence - p.log_z).abs() / r.log_evidence_err;
        good += usize::from(z < 3.0);
        // The modes separated, the run started again, and it says so.
        let restart = r
            .restart
            .unwrap_or_else(|| panic!("seed {seed}: no restart"));
        assert!(r.max_modes >= 2, "seed {seed}: {} modes", r.max_modes);
        assert!(restart.log_x < 0.0 && restart.n_calls < r.n_calls);
        let w = r.warnings();
        assert!(
            w.iter()
                .any(|m| m.contains("started again with n_live_start = 4000")
                    && m.contains("rerun with n_live_start = 32000")),
            "{w:?}"
        );
    }
    assert!(
        good >= 7,
        "{good} of 8 runs within 3 errors of the exact ln Z"
    );
}

#[test]
fn a_missed_mode_does_not_pass_silently() {
    // Without the restart the heavy mode is often lost (12 of the suite's 20 layouts; layouts
    // 2, 5, 6 among them, ln Z low by 5-9 errors). Every run that misses it must warn, naming
    // the setting that helps; and at least one of these layouts must miss, or the test checks
    // nothing (then pick layouts that still miss with `nested_suite mixture3 1..20`).
    let mut misses = 0;
    for seed in [2, 5, 6] {
        let p = mixture(seed);
        let r = run(
            &p,
            NestedSettings {
                n_live: 500,
                seed,
                restart_on_modes: false,
                ..Default::default()
            },
        );
        assert!(r.restart.is_none());
        let z = (r.log_evidence - p.log_z) / r.log_evidence_err;
        if z < -3.0 {
            misses += 1;
            let w = r.warnings();
            assert!(
                w.iter()
                    .any(|m| m.contains("n_live_start = 4000") && m.contains("taper = 12")),
                "seed {seed}: a miss by {z:.2} errors without the warning: {w:?}"
            );
        }
    }
    assert!(
        misses > 0,
        "no layout missed the mode: the warning went untested"
    );
}

#[test]
fn a_run_stopped_early_says_its_ln_z_is_a_lower_estimate() {
    let p = problems::correlated_gaussian(2, 0.0, 8.0);
    let r = run(
        &p,
        NestedSettings {
            n_live: 100,
            max_iterations: Some(50),
            ..Default::default()
        },
    );
    let w = r.warnings();
    assert!(w.iter().any(|m| m.contains("lower estimate")), "{w:?}");
    assert!(
        w.iter().all(|m| !m.contains("  ")),
        "broken line join: {w:?}"
    );
}

#[test]
fn a_single_mode_carries_no_warning() {
    let p = problems::correlated_gaussian(4, 0.5, 8.0);
    let r = run(
        &p,
        NestedSettings {
            n_live: 200,
            seed: 3,
            ..Default::default()
        },
    );
    assert!(r.warnings().is_empty(), "{:?}", r.warnings());
    assert!(r.restart.is_none(), "a single mode must not restart");
    assert!((r.log_evidence - p.log_z).abs() < 3.0 * r.log_evidence_err);
}

#[test]
fn the_taper_keeps_the_evidence_right_on_a_gaussian() {
    // Killing without replacement shrinks X by exp(-1/n) just as a replaced death does: the
    // tapered run must still agree with the exact ln Z.
    let p = problems::correlated_gaussian(3, 0.0, 8.0);
    for seed in 1..=3 {
        let r = run(
            &p,
            NestedSettings {
                n_live: 150,
                n_live_start: Some(1200),
                taper: 4.0,
                seed,
                ..Default::default()
            },
        );
        let z = (r.log_evidence - p.log_z).abs() / r.log_evidence_err;
        assert!(z < 3.0, "seed {seed}: {z:.2} errors off");
        assert_eq!(r.live.len(), 150);
    }
}

#[test]
fn slice_sampling_sees_separated_modes_too() {
    // Slice sampling keeps no bounds, but the live points' ellipsoid decomposition still
    // tells two separated modes apart: the run warns (and does not restart: the restart is
    // for bounds), while a single mode stays quiet.
    let two = problems::mixture(12, &[0.5, 0.5], &[0.3, 0.3], 1);
    let r = run(
        &two,
        NestedSettings {
            n_live: 200,
            seed: 1,
            method: Method::Slice,
            ..Default::default()
        },
    );
    assert_eq!(r.n_sliced, r.n_iterations, "every new point sliced");
    assert!(r.max_modes >= 2, "{} modes", r.max_modes);
    assert!(r.restart.is_none());
    assert!(
        r.warnings().iter().any(|m| m.contains("separated modes")),
        "{:?}",
        r.warnings()
    );
    let one = problems::correlated_gaussian(12, 0.5, 8.0);
    let r = run(
        &one,
        NestedSettings {
            n_live: 200,
            seed: 1,
            method: Method::Slice,
            ..Default::default()
        },
    );
    assert_eq!(r.max_modes, 1);
    assert!(r.warnings().is_empty(), "{:?}", r.warnings());
}

#[test]
fn automatic_runs_above_ten_dimensions_warn_of_modes_without_restarting() {
    // Auto rejects from ellipsoids here too, which see the two modes; the restart's extra
    // prior draws cannot find narrow modes in 12-D, so it is not made (RESTART_MAX_FREE).
    let two = problems::mixture(12, &[0.5, 0.5], &[0.3, 0.3], 1);
    let r = run(
        &two,
        NestedSettings {
            n_live: 200,
            seed: 1,
            ..Default::default()
        },
    );
    assert!(r.n_sliced < r.n_iterations, "{} sliced", r.n_sliced);
    assert!(r.max_modes >= 2 && r.restart.is_none());
    assert!(r.warnings().iter().any(|m| m.contains("separated modes")));
    let z = (r.log_evidence - two.log_z).abs() / r.log_evidence_err;
    assert!(z < 3.0, "{z:.2} errors off");
}
