//! examples/python/run_samplers.py end to end: dynesty and emcee through the C ABI (ctypes)
//! against spinflip's own nested sampler. Runs only when SPINFLIP_PYTHON names a Python with
//! numpy, dynesty and emcee (e.g. `.venv/bin/python`); otherwise it prints a skip notice.
//! About 25 s with the release profile on 2 cores.

use std::path::Path;
use std::process::Command;

mod cdylib;
use cdylib::lib_dir;

#[test]
fn dynesty_and_emcee_agree_with_spinflip() {
    run_example("examples/python/simulator_3d.toml");
}

/// The map CNN likelihood through the C ABI: the handle simulates the same mock light-cone
/// as `spinflip fit` (same seed), and dynesty's ln Z agrees with spinflip's.
#[test]
fn dynesty_and_emcee_agree_on_the_map_cnn_likelihood() {
    run_example("examples/maps_cnn.toml");
}

fn run_example(config: &str) {
    let Some(python) = std::env::var_os("SPINFLIP_PYTHON") else {
        eprintln!("skipped: set SPINFLIP_PYTHON to a python with numpy, dynesty and emcee");
        return;
    };
    // CI may set SPINFLIP_PYTHON for other Python tests: skip unless these packages are there.
    let probe = Command::new(&python)
        .args(["-c", "import numpy, dynesty, emcee"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: SPINFLIP_PYTHON lacks numpy, dynesty or emcee (pip install them)");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/python");
    let run = Command::new(python)
        .arg(dir.join("run_samplers.py"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(config))
        .arg("--lib")
        .arg(lib_dir().join("libspinflip.so"))
        .arg("--bin")
        .arg(env!("CARGO_BIN_EXE_spinflip"))
        .output()
        .expect("could not start SPINFLIP_PYTHON");
    let stdout = String::from_utf8_lossy(&run.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "run_samplers.py failed");
    assert!(stdout.contains("agreement"), "{stdout}");
}
