//! Progress of long commands when stderr is not a terminal (a batch job, `nohup`, CI): plain
//! lines on stderr at most every `SPINFLIP_PROGRESS_SECONDS` (here 0: at every update), and
//! none with `--quiet`. Sizes are tiny: the lines, not the results, are under test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spinflip"));
    c.env("SPINFLIP_PROGRESS_SECONDS", "0");
    c
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("spinflip-progress-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `args` (output paths appended by the caller), checks success, returns stderr.
fn stderr_of(cmd: &mut Command) -> String {
    let out: Output = cmd.output().expect("run spinflip");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{err}",
        String::from_utf8_lossy(&out.stdout)
    );
    err
}

/// Lines of `err` that start with `label: `.
fn lines<'a>(err: &'a str, label: &str) -> Vec<&'a str> {
    let start = format!("{label}: ");
    err.lines().filter(|l| l.starts_with(&start)).collect()
}

/// Only f_star and V_c free: quick fits.
const FIXED: &str = "[params.f_X]\nprior = { dist = 'fixed', value = 1.0 }\n\
[params.tau]\nprior = { dist = 'fixed', value = 0.055 }\n\
[params.alpha_X]\nprior = { dist = 'fixed', value = 1.3 }\n\
[params.nu_min]\nprior = { dist = 'fixed', value = 0.5 }\n\
[params.R_mfp]\nprior = { dist = 'fixed', value = 30.0 }\n";

fn simulate(data: &Path, quiet: bool) -> String {
    let mut c = bin();
    c.args(["simulate", "global", "--n", "12", "--seed", "1", "--out"])
        .arg(data);
    if quiet {
        c.arg("--quiet");
    }
    stderr_of(&mut c)
}

#[test]
fn simulate_and_train_print_progress_lines_unless_quiet() {
    let dir = tmp("simtrain");
    let data = dir.join("set.npz");
    let err = simulate(&data, false);
    let l = lines(&err, "simulate");
    assert_eq!(l.len(), 12, "one line per signal at interval 0:\n{err}");
    assert!(
        l[11].starts_with("simulate: 12/12 signals (100%), "),
        "{err}"
    );
    assert!(
        l[5].contains("6/12 signals (50%)") && l[5].contains(" left"),
        "{err}"
    );
    assert!(lines(&simulate(&data, true), "simulate").is_empty());

    // 10 training signals (the default split) in batches of 4: 3 batches per epoch, 2 epochs.
    let train = |quiet: bool| {
        let mut c = bin();
        c.args(["train", "emulator", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(dir.join("tiny"))
            .args(["--hidden", "4", "--epochs", "2", "--batch", "4"]);
        if quiet {
            c.arg("--quiet");
        }
        stderr_of(&mut c)
    };
    let err = train(false);
    let l = lines(&err, "train");
    assert!(!l.is_empty(), "{err}");
    assert!(l[0].starts_with("train: 1/"), "{err}");
    assert!(l.iter().any(|l| l.contains("epoch 2/2")), "{err}");
    assert!(l.iter().all(|l| l.contains(" batches (")), "{err}");
    assert!(lines(&train(true), "train").is_empty());
}

#[test]
fn simulate_maps_prints_progress_lines_unless_quiet() {
    let dir = tmp("maps");
    let maps = |quiet: bool, out: &str| {
        let mut c = bin();
        c.args([
            "simulate",
            "maps",
            "--n",
            "2",
            "--seed",
            "1",
            "--threads",
            "1",
        ])
        .args([
            "--box-mpc",
            "32",
            "--cells",
            "8",
            "--z-min",
            "6",
            "--z-max",
            "12",
        ])
        .arg("--out")
        .arg(dir.join(out));
        if quiet {
            c.arg("--quiet");
        }
        stderr_of(&mut c)
    };
    let err = maps(false, "a.npz");
    let l = lines(&err, "simulate maps");
    assert_eq!(l.len(), 2, "{err}");
    assert!(
        l[1].starts_with("simulate maps: 2/2 light-cones (100%)"),
        "{err}"
    );
    assert!(lines(&maps(true, "b.npz"), "simulate maps").is_empty());
}

#[test]
fn fit_calibrate_and_bias_print_progress_lines_unless_quiet() {
    let dir = tmp("fit");
    // The ensemble on the shipped emulator: a status line per step at interval 0.
    let cfg = dir.join("fit.toml");
    std::fs::write(
        &cfg,
        format!(
            "[output]\nroot = '{}'\n[model]\nkind = 'emulator'\n[data.mock]\nnoise = 25.0\n\
             seed = 2\n{FIXED}[sampler]\nkind = 'ensemble'\nn_walkers = 8\nn_steps = 20\n\
             seed = 3\n",
            dir.join("fit").join("run").display()
        ),
    )
    .unwrap();
    let err = stderr_of(bin().arg("fit").arg(&cfg));
    assert!(lines(&err, "ensemble mcmc").len() >= 20, "{err}");
    let err = stderr_of(bin().args(["fit", "--quiet"]).arg(&cfg));
    assert!(lines(&err, "ensemble mcmc").is_empty(), "{err}");

    // Calibration: a line per mock.
    let cal = dir.join("cal.toml");
    std::fs::write(
        &cal,
        format!(
            "[output]\nroot = '{}'\n[model]\nkind = 'emulator'\n[data.mock]\nnoise = 25.0\n\
             {FIXED}[sampler]\nn_live = 20\n",
            dir.join("cal").display()
        ),
    )
    .unwrap();
    let calibrate = |quiet: bool| {
        let mut c = bin();
        c.arg("calibrate").arg(&cal).args(["--n", "10"]);
        if quiet {
            c.arg("--quiet");
        }
        stderr_of(&mut c)
    };
    let err = calibrate(false);
    let l = lines(&err, "calibrate");
    assert_eq!(l.len(), 10, "{err}");
    assert!(l[9].starts_with("calibrate: 10/10 mocks (100%)"), "{err}");
    assert!(lines(&calibrate(true), "calibrate").is_empty());

    // Bias: a line before each of its three fits (emulator, simulator, simulator again for
    // the floor), and the fits' own progress.
    let bias = dir.join("bias.toml");
    std::fs::write(
        &bias,
        format!(
            "[output]\nroot = '{}'\n[emulator]\n[mocks]\nn_truths = 1\nnoise = [25.0]\nseed = 1\n\
             {FIXED}[sampler]\nn_live = 20\nseed = 3\n",
            dir.join("bias").join("b").display()
        ),
    )
    .unwrap();
    let err = stderr_of(bin().arg("bias").arg(&bias));
    let l = lines(&err, "bias");
    assert_eq!(l.len(), 3, "{err}");
    assert!(
        l[0].starts_with("bias: fit 1/3, truth 0, noise 25 mK, emulator;"),
        "{err}"
    );
    assert!(
        l[1].starts_with("bias: fit 2/3, truth 0, noise 25 mK, simulator;")
            && l[1].contains(" left"),
        "{err}"
    );
    assert!(
        l[2].starts_with("bias: fit 3/3, truth 0, noise 25 mK, simulator again (floor);"),
        "{err}"
    );
    assert!(!lines(&err, "nested sampling").is_empty(), "{err}");
    // Without the finished case (a rerun would read it back and fit nothing), quietly.
    std::fs::remove_dir_all(dir.join("bias")).unwrap();
    let err = stderr_of(bin().args(["bias", "--quiet"]).arg(&bias));
    assert!(lines(&err, "bias").is_empty(), "{err}");
    assert!(lines(&err, "nested sampling").is_empty(), "{err}");
}
