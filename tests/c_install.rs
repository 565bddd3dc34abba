//! The installed C library as a user gets it: scripts/install_clib.sh into a temporary prefix
//! from this test build's libspinflip.so and libspinflip.a (SPINFLIP_BUILD_DIR, so nothing is
//! rebuilt), then
//! - the SONAME is libspinflip.so.MAJOR (readelf) and the symlinks run libspinflip.so ->
//!   libspinflip.so.MAJOR -> libspinflip.so.X.Y.Z;
//! - `pkg-config --cflags --libs spinflip` answers from the installed spinflip.pc;
//! - examples/c/minimal.c compiles against the prefix twice, shared (-Wl,-rpath) and static
//!   (libspinflip.a plus the .pc's Libs.private), and both print the same ln L, on the
//!   simulator and on the shipped emulator read from the installed models (SPINFLIP_MODELS);
//! - include/spinflip_polychord.h compiles as C and C++, and its spinflip_polychord_run drives
//!   a stand-in for PolyChord (tests/c/polychord_stub.c) through spinflip's adapters.
//!
//! Skips with a printed reason only without a C compiler; readelf, pkg-config, ldd and c++
//! checks are skipped, with a note, where the tool is missing. About 15 s once the library is
//! built (the static link of the debug libspinflip.a is most of it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

mod cdylib;
use cdylib::lib_dir;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const MAJOR: &str = env!("CARGO_PKG_VERSION_MAJOR");

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn check(what: &str, cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: could not start {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({cmd:?}):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A value line (`Key: value`) of a .pc file.
fn pc_field<'a>(pc: &'a str, key: &str) -> &'a str {
    pc.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {key} in spinflip.pc:\n{pc}"))
        .trim()
}

/// Run an installed program from `cwd` with only what it installed to go on: no cargo
/// LD_LIBRARY_PATH (it would outrank the RUNPATH and load the build's copy), the models from
/// the prefix.
fn run_installed(exe: &Path, args: &[&Path], cwd: &Path, models: &Path) -> String {
    let out = check(
        &format!("running {}", exe.display()),
        Command::new(exe)
            .args(args)
            .current_dir(cwd)
            .env_remove("LD_LIBRARY_PATH")
            .env("SPINFLIP_MODELS", models),
    );
    stdout(&out)
}

