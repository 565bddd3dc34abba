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

/// An `.npz` written member by member, large members streamed in pieces (uncompressed, as
/// `np.savez`). It goes to `<path>.partial` and is renamed into place by
/// [`NpzWriter::finish`], so a crash never leaves a half-written archive under `path`.
pub struct NpzWriter {
    path: std::path::PathBuf,
    tmp: std::path::PathBuf,
    zip: zip::ZipWriter<std::io::BufWriter<std::fs::File>>,
}

impl NpzWriter {
    /// Start writing `path` (its directory is created if needed).
    pub fn create(path: &Path) -> Result<Self, SpinflipError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| SpinflipError::io(parent, e))?;
        }
        let tmp = path.with_extension("npz.partial");
        let file = std::fs::File::create(&tmp).map_err(|e| SpinflipError::io(&tmp, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            tmp,
            zip: zip::ZipWriter::new(std::io::BufWriter::new(file)),
        })
    }

    /// Start member `name.npy` of `len` bytes in total (header included); then [`Self::write`]
    /// its bytes.
    pub fn begin(&mut self, name: &str, len: u64) -> Result<(), SpinflipError> {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(len >= u32::MAX as u64);
        self.zip
            .start_file(format!("{name}.npy"), opts)
            .map_err(|e| data_err(&self.tmp, format!("zip: {e}")))
    }

    /// Append bytes to the current member.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), SpinflipError> {
        self.zip
            .write_all(bytes)
            .map_err(|e| SpinflipError::io(&self.tmp, e))
    }

    /// A whole member from its `.npy` bytes.
    pub fn add(&mut self, name: &str, npy: &[u8]) -> Result<(), SpinflipError> {
        self.begin(name, npy.len() as u64)?;
        self.write(npy)
    }

    /// Close the archive and move it into place.
    pub fn finish(self) -> Result<(), SpinflipError> {
        let mut w = self
            .zip
            .finish()
            .map_err(|e| data_err(&self.tmp, format!("zip: {e}")))?;
        w.flush().map_err(|e| SpinflipError::io(&self.tmp, e))?;
        drop(w);
        std::fs::rename(&self.tmp, &self.path).map_err(|e| SpinflipError::io(&self.path, e))
    }
}

/// An open member of an archive read from a file.
type Member<'a> = zip::read::ZipFile<'a, std::io::BufReader<std::fs::File>>;

/// Member-by-member reader of an `.npz` of any dtype: headers, numeric members as
/// [`NpyArray`], string members, float32 members streamed along their first axis.
pub struct NpzReader {
    path: std::path::PathBuf,
    zip: zip::ZipArchive<std::io::BufReader<std::fs::File>>,
}

impl NpzReader {
    /// Open `path`.
    pub fn open(path: &Path) -> Result<Self, SpinflipError> {
        let file = std::fs::File::open(path).map_err(|e| SpinflipError::io(path, e))?;
        let zip = zip::ZipArchive::new(std::io::BufReader::new(file))
            .map_err(|e| data_err(path, format!("not a readable .npz (zip) archive: {e}")))?;
        Ok(Self {
            path: path.to_path_buf(),
            zip,
        })
    }

    /// Member names without `.npy`.
    pub fn names(&self) -> Vec<String> {
        self.zip
            .file_names()
            .filter_map(|n| n.ok())
            .map(|n| n.strip_suffix(".npy").unwrap_or(&n).to_string())
            .collect()
    }

    /// Whether member `name` exists.
    pub fn has(&self, name: &str) -> bool {
        self.names().iter().any(|n| n == name)
    }

    /// Open member `name` and read its header: (reader positioned at the data, dtype, shape).
    fn open_member(
        &mut self,
        name: &str,
    ) -> Result<(Member<'_>, String, Vec<usize>), SpinflipError> {
        let path = self.path.clone();
        let mut m = self
            .zip
            .by_name(&format!("{name}.npy"))
            .map_err(|_| data_err(&path, format!("no array '{name}' in the archive")))?;
        let mut head = vec![0u8; 12];
        m.read_exact(&mut head[..10])
            .map_err(|e| data_err(&path, format!("member '{name}': {e}")))?;
        let hlen = if head[6] == 1 {
            u16::from_le_bytes([head[8], head[9]]) as usize
        } else {
            m.read_exact(&mut head[10..12])
                .map_err(|e| data_err(&path, format!("member '{name}': {e}")))?;
            u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize
        };
        let mut rest = vec![0u8; hlen];
        m.read_exact(&mut rest)
            .map_err(|e| data_err(&path, format!("member '{name}': truncated header: {e}")))?;
        head.truncate(if head[6] == 1 { 10 } else { 12 });
        head.extend_from_slice(&rest);
        let (descr, shape, _) =
            super::npy::npy_header_info(&head, &format!("{}:{name}", path.display()))?;
        Ok((m, descr, shape))
    }

