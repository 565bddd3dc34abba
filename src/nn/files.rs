//! Files every network shares: a model is `NAME.safetensors` (named `f32` arrays) plus a
//! `NAME.json` sidecar; these read and write the arrays.

use crate::samplers::output::{ensure_parent, write_atomic};
use crate::SpinflipError;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Named `f32` arrays with shapes, in order.
pub type NamedArrays = Vec<(String, Vec<usize>, Vec<f32>)>;

/// Arrays by name, with their shapes.
pub type ArrayMap = HashMap<String, (Vec<usize>, Vec<f32>)>;

/// `(weights, sidecar)` paths of the model at `path` (`models/NAME`, with or without
/// `.safetensors` / `.json`).
pub fn model_paths(path: &Path) -> (PathBuf, PathBuf) {
    let base = match path.extension().and_then(|e| e.to_str()) {
        Some("safetensors") | Some("json") => path.with_extension(""),
        _ => path.to_path_buf(),
    };
    let with = |ext: &str| {
        let mut s = base.clone().into_os_string();
        s.push(ext);
        PathBuf::from(s)
    };
    (with(".safetensors"), with(".json"))
}

/// `arrays` as safetensors bytes.
pub fn arrays_to_bytes(arrays: &NamedArrays) -> Result<Vec<u8>, String> {
    let bytes: Vec<Vec<u8>> = arrays
        .iter()
        .map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let views = arrays
        .iter()
        .zip(&bytes)
        .map(|((n, s, _), b)| TensorView::new(Dtype::F32, s.clone(), b).map(|v| (n.clone(), v)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    safetensors::tensor::serialize(views, None).map_err(|e| e.to_string())
}

/// Every array of safetensors bytes (all must be `f32`).
pub fn arrays_from_bytes(bytes: &[u8]) -> Result<ArrayMap, String> {
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| format!("truncated or not safetensors ({e})"))?;
    let mut map = HashMap::new();
    for (name, t) in st.tensors() {
        if t.dtype() != Dtype::F32 {
            return Err(format!("tensor '{name}' is {:?}, expected F32", t.dtype()));
        }
        let v = t
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        map.insert(name, (t.shape().to_vec(), v));
    }
    Ok(map)
}

/// Write `arrays` to `path` as safetensors, atomically.
pub fn write_arrays(path: &Path, arrays: &NamedArrays) -> Result<(), SpinflipError> {
    let err = |r: String| SpinflipError::ModelFile {
        path: path.display().to_string(),
        reason: r,
    };
    let data = arrays_to_bytes(arrays).map_err(err)?;
    ensure_parent(path)?;
    write_atomic(path, &data)?;
    Ok(())
}

/// Read every array of the safetensors file at `path`.
pub fn read_arrays(path: &Path) -> Result<ArrayMap, SpinflipError> {
    let err = |r: String| SpinflipError::ModelFile {
        path: path.display().to_string(),
        reason: r,
    };
    let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
    arrays_from_bytes(&bytes).map_err(err)
}

/// An error about the model file at `p`.
pub fn model_file_error(p: &Path, reason: String) -> SpinflipError {
    SpinflipError::ModelFile {
        path: p.display().to_string(),
        reason,
    }
}

/// FNV-1a hash of a weights file's bytes, as sidecars record it.
pub fn weights_hash(bytes: &[u8]) -> String {
    crate::io::hash::Fnv1a::default().bytes(bytes).hex()
}

/// Write a model's weights (`wp`, safetensors bytes) and sidecar (`sp`, JSON), atomically.
pub fn write_model_pair(
    wp: &Path,
    sp: &Path,
    bytes: &[u8],
    json: &str,
) -> Result<(), SpinflipError> {
    ensure_parent(wp).map_err(|e| model_file_error(wp, e.to_string()))?;
    write_atomic(wp, bytes).map_err(|e| model_file_error(wp, e.to_string()))?;
    write_atomic(sp, json.as_bytes()).map_err(|e| model_file_error(sp, e.to_string()))
}

/// The weights at `wp`, refused unless their hash is the sidecar's `expected` (weights and
/// sidecar of different models side by side).
pub fn read_checked_weights(wp: &Path, expected: &str) -> Result<Vec<u8>, SpinflipError> {
    let bytes =
        std::fs::read(wp).map_err(|e| model_file_error(wp, format!("cannot read weights: {e}")))?;
    let hash = weights_hash(&bytes);
    if hash != expected {
        return Err(model_file_error(
            wp,
            format!(
                "weights hash {hash} differs from the sidecar's {expected}: the files belong to different models"
            ),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_round_trip_and_paths_take_either_extension() {
        let a: NamedArrays = vec![
            ("w".into(), vec![2, 2], vec![1.0, -2.0, 3.5, 0.0]),
            ("b".into(), vec![2], vec![0.25, f32::MIN_POSITIVE]),
        ];
        let back = arrays_from_bytes(&arrays_to_bytes(&a).unwrap()).unwrap();
        for (n, s, v) in &a {
            assert_eq!(&back[n], &(s.clone(), v.clone()));
        }
        assert!(arrays_from_bytes(b"not safetensors").is_err());
        let (w, s) = model_paths(Path::new("models/x.json"));
        assert_eq!((w, s), model_paths(Path::new("models/x")));
    }
}
