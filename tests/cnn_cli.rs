//! The map CNN through the binary on a tiny simulated set: train two epochs, evaluate the
//! held-out light-cones (JSON with per-parameter R^2 for the slice mean and single slices,
//! one PNG per parameter), resume, and refuse a set of another geometry.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_spinflip"))
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("spawn spinflip");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn simulate(dir: &Path, name: &str, cells: &str, seed: &str) -> PathBuf {
    let path = dir.join(name);
    run(bin()
        .args([
            "simulate",
            "maps",
            "--n",
            "14",
            "--seed",
            seed,
            "--cells",
            cells,
            "--box-mpc",
            "64",
            "--z-min",
            "7",
            "--z-max",
            "11",
            "--slices",
            "2",
            "--quiet",
            "--out",
        ])
        .arg(&path));
    path
}

#[test]
fn train_and_evaluate_the_map_cnn() {
    let dir = std::env::temp_dir().join(format!("spinflip-cnn-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data = simulate(&dir, "set.npz", "16", "3");
    let model = dir.join("m");
    let train = |extra: &[&str]| {
        run(bin()
            .args(["train", "cnn", "--quiet", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&model)
            .args([
                "--padding",
                "same",
                "--n-val",
                "3",
                "--n-test",
                "3",
                "--epochs",
                "2",
                "--batch",
                "4",
                "--threads",
                "1",
            ])
            .args(extra))
    };
    let out = train(&[]);
    assert!(out.contains("best epoch"), "{out}");
    assert!(dir.join("m.safetensors").exists() && dir.join("m_loss.png").exists());
    // Resuming a spent budget rewrites the same model.
    let before = std::fs::read(dir.join("m.safetensors")).unwrap();
    train(&["--resume"]);
    assert_eq!(before, std::fs::read(dir.join("m.safetensors")).unwrap());

    let report = dir.join("eval.json");
    let out = run(bin()
        .args(["eval", "cnn", "--threads", "1", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&report));
    assert!(out.contains("log10_Tvir"), "{out}");
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    // The held-out light-cones are the last 3 of the set.
    assert_eq!(j["n_light_cones"], 3);
    assert_eq!(j["light_cones"]["start"], 11);
    for name in ["zeta", "log10_Tvir", "log10_LX", "E0_keV"] {
        assert!(j["r2"][name].as_f64().unwrap().is_finite(), "{j}");
        assert!(j["r2_one_slice"][name].as_f64().unwrap().is_finite(), "{j}");
        assert!(dir.join(format!("eval_{name}.png")).exists(), "{name} png");
    }
    // Another geometry is refused with what to do.
    let other = simulate(&dir, "other.npz", "8", "4");
    let o = bin()
        .args(["eval", "cnn", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&other)
        .arg("--out")
        .arg(dir.join("x.json"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("trained on 16 x"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
