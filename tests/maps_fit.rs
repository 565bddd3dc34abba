//! The map likelihoods end to end with the shipped pieces (models/maps_cnn_likelihood.json,
//! models/maps_ps_likelihood.json, the compressed and joint ones): `spinflip fit
//! examples/maps_cnn.toml` (and `maps_ps.toml`, `maps_ps_compressed.toml`, ...) simulates a mock light-cone, summarises it with the CNN (or its power
//! spectrum) and recovers the truth with nested sampling; bad
//! input (mock noise the covariance was not made with, a bundle whose geometry differs from
//! the CNN's, too few simulations for a covariance, NaN pixels) is a clear error.

use std::path::{Path, PathBuf};
use std::process::Command;

use spinflip::maps::{CnnSummarizer, SummaryBundle};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_spinflip"))
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("spinflip-mapsfit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A shipped likelihood file's text with the names of its `pieces` made absolute, so a copy
/// written to a temporary folder still finds them.
fn shipped_bundle(file: &str, pieces: &[&str]) -> String {
    let models = repo().join("models");
    let mut text = std::fs::read_to_string(models.join(file)).unwrap();
    for p in pieces {
        text = text.replace(
            &format!("\"{p}\""),
            &format!("\"{}\"", models.join(p).display()),
        );
    }
    text
}

/// An NPZ of constant arrays: (name, shape, value).
fn write_filled(path: &Path, arrays: &[(&str, Vec<usize>, f64)]) {
    let arrays: Vec<(&str, spinflip::io::NpyArray)> = arrays
        .iter()
        .map(|(n, shape, v)| {
            let len = shape.iter().product();
            (
                *n,
                spinflip::io::NpyArray::new(shape.clone(), vec![*v; len]).unwrap(),
            )
        })
        .collect();
    let refs: Vec<(&str, &spinflip::io::NpyArray)> = arrays.iter().map(|(n, a)| (*n, a)).collect();
    spinflip::io::write_npz(path, &refs).unwrap();
}

fn example_config(root: &Path) -> String {
    config_of("cnn", root)
}

fn config_of(summary: &str, root: &Path) -> String {
    std::fs::read_to_string(repo().join(format!("examples/maps_{summary}.toml")))
        .unwrap()
        .replace(
            &format!("root = \"out/maps_{summary}_fit\""),
            &format!("root = '{}'", root.display()),
        )
        .replace(
            &format!("kind = \"maps_{summary}\""),
            &format!(
                "kind = \"maps_{summary}\"\npath = '{}'",
                repo()
                    .join(format!("models/maps_{summary}_likelihood.json"))
                    .display()
            ),
        )
}

/// Write `text` to `cfg`, run `spinflip fit` on it (it must succeed) and read the summary
/// JSON it writes next to `root`.
fn run_fit(cfg: &Path, text: &str, root: &Path) -> serde_json::Value {
    std::fs::write(cfg, text).unwrap();
    let out = bin().args(["fit", "--quiet"]).arg(cfg).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut json = root.as_os_str().to_owned();
    json.push("_fit.json");
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

#[test]
fn the_example_fit_recovers_the_truth() {
    check_fit("cnn");
}

#[test]
fn the_power_spectrum_fit_recovers_the_truth() {
    check_fit("ps");
}

/// The power spectrum compressed by a network to parameter estimates.
#[test]
fn the_compressed_power_spectrum_fit_recovers_the_truth() {
    check_fit("ps_compressed");
}

/// The CNN summary and the compressed power spectrum together (fewer live points than the
/// example).
#[test]
fn the_joint_compressed_fit_recovers_the_truth() {
    check_fit("joint_compressed");
}

/// Both summaries together (fewer live points than the example: a test, not a result).
#[test]
fn the_joint_fit_recovers_the_truth() {
    check_fit("joint");
}

fn check_fit(summary: &str) {
    let dir = tmp(summary);
    let root = dir.join("run");
    let cfg = dir.join("run.toml");
    let mut text = config_of(summary, &root);
    match summary {
        "joint" => text = text.replace("n_live = 200", "n_live = 150"),
        "joint_compressed" => text = text.replace("n_live = 400", "n_live = 150"),
        _ => {}
    }
    let fit = run_fit(&cfg, &text, &root);
    for p in fit["params"].as_array().unwrap() {
        let (mean, std, truth) = (
            p["mean"].as_f64().unwrap(),
            p["std"].as_f64().unwrap(),
            p["truth"].as_f64().unwrap(),
        );
        // One mock: a calibrated posterior misses by more than 4 sigma in ~1e-4 of mocks; a
        // biased summary emulator (error comparable to the summary scatter) fails this.
        assert!(
            (mean - truth).abs() < 4.0 * std,
            "{}: {mean} +- {std}, truth {truth}",
            p["name"]
        );
        assert!(std > 0.0);
    }
    for suffix in ["_corner.png", "_predictive.png", ".txt", ".paramnames"] {
        assert!(dir.join(format!("run{suffix}")).exists(), "run{suffix}");
    }
}

/// A user's light-cone file (as `simulate maps` writes it) replaces the mock: both summaries
/// of a light-cone simulated at the fiducial point recover it.
#[test]
fn a_light_cone_file_replaces_the_mock() {
    let dir = tmp("file");
    let params = dir.join("truth.csv");
    std::fs::write(
        &params,
        "zeta,log10_Tvir,log10_LX,E0_keV\n30,4.69897,40.5,0.5\n",
    )
    .unwrap();
    let lc = dir.join("lc.npz");
    let out = bin()
        .args(["simulate", "maps", "--quiet", "--seed", "21", "--params"])
        .arg(&params)
        .arg("--out")
        .arg(&lc)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for summary in ["cnn", "ps", "ps_compressed"] {
        let root = dir.join(summary);
        let text = config_of(summary, &root);
        let a = text.find("[data.mock]").unwrap();
        let b = text.find("[sampler]").unwrap();
        let text = format!(
            "{}[data]\nfile = '{}'\n\n{}",
            &text[..a],
            lc.display(),
            &text[b..]
        );
        let fit = run_fit(&dir.join(format!("{summary}.toml")), &text, &root);
        let truth = [30.0, 4.69897, 40.5, 0.5];
        for (p, t) in fit["params"].as_array().unwrap().iter().zip(truth) {
            let (m, s) = (p["mean"].as_f64().unwrap(), p["std"].as_f64().unwrap());
            assert!(
                (m - t).abs() < 4.0 * s,
                "{summary} {}: {m} +- {s}, truth {t}",
                p["name"]
            );
        }
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tmp("bad");
    let root = dir.join("run");
    // Pixel noise the covariance was not made with.
    let cfg = dir.join("noise.toml");
    std::fs::write(
        &cfg,
        example_config(&root).replace("noise = 0.0 ", "noise = 2.0 "),
    )
    .unwrap();
    let out = bin().args(["fit", "--quiet"]).arg(&cfg).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("data.mock.noise"),
        "{err}"
    );

    // A bundle whose light-cones are not the CNN's geometry, or with too few simulations.
    let models = repo().join("models");
    let text = shipped_bundle(
        "maps_cnn_likelihood.json",
        &["maps_cnn", "maps_cnn_summary"],
    );
    let bad_geom = dir.join("geom.json");
    std::fs::write(&bad_geom, text.replace("\"cells\": 32", "\"cells\": 16")).unwrap();
    let e = SummaryBundle::load(&bad_geom).unwrap_err().to_string();
    assert!(e.contains("16") && e.contains("32"), "{e}");

    let few = dir.join("few.npz");
    write_filled(&few, &[("residual", vec![5, 4], 1.0)]);
    let bad_cov = dir.join("few.json");
    std::fs::write(
        &bad_cov,
        text.replace(
            "\"maps_cnn_residuals.npz\"",
            &format!("\"{}\"", few.display()),
        ),
    )
    .unwrap();
    let e = SummaryBundle::load(&bad_cov).unwrap_err().to_string();
    assert!(e.contains("at least 7"), "{e}");

    // A power-spectrum bundle whose floor is not the emulator's.
    let ps = shipped_bundle("maps_ps_likelihood.json", &["maps_ps_summary"])
        .replace("\"floor\": 0.01", "\"floor\": 0.1");
    let bad_ps = dir.join("ps.json");
    std::fs::write(&bad_ps, ps).unwrap();
    let e = SummaryBundle::load(&bad_ps).unwrap_err().to_string();
    assert!(e.contains("--y-floor 0.1"), "{e}");

    // NaN pixels.
    let cnn = spinflip::cnn::load_model(&models.join("maps_cnn")).unwrap();
    let (cells, n_los) = (cnn.sidecar.geometry.cells, cnn.sidecar.geometry.n_los);
    let mut s = CnnSummarizer::new(cnn).unwrap();
    let mut slices = vec![1.0f32; cells * n_los];
    slices[17] = f32::NAN;
    let e = s
        .summarize(&slices, cells, n_los, None, 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("finite"), "{e}");
    // A slice of another geometry.
    let e = s
        .summarize(&vec![0.0; 16 * n_los], 16, n_los, None, 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("16"), "{e}");
}

/// The shipped power-spectrum likelihood uses its parameter-dependent covariance: ln L at two
/// points is the Gaussian with C(theta) of each point (from the bundle's scatter model), not
/// the fixed covariance, and the two covariances differ.
#[test]
fn the_power_spectrum_likelihood_has_a_parameter_dependent_covariance() {
    use spinflip::config::RunConfig;
    use spinflip::likelihoods::CovarianceModel;
    use spinflip::problem::Problem;
    let dir = tmp("scatter");
    let text = config_of("ps", &dir.join("run"));
    let cfg = RunConfig::from_toml_str(&text, "maps_ps").unwrap();
    let problem = Problem::from_config(&cfg).unwrap();
    let bundle = SummaryBundle::load(&repo().join("models/maps_ps_likelihood.json")).unwrap();
    let scatter = bundle
        .scatter
        .as_ref()
        .expect("the shipped bundle has a scatter model");
    let like = &problem.likelihood;
    let data = like.data().to_vec();
    let mut sigmas = Vec::new();
    for theta in [[30.0, 4.69897, 40.5, 0.5], [150.0, 5.5, 39.0, 1.2]] {
        let noise = scatter.noise_at(&theta).unwrap();
        let pred = like.predict_data(&theta).unwrap();
        let r: Vec<f64> = data.iter().zip(&pred).map(|(d, p)| d - p).collect();
        let want = noise.log_likelihood(&r);
        let got = like.log_likelihood(&theta).unwrap();
        assert!(
            (got - want).abs() < 1e-9 * want.abs().max(1.0),
            "{got} vs {want}"
        );
        sigmas.push(noise.sigma_diagonal());
    }
    // Early, nearly neutral light-cones scatter differently from late, patchy ones: the
    // median ratio of sigma over the 144 bins is far from 1 (it is ~1 for a fixed covariance).
    let mut ratio: Vec<f64> = sigmas[0]
        .iter()
        .zip(&sigmas[1])
        .map(|(a, b)| a / b)
        .collect();
    ratio.sort_by(f64::total_cmp);
    let spread = ratio[ratio.len() * 9 / 10] / ratio[ratio.len() / 10];
    assert!(spread > 1.5, "sigma ratios 10-90%: {spread}");
}

/// A compressed power-spectrum likelihood refuses a modelling error (a fraction of each bin,
/// which the compressed numbers do not have) and a compressor trained on other bins, saying
/// what to do.
#[test]
fn a_bad_compressed_power_spectrum_bundle_is_a_clear_error() {
    let dir = tmp("bad_compressed");
    let text = shipped_bundle(
        "maps_ps_compressed_likelihood.json",
        &[
            "maps_ps_compressor",
            "maps_ps_compressed_summary",
            "maps_ps_compressed_residuals.npz",
            "maps_ps_compressed_fiducial.npz",
        ],
    );
    assert!(SummaryBundle::load(&repo().join("models/maps_ps_compressed_likelihood.json")).is_ok());
    let load = |name: &str, text: String| {
        let json = dir.join(name);
        std::fs::write(&json, text).unwrap();
        SummaryBundle::load(&json).unwrap_err().to_string()
    };
    let e = load(
        "modelling.json",
        text.replace("\"modelling_error\": 0.0", "\"modelling_error\": 0.15"),
    );
    assert!(e.contains("set it to 0"), "{e}");
    // The compressor reads every other chunk's 12 bins; a selection of every chunk has twice
    // as many.
    let e = load(
        "stride.json",
        text.replace("\"chunk_stride\": 2", "\"chunk_stride\": 1"),
    );
    assert!(e.contains("reads 144 values") && e.contains("288"), "{e}");
    // Same number of bins, other k: the bin names differ.
    let e = load(
        "shifted.json",
        text.replace("\"k_min\": 0.1", "\"k_min\": 0.12")
            .replace("\"k_max\": 1.0", "\"k_max\": 1.3"),
    );
    assert!(e.contains("train it on the bins"), "{e}");
}

/// Thermal noise (`[model] thermal_noise_mk`, the mock's pixel noise equal to it): the
/// power-spectrum fit still recovers the truth, and the noise, which swamps the high-k bins,
/// widens the posterior against the same light-cone without noise.
#[test]
fn the_power_spectrum_fit_with_thermal_noise_recovers_the_truth() {
    let dir = tmp("ps_noise");
    let fit = |name: &str, sigma: f64| -> Vec<(f64, f64, f64)> {
        let mut text = config_of("ps", &dir.join(name))
            .replace("noise = 0.0", &format!("noise = {sigma}"))
            .replace("n_live = 400", "n_live = 200");
        if sigma > 0.0 {
            text = text.replace(
                "kind = \"maps_ps\"\n",
                &format!("kind = \"maps_ps\"\nthermal_noise_mk = {sigma}\n"),
            );
        }
        let fit = run_fit(&dir.join(format!("{name}.toml")), &text, &dir.join(name));
        fit["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let f = |k: &str| p[k].as_f64().unwrap();
                (f("mean"), f("std"), f("truth"))
            })
            .collect()
    };
    let noisy = fit("noisy", 30.0);
    let clean = fit("clean", 0.0);
    for &(m, s, t) in &noisy {
        assert!((m - t).abs() < 4.0 * s, "{m} +- {s}, truth {t}");
    }
    // Every width grows (1.7-2.4x at 20 mK in examples/maps_ps_noise.toml).
    for (n, c) in noisy.iter().zip(&clean) {
        assert!(n.1 > 1.3 * c.1, "noisy {noisy:?} vs clean {clean:?}");
    }
}

/// `thermal_noise_mk` where it means nothing, or a mock whose noise differs from it, is a clear
/// error that says what to do.
#[test]
fn misplaced_thermal_noise_is_a_clear_error() {
    use spinflip::config::RunConfig;
    use spinflip::problem::Problem;
    let dir = tmp("noise_errors");
    let err = |text: String| -> String {
        let cfg = RunConfig::from_toml_str(&text, "test").unwrap();
        match Problem::from_config(&cfg) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => e.to_string(),
        }
    };
    let with_noise = |summary: &str, model: f64, mock: f64| {
        config_of(summary, &dir.join(summary))
            .replace("noise = 0.0", &format!("noise = {mock}"))
            .replace(
                &format!("kind = \"maps_{summary}\"\n"),
                &format!("kind = \"maps_{summary}\"\nthermal_noise_mk = {model}\n"),
            )
    };
    let e = err(with_noise("ps", 20.0, 10.0));
    assert!(e.contains("make them equal"), "{e}");
    let e = err(with_noise("ps", -5.0, 0.0));
    assert!(e.contains("thermal_noise_mk"), "{e}");
    let e = err(with_noise("cnn", 20.0, 20.0));
    assert!(e.contains("trained on noisy"), "{e}");
    let e = err(with_noise("ps_compressed", 20.0, 20.0));
    assert!(e.contains("trained on noisy"), "{e}");
    let e = err(with_noise("joint", 20.0, 20.0));
    assert!(e.contains("no thermal-noise term"), "{e}");
    let global = std::fs::read_to_string(repo().join("examples/global_signal.toml"))
        .unwrap()
        .replace("[model]\n", "[model]\nthermal_noise_mk = 5.0\n");
    let e = err(global);
    assert!(e.contains("no thermal-noise term"), "{e}");
}

