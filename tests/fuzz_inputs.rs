//! Seeded random ("fuzz") tests of everything that reads outside input: NPY and NPZ bytes,
//! run configs (TOML), data files, model files (safetensors + JSON sidecar) and the C ABI
//! entry points with random lengths, nulls, NaNs and infinities. A hand-rolled mutator with a
//! fixed seed per target (proptest/cargo-fuzz are not available offline here): every case is
//! reproducible from the seed and case number printed on failure. The property is the same
//! everywhere: no panic, an `Ok` that is self-consistent, or an error whose message is not empty.
//!
//! `SPINFLIP_FUZZ_CASES=N` multiplies the number of cases (default 1).

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use spinflip::io::{read_npz, NpyArray, NpyFloats};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn scale() -> usize {
    std::env::var("SPINFLIP_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

fn tmp_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz_{name}"));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// One random mutation of `bytes`: flip bits, overwrite, insert, delete, truncate, duplicate
/// a slice, or write an interesting number in ASCII (for text formats).
fn mutate(rng: &mut Xoshiro256PlusPlus, bytes: &[u8]) -> Vec<u8> {
    let mut v = bytes.to_vec();
    for _ in 0..rng.random_range(1..4) {
        let n = v.len().max(1);
        let at = rng.random_range(0..n).min(v.len());
        match rng.random_range(0..8) {
            0 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] ^= 1 << rng.random_range(0..8);
            }
            1 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] = rng.random();
            }
            2 => {
                let k = rng.random_range(1..9);
                for _ in 0..k {
                    v.insert(at, rng.random());
                }
            }
            3 if !v.is_empty() => {
                let k = rng.random_range(1..9).min(v.len() - at.min(v.len()));
                v.drain(at..at + k);
            }
            4 => v.truncate(at),
            5 if at < v.len() => {
                let end = (at + rng.random_range(1..64)).min(v.len());
                let piece = v[at..end].to_vec();
                v.splice(at..at, piece);
            }
            _ => {
                const WORDS: [&str; 12] = [
                    "nan",
                    "NaN",
                    "inf",
                    "-inf",
                    "1e400",
                    "-1",
                    "0",
                    "18446744073709551616",
                    "\"\"",
                    "[]",
                    "{}",
                    "-9223372036854775809",
                ];
                let w = WORDS[rng.random_range(0..WORDS.len())].as_bytes();
                let end = (at + rng.random_range(0..8)).min(v.len());
                v.splice(at..end, w.iter().copied());
            }
        }
    }
    v
}

/// Runs `f` on `cases` mutations of `seed_input`, failing with the seed and case on a panic.
fn fuzz(name: &str, seed: u64, cases: usize, seed_input: &[u8], mut f: impl FnMut(&[u8])) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let cases = cases * scale();
    for case in 0..cases {
        let input = mutate(&mut rng, seed_input);
        if catch_unwind(AssertUnwindSafe(|| f(&input))).is_err() {
            panic!(
                "{name}: panic on case {case} of seed {seed} ({} bytes): {:?}",
                input.len(),
                String::from_utf8_lossy(&input[..input.len().min(200)])
            );
        }
    }
    println!("{name}: {cases} cases, seed {seed}, no panic");
}

fn check_err<T>(what: &str, r: Result<T, spinflip::SpinflipError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            assert!(
                !e.to_string().trim().is_empty(),
                "{what}: empty error message"
            );
            None
        }
    }
}

