//! Model files: round trip, and a clear `ModelFile` error for each kind of damage.

mod common;

use std::path::{Path, PathBuf};

use spinflip::emulator::model_file::{model_paths, FORMAT, VERSION};
use spinflip::emulator::{
    load_model, save_model, EmulatorModel, GlobalEmulator, LstmConfig, LstmWeights, ModelSidecar,
    Normalisation,
};
use spinflip::likelihoods::{ForwardModel, ModelError};
use spinflip::SpinflipError;

fn model(hidden: usize) -> EmulatorModel {
    let data = common::data(20, 5, 1.0, 3);
    let n = data.redshifts.len();
    let norm = Normalisation::fit(
        &data.param_names,
        &data.train_params,
        &data.train_signals,
        &data.redshifts,
    )
    .unwrap();
    let arch = LstmConfig {
        n_params: 7,
        hidden,
        layers: 2,
        n_steps: n,
        outputs_per_step: 1,
    };
    let (mut lo, mut hi) = (vec![f64::INFINITY; 7], vec![f64::NEG_INFINITY; 7]);
    for r in data.train_params.chunks_exact(7) {
        for i in 0..7 {
            lo[i] = lo[i].min(r[i]);
            hi[i] = hi[i].max(r[i]);
        }
    }
    EmulatorModel {
        sidecar: ModelSidecar {
            format: FORMAT.into(),
            version: VERSION,
            architecture: arch,
            normalisation: norm,
            redshifts: data.redshifts.clone(),
            param_names: data.param_names.clone(),
            param_min: lo,
            param_max: hi,
            data_hash: data.hash(),
            weights_hash: String::new(),
            metrics: None,
            training: None,
        },
        weights: LstmWeights::random(arch, 9),
    }
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("spinflip-emu-mf-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn reason(r: Result<EmulatorModel, SpinflipError>) -> String {
    match r {
        Err(SpinflipError::ModelFile { reason, .. }) => reason,
        Err(e) => panic!("expected ModelFile, got {e}"),
        Ok(_) => panic!("expected an error"),
    }
}

fn edit_sidecar(path: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let (_, sp) = model_paths(path);
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sp).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(&sp, serde_json::to_string(&v).unwrap()).unwrap();
}

#[test]
fn round_trip_is_exact() {
    let m = model(8);
    let p = tmp("rt");
    save_model(&p, &m).unwrap();
    let back = load_model(&p).unwrap();
    assert_eq!(back.weights, m.weights);
    // serde_json (without its float_roundtrip feature) may change the last bit of an f64.
    let close = |a: &[f64], b: &[f64]| {
        a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-15 * y.abs())
    };
    let (a, b) = (&back.sidecar.normalisation, &m.sidecar.normalisation);
    assert!(close(&a.feature_min, &b.feature_min) && close(&a.feature_max, &b.feature_max));
    assert!(close(
        &[a.signal_min, a.signal_max, a.nu_min, a.nu_max],
        &[b.signal_min, b.signal_max, b.nu_min, b.nu_max]
    ));
    assert_eq!(a.log10, b.log10);
    assert!(close(&back.sidecar.redshifts, &m.sidecar.redshifts));
    // Either file name works.
    load_model(&p.with_extension("json")).unwrap();
}

#[test]
fn truncated_weights_are_reported() {
    let p = tmp("trunc");
    save_model(&p, &model(8)).unwrap();
    let (wp, _) = model_paths(&p);
    let bytes = std::fs::read(&wp).unwrap();
    std::fs::write(&wp, &bytes[..bytes.len() - 100]).unwrap();
    let r = reason(load_model(&p));
    assert!(r.contains("truncated"), "{r}");
}

#[test]
fn missing_weights_file_is_reported() {
    let p = tmp("nofile");
    save_model(&p, &model(8)).unwrap();
    std::fs::remove_file(model_paths(&p).0).unwrap();
    let r = reason(load_model(&p));
    assert!(r.contains("cannot read weights"), "{r}");
}

#[test]
fn sidecar_of_another_architecture_is_reported() {
    // Weights of 8 units, sidecar claiming 16: a shape mismatch names the tensor.
    let p = tmp("arch");
    save_model(&p, &model(8)).unwrap();
    edit_sidecar(&p, |v| v["architecture"]["hidden"] = 16.into());
    let r = reason(load_model(&p));
    assert!(r.contains("lstm.0.w_ih") && r.contains("shape"), "{r}");
}