/// A scatter file of the wrong shape names the file and what it expected.
#[test]
fn a_bad_scatter_file_is_a_clear_error() {
    let dir = tmp("bad_scatter");
    let text = shipped_bundle(
        "maps_ps_likelihood.json",
        &[
            "maps_ps_summary",
            "maps_ps_residuals.npz",
            "maps_ps_scatter",
        ],
    );
    let bad = dir.join("scale.npz");
    write_filled(
        &bad,
        &[
            ("scale", vec![143], 1.0),
            ("correlation", vec![144, 144], 0.0),
        ],
    );
    let json = dir.join("bad.json");
    std::fs::write(
        &json,
        text.replace(
            "\"maps_ps_scatter_cov.npz\"",
            &format!("\"{}\"", bad.display()),
        ),
    )
    .unwrap();
    let e = SummaryBundle::load(&json).unwrap_err().to_string();
    assert!(e.contains("scale.npz") && e.contains("[144]"), "{e}");
    // Right shapes, but a "correlation" with -1 off the diagonal: not positive definite.
    let mut corr = vec![-1.0; 144 * 144];
    (0..144).for_each(|i| corr[i * 145] = 1.0);
    let corr = spinflip::io::NpyArray::new(vec![144, 144], corr).unwrap();
    let scale = spinflip::io::NpyArray::new(vec![144], vec![1.0; 144]).unwrap();
    spinflip::io::write_npz(&bad, &[("scale", &scale), ("correlation", &corr)]).unwrap();
    let e = SummaryBundle::load(&json).unwrap_err().to_string();
    assert!(e.contains("positive definite"), "{e}");
}

