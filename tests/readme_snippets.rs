//! The README's code blocks work as pasted from the repository root.
//!
//! Every ```sh / ```bash / ```python / ```c block carries a marker on the line above it:
//! `<!-- snippet: run -->` or `<!-- snippet: skip (reason) -->`. Then:
//! - every shell block passes `bash -n`, and every repository file it names exists;
//! - shell blocks marked run are run from the repository root with this build's `spinflip`
//!   first on PATH (`cargo run --release --` is read as `spinflip`);
//! - the C block is examples/c/minimal.c verbatim, and is compiled against include/spinflip.h
//!   and the cdylib (when a C compiler is there) and run on examples/python/simulator_3d.toml;
//! - Python blocks marked run are run with $SPINFLIP_PYTHON (skipped with a note if unset),
//!   with `target/release/libspinflip.so` read as this build's library;
//! - every ```toml block is a valid piece of a run configuration: with an `[output]` and a
//!   `[data]` table added it loads as a `RunConfig` (field names, prior kinds and numbers).
//!
//! The Quick start's test command is the one .ci/run runs. About 10-20 s with the test profile
//! on 2 busy cores.

use spinflip::config::RunConfig;
use std::path::{Path, PathBuf};
use std::process::Command;

mod cdylib;
use cdylib::lib_dir;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Debug)]
struct Block {
    lang: String,
    /// 1-based line of the opening fence.
    line: usize,
    /// `Some(true)`: run, `Some(false)`: skip, `None`: no marker.
    run: Option<bool>,
    code: String,
}

/// The fenced blocks of `text` with their languages and markers.
fn blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i].trim_start();
        if let Some(lang) = l.strip_prefix("```") {
            let lang = lang.trim().to_string();
            let prev = lines[..i]
                .iter()
                .rev()
                .find(|s| !s.trim().is_empty())
                .map(|s| s.trim())
                .unwrap_or("");
            let run = if prev == "<!-- snippet: run -->" {
                Some(true)
            } else if prev.starts_with("<!-- snippet: skip (") && prev.ends_with(") -->") {
                Some(false)
            } else {
                None
            };
            let start = i;
            let mut code = String::new();
            i += 1;
            while i < lines.len() && !lines[i].trim_start().starts_with("```") {
                code.push_str(lines[i]);
                code.push('\n');
                i += 1;
            }
            out.push(Block {
                lang,
                line: start + 1,
                run,
                code,
            });
        }
        i += 1;
    }
    out
}

fn is_shell(lang: &str) -> bool {
    matches!(lang, "sh" | "bash" | "shell")
}

/// The repository files a shell block names: tokens under a source-tree folder that are not
/// an output (after `--out` / `-o`).
fn named_files(code: &str) -> Vec<String> {
    const DIRS: [&str; 12] = [
        "examples/",
        "models/",
        "scripts/",
        "include/",
        "tests/",
        "docs/",
        "src/",
        "samplers/",
        "likelihoods/",
        "benches/",
        "data/reference/",
        ".ci/",
    ];
    let mut out = Vec::new();
    for line in code.lines() {
        let line = line.split(" #").next().unwrap_or("");
        if line.trim_start().starts_with('#') {
            continue;
        }
        let mut prev = "";
        for tok in line.split_whitespace() {
            let t = tok
                .trim_matches(|c| c == '"' || c == '\'')
                .trim_end_matches([',', ';', ')']);
            if DIRS.iter().any(|d| t.starts_with(d))
                && !matches!(prev, "--out" | "-o")
                && !t.contains(['*', '$'])
            {
                out.push(t.to_string());
            }
            prev = tok;
        }
    }
    out
}

fn exists(rel: &str) -> bool {
    let p = repo().join(rel);
    ["", ".json", ".safetensors"].iter().any(|ext| {
        let mut s = p.clone().into_os_string();
        s.push(ext);
        Path::new(&s).exists()
    })
}

fn readme() -> Vec<Block> {
    let text = std::fs::read_to_string(repo().join("README.md")).unwrap();
    blocks(&text)
        .into_iter()
        .filter(|b| is_shell(&b.lang) || b.lang == "python" || b.lang == "c")
        .collect()
}

