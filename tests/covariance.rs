//! `[data] covariance = "cov.npy"`: a full noise covariance for a data file. It gives the
//! same likelihood as the equivalent sigma, is band-cut like the data, and bad files are
//! refused with an error naming `data.covariance`.

use spinflip::config::RunConfig;
use spinflip::io::text::write_spectrum;
use spinflip::io::NpyArray;
use spinflip::likelihoods::Spectrum;
use spinflip::problem::Problem;
use spinflip::samplers::LogLikelihood;
use std::path::{Path, PathBuf};

fn tmp(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("spinflip-cov-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A simulator mock (25 mK) written as a two-column data file; returns (file, truth, n).
fn data_file(dir: &Path) -> (PathBuf, Vec<f64>, usize) {
    let mock = RunConfig::from_toml_str(
        "[output]\nroot = 'x'\n[model]\nkind = 'simulator'\n[data.mock]\nnoise = 25.0\nseed = 3\n",
        "mock",
    )
    .unwrap();
    let p = Problem::from_config(&mock).unwrap();
    let d = p.likelihood.data();
    let file = dir.join("spectrum.txt");
    let plain = Spectrum::new(p.axis.x.clone(), d.to_vec(), None).unwrap();
    write_spectrum(&file, &plain).unwrap();
    (file, p.truth.unwrap(), d.len())
}

fn config(file: &Path, noise: &str, band: Option<[f64; 2]>) -> RunConfig {
    let band = band.map_or(String::new(), |[lo, hi]| format!("band = [{lo}, {hi}]\n"));
    RunConfig::from_toml_str(
        &format!(
            "[output]\nroot = 'x'\n[model]\nkind = 'simulator'\n[data]\nfile = '{}'\n{band}{noise}\n",
            file.display()
        ),
        "test",
    )
    .unwrap()
}

fn write_npy(path: &Path, rows: usize, cols: usize, data: Vec<f64>) {
    let a = NpyArray::from_rows(rows, cols, data).unwrap();
    std::fs::write(path, a.to_npy_bytes()).unwrap();
}

/// The same array as float32 ('<f4'): the header keeps its length, the data are halved.
fn write_npy_f32(path: &Path, n: usize, data: &[f64]) {
    let b = NpyArray::from_rows(n, n, data.to_vec())
        .unwrap()
        .to_npy_bytes();
    let mut out = b[..b.len() - 8 * data.len()].to_vec();
    let at = out.windows(3).position(|w| w == b"<f8").unwrap();
    out[at + 2] = b'4';
    out.extend(data.iter().flat_map(|&x| (x as f32).to_le_bytes()));
    std::fs::write(path, out).unwrap();
}

/// sigma^2 rho^|i-j|: positive definite for |rho| < 1.
fn ar1(n: usize, sigma: f64, rho: f64) -> Vec<f64> {
    (0..n * n)
        .map(|k| sigma * sigma * rho.powi((k / n).abs_diff(k % n) as i32))
        .collect()
}

fn log_l(cfg: &RunConfig, theta: &[f64]) -> f64 {
    Problem::from_config(cfg)
        .unwrap()
        .log_likelihood(theta)
        .unwrap()
}

fn assert_close(a: f64, b: f64) {
    assert!((a - b).abs() <= 1e-10 * b.abs(), "{a} vs {b}");
}

#[test]
fn a_diagonal_covariance_file_equals_sigma() {
    let dir = tmp("diag");
    let (file, truth, n) = data_file(&dir);
    let cov = dir.join("diag.npy");
    let diag: Vec<f64> = (0..n * n)
        .map(|k| if k / n == k % n { 625.0 } else { 0.0 })
        .collect();
    write_npy(&cov, n, n, diag.clone());
    let cov32 = dir.join("diag32.npy");
    write_npy_f32(&cov32, n, &diag);
    let mut off = truth.clone();
    off[0] *= 1.3;
    for band in [None, Some([60.0, 120.0])] {
        let sigma = config(&file, "sigma = 25.0", band);
        for c in [&cov, &cov32] {
            let full = config(&file, &format!("covariance = '{}'", c.display()), band);
            for theta in [&truth, &off] {
                assert_close(log_l(&full, theta), log_l(&sigma, theta));
            }
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_band_cut_cuts_the_covariance_like_the_data() {
    // Band cut applied by the config == data and covariance cut by hand beforehand.
    let dir = tmp("band");
    let (file, truth, n) = data_file(&dir);
    let c = ar1(n, 25.0, 0.6);
    let cov = dir.join("ar1.npy");
    write_npy(&cov, n, n, c.clone());
    let band = [70.0, 110.0];
    let cfg = config(
        &file,
        &format!("covariance = '{}'", cov.display()),
        Some(band),
    );

    let data = spinflip::io::text::read_spectrum(&file).unwrap();
    let keep: Vec<usize> = (0..n)
        .filter(|&i| (band[0]..=band[1]).contains(&data.freq_mhz[i]))
        .collect();
    assert!(keep.len() > 10 && keep.len() < n);
    let cut = Spectrum::new(
        keep.iter().map(|&i| data.freq_mhz[i]).collect(),
        keep.iter().map(|&i| data.temp_mk[i]).collect(),
        None,
    )
    .unwrap();
    let cut_file = dir.join("cut.txt");
    write_spectrum(&cut_file, &cut).unwrap();
    let m = keep.len();
    let sub: Vec<f64> = keep
        .iter()
        .flat_map(|&i| keep.iter().map(move |&j| (i, j)))
        .map(|(i, j)| c[i * n + j])
        .collect();
    let cut_cov = dir.join("cut.npy");
    write_npy(&cut_cov, m, m, sub);
    let by_hand = config(
        &cut_file,
        &format!("covariance = '{}'", cut_cov.display()),
        None,
    );
    assert_close(log_l(&cfg, &truth), log_l(&by_hand, &truth));
    // Correlations matter: the white-noise value differs.
    let white = config(&file, "sigma = 25.0", Some(band));
    assert!((log_l(&cfg, &truth) - log_l(&white, &truth)).abs() > 1.0);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_covariance_files_name_the_field() {
    let dir = tmp("bad");
    let (file, _, n) = data_file(&dir);
    let good = ar1(n, 25.0, 0.5);
    let path = dir.join("bad.npy");
    let err = |what: &str| {
        let e = match Problem::from_config(&config(
            &file,
            &format!("covariance = '{}'", path.display()),
            None,
        )) {
            Ok(_) => panic!("{what}: accepted"),
            Err(e) => e.to_string(),
        };
        eprintln!("{what}: {e}");
        assert!(e.contains("data.covariance"), "{what}: {e}");
        e
    };

    write_npy(&path, n - 1, n - 1, ar1(n - 1, 25.0, 0.5));
    let e = err("wrong shape");
    assert!(e.contains(&format!("expected ({n}, {n})")), "{e}");
    std::fs::write(
        &path,
        NpyArray::new(vec![n], vec![625.0; n])
            .unwrap()
            .to_npy_bytes(),
    )
    .unwrap();
    assert!(err("1-D").contains("shape"));

    let mut nan = good.clone();
    nan[3 * n + 7] = f64::NAN;
    write_npy(&path, n, n, nan);
    let e = err("NaN");
    assert!(e.contains("(3, 7)") && e.contains("finite"), "{e}");

    let mut asym = good.clone();
    asym[5 * n + 2] *= 1.0 + 1e-6;
    write_npy(&path, n, n, asym);
    let e = err("asymmetric");
    assert!(e.contains("not symmetric") && e.contains("(5, 2)"), "{e}");
    // Rounding-level asymmetry (float64 arithmetic) is accepted.
    let mut tiny = good.clone();
    tiny[5 * n + 2] *= 1.0 + 1e-14;
    write_npy(&path, n, n, tiny);
    Problem::from_config(&config(
        &file,
        &format!("covariance = '{}'", path.display()),
        None,
    ))
    .unwrap();

    // float32 files carry ~7 digits: a one-ulp asymmetry passes, a 1e-4 one does not.
    let mut ulp = good.clone();
    ulp[5 * n + 2] = f64::from(f32::from_bits((ulp[5 * n + 2] as f32).to_bits() + 1));
    write_npy_f32(&path, n, &ulp);
    Problem::from_config(&config(
        &file,
        &format!("covariance = '{}'", path.display()),
        None,
    ))
    .unwrap();
    ulp[5 * n + 2] *= 1.0 + 1e-4;
    write_npy_f32(&path, n, &ulp);
    assert!(err("asymmetric float32").contains("not symmetric"));

    // Correlation 1 between channels 0 and 1: singular.
    let mut singular = good.clone();
    singular[1] = 625.0;
    singular[n] = 625.0;
    write_npy(&path, n, n, singular);
    assert!(err("singular").contains("positive definite"));
    let mut negative = good.clone();
    negative[10 * n + 10] = -1.0;
    write_npy(&path, n, n, negative);
    assert!(err("negative variance").contains("positive definite"));

    let bytes = NpyArray::from_rows(n, n, good.clone())
        .unwrap()
        .to_npy_bytes();
    std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
    assert!(err("truncated").contains("truncated"));
    std::fs::write(&path, "0.1 0.2\n0.2 0.1\n").unwrap();
    assert!(err("text file").contains("npy"));
    let _ = std::fs::remove_file(&path);
    assert!(err("missing").contains("cannot read"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn covariance_needs_a_file_and_excludes_sigma() {
    let base = "[output]\nroot = 'x'\n[model]\nkind = 'simulator'\n";
    for (data, why) in [
        (
            "[data]\ncovariance = 'c.npy'\n[data.mock]\nnoise = 25.0\n",
            "data.mock",
        ),
        (
            "[data]\nfile = 's.txt'\nsigma = 25.0\ncovariance = 'c.npy'\n",
            "not both",
        ),
    ] {
        let e = RunConfig::from_toml_str(&format!("{base}{data}"), "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("data.covariance") && e.contains(why), "{e}");
    }
}