#[test]
fn missing_tensor_is_reported() {
    let p = tmp("missing");
    save_model(&p, &model(8)).unwrap();
    // One layer's weights under a two-layer sidecar: layer 1 tensors are missing.
    let mut one = model(8);
    one.sidecar.architecture.layers = 1;
    one.weights = LstmWeights::random(one.sidecar.architecture, 1);
    let q = tmp("missing1");
    save_model(&q, &one).unwrap();
    std::fs::copy(model_paths(&q).0, model_paths(&p).0).unwrap();
    let r = reason(load_model(&p));
    assert!(r.contains("missing tensor 'lstm.1.w_ih'"), "{r}");
}

#[test]
fn weights_of_another_model_are_reported() {
    let (p, q) = (tmp("pair_a"), tmp("pair_b"));
    let a = model(8);
    let mut b = model(8);
    b.weights = LstmWeights::random(b.sidecar.architecture, 77);
    save_model(&p, &a).unwrap();
    save_model(&q, &b).unwrap();
    std::fs::copy(model_paths(&q).0, model_paths(&p).0).unwrap();
    let r = reason(load_model(&p));
    assert!(r.contains("hash"), "{r}");
}

#[test]
fn inconsistent_sidecar_is_reported() {
    let p = tmp("side");
    save_model(&p, &model(8)).unwrap();
    edit_sidecar(&p, |v| {
        v["redshifts"].as_array_mut().unwrap().pop();
    });
    assert!(reason(load_model(&p)).contains("redshifts"));
    save_model(&p, &model(8)).unwrap();
    edit_sidecar(&p, |v| v["param_min"] = serde_json::json!([0.0]));
    assert!(reason(load_model(&p)).contains("ranges"));
    save_model(&p, &model(8)).unwrap();
    edit_sidecar(&p, |v| v["format"] = "something else".into());
    assert!(reason(load_model(&p)).contains("format"));
    std::fs::write(model_paths(&p).1, "{ not json").unwrap();
    assert!(reason(load_model(&p)).contains("not a valid model description"));
}

#[test]
fn emulator_range_checks_and_extrapolation_flag() {
    let m = model(8);
    let lo = m.sidecar.param_min.clone();
    let hi = m.sidecar.param_max.clone();
    let emu = GlobalEmulator::from_model(m.clone()).unwrap();
    // Batches are evaluated in SIMD groups of 16: samplers are told so.
    let shared: std::sync::Arc<dyn ForwardModel> = std::sync::Arc::new(emu.clone());
    assert_eq!(shared.preferred_batch(), emu.fast().preferred_batch());
    assert_eq!(emu.fast().preferred_batch(), 16);
    let mid: Vec<f64> = lo.iter().zip(&hi).map(|(a, b)| 0.5 * (a + b)).collect();
    let mut out = vec![0.0; emu.n_outputs()];
    emu.predict(&mid, &mut out).unwrap();
    assert!(out.iter().all(|x| x.is_finite()));

    let mut outside = mid.clone();
    outside[3] = hi[3] * 1.5;
    let e = emu.predict(&outside, &mut out).unwrap_err();
    assert!(
        matches!(e, ModelError::OutOfRange { ref name, .. } if name == "tau"),
        "{e}"
    );
    assert!(e.is_recoverable());
    let mut nan = mid.clone();
    nan[0] = f64::NAN;
    let e = emu.predict(&nan, &mut out).unwrap_err();
    assert!(matches!(e, ModelError::NonFinite { .. }) && e.is_recoverable());

    let free = GlobalEmulator::from_model(m)
        .unwrap()
        .allow_extrapolation(true);
    free.predict(&outside, &mut out).unwrap();
    assert!(free.predict(&nan, &mut out).is_err());

    // Batches flag bad points and fill the good ones exactly as single calls do.
    let thetas: Vec<f64> = [mid.clone(), outside, mid.clone()].concat();
    let mut outs = vec![0.0; 3 * emu.n_outputs()];
    let mut ok = vec![false; 3];
    emu.predict_batch(&thetas, &mut outs, &mut ok).unwrap();
    assert_eq!(ok, [true, false, true]);
    emu.predict(&mid, &mut out).unwrap();
    let n = emu.n_outputs();
    for (a, b) in outs[2 * n..].iter().zip(&out) {
        assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{a} {b}");
    }
}
