//! Where the shipped models are found: a program linked against `libspinflip` far from the
//! source tree (a C or Python user's) sets `SPINFLIP_MODELS` to the folder that holds them
//! (the repository's `models/`, or a copy of it); otherwise `models/...` in the working
//! directory, else in the source tree the library was built from.

use std::path::{Path, PathBuf};

/// The environment variable naming the folder of shipped models.
pub const MODELS_ENV: &str = "SPINFLIP_MODELS";

/// The shipped file or model stem `rel` (relative to the repository root, `models/...`);
/// `exists` says whether a candidate is there (a model stem has a `.json` beside it).
pub fn shipped_path(rel: &str, exists: impl Fn(&Path) -> bool) -> PathBuf {
    resolve(rel, std::env::var_os(MODELS_ENV), exists)
}

fn resolve(rel: &str, env: Option<std::ffi::OsString>, exists: impl Fn(&Path) -> bool) -> PathBuf {
    let rel_path = Path::new(rel);
    if let Some(dir) = env.filter(|d| !d.is_empty()) {
        // Set explicitly: used even if the file is missing, so the error names this folder.
        let name = rel_path.strip_prefix("models").unwrap_or(rel_path);
        return PathBuf::from(dir).join(name);
    }
    if exists(rel_path) {
        return rel_path.to_path_buf();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_wins_then_the_working_directory_then_the_source_tree() {
        assert_eq!(
            resolve("models/x.json", None, |_| true),
            Path::new("models/x.json")
        );
        assert_eq!(
            resolve("models/x.json", None, |_| false),
            Path::new(env!("CARGO_MANIFEST_DIR")).join("models/x.json")
        );
        let env = Some("/opt/spinflip/models".into());
        assert_eq!(
            resolve("models/x.json", env.clone(), |_| true),
            Path::new("/opt/spinflip/models/x.json")
        );
        // An empty variable counts as unset.
        assert_eq!(
            resolve("models/x.json", Some("".into()), |_| true),
            Path::new("models/x.json")
        );
    }
}