#[test]
fn npy_bytes() {
    let a = NpyArray::new(vec![3, 4], (0..12).map(|i| i as f64 * 0.5 - 1.0).collect()).unwrap();
    let good = a.to_npy_bytes();
    fuzz("npy f64", 1, 4000, &good, |b| {
        if let Some(x) = check_err("npy", NpyArray::from_npy_bytes(b, "fuzz")) {
            assert_eq!(x.data.len(), x.shape.iter().product::<usize>());
        }
    });
    // Found by this fuzzer (SPINFLIP_FUZZ_CASES=20, case 60530 of seed 2): a multi-byte
    // character where the dtype's kind letter goes panicked the header parser.
    let bad = spinflip::io::npy::npy_bytes("<\u{251}4", &[2], &[0u8; 8]);
    let e = NpyFloats::from_npy_bytes(&bad, "bad.npy")
        .unwrap_err()
        .to_string();
    assert!(!e.is_empty());
    let f = spinflip::io::npy::f32_npy_bytes(&[2, 5], &[1.0; 10]);
    fuzz("npy f32 image", 2, 4000, &f, |b| {
        if let Some(x) = check_err("npy floats", NpyFloats::from_npy_bytes(b, "fuzz")) {
            assert_eq!(x.data.len(), x.shape.iter().product::<usize>());
        }
    });
}