    /// dtype and shape of member `name`.
    pub fn header(&mut self, name: &str) -> Result<(String, Vec<usize>), SpinflipError> {
        let (_, d, s) = self.open_member(name)?;
        Ok((d, s))
    }

    /// A numeric member as f64 ([`NpyArray::from_npy_bytes`]).
    pub fn array(&mut self, name: &str) -> Result<NpyArray, SpinflipError> {
        let path = self.path.clone();
        let mut m = self
            .zip
            .by_name(&format!("{name}.npy"))
            .map_err(|_| data_err(&path, format!("no array '{name}' in the archive")))?;
        let mut bytes = Vec::with_capacity(m.size() as usize);
        m.read_to_end(&mut bytes)
            .map_err(|e| data_err(&path, format!("member '{name}': {e}")))?;
        NpyArray::from_npy_bytes(&bytes, &format!("{}:{name}", path.display()))
    }

    /// A 1-D string member (`<U{n}`).
    pub fn strings(&mut self, name: &str) -> Result<Vec<String>, SpinflipError> {
        let path = self.path.clone();
        let (mut m, descr, shape) = self.open_member(name)?;
        let mut data = Vec::new();
        m.read_to_end(&mut data)
            .map_err(|e| data_err(&path, format!("member '{name}': {e}")))?;
        let n = shape.iter().product();
        super::npy::decode_str_array(&descr, n, &data).ok_or_else(|| {
            data_err(
                &path,
                format!("member '{name}' is not a string array ({descr})"),
            )
        })
    }

    /// Stream a little-endian float32 member along its first axis: `f(i, row)` for each of
    /// its `shape[0]` rows. Returns the shape.
    pub fn f32_rows(
        &mut self,
        name: &str,
        mut f: impl FnMut(usize, &[f32]) -> Result<(), SpinflipError>,
    ) -> Result<Vec<usize>, SpinflipError> {
        let path = self.path.clone();
        let (mut m, descr, shape) = self.open_member(name)?;
        if descr != "<f4" {
            return Err(data_err(
                &path,
                format!("member '{name}' is {descr}, expected float32 (<f4)"),
            ));
        }
        let rows = shape.first().copied().unwrap_or(1);
        let row_len: usize = shape.iter().skip(1).product();
        let mut bytes = vec![0u8; 4 * row_len];
        let mut row = vec![0f32; row_len];
        for i in 0..rows {
            m.read_exact(&mut bytes)
                .map_err(|e| data_err(&path, format!("member '{name}': row {i}: {e}")))?;
            for (x, b) in row.iter_mut().zip(bytes.chunks_exact(4)) {
                *x = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
            f(i, &row)?;
        }
        Ok(shape)
    }

    /// Copy the data bytes of member `name` (everything after its header) into `out`'s
    /// current member. Returns (dtype, shape).
    pub fn copy_data(
        &mut self,
        name: &str,
        out: &mut NpzWriter,
    ) -> Result<(String, Vec<usize>), SpinflipError> {
        let path = self.path.clone();
        let (mut m, descr, shape) = self.open_member(name)?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let k = m
                .read(&mut buf)
                .map_err(|e| data_err(&path, format!("member '{name}': {e}")))?;
            if k == 0 {
                break;
            }
            out.write(&buf[..k])?;
        }
        Ok((descr, shape))
    }
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

    #[test]
    fn streamed_writer_and_typed_reader() {
        use crate::io::npy::{f32_npy_bytes, npy_header, str_npy_bytes};
        let dir = std::env::temp_dir().join(format!("spinflip_npzw_{}", std::process::id()));
        let path = dir.join("s.npz");
        let mut w = NpzWriter::create(&path).unwrap();
        w.add("names", &str_npy_bytes(&["a", "bcd"])).unwrap();
        // A (3, 2) float32 member written in two pieces.
        let header = npy_header("<f4", &[3, 2]);
        w.begin("rows", header.len() as u64 + 24).unwrap();
        w.write(&header).unwrap();
        let body: Vec<u8> = (0..6).flat_map(|i| (i as f32).to_le_bytes()).collect();
        w.write(&body[..8]).unwrap();
        w.write(&body[8..]).unwrap();
        w.add("x", &f32_npy_bytes(&[2], &[0.5, 1.5])).unwrap();
        assert!(!path.exists());
        w.finish().unwrap();
        let mut r = NpzReader::open(&path).unwrap();
        assert!(r.has("rows") && !r.has("nope"));
        assert_eq!(r.strings("names").unwrap(), vec!["a", "bcd"]);
        let mut got = Vec::new();
        let shape = r.f32_rows("rows", |i, row| {
            got.push((i, row.to_vec()));
            Ok(())
        });
        assert_eq!(shape.unwrap(), vec![3, 2]);
        assert_eq!(got[2], (2, vec![4.0, 5.0]));
        assert_eq!(r.array("x").unwrap().data, vec![0.5, 1.5]);
        assert!(matches!(r.header("nope"), Err(SpinflipError::Data { .. })));
        std::fs::remove_dir_all(&dir).ok();
    }
}
