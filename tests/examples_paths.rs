//! The examples name files that exist and write where git does not look: every `models/NAME`
//! they (and the README) mention is a shipped file (a misspelt model path such as
//! `models/lstm_global` once slipped in), and every run configuration's output root is under
//! `out/`, which .gitignore ignores.

use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The `models/NAME` tokens of `text` (NAME: letters, digits, `_`, `.`; a trailing `.` is
/// the sentence's).
fn model_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("models/") {
        let tail = &rest[i + "models/".len()..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(tail.len());
        let name = tail[..end].trim_end_matches('.');
        // `$SPINFLIP_MODELS/...`-style or prose mentions without a name are not paths.
        if !name.is_empty() && !rest[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        {
            out.push(format!("models/{name}"));
        }
        rest = &tail[end..];
    }
    out
}

#[test]
fn examples_name_shipped_models_that_exist() {
    let mut texts: Vec<PathBuf> = files(&repo().join("examples"));
    texts.push(repo().join("README.md"));
    let mut missing = Vec::new();
    for f in &texts {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        for m in model_paths(&text) {
            let p = repo().join(&m);
            let exists = ["", ".json", ".safetensors"].iter().any(|ext| {
                let mut s = p.clone().into_os_string();
                s.push(ext);
                Path::new(&s).exists()
            });
            if !exists {
                missing.push(format!("{}: {m}", f.display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "no such model files:\n{}",
        missing.join("\n")
    );
}

#[test]
fn example_runs_write_under_the_ignored_out_folder() {
    let ignore = std::fs::read_to_string(repo().join(".gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l.trim() == "/out/"), "{ignore}");
    for f in files(&repo().join("examples")) {
        if f.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if let Some(v) = line.strip_prefix("root") {
                let v = v
                    .trim_start()
                    .trim_start_matches('=')
                    .trim()
                    .trim_matches('"');
                assert!(
                    v.starts_with("out/"),
                    "{}: root {v} is not under out/",
                    f.display()
                );
            }
        }
    }
}

#[test]
fn the_model_path_scan_finds_names_and_skips_prose() {
    assert_eq!(
        model_paths("kind = 'emulator' # the shipped models/global_lstm.\n(models/maps_cnn)"),
        ["models/global_lstm", "models/maps_cnn"]
    );
    assert!(model_paths("$SPINFLIP_MODELS/x, spinflip_models/y and models/ alone").is_empty());
}