#[test]
fn every_block_is_marked_parses_and_names_existing_files() {
    let mut problems = Vec::new();
    let all = readme();
    assert!(all.len() >= 5, "found only {} code blocks", all.len());
    for b in &all {
        if b.run.is_none() {
            problems.push(format!(
                "README.md:{}: ```{} block without <!-- snippet: run --> or <!-- snippet: skip (reason) --> above it",
                b.line, b.lang
            ));
        }
        if !is_shell(&b.lang) {
            continue;
        }
        let out = Command::new("bash")
            .args(["-n", "-c", &b.code])
            .output()
            .unwrap();
        if !out.status.success() {
            problems.push(format!(
                "README.md:{}: bash -n: {}",
                b.line,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        for f in named_files(&b.code) {
            if !exists(&f) {
                problems.push(format!("README.md:{}: no such file {f}", b.line));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The directory of this build's `spinflip` first on PATH.
fn path_with_bin() -> std::ffi::OsString {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_spinflip"));
    let mut paths = vec![bin.parent().unwrap().to_path_buf()];
    if let Some(p) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(paths).unwrap()
}

#[test]
fn shell_blocks_marked_run_run_from_the_root() {
    let runs: Vec<Block> = readme()
        .into_iter()
        .filter(|b| is_shell(&b.lang) && b.run == Some(true))
        .collect();
    assert!(!runs.is_empty(), "no shell block marked run");
    for b in runs {
        let code = b.code.replace("cargo run --release --", "spinflip");
        let t0 = std::time::Instant::now();
        let out = Command::new("bash")
            .args(["-euo", "pipefail", "-c", &code])
            .current_dir(repo())
            .env("PATH", path_with_bin())
            .env("SPINFLIP_PROGRESS_SECONDS", "1000")
            .output()
            .unwrap();
        println!(
            "README.md:{} ran in {:.1} s:\n{}",
            b.line,
            t0.elapsed().as_secs_f64(),
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            out.status.success(),
            "README.md:{} failed:\n{code}\n{}{}",
            b.line,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The README's C block is examples/c/minimal.c word for word; tests/c_example.rs compiles
/// and runs that file against this build's library, so it is not compiled a second time here.
#[test]
fn c_block_is_the_tested_c_example() {
    let blocks: Vec<Block> = readme().into_iter().filter(|b| b.lang == "c").collect();
    assert_eq!(blocks.len(), 1, "expected one C block");
    let example = std::fs::read_to_string(repo().join("examples/c/minimal.c")).unwrap();
    assert_eq!(
        blocks[0].code, example,
        "the README's C block differs from examples/c/minimal.c (tests/c_example.rs tests that file)"
    );
}

#[test]
fn python_blocks_marked_run_run_from_the_root() {
    let runs: Vec<Block> = readme()
        .into_iter()
        .filter(|b| b.lang == "python" && b.run == Some(true))
        .collect();
    let Some(python) = std::env::var_os("SPINFLIP_PYTHON") else {
        eprintln!(
            "skipped {} Python block(s): set SPINFLIP_PYTHON to a python with numpy",
            runs.len()
        );
        return;
    };
    let lib = lib_dir().join("libspinflip.so");
    for b in runs {
        let code = b
            .code
            .replace("target/release/libspinflip.so", &lib.display().to_string());
        let out = Command::new(&python)
            .args(["-c", &code])
            .current_dir(repo())
            .output()
            .expect("could not start SPINFLIP_PYTHON");
        assert!(
            out.status.success(),
            "README.md:{} failed:\n{}{}",
            b.line,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The Quick start's first block holds the main job and the test command, and CI runs that
/// same test command.
#[test]
fn quick_start_commands_are_the_ones_ci_runs() {
    let first = &readme()[0];
    assert!(
        is_shell(&first.lang),
        "the first code block is not the quick start"
    );
    let lines: Vec<&str> = first
        .code
        .lines()
        .map(|l| l.split(" #").next().unwrap().trim())
        .collect();
    assert_eq!(
        lines,
        [
            "cargo run --release -- fit examples/global_signal.toml",
            "cargo test --workspace"
        ]
    );
    let ci = std::fs::read_to_string(repo().join(".ci/run")).unwrap();
    assert!(
        ci.lines()
            .any(|l| l.trim_start().starts_with("cargo test --workspace")),
        ".ci/run no longer runs the README's test command"
    );
}

#[test]
fn toml_blocks_load_as_run_configurations() {
    let text = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let tomls: Vec<Block> = blocks(&text)
        .into_iter()
        .filter(|b| b.lang == "toml")
        .collect();
    assert!(!tomls.is_empty(), "no toml block");
    let tmp = std::env::temp_dir().join(format!("spinflip-readme-toml-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    for b in tomls {
        let data = repo().join("examples/data/edges_like.txt");
        let cfg = format!(
            "[output]\nroot = \"out/readme_toml\"\n[data]\nfile = {:?}\n{}",
            data.display().to_string(),
            b.code
        );
        let path = tmp.join(format!("block{}.toml", b.line));
        std::fs::write(&path, cfg).unwrap();
        if let Err(e) = RunConfig::load(&path) {
            panic!("README.md:{}: the toml block does not load: {e}", b.line);
        }
    }
    let _ = std::fs::remove_dir_all(tmp);
}

#[test]
fn the_scanner_finds_blocks_markers_and_paths() {
    let text = "x\n<!-- snippet: run -->\n```sh\nspinflip fit examples/a.toml --out out/b\n```\n\n```python\nprint(1)\n```\n";
    let b = blocks(text);
    assert_eq!(b.len(), 2);
    assert_eq!(
        (b[0].lang.as_str(), b[0].run, b[0].line),
        ("sh", Some(true), 3)
    );
    assert_eq!(b[1].run, None);
    assert_eq!(named_files(&b[0].code), vec!["examples/a.toml"]);
    assert_eq!(
        named_files("x --out models/new.json models/global_lstm # models/nope"),
        vec!["models/global_lstm"]
    );
}