#[test]
fn installed_library_links_shared_and_static() {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    if !have(&cc) {
        println!("skipped: no C compiler ({cc}) to build programs against the installed library");
        return;
    }
    let t0 = Instant::now();
    let tmp = std::env::temp_dir().join(format!("spinflip-cinstall-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let prefix = tmp.join("prefix");
    let libdir = prefix.join("lib");
    let includedir = prefix.join("include");
    let models = prefix.join("share/spinflip/models");

    // Install from this build's artefacts.
    let build = lib_dir();
    let out = check(
        "scripts/install_clib.sh",
        Command::new("bash")
            .arg(repo().join("scripts/install_clib.sh"))
            .arg(&prefix)
            .env("SPINFLIP_BUILD_DIR", &build),
    );
    println!("{}", stdout(&out));
    println!("installed in {:.1} s", t0.elapsed().as_secs_f64());

    // The symlink chain ends at the versioned file.
    let real = format!("libspinflip.so.{VERSION}");
    let soname = format!("libspinflip.so.{MAJOR}");
    assert_eq!(
        std::fs::read_link(libdir.join("libspinflip.so")).unwrap(),
        PathBuf::from(&soname)
    );
    assert_eq!(
        std::fs::read_link(libdir.join(&soname)).unwrap(),
        PathBuf::from(&real)
    );
    assert!(std::fs::symlink_metadata(libdir.join(&real))
        .unwrap()
        .file_type()
        .is_file());
    for f in [
        "lib/libspinflip.a",
        "lib/pkgconfig/spinflip.pc",
        "share/spinflip/models/global_lstm.json",
        "share/spinflip/models/global_lstm.safetensors",
        "share/spinflip/models/maps_cnn_likelihood.json",
    ] {
        assert!(prefix.join(f).is_file(), "{f} not installed");
    }
    for h in ["spinflip.h", "spinflip_polychord.h"] {
        assert_eq!(
            std::fs::read(includedir.join(h)).unwrap(),
            std::fs::read(repo().join("include").join(h)).unwrap(),
            "installed {h} differs from include/{h}"
        );
    }

    // SONAME.
    if have("readelf") {
        let dynamic = stdout(&check(
            "readelf -d",
            Command::new("readelf").arg("-d").arg(libdir.join(&real)),
        ));
        assert!(
            dynamic.contains(&format!("Library soname: [{soname}]")),
            "SONAME is not {soname}:\n{dynamic}"
        );
    } else {
        println!("note: no readelf, SONAME not checked");
    }

    // The .pc file, and pkg-config reading it.
    let pc = std::fs::read_to_string(libdir.join("pkgconfig/spinflip.pc")).unwrap();
    assert_eq!(pc_field(&pc, "Version"), VERSION);
    let libs_private: Vec<String> = pc_field(&pc, "Libs.private")
        .split_whitespace()
        .map(String::from)
        .collect();
    assert!(!libs_private.is_empty());
    let by_hand = vec![
        format!("-I{}", includedir.display()),
        format!("-L{}", libdir.display()),
        "-lspinflip".to_string(),
    ];
    let flags: Vec<String> = if have("pkg-config") {
        let pkg = |args: &[&str]| {
            stdout(&check(
                "pkg-config",
                Command::new("pkg-config")
                    .args(args)
                    .arg("spinflip")
                    .env("PKG_CONFIG_PATH", libdir.join("pkgconfig")),
            ))
        };
        assert_eq!(pkg(&["--modversion"]).trim(), VERSION);
        assert_eq!(
            Path::new(pkg(&["--variable=modelsdir"]).trim()),
            models.as_path()
        );
        let static_libs = pkg(&["--static", "--libs"]);
        assert!(
            libs_private
                .iter()
                .all(|l| static_libs.split_whitespace().any(|s| s == l)),
            "pkg-config --static --libs: {static_libs}"
        );
        let flags: Vec<String> = pkg(&["--cflags", "--libs"])
            .split_whitespace()
            .map(String::from)
            .collect();
        assert_eq!(flags, by_hand, "pkg-config --cflags --libs spinflip");
        flags
    } else {
        println!("note: no pkg-config, the .pc file read by hand");
        by_hand
    };

    // What a static link needs from Rust's standard library is in Libs.private (the default
    // build links nothing else: scripts/check_linkage.sh).
    if have("rustc") {
        let empty = tmp.join("empty.rs");
        std::fs::write(&empty, "").unwrap();
        let out = check(
            "rustc --print native-static-libs",
            Command::new("rustc")
                .args([
                    "--crate-type",
                    "staticlib",
                    "--print",
                    "native-static-libs",
                    "--crate-name",
                    "empty",
                ])
                .arg("--out-dir")
                .arg(&tmp)
                .arg(&empty),
        );
        let note = String::from_utf8_lossy(&out.stderr).into_owned();
        let std_libs = note
            .lines()
            .find_map(|l| l.split("native-static-libs:").nth(1))
            .unwrap_or_else(|| panic!("no native-static-libs in rustc's output:\n{note}"));
        for l in std_libs.split_whitespace() {
            assert!(
                libs_private.iter().any(|p| p == l),
                "the standard library needs {l}, missing from Libs.private {libs_private:?} (scripts/install_clib.sh)"
            );
        }
    }

    // minimal.c against the prefix: shared with an rpath, and static.
    let minimal = repo().join("examples/c/minimal.c");
    let strict = ["-std=c11", "-Wall", "-Wextra", "-Werror"];
    let shared = tmp.join("minimal_shared");
    let t = Instant::now();
    check(
        "cc (shared)",
        Command::new(&cc)
            .args(strict)
            .arg(&minimal)
            .args(&flags)
            .arg(format!("-Wl,-rpath,{}", libdir.display()))
            .arg("-o")
            .arg(&shared),
    );
    println!("shared link {:.1} s", t.elapsed().as_secs_f64());
    let stat = tmp.join("minimal_static");
    let t = Instant::now();
    check(
        "cc (static)",
        Command::new(&cc)
            .args(strict)
            .arg(format!("-I{}", includedir.display()))
            .arg(&minimal)
            .arg(libdir.join("libspinflip.a"))
            .args(&libs_private)
            .arg("-o")
            .arg(&stat),
    );
    println!("static link {:.1} s", t.elapsed().as_secs_f64());

    if have("readelf") {
        let needed = |exe: &Path| {
            stdout(&check(
                "readelf -d",
                Command::new("readelf").arg("-d").arg(exe),
            ))
            .lines()
            .filter(|l| l.contains("(NEEDED)"))
            .map(String::from)
            .collect::<Vec<_>>()
        };
        let n = needed(&shared);
        assert!(
            n.iter().any(|l| l.contains(&format!("[{soname}]"))),
            "the shared program does not ask for {soname}: {n:?}"
        );
        let n = needed(&stat);
        assert!(
            !n.iter().any(|l| l.contains("libspinflip")),
            "the static program still needs the shared library: {n:?}"
        );
    }
    if have("ldd") {
        let ldd = stdout(&check(
            "ldd",
            Command::new("ldd")
                .arg(&shared)
                .env_remove("LD_LIBRARY_PATH"),
        ));
        let want = libdir.join(&soname);
        assert!(
            ldd.lines()
                .any(|l| l.contains(&soname) && l.contains(&*want.to_string_lossy())),
            "the shared program does not load {}:\n{ldd}",
            want.display()
        );
    }

    // Both on the simulator and on the shipped emulator, from a folder without models/.
    let emulator_cfg = tmp.join("emulator.toml");
    std::fs::write(
        &emulator_cfg,
        format!(
            "[output]\nroot = '{}'\n[model]\nkind = 'emulator'\n[data.mock]\nmodel = 'simulator'\nnoise = 25.0\nseed = 3\n",
            tmp.join("out").display()
        ),
    )
    .unwrap();
    let simulator_cfg = repo().join("examples/python/simulator_3d.toml");
    let cwd = tmp.join("elsewhere");
    std::fs::create_dir_all(&cwd).unwrap();
    for cfg in [&simulator_cfg, &emulator_cfg] {
        let a = run_installed(&shared, &[cfg.as_path()], &cwd, &models);
        let b = run_installed(&stat, &[cfg.as_path()], &cwd, &models);
        println!("{}: {}", cfg.display(), a.trim());
        assert!(a.starts_with("log L at the prior centre = "), "{a}");
        assert_eq!(
            a,
            b,
            "shared and static programs disagree on {}",
            cfg.display()
        );
    }

    // The PolyChord header: C and C++, then the helper against a stand-in for PolyChord.
    let check_src = tmp.join("polychord_header.c");
    std::fs::write(
        &check_src,
        "#include \"spinflip_polychord.h\"\nint main(void) { return 0; }\n",
    )
    .unwrap();
    check(
        "cc -fsyntax-only spinflip_polychord.h",
        Command::new(&cc)
            .args([
                "-std=c11",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-pedantic",
                "-fsyntax-only",
            ])
            .arg(format!("-I{}", includedir.display()))
            .arg(&check_src),
    );
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    if have(&cxx) {
        check(
            "c++ -fsyntax-only spinflip_polychord.h",
            Command::new(&cxx)
                .args([
                    "-std=c++11",
                    "-Wall",
                    "-Wextra",
                    "-Werror",
                    "-pedantic",
                    "-fsyntax-only",
                ])
                .args(["-x", "c++"])
                .arg(format!("-I{}", includedir.display()))
                .arg(&check_src),
        );
    } else {
        println!("note: no C++ compiler ({cxx}), spinflip_polychord.h checked as C only");
    }
    let stub = tmp.join("polychord_stub");
    check(
        "cc polychord_stub.c",
        Command::new(&cc)
            .args(strict)
            .arg(repo().join("tests/c/polychord_stub.c"))
            .args(&flags)
            .arg(format!("-Wl,-rpath,{}", libdir.display()))
            .arg("-lm")
            .arg("-o")
            .arg(&stub),
    );
    let chains = tmp.join("chains");
    std::fs::create_dir_all(&chains).unwrap();
    let out = run_installed(
        &stub,
        &[
            emulator_cfg.as_path(),
            chains.as_path(),
            simulator_cfg.as_path(),
        ],
        &cwd,
        &models,
    );
    println!("{}", out.trim());
    assert!(out.contains(" 0 failed"), "{out}");

    let _ = std::fs::remove_dir_all(&tmp);
    println!("c_install: {:.1} s", t0.elapsed().as_secs_f64());
}
