//! The emulator's CLI end to end: simulate a tiny set, train one epoch, evaluate, bench.

use std::path::PathBuf;
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

#[test]
fn simulate_train_eval_bench() {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("spinflip-emu-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("set.npz");
    let model = dir.join("models").join("tiny");
    run(bin()
        .args(["simulate", "global", "--n", "40", "--seed", "3", "--out"])
        .arg(&data));
    let out = run(bin()
        .args(["train", "emulator", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&model)
        .args(["--hidden", "8", "--epochs", "1", "--batch", "64"]));
    assert!(out.contains("best epoch 1"), "{out}");
    for ext in ["safetensors", "json"] {
        assert!(model.with_extension(ext).exists(), "{ext}");
    }
    assert!(dir.join("models").join("tiny_loss.png").exists());
    let out = run(bin()
        .args(["eval", "emulator", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&data));
    assert!(out.contains("relative rms error"), "{out}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("models").join("tiny_eval_test.json")).unwrap(),
    )
    .unwrap();
    let mean = report["relative_error_percent"]["mean"].as_f64().unwrap();
    assert!(mean.is_finite() && mean > 0.0, "{mean}");
    assert!(dir.join("models").join("tiny_eval_test.png").exists());
    // The same data again may replace the report; other data needs --out.
    run(bin()
        .args(["eval", "emulator", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&data));
    let other = dir.join("other.npz");
    std::fs::copy(&data, &other).unwrap();
    let refused = bin()
        .args(["eval", "emulator", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&other)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && err.contains("--out"), "{err}");
    run(bin()
        .args(["eval", "emulator", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&other)
        .arg("--out")
        .arg(dir.join("other_eval.json")));
    assert!(dir.join("other_eval.png").exists());
    let out = run(bin()
        .args(["bench", "emulator", "--model"])
        .arg(&model)
        .args(["--seconds", "0.05", "--batch", "1,16"]));
    assert!(out.contains("us per signal"), "{out}");
    // Resume after the budget is spent is a no-op that still writes the model.
    run(bin()
        .args(["train", "emulator", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&model)
        .args([
            "--hidden", "8", "--epochs", "1", "--batch", "64", "--resume",
        ]));
}
