//! The chain files are read by the real tools: anesthetic (`read_chains`, PolyChord layout)
//! and getdist (`loadMCSamples`, `root.txt`), through shared/tools/read_chains.py (beside the repository).
//! Runs when `SPINFLIP_PYTHON` names a python with anesthetic and getdist; skips otherwise.
//! The files' layout is checked here in Rust either way.

mod nested_problems;
use nested_problems as common;

use spinflip_samplers::nested::{NestedSampler, NestedSettings};
use std::path::PathBuf;
use std::process::Command;

fn write_gaussian_chains(name: &str) -> (PathBuf, f64, spinflip_samplers::NestedResult) {
    let (p, l, exact) = common::gaussian(2);
    let s = NestedSettings {
        n_live: 200,
        seed: 5,
        ..Default::default()
    };
    let r = NestedSampler::new(&p, &l, s).unwrap().run().unwrap();
    let dir = std::env::temp_dir().join(format!("spinflip-readers-{}", std::process::id()));
    let root = dir.join(name);
    r.write_chains(&root).unwrap();
    (root, exact, r)
}

fn read(root: &std::path::Path, suffix: &str) -> String {
    let mut s = root.as_os_str().to_owned();
    s.push(suffix);
    std::fs::read_to_string(PathBuf::from(s)).unwrap()
}

#[test]
fn polychord_layout_has_the_right_columns_and_counts() {
    let (root, _, r) = write_gaussian_chains("layout");
    let dead = read(&root, "_dead-birth.txt");
    let rows: Vec<Vec<f64>> = dead
        .lines()
        .map(|l| l.split_whitespace().map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), r.n_iterations);
    assert!(rows.iter().all(|row| row.len() == 2 + 2));
    // Death order: logL never decreases; each point was born below its death contour.
    assert!(rows.windows(2).all(|w| w[1][2] >= w[0][2]));
    assert!(rows.iter().all(|row| row[3] < row[2]));
    // The first n_live deaths include only prior draws... and exactly n_live births at -inf
    // over dead + live points.
    let live = read(&root, "_phys_live-birth.txt");
    let n_inf = dead
        .lines()
        .chain(live.lines())
        .filter(|l| l.trim_end().ends_with("-inf"))
        .count();
    assert_eq!(n_inf, 200);
    assert_eq!(live.lines().count(), 200);
    assert_eq!(read(&root, ".paramnames"), "x0\tx_{0}\nx1\tx_{1}\n");
    let stats = read(&root, ".stats");
    assert!(stats.contains(&format!("log(Z)       = {:12.5}", r.log_evidence)));
    let json: serde_json::Value = serde_json::from_str(&read(&root, ".json")).unwrap();
    assert_eq!(json["log_evidence"].as_f64().unwrap(), r.log_evidence);
    assert_eq!(json["n_calls"].as_u64().unwrap(), r.n_calls);
    assert_eq!(json["posterior"]["params"][0]["name"], "x0");
    // getdist: weight, -2 lnL, params; weights sum to the posterior's (normalised to max 1)
    let txt = read(&root, ".txt");
    let first: Vec<f64> = txt
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(first.len(), 4);
}

#[test]
fn anesthetic_and_getdist_read_the_chains() {
    let Ok(python) = std::env::var("SPINFLIP_PYTHON") else {
        eprintln!("SKIPPED: set SPINFLIP_PYTHON to a python with anesthetic and getdist");
        return;
    };
    // The project's shared/ folder sits beside the repository (CI clones it that way).
    let beside =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools/read_chains.py");
    let script = [beside, "/work/shared/tools/read_chains.py".into()]
        .into_iter()
        .find(|p| p.exists())
        .expect("read_chains.py not found in ../shared/tools beside the repository");
    let (root, exact, r) = write_gaussian_chains("readers");
    let out = Command::new(&python)
        .arg(script)
        .arg(&root)
        .arg(exact.to_string())
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "read_chains.py failed");
    // anesthetic recomputes ln Z from logL and logL_birth alone: it must agree with ours
    // to well within the error (same points, same expected shrinkage).
    let line = stdout
        .lines()
        .find(|l| l.starts_with("anesthetic:"))
        .expect("anesthetic line");
    let lnz: f64 = line
        .split("lnZ = ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .expect("lnZ value");
    assert!(
        (lnz - r.log_evidence).abs() < 0.5 * r.log_evidence_err,
        "anesthetic {lnz} vs ours {}",
        r.log_evidence
    );
}
