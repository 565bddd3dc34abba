//! The shipped emulator `models/global_lstm`: it loads, its fast path agrees with the candle
//! reference on its own weights, and on fresh simulator signals (a seed the training set
//! never used) its DJ+24 eq. 3 error is what the README claims.

use std::path::Path;

use candle_core::{Device, Tensor};
use spinflip::emulator::network::LstmNetwork;
use spinflip::emulator::{ErrorReport, GlobalEmulator, LstmConfig};
use spinflip::global::sampling::{parameter_design_in, unit_cube_design, Sampling, SubBox};
use spinflip::global::{GlobalParams, GlobalSimulator};
use spinflip::likelihoods::ForwardModel;

const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/global_lstm");

fn shipped() -> GlobalEmulator {
    GlobalEmulator::load(Path::new(MODEL)).expect("models/global_lstm loads")
}

#[test]
fn shipped_model_has_the_default_architecture() {
    let emu = shipped();
    let a = emu.sidecar().architecture;
    assert_eq!(a, LstmConfig::new(7, 451));
    assert_eq!(emu.n_outputs(), 451);
    assert_eq!(
        emu.param_names(),
        spinflip::global::PARAM_NAMES.map(String::from)
    );
}

#[test]
fn fast_path_matches_candle_on_the_shipped_weights() {
    let m = spinflip::emulator::load_model(Path::new(MODEL)).unwrap();
    let emu = GlobalEmulator::from_model(m.clone()).unwrap();
    let c = m.sidecar.architecture;
    let freqs = m
        .sidecar
        .normalisation
        .step_inputs(&m.sidecar.redshifts, c.outputs_per_step);
    let n = 21;
    // Normalised parameters spread over [0, 1] (deterministic, no RNG needed).
    let params: Vec<f32> = (0..n * c.n_params)
        .map(|i| ((i * 37 + 11) % 97) as f32 / 96.0)
        .collect();
    let net = LstmNetwork::from_weights(&m.weights, &Device::Cpu).unwrap();
    let reference: Vec<f32> = net
        .forward(
            &Tensor::from_slice(&params, (n, c.n_params), &Device::Cpu).unwrap(),
            &Tensor::from_slice(&freqs, c.n_steps, &Device::Cpu).unwrap(),
        )
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let mut fast = vec![0f32; reference.len()];
    emu.fast().forward_batch(&params, &mut fast).unwrap();
    let scale = reference.iter().fold(0f32, |a, x| a.max(x.abs()));
    let worst = fast
        .iter()
        .zip(&reference)
        .fold(0f32, |a, (x, y)| a.max((x - y).abs()));
    assert!(worst / scale < 1e-5, "fast vs candle: {}", worst / scale);
}

/// Fresh signals: a Latin hypercube over the inner 96% of the prior box (the training range
/// is the sampled box, so its very edges are outside), seed 77 (training used 2024).
#[test]
fn error_on_fresh_simulator_signals_matches_the_readme() {
    let emu = shipped();
    let sim = GlobalSimulator::planck18();
    let n = 150;
    let cube = unit_cube_design(n, Sampling::LatinHypercube, 77);
    let mut truth = Vec::new();
    let mut pred = Vec::new();
    for u in &cube {
        let inner = u.map(|x| 0.02 + 0.96 * x);
        let theta = GlobalParams::from_unit_cube(&inner).to_array();
        let mut t = vec![0.0; 451];
        sim.predict(&theta, &mut t).unwrap();
        let mut e = vec![0.0; 451];
        emu.predict(&theta, &mut e).unwrap();
        truth.extend(t);
        pred.extend(e);
    }
    let rep = ErrorReport::new(&pred, &truth, 451);
    let r = rep.relative_error_percent;
    eprintln!("fresh signals: {r:?}");
    // README, 1800 held-out test signals: mean 0.196%, max 0.84% (this sample, deterministic:
    // mean 0.185%, max 0.68%). The bounds are the issue's musts (mean <= 0.22%, max <= 2%).
    assert!(r.mean < MEAN_BOUND_PERCENT, "mean {}%", r.mean);
    assert!(r.max < MAX_BOUND_PERCENT, "max {}%", r.max);
}

