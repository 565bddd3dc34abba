//! A user's own spectrum: channels anywhere inside the model's range (the model is
//! interpolated onto them), the shipped EDGES-like example reproducible from the command in
//! its header, and a fit between the model's channels that agrees with one on them.

use spinflip::global::GlobalSimulator;
use spinflip::likelihoods::global_signal::channel_taps;
use spinflip::likelihoods::spectrum::freq_of_z;
use spinflip::likelihoods::ForwardModel;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_spinflip"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("spinflip-own-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/edges_like.txt");

#[test]
fn the_edges_like_example_is_made_by_the_command_in_its_header() {
    let text = std::fs::read_to_string(EXAMPLE).unwrap();
    let cmd = text
        .lines()
        .find_map(|l| l.strip_prefix("# made by: spinflip "))
        .expect("the header names its command");
    let dir = tmp("regen");
    let out = dir.join("edges_like.txt");
    let mut args: Vec<String> = cmd.split_whitespace().map(String::from).collect();
    let at = args.iter().position(|a| a == "--out").unwrap();
    args[at + 1] = out.display().to_string();
    let st = bin().args(&args).output().unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let again = std::fs::read_to_string(&out).unwrap();
    let body = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.starts_with("# made by"))
            .map(String::from)
            .collect()
    };
    assert_eq!(body(&again), body(&text), "same command, same spectrum");
    assert_eq!(
        body(&text).iter().filter(|l| !l.starts_with('#')).count(),
        101
    );
}

/// Noiseless data (sigma 20 mK) from the simulator on 60 of the emulator's own channels, and
/// on the 60 midpoints between them (the simulator's signal interpolated there): the two
/// emulator fits (f_star, V_c free) carry the same information, so their posteriors must
/// agree; 0.2 sigma allows the nested-sampling noise of two 100-live-point runs.
#[test]
fn a_fit_between_the_model_channels_agrees_with_one_on_them() {
    let dir = tmp("grid");
    let sim = GlobalSimulator::planck18();
    let truth = [0.05, 16.5, 1.0, 0.055, 1.3, 0.5, 30.0];
    let mut signal = vec![0.0; sim.n_outputs()];
    sim.predict(&truth, &mut signal).unwrap();
    let model_freq: Vec<f64> = sim.grid().iter().map(|&z| freq_of_z(z)).collect();
    // Channels z = 13.0..18.9 (about 71-102 MHz, the trough) and their midpoints.
    let on: Vec<usize> = (80..140).collect();
    let mid: Vec<f64> = on
        .iter()
        .map(|&j| 0.5 * (model_freq[j] + model_freq[j + 1]))
        .collect();
    let write = |name: &str, rows: Vec<(f64, f64)>| -> PathBuf {
        let p = dir.join(name);
        let body: String = rows
            .iter()
            .map(|(f, t)| format!("{f:.9} {t:.9} 20\n"))
            .collect();
        std::fs::write(&p, body).unwrap();
        p
    };
    let on_file = write(
        "on.txt",
        on.iter().map(|&j| (model_freq[j], signal[j])).collect(),
    );
    let taps = channel_taps(&model_freq, &mid).unwrap();
    let mid_file = write(
        "mid.txt",
        mid.iter()
            .zip(&taps)
            .map(|(&f, t)| (f, t.iter().map(|&(j, w)| w * signal[j]).sum()))
            .collect(),
    );
    let fit = |data: &Path, tag: &str| -> serde_json::Value {
        let root = dir.join(tag);
        let cfg = dir.join(format!("{tag}.toml"));
        std::fs::write(
            &cfg,
            format!(
                "[output]\nroot = '{}'\nplots = false\n[model]\nkind = 'emulator'\n\
                 [data]\nfile = '{}'\n\
                 [params.f_X]\nprior = {{ dist = 'fixed', value = 1.0 }}\n\
                 [params.tau]\nprior = {{ dist = 'fixed', value = 0.055 }}\n\
                 [params.alpha_X]\nprior = {{ dist = 'fixed', value = 1.3 }}\n\
                 [params.nu_min]\nprior = {{ dist = 'fixed', value = 0.5 }}\n\
                 [params.R_mfp]\nprior = {{ dist = 'fixed', value = 30.0 }}\n\
                 [sampler]\nn_live = 100\nseed = 3\n",
                root.display(),
                data.display()
            ),
        )
        .unwrap();
        let out = bin().args(["fit", "--quiet"]).arg(&cfg).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut p = root.into_os_string();
        p.push("_fit.json");
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let (a, b) = (fit(&on_file, "on"), fit(&mid_file, "mid"));
    for name in ["f_star", "V_c"] {
        let get = |s: &serde_json::Value, k: &str| {
            s["params"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .unwrap()[k]
                .as_f64()
                .unwrap()
        };
        let (ma, sa) = (get(&a, "mean"), get(&a, "std"));
        let (mb, sb) = (get(&b, "mean"), get(&b, "std"));
        assert!(
            (ma - mb).abs() < 0.2 * sa,
            "{name}: on-grid {ma} +- {sa}, between {mb} +- {sb}"
        );
        assert!((0.8..1.25).contains(&(sb / sa)), "{name}: std {sa} vs {sb}");
    }
}

/// Bad arguments of `simulate spectrum` stop with a message naming the flag, and write nothing.
#[test]
fn simulate_spectrum_refuses_bad_arguments() {
    let dir = tmp("bad");
    let out = dir.join("s.txt");
    for (args, says) in [
        (vec!["--freq-min", "100", "--freq-max", "50"], "--freq-min"),
        (
            vec!["--freq-min", "10", "--freq-max", "50"],
            "outside the simulator's range",
        ),
        (vec!["--step", "1e-9"], "at most"),
        (vec!["--step", "0"], "--step"),
        (vec!["--noise", "0"], "--sigma"),
        (vec!["--set", "zeta=3"], "unknown parameter 'zeta'"),
        (vec!["--set", "tau=abc"], "not a number"),
        (vec!["--set", "tau=0.9"], "tau"),
    ] {
        let o = bin()
            .args(["simulate", "spectrum"])
            .args(&args)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} was accepted");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!out.exists(), "{args:?} wrote a file");
    }
}
