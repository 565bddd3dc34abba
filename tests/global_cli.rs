//! `spinflip simulate global` through the built binary.

use spinflip::io::GlobalSignalSet;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_spinflip"))
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("spinflip_global_cli_{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

#[test]
fn writes_a_21cmgem_layout_npz() {
    let out = tmp("small.npz");
    let st = bin()
        .args([
            "simulate",
            "global",
            "--n",
            "20",
            "--seed",
            "3",
            "--split",
            "0.8,0.1,0.1",
        ])
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    let s = GlobalSignalSet::load(&out).unwrap();
    assert_eq!(s.par_train.shape, vec![16, 7]);
    assert_eq!(s.par_val.shape, vec![2, 7]);
    assert_eq!(s.signal_test.shape, vec![2, 451]);
    assert_eq!(s.redshifts.len(), 451);
    // The box the design was drawn from is stored: the whole 21cmGEM prior box.
    assert_eq!(
        s.design_box.as_deref(),
        Some(&spinflip::global::PARAM_RANGES[..])
    );
    // Same seed, same file contents.
    let out2 = tmp("small2.npz");
    let st = bin()
        .args([
            "simulate",
            "global",
            "--n",
            "20",
            "--seed",
            "3",
            "--split",
            "0.8,0.1,0.1",
        ])
        .arg("--out")
        .arg(&out2)
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(GlobalSignalSet::load(&out2).unwrap(), s);
}

#[cfg(feature = "hdf5")]
#[test]
fn writes_hdf5_with_explicit_sizes() {
    let out = tmp("small.h5");
    let st = bin()
        .args([
            "simulate",
            "global",
            "--n-train",
            "3",
            "--n-val",
            "1",
            "--n-test",
            "1",
        ])
        .args(["--sampling", "uniform", "--format", "hdf5", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    let s = GlobalSignalSet::load(&out).unwrap();
    assert_eq!(s.par_train.shape, vec![3, 7]);
}

#[test]
fn bad_arguments_fail_with_a_message() {
    let out = tmp("never.npz");
    for args in [
        vec!["simulate", "global", "--out"],
        vec![
            "simulate", "global", "--n", "10", "--split", "0.5,0.5", "--out",
        ],
        vec![
            "simulate",
            "global",
            "--n",
            "10",
            "--split",
            "0.9,0.2,0.1",
            "--out",
        ],
        vec!["simulate", "global", "--n", "0", "--out"],
        vec!["simulate", "global", "--n", "10", "--n-train", "5", "--out"],
        vec![
            "simulate",
            "global",
            "--n",
            "10",
            "--sampling",
            "sobol",
            "--out",
        ],
        vec!["simulate", "nope", "--n", "10", "--out"],
        vec![
            "simulate", "global", "--n", "10", "--format", "hdf5", "--out",
        ],
    ] {
        let o = bin().args(&args).arg(&out).output().unwrap();
        assert!(!o.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("error"), "{args:?}: {err}");
    }
    assert!(!out.exists());
    // Unknown extension without --format.
    let o = bin()
        .args(["simulate", "global", "--n", "3", "--out"])
        .arg(tmp("x.txt"))
        .output()
        .unwrap();
    assert!(!o.status.success());
}

/// The default build has no HDF5: asking for it says how to get it, and writes nothing.
#[cfg(not(feature = "hdf5"))]
#[test]
fn hdf5_without_the_feature_says_how_to_enable_it() {
    let out = tmp("nofeature.h5");
    let o = bin()
        .args(["simulate", "global", "--n", "5", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--features hdf5") && err.contains(".npz"),
        "{err}"
    );
    assert!(!out.exists());
    // Reading an .h5 fails the same way, before touching the file.
    std::fs::write(&out, b"not really hdf5").unwrap();
    let e = GlobalSignalSet::load(&out).unwrap_err().to_string();
    assert!(e.contains("--features hdf5"), "{e}");
}

/// An emulator's valid range is the box its data were drawn from (stored by `simulate`),
/// not its training parameters' min and max, which lie a hair inside.
#[test]
fn a_trained_emulator_is_valid_on_the_box_its_data_were_drawn_from() {
    let data = tmp("boxed.npz");
    let st = bin()
        .args(["simulate", "global", "--n", "24", "--seed", "4", "--quiet"])
        .args(["--box", "nu_min=0.1,0.35", "--out"])
        .arg(&data)
        .status()
        .unwrap();
    assert!(st.success());
    let model = tmp("boxed_model");
    let st = bin()
        .args([
            "train", "emulator", "--quiet", "--hidden", "4", "--epochs", "1",
        ])
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&model)
        .status()
        .unwrap();
    assert!(st.success());
    let m = spinflip::emulator::model_file::load_model(&model).unwrap();
    let mut want_min: Vec<f64> = spinflip::global::PARAM_RANGES.iter().map(|r| r.0).collect();
    let mut want_max: Vec<f64> = spinflip::global::PARAM_RANGES.iter().map(|r| r.1).collect();
    // nu_min was restricted: its box edge is the restriction, to rounding of the log map.
    want_max[5] = 0.35;
    want_min[5] = 0.1;
    for i in 0..7 {
        let tol = 1e-12 * want_max[i];
        assert!((m.sidecar.param_min[i] - want_min[i]).abs() <= tol, "{i}");
        assert!((m.sidecar.param_max[i] - want_max[i]).abs() <= tol, "{i}");
    }
}

/// `simulate` killed with SIGKILL mid-run leaves no file at its output path (the set is
/// written to a temporary and renamed at the end), and the rerun writes the same set as an
/// uninterrupted run.
#[test]
fn a_simulation_killed_with_sigkill_leaves_no_torn_file() {
    let out = tmp("killed.npz");
    let _ = std::fs::remove_file(&out);
    let args = [
        "simulate", "global", "--n", "6000", "--seed", "9", "--quiet",
    ];
    let mut child = bin().args(args).arg("--out").arg(&out).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let finished = child.try_wait().unwrap().is_some();
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    if !finished {
        assert!(
            !out.exists(),
            "a killed simulation left a file at its output path"
        );
    }
    assert!(bin()
        .args(args)
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap()
        .success());
    let whole = tmp("whole.npz");
    assert!(bin()
        .args(args)
        .arg("--out")
        .arg(&whole)
        .status()
        .unwrap()
        .success());
    assert_eq!(
        GlobalSignalSet::load(&out).unwrap(),
        GlobalSignalSet::load(&whole).unwrap()
    );
}
