//! HDF5 files in the 21cmGEM layout: one top-level f64 dataset per array (`par_train`,
//! `signal_train`, ...). Needs the `hdf5` feature (off by default: it links the system libhdf5).

use super::npy::NpyArray;
use crate::SpinflipError;
use std::collections::BTreeMap;
use std::path::Path;

#[cfg(feature = "hdf5")]
fn data_err(path: &Path, reason: impl std::fmt::Display) -> SpinflipError {
    SpinflipError::Data {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Write `arrays` as top-level float64 datasets of a new HDF5 file at `path`.
#[cfg(feature = "hdf5")]
pub fn write_hdf5(path: &Path, arrays: &[(&str, &NpyArray)]) -> Result<(), SpinflipError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| SpinflipError::io(parent, e))?;
    }
    let tmp = path.with_extension("h5.partial");
    {
        let file = hdf5_metno::File::create(&tmp).map_err(|e| data_err(&tmp, e))?;
        for (name, arr) in arrays {
            let ds = file
                .new_dataset::<f64>()
                .shape(arr.shape.clone())
                .create(*name)
                .map_err(|e| data_err(&tmp, format!("dataset '{name}': {e}")))?;
            ds.write_raw(arr.data.as_slice())
                .map_err(|e| data_err(&tmp, format!("dataset '{name}': {e}")))?;
        }
        file.close().map_err(|e| data_err(&tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| SpinflipError::io(path, e))
}

/// Read every top-level dataset of an HDF5 file as f64 (C order).
#[cfg(feature = "hdf5")]
pub fn read_hdf5(path: &Path) -> Result<BTreeMap<String, NpyArray>, SpinflipError> {
    if !path.exists() {
        return Err(SpinflipError::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        ));
    }
    let file = hdf5_metno::File::open(path)
        .map_err(|e| data_err(path, format!("not a readable HDF5 file: {e}")))?;
    let names = file.member_names().map_err(|e| data_err(path, e))?;
    let mut out = BTreeMap::new();
    for name in names {
        let Ok(ds) = file.dataset(&name) else {
            continue; // groups and other objects are not arrays
        };
        let shape = ds.shape();
        let data: Vec<f64> = ds
            .read_raw::<f64>()
            .map_err(|e| data_err(path, format!("dataset '{name}': {e}")))?;
        out.insert(name.clone(), NpyArray::new(shape, data)?);
    }
    Ok(out)
}

/// Without the `hdf5` feature: a clear error.
#[cfg(not(feature = "hdf5"))]
pub fn write_hdf5(path: &Path, _arrays: &[(&str, &NpyArray)]) -> Result<(), SpinflipError> {
    Err(no_hdf5(path))
}

/// Without the `hdf5` feature: a clear error.
#[cfg(not(feature = "hdf5"))]
pub fn read_hdf5(path: &Path) -> Result<BTreeMap<String, NpyArray>, SpinflipError> {
    Err(no_hdf5(path))
}

#[cfg(not(feature = "hdf5"))]
fn no_hdf5(path: &Path) -> SpinflipError {
    SpinflipError::config(
        "format",
        format!(
            "'{}': this build has no HDF5 support (it links the system libhdf5, so it is opt-in): \
             use .npz, or install libhdf5-dev and pkg-config and rebuild with \
             `cargo build --release --features hdf5`",
            path.display()
        ),
    )
}
