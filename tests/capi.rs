//! The C ABI from a real C program (tests/c/test_capi.c), compiled with
//! `cc -Wall -Wextra -Werror` against include/spinflip.h and the cdylib cargo built.

use std::path::Path;
use std::process::Command;

mod cdylib;
use cdylib::lib_dir;

#[test]
fn c_program_drives_the_abi() {
    c_program_on("simulator", "kind = 'simulator'", "1e-9");
}

/// The same program on the shipped emulator (the README's main job). Its f32 network
/// evaluates a batch in another summation order than a single point: signals agree to
/// ~1e-6 relative (f32 epsilon 6e-8 times the depth of the sums), and ln L, a sum of
/// residual times signal error terms, to about as much relative to its size; 1e-5 keeps a
/// 10x margin and still catches a wrong point or channel (those move ln L by O(1)).
#[test]
fn c_program_drives_the_abi_on_the_shipped_emulator() {
    c_program_on("emulator", "kind = 'emulator'", "1e-5");
}

fn c_program_on(tag: &str, model: &str, rel_tol: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = std::env::temp_dir().join(format!("spinflip-capi-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let cfg = tmp.join("run.toml");
    std::fs::write(
        &cfg,
        format!(
            "[output]\nroot = '{}'\n[model]\n{model}\n[data.mock]\nmodel = 'simulator'\nnoise = 25.0\nseed = 3\n",
            tmp.join("out").display()
        ),
    )
    .unwrap();
    let exe = tmp.join("test_capi");
    let lib = lib_dir();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .args([
            "-std=c11",
            "-D_POSIX_C_SOURCE=200809L",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pthread",
        ])
        .arg("-I")
        .arg(root.join("include"))
        .arg(root.join("tests/c/test_capi.c"))
        .arg("-o")
        .arg(&exe)
        .arg(format!("-L{}", lib.display()))
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .args(["-lspinflip", "-lm"])
        .output()
        .expect("a C compiler (cc) is needed for the C ABI test");
    assert!(
        out.status.success(),
        "cc failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // cargo's LD_LIBRARY_PATH outranks the RUNPATH: pin it to this build's library.
    let run = Command::new(&exe)
        .arg(&cfg)
        .arg(rel_tol)
        .env("LD_LIBRARY_PATH", &lib)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "C test failed");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    // The streak of three rejections was reported once, with its reason.
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(
        stderr.matches("consecutive likelihood calls").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("ndim"), "{stderr}");
    let _ = std::fs::remove_dir_all(tmp);
}

/// The header defines the ABI's own names only (it once carried every `pub const` of the
/// crate, `VERSION` and `BETA` among them, into users' C namespace), and its one constant
/// has the Rust value.
#[test]
fn header_defines_only_spinflip_names() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let header = std::fs::read_to_string(root.join("include/spinflip.h")).unwrap();
    let macros: Vec<&str> = header
        .lines()
        .filter_map(|l| l.trim().strip_prefix("#define "))
        .collect();
    for m in &macros {
        assert!(m.starts_with("SPINFLIP_"), "#define {m}");
    }
    // Type names too: a public Rust type that cbindgen picks up (a model-kind constant's type
    // once did) must not land in users' C namespace.
    let mut types = 0;
    for l in header.lines().filter(|l| l.starts_with("typedef ")) {
        // typedef struct NAME NAME; / typedef enum NAME {
        let name = l.split_whitespace().nth(2).unwrap_or("");
        assert!(name.starts_with("Spinflip"), "{l}");
        types += 1;
    }
    assert!(
        types >= 2,
        "no typedefs found: the check above checked nothing"
    );
    let logzero = macros
        .iter()
        .find_map(|m| m.strip_prefix("SPINFLIP_LOGZERO "))
        .expect("SPINFLIP_LOGZERO is defined");
    assert_eq!(
        logzero.trim().parse::<f64>().unwrap(),
        spinflip::capi::SPINFLIP_LOGZERO
    );
}