const MEAN_BOUND_PERCENT: f64 = 0.22;
const MAX_BOUND_PERCENT: f64 = 2.0;

/// Eq. 3 errors of the shipped model on `n` fresh signals of a sub-box of the prior.
fn errors_in_box(boxes: &[&str], n: usize, seed: u64) -> ErrorReport {
    let mut sub = SubBox::inner(0.01);
    for b in boxes {
        sub.restrict_from_spec(b).unwrap();
    }
    let emu = shipped();
    let sim = GlobalSimulator::planck18();
    let (mut truth, mut pred) = (Vec::new(), Vec::new());
    for p in parameter_design_in(n, Sampling::LatinHypercube, seed, &sub) {
        let theta = p.to_array();
        let mut t = vec![0.0; 451];
        // A point whose tau no zeta reaches is not a signal: skip it, as `simulate` redraws it.
        if sim.predict(&theta, &mut t).is_err() {
            continue;
        }
        let mut e = vec![0.0; 451];
        emu.predict(&theta, &mut e).unwrap();
        truth.extend(t);
        pred.extend(e);
    }
    ErrorReport::new(&pred, &truth, 451)
}

/// The corners where the error's tail lived before the focused fine-tune (README): soft X-ray
/// SEDs (nu_min < 0.35 keV), early strong heating (f_X > 30 with V_c < 15 km/s), and both
/// strong and soft X-rays (f_X > 100 with nu_min < 0.3 keV). Fresh Latin hypercubes of 300
/// (seeds 78-80; the focused training sets used 31-34), 1% off the prior's edges, which lie
/// just outside the training range. Each mean bound is ~1.2x the shipped model's; the model
/// before the fine-tune fails them all.
#[test]
fn error_tail_in_the_hard_corners_is_within_the_issue_bound() {
    // (box, seed, mean bound %): measured mean / max 0.233 / 1.16, 0.246 / 1.03, 0.338 / 0.93;
    // before the fine-tune 0.394 / 5.18, 0.318 / 1.41, and 0.50 / 3.2 on the third box's
    // test split (`eval` on `simulate --box ... --seed 33`).
    for (boxes, seed, mean_bound) in [
        (&["nu_min=0.101,0.35"][..], 78, 0.28),
        (&["f_X=30,990", "V_c=4.25,15"][..], 79, 0.28),
        (&["f_X=100,990", "nu_min=0.101,0.3"][..], 80, 0.42),
    ] {
        let rep = errors_in_box(boxes, 300, seed);
        let r = rep.relative_error_percent;
        eprintln!("{boxes:?}: {r:?}");
        assert!(rep.n_signals >= 290, "{}", rep.n_signals);
        assert!(r.mean < mean_bound, "{boxes:?}: mean {}%", r.mean);
        assert!(r.max < MAX_BOUND_PERCENT, "{boxes:?}: max {}%", r.max);
    }
}

/// The shipped emulator is valid on the whole prior box it was trained on, corners
/// included (the box of its data, not their min and max, which lie a hair inside): every
/// default-prior draw through `fit` or the C ABI must evaluate.
#[test]
fn the_shipped_emulator_evaluates_at_every_corner_of_its_prior_box() {
    let emu = shipped();
    let r = spinflip::global::PARAM_RANGES;
    assert_eq!(
        emu.valid_box().unwrap(),
        r.to_vec(),
        "valid range = the 21cmGEM prior box"
    );
    let mut out = vec![0.0; emu.n_outputs()];
    for corner in 0..(1u32 << 7) {
        let theta: Vec<f64> = (0..7)
            .map(|i| if corner >> i & 1 == 1 { r[i].1 } else { r[i].0 })
            .collect();
        emu.predict(&theta, &mut out)
            .unwrap_or_else(|e| panic!("corner {theta:?}: {e}"));
        assert!(out.iter().all(|v| v.is_finite()));
    }
}
