//! examples/c/minimal.c (the README's C example) compiles with `cc -Wall -Wextra -Werror`
//! against include/spinflip.h and the cdylib, and prints a log-likelihood that matches the
//! one the Rust API computes at the same point.

use spinflip::config::RunConfig;
use spinflip::problem::Problem;
use spinflip::samplers::LogLikelihood;
use std::path::Path;
use std::process::Command;

mod cdylib;
use cdylib::lib_dir;

#[test]
fn minimal_c_example_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = std::env::temp_dir().join(format!("spinflip-cexample-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let cfg = root.join("examples/python/simulator_3d.toml");
    let exe = tmp.join("minimal");
    let lib = lib_dir();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror"])
        .arg("-I")
        .arg(root.join("include"))
        .arg(root.join("examples/c/minimal.c"))
        .arg("-o")
        .arg(&exe)
        .arg(format!("-L{}", lib.display()))
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-lspinflip")
        .output()
        .expect("a C compiler (cc) is needed for the C example test");
    assert!(
        out.status.success(),
        "cc failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // cargo puts target/<profile> on LD_LIBRARY_PATH, which outranks the RUNPATH above; a
    // stale uplifted copy of the library there (from an earlier `cargo build`) would win.
    let run = Command::new(&exe)
        .arg(&cfg)
        .env("LD_LIBRARY_PATH", &lib)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );

    // The same number from the Rust API: prior centre, then the likelihood.
    let problem = Problem::from_config(&RunConfig::load(&cfg).unwrap()).unwrap();
    let mut theta = vec![0.0; problem.params.n_params()];
    problem
        .params
        .prior_transform(&vec![0.5; problem.params.n_free()], &mut theta)
        .unwrap();
    let expected = problem.log_likelihood(&theta).unwrap();
    let got: f64 = stdout
        .trim()
        .rsplit(' ')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no number in {stdout:?}"));
    assert!(
        (got - expected).abs() <= 1e-6 * expected.abs().max(1.0),
        "C printed {got}, Rust computes {expected}"
    );
    let _ = std::fs::remove_dir_all(tmp);
}