#[test]
fn npz_files() {
    let dir = tmp_dir("npz");
    let a = NpyArray::new(vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    let b = NpyArray::new(vec![3], vec![0.1, 0.2, 0.3]).unwrap();
    let good_path = dir.join("good.npz");
    spinflip::io::write_npz(&good_path, &[("params", &a), ("z", &b)]).unwrap();
    let good = std::fs::read(&good_path).unwrap();
    let path = dir.join("case.npz");
    fuzz("npz", 3, 600, &good, |bytes| {
        std::fs::write(&path, bytes).unwrap();
        if let Some(m) = check_err("npz", read_npz(&path)) {
            for x in m.values() {
                assert_eq!(x.data.len(), x.shape.iter().product::<usize>());
            }
        }
    });
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

#[test]
fn run_configs() {
    let good = std::fs::read(repo("examples/global_signal.toml")).unwrap();
    fuzz("run config", 4, 3000, &good, |b| {
        let s = String::from_utf8_lossy(b);
        let _ = check_err(
            "toml",
            spinflip::config::RunConfig::from_toml_str(&s, "fuzz.toml"),
        );
    });
}

#[test]
fn spectrum_files() {
    let good = std::fs::read(repo("examples/data/edges_like.txt")).unwrap();
    let dir = tmp_dir("spectrum");
    let path = dir.join("case.txt");
    fuzz("spectrum", 5, 1500, &good, |b| {
        std::fs::write(&path, b).unwrap();
        let _ = check_err("spectrum", spinflip::io::text::read_spectrum(&path));
    });
}

#[test]
fn emulator_model_files() {
    // The sidecar JSON mutated with the weights intact, then the weights mutated (a
    // truncated or corrupted safetensors header) with the sidecar intact.
    let dir = tmp_dir("model");
    let json = std::fs::read(repo("models/global_lstm.json")).unwrap();
    let weights = std::fs::read(repo("models/global_lstm.safetensors")).unwrap();
    let root = dir.join("m");
    std::fs::write(dir.join("m.safetensors"), &weights).unwrap();
    fuzz("model sidecar", 6, 300, &json, |b| {
        std::fs::write(dir.join("m.json"), b).unwrap();
        let _ = check_err("model", spinflip::emulator::model_file::load_model(&root));
    });
    std::fs::write(dir.join("m.json"), &json).unwrap();
    // Mutations near the start hit the safetensors header (length + JSON), the part a
    // reader parses; the body is bulk floats.
    let head = weights[..weights.len().min(4096)].to_vec();
    let tail = weights[head.len()..].to_vec();
    fuzz("model weights", 7, 300, &head, |b| {
        let mut w = b.to_vec();
        w.extend_from_slice(&tail);
        std::fs::write(dir.join("m.safetensors"), &w).unwrap();
        let _ = check_err("weights", spinflip::emulator::model_file::load_model(&root));
    });
}

#[test]
fn c_abi_entry_points() {
    use spinflip::capi::*;
    use std::ffi::CString;
    let cfg = CString::new(repo("examples/global_signal.toml").to_str().unwrap()).unwrap();
    let mut h: *mut SpinflipLikelihood = std::ptr::null_mut();
    assert_eq!(
        spinflip_likelihood_from_config(cfg.as_ptr(), &mut h),
        SpinflipStatus::SpinflipOk
    );
    let mut n = 0usize;
    spinflip_n_params(h, &mut n);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(8);
    let specials = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -1.0,
        0.0,
        1e300,
        -1e-300,
    ];
    let cases = 3000 * scale();
    for case in 0..cases {
        // Lengths near the right one (buffers always as long as the length passed: a C
        // caller who lies about a buffer's length is outside what any API can check).
        let len = match rng.random_range(0..4) {
            0 => n,
            1 => rng.random_range(0..2 * n + 2),
            2 => 0,
            _ => n + 1,
        };
        let mut theta: Vec<f64> = (0..len).map(|_| rng.random_range(-2.0..40.0)).collect();
        if len > 0 && rng.random_bool(0.3) {
            let i = rng.random_range(0..len);
            theta[i] = specials[rng.random_range(0..specials.len())];
        }
        let null_theta = rng.random_bool(0.05);
        let null_out = rng.random_bool(0.05);
        let tp = if null_theta {
            std::ptr::null()
        } else {
            theta.as_ptr()
        };
        let mut out = f64::NAN;
        let op = if null_out {
            std::ptr::null_mut()
        } else {
            &mut out as *mut f64
        };
        let r = catch_unwind(AssertUnwindSafe(|| match rng.random_range(0..4) {
            0 => (spinflip_log_likelihood(h, tp, len, op), 1),
            1 => (spinflip_log_prior(h, tp, len, op), 1),
            2 => {
                let mut cube_out = vec![0.0; len];
                let cp = if null_out {
                    std::ptr::null_mut()
                } else {
                    cube_out.as_mut_ptr()
                };
                (spinflip_prior_transform(h, tp, len, cp, len), 0)
            }
            _ => {
                let k = rng.random_range(0..4);
                let mut outs = vec![f64::NAN; k];
                let pts: Vec<f64> = (0..k * len).map(|i| theta[i % len.max(1)]).collect();
                let pp = if null_theta {
                    std::ptr::null()
                } else {
                    pts.as_ptr()
                };
                let oo = if null_out {
                    std::ptr::null_mut()
                } else {
                    outs.as_mut_ptr()
                };
                let s = spinflip_log_likelihood_batch(h, pp, k, len, oo);
                if s == SpinflipStatus::SpinflipOk {
                    assert!(
                        outs.iter().all(|v| !v.is_nan()),
                        "case {case}: NaN in batch output"
                    );
                }
                (s, 0)
            }
        }));
        let (status, wrote_scalar) = r.unwrap_or_else(|_| panic!("case {case}: panic"));
        // The guard turns a panic into a status: a fuzz case must not reach it either.
        assert_ne!(
            status,
            SpinflipStatus::SpinflipPanic,
            "case {case}: caught panic"
        );
        if (null_theta && len > 0) || null_out {
            assert_ne!(
                status,
                SpinflipStatus::SpinflipOk,
                "case {case}: null accepted"
            );
        }
        if status == SpinflipStatus::SpinflipOk && wrote_scalar == 1 {
            assert!(!out.is_nan(), "case {case}: OK with a NaN result");
        }
        if status != SpinflipStatus::SpinflipOk {
            // SAFETY: spinflip_last_error returns a valid NUL-terminated string.
            let msg = unsafe { std::ffi::CStr::from_ptr(spinflip_last_error()) };
            assert!(
                !msg.to_bytes().is_empty(),
                "case {case}: {status:?} without a message"
            );
        }
    }
    assert_eq!(spinflip_likelihood_free(h), SpinflipStatus::SpinflipOk);
    println!("c abi: {cases} cases, seed 8, no panic, no NaN accepted");
}
