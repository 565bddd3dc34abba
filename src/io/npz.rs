//! NumPy `.npz` archives: a zip of `.npy` members. Written uncompressed (as `np.savez`);
//! compressed (`np.savez_compressed`) archives are reported as unsupported.

use super::npy::NpyArray;
use crate::SpinflipError;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

fn data_err(path: &Path, reason: impl Into<String>) -> SpinflipError {
    SpinflipError::Data {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// Write `arrays` (name, array) to `path` as an `.npz` (member `name.npy` each). Written to a
/// temporary file and renamed, so a crash never leaves a half-written archive.
pub fn write_npz(path: &Path, arrays: &[(&str, &NpyArray)]) -> Result<(), SpinflipError> {
    let members: Vec<(&str, Vec<u8>)> =
        arrays.iter().map(|(n, a)| (*n, a.to_npy_bytes())).collect();
    write_npz_members(path, &members)
}

/// Write already-serialised `.npy` members (name, bytes) as an `.npz`, like [`write_npz`].
pub fn write_npz_members(path: &Path, members: &[(&str, Vec<u8>)]) -> Result<(), SpinflipError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| SpinflipError::io(parent, e))?;
    }
    let tmp = path.with_extension("npz.partial");
    let file = std::fs::File::create(&tmp).map_err(|e| SpinflipError::io(&tmp, e))?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    for (name, bytes) in members {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(bytes.len() as u64 >= u32::MAX as u64);
        zip.start_file(format!("{name}.npy"), opts)
            .map_err(|e| data_err(&tmp, format!("zip: {e}")))?;
        zip.write_all(bytes)
            .map_err(|e| SpinflipError::io(&tmp, e))?;
    }
    let mut w = zip
        .finish()
        .map_err(|e| data_err(&tmp, format!("zip: {e}")))?;
    w.flush().map_err(|e| SpinflipError::io(&tmp, e))?;
    drop(w);
    std::fs::rename(&tmp, path).map_err(|e| SpinflipError::io(path, e))
}

/// The raw `.npy` bytes of the members `names` (without `.npy`) of an `.npz`; a missing
/// member is an error naming it and the members present.
pub fn read_npz_raw(
    path: &Path,
    names: &[&str],
) -> Result<BTreeMap<String, Vec<u8>>, SpinflipError> {
    let file = std::fs::File::open(path).map_err(|e| SpinflipError::io(path, e))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| data_err(path, format!("not a readable .npz (zip) archive: {e}")))?;
    let present: Vec<String> = (0..zip.len())
        .filter_map(|i| {
            let m = zip.by_index_raw(i).ok()?;
            let n = m.name().ok()?.to_string();
            Some(n.strip_suffix(".npy").unwrap_or(&n).to_string())
        })
        .collect();
    let mut out = BTreeMap::new();
    for &name in names {
        let mut member = zip.by_name(&format!("{name}.npy")).map_err(|e| {
            data_err(
                path,
                format!("no readable array '{name}' ({e}); the archive holds {present:?}"),
            )
        })?;
        let mut bytes = Vec::with_capacity(member.size() as usize);
        member
            .read_to_end(&mut bytes)
            .map_err(|e| data_err(path, format!("member '{name}': {e} (compressed .npz files are not supported: save with np.savez)")))?;
        out.insert(name.to_string(), bytes);
    }
    Ok(out)
}

/// Read every array of an `.npz` (names without `.npy`), converted to f64.
pub fn read_npz(path: &Path) -> Result<BTreeMap<String, NpyArray>, SpinflipError> {
    let file = std::fs::File::open(path).map_err(|e| SpinflipError::io(path, e))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| data_err(path, format!("not a readable .npz (zip) archive: {e}")))?;
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut member = zip.by_index(i).map_err(|e| {
            data_err(
                path,
                format!(
                    "member {i}: {e} (compressed .npz files are not supported: save with np.savez)"
                ),
            )
        })?;
        let name = member
            .name()
            .map_err(|e| data_err(path, format!("member {i} name: {e}")))?
            .to_string();
        let mut bytes = Vec::with_capacity(member.size() as usize);
        member
            .read_to_end(&mut bytes)
            .map_err(|e| data_err(path, format!("member '{name}': {e}")))?;
        let key = name.strip_suffix(".npy").unwrap_or(&name).to_string();
        let arr = NpyArray::from_npy_bytes(&bytes, &format!("{}:{name}", path.display())).map_err(
            |e| match e {
                SpinflipError::Data { reason, .. } => {
                    data_err(path, format!("member '{name}': {reason}"))
                }
                other => other,
            },
        )?;
        out.insert(key, arr);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let dir = std::env::temp_dir().join(format!("spinflip_npz_{}", std::process::id()));
        let path = dir.join("a.npz");
        let a = NpyArray::from_rows(3, 2, (0..6).map(|x| x as f64 * 0.5).collect()).unwrap();
        let b = NpyArray::new(vec![4], vec![5.0, 5.1, 5.2, 5.3]).unwrap();
        write_npz(&path, &[("par_train", &a), ("redshifts", &b)]).unwrap();
        let m = read_npz(&path).unwrap();
        assert_eq!(m["par_train"], a);
        assert_eq!(m["redshifts"], b);
        // Truncate: must be a Data error naming the file.
        let bytes = std::fs::read(&path).unwrap();
        let cut = dir.join("cut.npz");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        match read_npz(&cut) {
            Err(SpinflipError::Data { path, .. }) => assert!(path.contains("cut.npz")),
            other => panic!("expected a data error, got {other:?}"),
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