/// A joint likelihood whose parts were made on different light-cones, or whose correlation
/// does not cover the stacked summaries, is refused with the reason.
#[test]
fn a_bad_joint_bundle_is_a_clear_error() {
    use spinflip::maps::JointBundle;
    let dir = tmp("bad_joint");
    let cnn = shipped_bundle(
        "maps_cnn_likelihood.json",
        &[
            "maps_cnn",
            "maps_cnn_summary",
            "maps_cnn_residuals.npz",
            "maps_cnn_fiducial.npz",
        ],
    );
    let ps = shipped_bundle(
        "maps_ps_likelihood.json",
        &[
            "maps_ps_summary",
            "maps_ps_residuals.npz",
            "maps_ps_scatter",
            "maps_ps_scatter_cov.npz",
        ],
    );
    // The parts and correlation are written beside the joint file, which names them relatively.
    std::fs::write(dir.join("cnn.json"), &cnn).unwrap();
    std::fs::write(dir.join("maps_ps_likelihood.json"), ps).unwrap();
    // The CNN part claims 5 mK pixel noise: not the power spectrum's light-cones.
    std::fs::write(
        dir.join("maps_cnn_likelihood.json"),
        cnn.replace("\"pixel_noise_mk\": 0.0", "\"pixel_noise_mk\": 5.0"),
    )
    .unwrap();
    let joint = shipped_bundle("maps_joint_likelihood.json", &[]);
    let mixed = dir.join("mixed.json");
    std::fs::write(
        &mixed,
        joint.replace(
            "\"maps_joint_correlation.npz\"",
            &format!(
                "\"{}\"",
                repo().join("models/maps_joint_correlation.npz").display()
            ),
        ),
    )
    .unwrap();
    let e = JointBundle::load(&mixed).unwrap_err().to_string();
    assert!(e.contains("same light-cones") && e.contains("5 mK"), "{e}");

    // The right parts, a correlation over 4 summaries instead of 148.
    write_filled(
        &dir.join("maps_joint_correlation.npz"),
        &[("correlation", vec![4, 4], 0.0)],
    );
    let wrong = dir.join("wrong.json");
    std::fs::write(
        &wrong,
        joint.replace("\"maps_cnn_likelihood.json\"", "\"cnn.json\""),
    )
    .unwrap();
    let e = JointBundle::load(&wrong).unwrap_err().to_string();
    assert!(e.contains("[148, 148]"), "{e}");
}

/// A program run far from the source tree finds the shipped likelihood through
/// `SPINFLIP_MODELS`; a wrong folder is named in the error.
#[test]
fn shipped_models_are_found_through_spinflip_models() {
    let dir = tmp("env");
    let cfg = dir.join("run.toml");
    let text = std::fs::read_to_string(repo().join("examples/maps_cnn.toml"))
        .unwrap()
        .replace("root = \"out/maps_cnn_fit\"", "root = 'run'");
    std::fs::write(&cfg, text).unwrap();
    let run = |models: &Path| {
        bin()
            .current_dir(&dir)
            .env("SPINFLIP_MODELS", models)
            .args(["fit", "--quiet", "run.toml"])
            .output()
            .unwrap()
    };
    let ok = run(&repo().join("models"));
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(dir.join("run_fit.json").exists());
    let bad = run(Path::new("/nonexistent/spinflip-models"));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && err.contains("/nonexistent/spinflip-models"),
        "{err}"
    );
}
