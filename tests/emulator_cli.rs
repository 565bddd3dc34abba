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
    // The tail is named: the worst signal's error is the max, and its per-signal file holds
    // every test signal (5% of 40).
    let max = report["relative_error_percent"]["max"].as_f64().unwrap();
    assert_eq!(
        report["worst"][0]["relative_error_percent"].as_f64(),
        Some(max)
    );
    assert_eq!(report["worst"][0]["params"].as_object().unwrap().len(), 7);
    let errors = spinflip::io::NpyArray::from_npy_bytes(
        &std::fs::read(dir.join("models").join("tiny_eval_test_errors.npy")).unwrap(),
        "errors",
    )
    .unwrap();
    assert_eq!(errors.shape, vec![2]);
    assert!(errors.data.iter().all(|e| *e <= max));
    assert!(errors.data.contains(&max));
    // The threshold counts are the per-signal file's (a 1-epoch model errs by far more than
    // 0.5%, so the 0.5% count is not trivially zero).
    for t in ["0.5", "1", "2"] {
        let n = errors
            .data
            .iter()
            .filter(|e| **e > t.parse().unwrap())
            .count() as u64;
        assert_eq!(
            report["n_above_percent"][t].as_u64(),
            Some(n),
            "{t}: {report}"
        );
    }
    assert_eq!(
        report["n_above_percent"]["0.5"].as_u64(),
        Some(2),
        "{report}"
    );
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

/// Extra signals in a sub-box of the prior (`simulate --box`) join a training set
/// (`train --data A --data B`); sets on another redshift grid are refused.
#[test]
fn focused_signals_join_the_training_set() {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("spinflip-emu-join-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (base, soft) = (dir.join("base.npz"), dir.join("soft.npz"));
    run(bin()
        .args(["simulate", "global", "--n", "40", "--seed", "3", "--out"])
        .arg(&base));
    run(bin()
        .args([
            "simulate",
            "global",
            "--box",
            "nu_min=0.1,0.35",
            "--box",
            "tau=0.05,0.08",
        ])
        .args([
            "--n-train",
            "12",
            "--n-val",
            "3",
            "--n-test",
            "0",
            "--seed",
            "4",
            "--out",
        ])
        .arg(&soft));
    let set = spinflip::io::GlobalSignalSet::load(&soft).unwrap();
    for p in set
        .par_train
        .data
        .chunks(7)
        .chain(set.par_val.data.chunks(7))
    {
        assert!(
            (0.1..=0.35).contains(&p[5]) && (0.05..=0.08).contains(&p[3]),
            "{p:?}"
        );
    }
    let bad = bin()
        .args([
            "simulate",
            "global",
            "--box",
            "nu_min=0.01,0.35",
            "--n",
            "5",
            "--out",
        ])
        .arg(dir.join("never.npz"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success() && err.contains("nu_min"), "{err}");

    let model = dir.join("joined");
    let out = bin()
        .args(["train", "emulator", "--data"])
        .arg(&base)
        .arg("--data")
        .arg(&soft)
        .arg("--out")
        .arg(&model)
        .args(["--hidden", "8", "--epochs", "1", "--batch", "64"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    // 36 + 12 training signals, 2 + 3 validation.
    assert!(
        out.status.success() && log.contains("on 48 signals (5 validation)"),
        "{log}"
    );

    let mut other = set.clone();
    other.redshifts.iter_mut().for_each(|z| *z += 0.01);
    let shifted = dir.join("shifted.npz");
    other
        .save_as(&shifted, spinflip::io::DataFormat::Npz)
        .unwrap();
    let refused = bin()
        .args(["train", "emulator", "--data"])
        .arg(&base)
        .arg("--data")
        .arg(&shifted)
        .arg("--out")
        .arg(dir.join("never"))
        .args(["--hidden", "8", "--epochs", "1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && err.contains("redshift grid"),
        "{err}"
    );
}

/// `train emulator --config FILE.toml` takes every setting from the file; flags override it;
/// the result is the same model as the same settings given as flags. Choice values are
/// checked by name.
#[test]
fn training_settings_come_from_a_toml_file_and_flags_override_it() {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("spinflip-emu-toml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("set.npz");
    run(bin()
        .args([
            "simulate", "global", "--n", "40", "--seed", "4", "--quiet", "--out",
        ])
        .arg(&data));
    let flags = dir.join("flags");
    run(bin()
        .args(["train", "emulator", "--quiet", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&flags)
        .args([
            "--hidden",
            "8",
            "--epochs",
            "2",
            "--batch",
            "16",
            "--schedule",
            "cosine",
        ]));
    let toml = dir.join("train.toml");
    std::fs::write(
        &toml,
        format!(
            "data = ['{}']\nout = '{}'\nhidden = 8\nepochs = 2\nbatch = 64\nschedule = 'cosine'\n",
            data.display(),
            dir.join("file").display()
        ),
    )
    .unwrap();
    // --batch on the command line beats the file's 64.
    run(bin()
        .args(["train", "emulator", "--quiet", "--batch", "16", "--config"])
        .arg(&toml));
    let a = std::fs::read(flags.with_extension("safetensors")).unwrap();
    let b = std::fs::read(dir.join("file.safetensors")).unwrap();
    assert!(a == b, "the TOML run differs from the flags run");

    std::fs::write(&toml, "hiden = 8\n").unwrap();
    let out = bin()
        .args(["train", "emulator", "--config"])
        .arg(&toml)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("hiden"), "{err}");
    let out = bin()
        .args(["train", "emulator", "--schedule", "step", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("plateau") && err.contains("cosine"), "{err}");
}
