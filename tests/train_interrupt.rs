//! kill -9 through the binary for `spinflip train`: an emulator and an MLP training killed
//! with SIGKILL mid-run, then the same command run again, resume from the last per-epoch
//! checkpoint (written whole by write-then-rename) and end with weights byte-identical to an
//! uninterrupted run, and the same model sidecar apart from the wall-clock seconds of each
//! epoch. A checkpoint of another run at the same output is refused with a hint, and
//! `--restart` starts over.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_spinflip"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("spinflip-train-kill-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn with(root: &Path, suffix: &str) -> PathBuf {
    let mut s = root.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{cmd:?}:\n{err}");
    err
}

/// The sidecar without the per-epoch wall-clock seconds.
fn sidecar(model: &Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(with(model, ".json")).unwrap()).unwrap();
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("seconds");
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

/// Run `args` + `--out straight` to the end; run it to `--out cut`, SIGKILL it once its
/// checkpoint has passed `kill_after` epochs, run the same command again: same weights, same
/// sidecar (but seconds), and the rerun said it resumed.
fn killed_then_rerun(name: &str, args: &[&str], kill_after: u64) -> (PathBuf, Vec<String>) {
    let dir = tmp(name);
    let (straight, cut) = (dir.join("straight"), dir.join("cut"));
    let cmd = |out: &Path| {
        let mut c = bin();
        c.args(args).arg("--out").arg(out);
        c
    };
    ok(&mut cmd(&straight));

    let mut child = cmd(&cut).spawn().unwrap();
    let state = with(&cut, ".ckpt.json");
    let t0 = Instant::now();
    loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the training ended before the kill: give it more epochs"
        );
        assert!(t0.elapsed() < Duration::from_secs(120), "no checkpoint");
        let done = std::fs::read_to_string(&state)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["epochs_done"].as_u64());
        if done.is_some_and(|d| d >= kill_after) {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    assert!(!child.wait().unwrap().success());
    assert!(
        !with(&cut, ".safetensors").exists(),
        "a killed training wrote no model"
    );

    let err = ok(&mut cmd(&cut));
    assert!(err.contains("resumed from the checkpoint"), "{err}");
    let a = std::fs::read(with(&straight, ".safetensors")).unwrap();
    let b = std::fs::read(with(&cut, ".safetensors")).unwrap();
    assert!(a == b, "weights differ after the resume");
    assert_eq!(sidecar(&straight), sidecar(&cut));
    (cut, args.iter().map(|s| s.to_string()).collect())
}

#[test]
fn an_emulator_training_killed_with_sigkill_reruns_to_identical_weights() {
    let dir = tmp("emu-data");
    let data = dir.join("set.npz");
    ok(bin()
        .args([
            "simulate", "global", "--n", "160", "--seed", "4", "--quiet", "--out",
        ])
        .arg(&data));
    let d = data.to_str().unwrap();
    let args = [
        "train",
        "emulator",
        "--data",
        d,
        "--hidden",
        "8",
        "--epochs",
        "150",
        "--batch",
        "32",
        "--patience",
        "1000",
        "--quiet",
    ];
    let (cut, args) = killed_then_rerun("emu", &args, 10);

    // Other settings at the same output: refused, with the way out.
    let mut other = args;
    other.extend(["--lr".to_string(), "5e-4".to_string()]);
    let out = bin().args(&other).arg("--out").arg(&cut).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("settings differ") && err.contains("--restart"),
        "{err}"
    );
    // --restart starts over and trains.
    let err = ok(bin().args(&other).arg("--restart").arg("--out").arg(&cut));
    assert!(!err.contains("resumed"), "{err}");
}

#[test]
fn an_mlp_training_killed_with_sigkill_reruns_to_identical_weights() {
    // A smooth map from 3 inputs to 2 outputs, as the NPZ table the MLP trainer reads.
    let dir = tmp("mlp-data");
    let (n, d_in, d_out) = (400usize, 3usize, 2usize);
    let x: Vec<f64> = (0..n * d_in)
        .map(|i| ((i * 7919) % 1000) as f64 / 500.0 - 1.0)
        .collect();
    let y: Vec<f64> = (0..n)
        .flat_map(|r| {
            let v = &x[r * d_in..(r + 1) * d_in];
            [v[0] * v[1] + v[2], (v[0] - v[2]).tanh()]
        })
        .collect();
    let table = |data: &[f64], cols: usize| spinflip::io::NpyArray {
        shape: vec![n, cols],
        data: data.to_vec(),
    };
    let set = dir.join("set.npz");
    spinflip::io::write_npz(&set, &[("x", &table(&x, d_in)), ("y", &table(&y, d_out))]).unwrap();
    let args = [
        "train",
        "mlp",
        "--data",
        set.to_str().unwrap(),
        "--x",
        "x",
        "--y",
        "y",
        "--hidden",
        "16,16",
        "--n-val",
        "50",
        "--n-test",
        "50",
        "--epochs",
        "300",
        "--patience",
        "1000",
        "--quiet",
    ];
    killed_then_rerun("mlp", &args, 20);
}
