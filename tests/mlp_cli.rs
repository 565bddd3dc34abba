//! `spinflip train mlp` / `eval mlp` through the binary on a table with a known answer: the
//! outputs are a smooth function of log10 of the inputs, so a trained MLP must explain
//! almost all of their variance on held-out rows; a resume continues; bad input is an error.

use std::path::{Path, PathBuf};
use std::process::Command;

use spinflip::io::npz::write_npz;
use spinflip::io::NpyArray;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_spinflip"))
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("spawn spinflip");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `n` rows: inputs (n, 3, 2) spanning four decades with some exact zeros, outputs (n, 2).
fn table(dir: &Path, n: usize) -> PathBuf {
    let mut x = Vec::with_capacity(n * 6);
    let mut y = Vec::with_capacity(n * 2);
    let mut s = 12345u64;
    let mut u = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    for _ in 0..n {
        let (a, b) = (u(), u());
        // Six power-spectrum-like inputs whose logs are linear in (a, b); one is often empty.
        let row = [
            10f64.powf(2.0 * a),
            10f64.powf(1.0 + b),
            10f64.powf(a - b),
            10f64.powf(3.0 * a * b),
            if a > 0.8 { 0.0 } else { 10f64.powf(-1.0 + a) },
            10f64.powf(0.5 * (a + b)),
        ];
        x.extend(row);
        y.extend([a, (3.0 * b).sin()]);
    }
    let path = dir.join("table.npz");
    write_npz(
        &path,
        &[
            ("ps", &NpyArray::new(vec![n, 3, 2], x).unwrap()),
            ("params", &NpyArray::new(vec![n, 2], y).unwrap()),
        ],
    )
    .unwrap();
    path
}

#[test]
fn train_and_evaluate_an_mlp() {
    let dir = std::env::temp_dir().join(format!("spinflip-mlp-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data = table(&dir, 1200);
    let model = dir.join("m");
    let train = |epochs: &str, extra: &[&str]| {
        run(bin()
            .args(["train", "mlp", "--quiet", "--data"])
            .arg(&data)
            .args([
                "--x-transform",
                "log10",
                "--hidden",
                "32,32",
                "--activation",
                "tanh",
            ])
            .args([
                "--n-val", "200", "--n-test", "200", "--lr", "3e-3", "--epochs", epochs,
            ])
            .arg("--out")
            .arg(&model)
            .args(extra))
    };
    let (ok, text) = train("20", &[]);
    assert!(ok, "{text}");
    // A resume with a larger budget continues from the checkpoint.
    let (ok, text) = train("60", &["--resume"]);
    assert!(ok, "{text}");
    let report = dir.join("eval.json");
    let (ok, text) = run(bin()
        .args(["eval", "mlp", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&report));
    assert!(ok, "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["n_rows"], 200, "auto split: the 200 held-out rows");
    for name in ["params[0]", "params[1]"] {
        let r2 = json["r2"][name].as_f64().unwrap();
        // A noise-free smooth map: a 2x32 tanh network must explain > 98% of the variance.
        assert!(r2 > 0.98, "{name}: R^2 {r2}\n{json}");
        assert!(dir
            .join(format!("eval_{}.png", name.replace(['[', ']'], "_")))
            .exists());
    }
    // Bad input: an array that is not there, and a log of negative values.
    let (ok, text) = run(bin()
        .args(["train", "mlp", "--quiet", "--x", "nope", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(dir.join("bad")));
    assert!(!ok && text.contains("nope"), "{text}");
    let neg = dir.join("neg.npz");
    write_npz(
        &neg,
        &[
            (
                "ps",
                &NpyArray::new(vec![4, 1], vec![1.0, -2.0, 3.0, 4.0]).unwrap(),
            ),
            (
                "params",
                &NpyArray::new(vec![4, 1], vec![1.0, 2.0, 3.0, 4.0]).unwrap(),
            ),
        ],
    )
    .unwrap();
    let (ok, text) = run(bin()
        .args([
            "train",
            "mlp",
            "--quiet",
            "--x-transform",
            "log10",
            "--n-val",
            "1",
            "--n-test",
            "1",
            "--data",
        ])
        .arg(&neg)
        .arg("--out")
        .arg(dir.join("bad")));
    assert!(!ok && text.contains("not finite"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
