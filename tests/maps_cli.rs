//! `spinflip simulate maps` and `spinflip summarize` through the built binary, on a tiny
//! geometry (32 Mpc, 8 cells, z = 6-12).

use spinflip::io::npz::NpzReader;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_spinflip"))
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("spinflip_maps_cli_{}_{name}", std::process::id()));
    std::fs::remove_dir_all(&d).ok();
    std::fs::create_dir_all(&d).unwrap();
    d
}

const TINY: [&str; 8] = [
    "--box-mpc",
    "32",
    "--cells",
    "8",
    "--z-min",
    "6",
    "--z-max",
    "12",
];

fn maps(args: &[&str], out: &Path) -> std::process::Output {
    bin()
        .args(["simulate", "maps", "--quiet"])
        .args(TINY)
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn f32s(path: &Path, name: &str) -> (Vec<usize>, Vec<f32>) {
    let mut r = NpzReader::open(path).unwrap();
    let mut v = Vec::new();
    let shape = r
        .f32_rows(name, |_, row| {
            v.extend_from_slice(row);
            Ok(())
        })
        .unwrap();
    (shape, v)
}

#[test]
fn writes_the_arrays_with_their_shapes() {
    let d = dir("shapes");
    let out = d.join("set.npz");
    let o = maps(&["--n", "3", "--seed", "5", "--slices", "2"], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut r = NpzReader::open(&out).unwrap();
    let z = r.array("los_redshifts").unwrap();
    let n_los = z.data.len();
    assert!(n_los > 100 && (z.data[0] - 6.0).abs() < 1e-9 && z.data[n_los - 1] <= 12.0);
    assert!(z.data.windows(2).all(|w| w[1] > w[0]), "low z first");
    assert_eq!(
        r.header("slices").unwrap(),
        ("<f4".to_string(), vec![3, 2, 8, n_los])
    );
    assert_eq!(r.array("params").unwrap().shape, vec![3, 4]);
    assert_eq!(
        r.strings("param_names").unwrap(),
        vec!["zeta", "log10_Tvir", "log10_LX", "E0_keV"]
    );
    assert_eq!(r.header("seeds").unwrap(), ("<u8".to_string(), vec![3]));
    assert_eq!(r.header("global_tb").unwrap().1, vec![3, n_los]);
    assert_eq!(r.header("global_xhi").unwrap().1, vec![3, n_los]);
    // Parameters inside the Gillet et al. box, slices finite and not all zero.
    for row in r.array("params").unwrap().data.chunks(4) {
        assert!((10.0..=250.0).contains(&row[0]) && (4.0..=6.0).contains(&row[1]));
        assert!((38.0..=42.0).contains(&row[2]) && (0.1..=1.5).contains(&row[3]));
    }
    let (_, s) = f32s(&out, "slices");
    assert!(s.iter().all(|x| x.is_finite()) && s.iter().any(|&x| x != 0.0));
    // No parts left behind.
    assert!(!d.join("set.npz.parts").exists());
    let o = bin().args(["summarize"]).arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Delta^2"));
}

#[test]
fn a_set_made_in_two_runs_and_joined_equals_one_run() {
    let d = dir("join");
    let (all, a, b, joined) = (
        d.join("all.npz"),
        d.join("a.npz"),
        d.join("b.npz"),
        d.join("j.npz"),
    );
    assert!(maps(&["--n", "3", "--seed", "9"], &all).status.success());
    assert!(maps(&["--n", "2", "--seed", "9"], &a).status.success());
    assert!(maps(&["--n", "1", "--seed", "9", "--first", "2"], &b)
        .status
        .success());
    let o = bin()
        .args(["simulate", "maps", "--quiet", "--join"])
        .arg(&a)
        .arg(&b)
        .arg("--out")
        .arg(&joined)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for m in ["slices", "global_tb", "global_xhi", "ps"] {
        assert_eq!(f32s(&all, m), f32s(&joined, m), "{m}");
    }
    let (mut x, mut y) = (
        NpzReader::open(&all).unwrap(),
        NpzReader::open(&joined).unwrap(),
    );
    assert_eq!(x.array("params").unwrap(), y.array("params").unwrap());
    assert_eq!(x.array("seeds").unwrap(), y.array("seeds").unwrap());
    // Joining a set with itself would duplicate initial conditions: refused.
    let o = bin()
        .args(["simulate", "maps", "--quiet", "--join"])
        .arg(&a)
        .arg(&a)
        .arg("--out")
        .arg(d.join("dup.npz"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("overlap"));
}

#[test]
fn a_killed_run_resumes_from_its_parts() {
    let d = dir("resume");
    let out = d.join("r.npz");
    assert!(maps(&["--n", "3", "--seed", "2", "--keep-parts"], &out)
        .status
        .success());
    let first = f32s(&out, "slices");
    // As if killed: the output was never joined and one light-cone was in progress.
    std::fs::remove_file(&out).unwrap();
    std::fs::remove_file(d.join("r.npz.parts/lc-00000001.npz")).unwrap();
    let o = bin()
        .args(["simulate", "maps"])
        .args(TINY)
        .args(["--n", "3", "--seed", "2", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("1 made now"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(f32s(&out, "slices"), first);
    // A different run into the same parts directory is refused.
    std::fs::create_dir_all(d.join("s.npz.parts")).unwrap();
    assert!(maps(
        &["--n", "2", "--seed", "2", "--keep-parts"],
        &d.join("s.npz")
    )
    .status
    .success());
    std::fs::remove_file(d.join("s.npz")).unwrap();
    let o = maps(&["--n", "2", "--seed", "3"], &d.join("s.npz"));
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("different run"));
}

#[test]
fn bad_arguments_are_clear_errors() {
    let d = dir("bad");
    let out = d.join("x.npz");
    let err = |o: std::process::Output| {
        assert!(!o.status.success());
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    let csv = d.join("p.csv");
    std::fs::write(&csv, "30,4.7,40.5,0.5\n300,4.7,40.5,0.5\n").unwrap();
    let e = err(maps(&["--params", csv.to_str().unwrap()], &out));
    assert!(e.contains("row 2") && e.contains("zeta"), "{e}");
    let e = err(maps(
        &["--params", d.join("missing.csv").to_str().unwrap()],
        &out,
    ));
    assert!(e.contains("missing.csv"), "{e}");
    std::fs::write(&csv, "30,4.7,40.5\n").unwrap();
    assert!(err(maps(&["--params", csv.to_str().unwrap()], &out)).contains("4 columns"));
    let e = err(bin()
        .args(["simulate", "maps", "--n", "1", "--cells", "0", "--out"])
        .arg(&out)
        .output()
        .unwrap());
    assert!(e.contains("--cells"), "{e}");
    let e = err(bin()
        .args(["simulate", "maps", "--n", "1", "--z-max", "40", "--out"])
        .arg(&out)
        .output()
        .unwrap());
    assert!(e.contains("--z-max"), "{e}");
    let e = err(maps(&["--n", "0"], &out));
    assert!(e.contains("--n"), "{e}");
    let e = err(maps(&["--n", "1", "--slices", "9"], &out));
    assert!(e.contains("--slices"), "{e}");
    // A params file and the CSV header: accepted.
    std::fs::write(&csv, "zeta,log10_Tvir,log10_LX,E0_keV\n30,4.7,40.5,0.5\n").unwrap();
    assert!(maps(&["--params", csv.to_str().unwrap()], &out)
        .status
        .success());
}
