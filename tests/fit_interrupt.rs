//! Ctrl-C through the binary: `spinflip fit` stopped by SIGINT writes its checkpoint, says
//! how to resume and exits 130 without results; running the same command again resumes, says
//! so, and ends with chains byte-identical to an uninterrupted run with the same seed. For
//! nested sampling and for the ensemble sampler.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("spinflip-sigint-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn with(root: &Path, suffix: &str) -> PathBuf {
    let mut s = root.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn fit(config: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spinflip"));
    c.args(["fit", config.to_str().unwrap(), "--quiet"]);
    c
}

/// Write `config` for output `root`.
fn write_config(dir: &Path, name: &str, root: &Path, sampler: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            "[output]\nroot = '{}'\nplots = false\n[model]\nkind = 'emulator'\n\
             [data.mock]\nnoise = 25.0\nseed = 1\n[sampler]\n{sampler}\n",
            root.display()
        ),
    )
    .unwrap();
    path
}

fn interrupted_then_resumed(name: &str, sampler: &str, chains: &[&str]) {
    stopped_then_resumed(name, sampler, chains, "-INT");
}

/// As [`interrupted_then_resumed`], but the run is killed with `signal` (`-INT`: Ctrl-C, the
/// run saves a checkpoint and says where; `-KILL`: nothing runs after it, the rerun resumes
/// from the last periodic checkpoint, written whole by write-then-rename).
fn stopped_then_resumed(name: &str, sampler: &str, chains: &[&str], signal: &str) {
    let dir = tmp(name);
    let (whole, cut) = (dir.join("whole"), dir.join("cut"));
    let status = fit(&write_config(&dir, "whole", &whole, sampler))
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        !with(&whole, ".checkpoint").exists(),
        "a finished fit removes its checkpoint"
    );

    let config = write_config(&dir, "cut", &cut, sampler);
    let mut child = fit(&config).stderr(Stdio::piped()).spawn().unwrap();
    let ckpt = with(&cut, ".checkpoint");
    let t0 = Instant::now();
    while !ckpt.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "no checkpoint appeared"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the interrupt"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let kill = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if signal == "-INT" {
        assert_eq!(out.status.code(), Some(130), "{err}");
        assert!(
            err.contains("interrupted") && err.contains("cut.checkpoint"),
            "{err}"
        );
        assert!(
            err.contains("run the same command again to resume"),
            "{err}"
        );
    } else {
        assert!(!out.status.success(), "killed runs do not succeed");
    }
    assert!(ckpt.exists());
    assert!(
        !with(&cut, chains[0]).exists(),
        "an interrupted run writes no results"
    );

    // The same command resumes, says so, and ends where the uninterrupted run did.
    let out = fit(&config).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("resumed from the checkpoint"), "{err}");
    for suffix in chains {
        let a = std::fs::read(with(&whole, suffix)).unwrap();
        let b = std::fs::read(with(&cut, suffix)).unwrap();
        assert!(a == b, "{suffix} differs after the resume");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn nested_fit_interrupted_by_sigint_resumes_to_identical_chains() {
    interrupted_then_resumed(
        "nested",
        "kind = 'nested'\nn_live = 150\nseed = 42\ncheckpoint_every = 100",
        &["_dead-birth.txt", "_phys_live-birth.txt", ".txt"],
    );
}

#[test]
fn ensemble_fit_interrupted_by_sigint_resumes_to_identical_chains() {
    interrupted_then_resumed(
        "ensemble",
        "kind = 'ensemble'\nn_walkers = 32\nn_steps = 3000\nseed = 7\ncheckpoint_every = 50",
        &[".txt"],
    );
}

#[test]
fn nested_fit_killed_with_sigkill_resumes_to_identical_chains() {
    stopped_then_resumed(
        "nested-kill",
        "kind = 'nested'\nn_live = 150\nseed = 42\ncheckpoint_every = 100",
        &["_dead-birth.txt", "_phys_live-birth.txt", ".txt"],
        "-KILL",
    );
}

#[test]
fn ensemble_fit_killed_with_sigkill_resumes_to_identical_chains() {
    stopped_then_resumed(
        "ensemble-kill",
        "kind = 'ensemble'\nn_walkers = 32\nn_steps = 3000\nseed = 7\ncheckpoint_every = 50",
        &[".txt"],
        "-KILL",
    );
}

#[test]
fn a_checkpoint_of_another_run_is_refused_and_says_what_changed() {
    let dir = tmp("other");
    let root = dir.join("run");
    let config = write_config(
        &dir,
        "run",
        &root,
        "kind = 'nested'\nn_live = 150\nseed = 42\ncheckpoint_every = 100",
    );
    let mut child = fit(&config).stderr(Stdio::null()).spawn().unwrap();
    let ckpt = with(&root, ".checkpoint");
    let t0 = Instant::now();
    while !ckpt.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "no checkpoint appeared"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
    // Another seed, and another noise level (the data), are other runs.
    let out = fit(&config).args(["--seed", "43"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("seed: checkpoint has 42, this run has 43"),
        "{err}"
    );
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("noise = 25.0", "noise = 10.0")).unwrap();
    let out = fit(&config).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("problem.data") && err.contains("problem.noise"),
        "{err}"
    );
    // --restart deletes it and starts over.
    let out = fit(&config).arg("--restart").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
