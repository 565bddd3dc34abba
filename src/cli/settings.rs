//! Settings of a command from its flags and a TOML file (`--config`): every flag given on
//! the command line wins over the file. One rule for every `train` subcommand: a flag counts
//! as given when it is `Some`, a non-empty list or a raised switch.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::SpinflipError;

fn given(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null | serde_json::Value::Bool(false) => false,
        serde_json::Value::Array(a) => !a.is_empty(),
        _ => true,
    }
}

/// `flags` over the settings in the TOML file at `path`. The file is read as `T` first, so an
/// unknown key or a wrong type is an error that names it.
pub fn over_file<T: Serialize + DeserializeOwned>(
    flags: &T,
    path: &Path,
) -> Result<T, SpinflipError> {
    let text = std::fs::read_to_string(path).map_err(|e| SpinflipError::io(path, e))?;
    let file: T = toml::from_str(&text)
        .map_err(|e| SpinflipError::config(path.display().to_string(), e.message().to_string()))?;
    let internal = |e: serde_json::Error| SpinflipError::config("settings", e.to_string());
    let mut merged = serde_json::to_value(&file).map_err(internal)?;
    if let (Some(m), serde_json::Value::Object(f)) = (
        merged.as_object_mut(),
        serde_json::to_value(flags).map_err(internal)?,
    ) {
        for (k, v) in f {
            if given(&v) {
                m.insert(k, v);
            }
        }
    }
    serde_json::from_value(merged).map_err(internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct S {
        #[serde(default)]
        data: Vec<String>,
        lr: Option<f64>,
        epochs: Option<usize>,
        #[serde(default)]
        quiet: bool,
    }

    #[test]
    fn flags_win_and_the_file_fills_the_rest() {
        let dir = std::env::temp_dir().join(format!("spinflip-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("s.toml");
        std::fs::write(&p, "data = ['a.npz']\nlr = 0.1\nepochs = 5\nquiet = true\n").unwrap();
        let flags = S {
            lr: Some(0.5),
            ..Default::default()
        };
        let m = over_file(&flags, &p).unwrap();
        assert_eq!(
            m,
            S {
                data: vec!["a.npz".into()],
                lr: Some(0.5),
                epochs: Some(5),
                quiet: true,
            }
        );
        std::fs::write(&p, "lr = 0.1\nlearning_rate = 2\n").unwrap();
        let e = over_file(&flags, &p).unwrap_err().to_string();
        assert!(e.contains("learning_rate"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
