//! NumPy `.npy` arrays (format versions 1-3): float64 C-order on write; f8/f4/f2/integers/bool
//! in either byte order and C or Fortran order on read, returned as f64 in C order
//! ([`NpyArray`]); large float images (f4 or f2, C order) kept in their stored precision by
//! [`NpyFloats`].

use crate::SpinflipError;

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// An n-dimensional f64 array in C (row-major) order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Values, C order; `data.len()` is the product of `shape`.
    pub data: Vec<f64>,
}

impl NpyArray {
    /// A checked constructor.
    pub fn new(shape: Vec<usize>, data: Vec<f64>) -> Result<Self, SpinflipError> {
        let n: usize = shape.iter().product();
        if n != data.len() {
            return Err(SpinflipError::config(
                "array",
                format!("shape {shape:?} needs {n} values, got {}", data.len()),
            ));
        }
        Ok(Self { shape, data })
    }

    /// A 2-D array from rows of equal length.
    pub fn from_rows(rows: usize, cols: usize, data: Vec<f64>) -> Result<Self, SpinflipError> {
        Self::new(vec![rows, cols], data)
    }

    /// Number of rows (first dimension; 1 for a scalar).
    pub fn rows(&self) -> usize {
        self.shape.first().copied().unwrap_or(1)
    }

    /// Number of columns of a 2-D array (1 for 1-D).
    pub fn cols(&self) -> usize {
        if self.shape.len() >= 2 {
            self.shape[1..].iter().product()
        } else {
            1
        }
    }

    /// Row `i` of a 2-D array.
    pub fn row(&self, i: usize) -> &[f64] {
        let c = self.cols();
        &self.data[i * c..(i + 1) * c]
    }

    /// Write as a `.npy` file (see [`NpyArray::to_npy_bytes`]).
    pub fn save(&self, path: &std::path::Path) -> Result<(), SpinflipError> {
        std::fs::write(path, self.to_npy_bytes()).map_err(|e| SpinflipError::io(path, e))
    }

    /// Serialise as a version-1.0 `.npy` (little-endian f64, C order).
    pub fn to_npy_bytes(&self) -> Vec<u8> {
        let body: Vec<u8> = self.data.iter().flat_map(|v| v.to_le_bytes()).collect();
        npy_bytes("<f8", &self.shape, &body)
    }

    /// Parse `.npy` bytes; `what` names the source in errors.
    pub fn from_npy_bytes(bytes: &[u8], what: &str) -> Result<Self, SpinflipError> {
        let h = Header::parse(bytes, what)?;
        let big = h.order == '>';
        let mut data: Vec<f64> = h
            .body(bytes)
            .chunks_exact(h.size)
            .map(|ch| decode(ch, h.kind, big))
            .collect();
        if h.fortran && h.shape.len() > 1 {
            data = fortran_to_c(&data, &h.shape);
        }
        Ok(Self {
            shape: h.shape,
            data,
        })
    }
}

/// A parsed `.npy` header.
struct Header {
    shape: Vec<usize>,
    order: char,
    kind: char,
    size: usize,
    fortran: bool,
    /// Offset of the data.
    start: usize,
    descr: String,
}

impl Header {
    fn parse(bytes: &[u8], what: &str) -> Result<Self, SpinflipError> {
        let bad = |reason: String| SpinflipError::Data {
            path: what.to_string(),
            reason,
        };
        if bytes.len() < 10 || &bytes[..6] != MAGIC {
            return Err(bad("not a .npy array (missing \\x93NUMPY magic)".into()));
        }
        let (major, off) = (bytes[6], 8usize);
        let (hlen, start) = match major {
            1 => (
                u16::from_le_bytes([bytes[off], bytes[off + 1]]) as usize,
                off + 2,
            ),
            2 | 3 => {
                if bytes.len() < 12 {
                    return Err(bad("truncated .npy header".into()));
                }
                let l = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
                (l, off + 4)
            }
            v => return Err(bad(format!("unsupported .npy version {v}"))),
        };
        let header = bytes
            .get(start..start + hlen)
            .ok_or_else(|| bad("truncated .npy header".into()))?;
        let header = std::str::from_utf8(header).map_err(|_| bad("header is not text".into()))?;
        let descr = dict_value(header, "descr")
            .ok_or_else(|| bad(format!("no 'descr' in header {header:?}")))?;
        let descr = descr
            .trim()
            .trim_matches(|c| c == '\'' || c == '"')
            .to_string();
        let fortran = dict_value(header, "fortran_order")
            .map(|v| v.trim().starts_with("True"))
            .unwrap_or(false);
        let shape_txt = dict_value(header, "shape")
            .ok_or_else(|| bad(format!("no 'shape' in header {header:?}")))?;
        let shape: Vec<usize> = shape_txt
            .trim()
            .trim_start_matches('(')
            .trim_end_matches(')')
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.trim_end_matches('L').parse::<usize>())
            .collect::<Result<_, _>>()
            .map_err(|_| bad(format!("bad shape {shape_txt:?}")))?;
        let n = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or_else(|| bad(format!("shape {shape:?} overflows")))?;
        let (order, kind, size) = parse_descr(&descr).ok_or_else(|| {
            bad(format!(
                "unsupported dtype '{descr}' (float64/32/16, integers and bool are supported)"
            ))
        })?;
        let body = bytes.len() - (start + hlen).min(bytes.len());
        if body < n.saturating_mul(size) {
            return Err(bad(format!(
                "truncated data: shape {shape:?} of '{descr}' needs {} bytes, file has {body}",
                n.saturating_mul(size)
            )));
        }
        Ok(Header {
            shape,
            order,
            kind,
            size,
            fortran,
            start: start + hlen,
            descr,
        })
    }

    fn len(&self) -> usize {
        self.shape.iter().product()
    }

    fn body<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        &bytes[self.start..self.start + self.len() * self.size]
    }
}

/// Float values in their stored precision.
#[derive(Debug, Clone, PartialEq)]
pub enum FloatData {
    /// float32.
    F32(Vec<f32>),
    /// float16 (IEEE 754 half), as raw bits; see [`f16_to_f32`].
    F16(Vec<u16>),
}

impl FloatData {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            FloatData::F32(v) => v.len(),
            FloatData::F16(v) => v.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values `start..start + out.len()` as f32 into `out`.
    pub fn copy_to(&self, start: usize, out: &mut [f32]) {
        match self {
            FloatData::F32(v) => out.copy_from_slice(&v[start..start + out.len()]),
            FloatData::F16(v) => {
                let n = out.len();
                out.iter_mut()
                    .zip(&v[start..start + n])
                    .for_each(|(o, &h)| *o = f16_to_f32(h))
            }
        }
    }
}

/// A float32 or float16 array kept in its stored precision (C order), for image sets too
/// large to widen to f64.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyFloats {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Values.
    pub data: FloatData,
}

impl NpyFloats {
    /// Parse `.npy` bytes of dtype f4 or f2 (either byte order, C order).
    pub fn from_npy_bytes(bytes: &[u8], what: &str) -> Result<Self, SpinflipError> {
        let h = Header::parse(bytes, what)?;
        let bad = |reason: String| SpinflipError::Data {
            path: what.to_string(),
            reason,
        };
        if h.fortran && h.shape.len() > 1 {
            return Err(bad(
                "Fortran-ordered image arrays are not supported: save with np.ascontiguousarray"
                    .into(),
            ));
        }
        let big = h.order == '>';
        let body = h.body(bytes);
        let data = match (h.kind, h.size) {
            ('f', 4) => FloatData::F32(
                body.chunks_exact(4)
                    .map(|c| {
                        let a = [c[0], c[1], c[2], c[3]];
                        if big {
                            f32::from_be_bytes(a)
                        } else {
                            f32::from_le_bytes(a)
                        }
                    })
                    .collect(),
            ),
            ('f', 2) => FloatData::F16(
                body.chunks_exact(2)
                    .map(|c| {
                        if big {
                            u16::from_be_bytes([c[0], c[1]])
                        } else {
                            u16::from_le_bytes([c[0], c[1]])
                        }
                    })
                    .collect(),
            ),
            _ => {
                return Err(bad(format!(
                    "dtype '{}' is not float32 or float16",
                    h.descr
                )))
            }
        };
        Ok(NpyFloats {
            shape: h.shape,
            data,
        })
    }

    /// Serialise as `.npy` (little-endian, C order, in the stored precision).
    pub fn to_npy_bytes(&self) -> Vec<u8> {
        let (descr, body): (&str, Vec<u8>) = match &self.data {
            FloatData::F32(v) => ("<f4", v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            FloatData::F16(v) => ("<f2", v.iter().flat_map(|x| x.to_le_bytes()).collect()),
        };
        npy_bytes(descr, &self.shape, &body)
    }
}

/// IEEE 754 half-precision bits to f32 (exact: every f16 is an f32).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x3ff);
    let bits = match (exp, man) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: man * 2^-24; normalise so the leading bit is the implicit one.
            let (mut e, mut m) = (127 - 15 + 1, man);
            while m & 0x400 == 0 {
                m <<= 1;
                e -= 1;
            }
            sign | (e << 23) | ((m & 0x3ff) << 13)
        }
        (31, _) => sign | 0x7f80_0000 | (man << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}

/// f32 to the nearest IEEE 754 half (round to nearest even; overflow to infinity).
pub fn f32_to_f16(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let exp = ((b >> 23) & 0xff) as i32;
    let man = b & 0x7f_ffff;
    if exp == 255 {
        return sign | 0x7c00 | if man != 0 { 0x200 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 31 {
        return sign | 0x7c00;
    }
    if e <= 0 {
        if e < -10 {
            return sign;
        }
        // Subnormal half: shift the full mantissa (with its implicit bit) into place.
        let m = man | 0x80_0000;
        let shift = (14 - e) as u32;
        let half = m >> shift;
        let rem = m & ((1 << shift) - 1);
        let mid = 1 << (shift - 1);
        let round = rem > mid || (rem == mid && half & 1 == 1);
        return sign | (half + u32::from(round)) as u16;
    }
    let half = ((e as u32) << 10) | (man >> 13);
    let rem = man & 0x1fff;
    let round = rem > 0x1000 || (rem == 0x1000 && half & 1 == 1);
    // A carry out of the mantissa correctly bumps the exponent (up to infinity).
    sign | (half + u32::from(round)) as u16
}

/// A version-1.0 `.npy` from a dtype string, shape and little-endian C-order body.
pub fn npy_bytes(descr: &str, shape: &[usize], body: &[u8]) -> Vec<u8> {
    let shape = match shape.len() {
        0 => "()".to_string(),
        1 => format!("({},)", shape[0]),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // Pad so that magic + version + length + header is a multiple of 64, ending in '\n'.
    let total = MAGIC.len() + 2 + 2 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(body);
    out
}

/// The text of `key`'s value in a Python dict literal (up to the next top-level comma).
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pos = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))?;
    let rest = &header[pos + key.len() + 2..];
    let rest = &rest[rest.find(':')? + 1..];
    let mut depth = 0i32;
    for (i, ch) in rest.char_indices() {
        match ch {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' | '}' if depth == 0 => return Some(&rest[..i]),
            _ => {}
        }
    }
    Some(rest)
}

/// (byte order, kind, size) of a simple dtype string such as '<f8'.
fn parse_descr(d: &str) -> Option<(char, char, usize)> {
    let mut chars = d.chars();
    let first = chars.next()?;
    let (order, rest) = if "<>|=".contains(first) {
        (if first == '>' { '>' } else { '<' }, &d[1..])
    } else {
        ('<', d)
    };
    let kind = rest.chars().next()?;
    // A corrupted header may put a multi-byte character here: slice after it, not at 1.
    let size: usize = rest[kind.len_utf8()..].parse().ok()?;
    let ok = matches!(
        (kind, size),
        ('f', 2 | 4 | 8) | ('i' | 'u', 1 | 2 | 4 | 8) | ('b', 1)
    );
    ok.then_some((order, kind, size))
}

fn decode(b: &[u8], kind: char, big: bool) -> f64 {
    let mut a = [0u8; 8];
    a[..b.len()].copy_from_slice(b);
    if big {
        a[..b.len()].reverse();
    }
    match (kind, b.len()) {
        ('f', 8) => f64::from_le_bytes(a),
        ('f', 4) => f32::from_le_bytes([a[0], a[1], a[2], a[3]]) as f64,
        ('f', 2) => f16_to_f32(u16::from_le_bytes([a[0], a[1]])) as f64,
        ('i', 1) => a[0] as i8 as f64,
        ('i', 2) => i16::from_le_bytes([a[0], a[1]]) as f64,
        ('i', 4) => i32::from_le_bytes([a[0], a[1], a[2], a[3]]) as f64,
        ('i', 8) => i64::from_le_bytes(a) as f64,
        ('u', _) | ('b', _) => u64::from_le_bytes(a) as f64,
        _ => f64::NAN,
    }
}

fn fortran_to_c(data: &[f64], shape: &[usize]) -> Vec<f64> {
    let nd = shape.len();
    let mut out = vec![0.0; data.len()];
    let mut idx = vec![0usize; nd];
    for v in data {
        // Fortran order: first index fastest.
        let mut c = 0;
        for (d, &i) in idx.iter().enumerate() {
            c = c * shape[d] + i;
        }
        out[c] = *v;
        for d in 0..nd {
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

/// Header of a version-1.0 `.npy` array with dtype `descr` (e.g. `<f4`, `<u8`, `<U10`) and
/// `shape` (C order): magic, version, length and the dict, padded to a multiple of 64 bytes.
pub fn npy_header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let shape = match shape.len() {
        0 => "()".to_string(),
        1 => format!("({},)", shape[0]),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    let total = MAGIC.len() + 2 + 2 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out
}

/// `.npy` bytes of a float32 array (little-endian, C order).
pub fn f32_npy_bytes(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let mut out = npy_header("<f4", shape);
    out.reserve(4 * data.len());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// `.npy` bytes of an unsigned 64-bit integer array.
pub fn u64_npy_bytes(shape: &[usize], data: &[u64]) -> Vec<u8> {
    let mut out = npy_header("<u8", shape);
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// `.npy` bytes of a 1-D array of strings (NumPy unicode `<U{n}`: UTF-32LE, padded with NUL to
/// the longest).
pub fn str_npy_bytes(values: &[&str]) -> Vec<u8> {
    let width = values
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(1)
        .max(1);
    let mut out = npy_header(&format!("<U{width}"), &[values.len()]);
    for s in values {
        let mut n = 0;
        for ch in s.chars() {
            out.extend_from_slice(&(ch as u32).to_le_bytes());
            n += 1;
        }
        for _ in n..width {
            out.extend_from_slice(&0u32.to_le_bytes());
        }
    }
    out
}

/// The dtype, shape and header length of `.npy` bytes (at least the header), for readers
/// that stream the data or handle dtypes [`NpyArray`] does not (strings).
pub fn npy_header_info(
    bytes: &[u8],
    what: &str,
) -> Result<(String, Vec<usize>, usize), SpinflipError> {
    let bad = |reason: String| SpinflipError::Data {
        path: what.to_string(),
        reason,
    };
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(bad("not a .npy array (missing \\x93NUMPY magic)".into()));
    }
    let (hlen, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(bad(format!("unsupported .npy version {v}"))),
    };
    let header = bytes
        .get(start..start + hlen)
        .ok_or_else(|| bad("truncated .npy header".into()))?;
    let header = std::str::from_utf8(header).map_err(|_| bad("header is not text".into()))?;
    let descr = dict_value(header, "descr")
        .ok_or_else(|| bad(format!("no 'descr' in header {header:?}")))?
        .trim()
        .trim_matches(|c| c == '\'' || c == '"')
        .to_string();
    if dict_value(header, "fortran_order").is_some_and(|v| v.trim().starts_with("True")) {
        return Err(bad("Fortran-order arrays are not supported here".into()));
    }
    let shape_txt = dict_value(header, "shape")
        .ok_or_else(|| bad(format!("no 'shape' in header {header:?}")))?;
    let shape: Vec<usize> = shape_txt
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('L').parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad(format!("bad shape {shape_txt:?}")))?;
    Ok((descr, shape, start + hlen))
}

/// Decode the strings of a `<U{n}` array's data (after its header).
pub fn decode_str_array(descr: &str, count: usize, data: &[u8]) -> Option<Vec<String>> {
    let width: usize = descr
        .trim_start_matches(['<', '=', '|'])
        .strip_prefix('U')?
        .parse()
        .ok()?;
    let chunk = 4 * width;
    if data.len() < count * chunk {
        return None;
    }
    Some(
        data[..count * chunk]
            .chunks_exact(chunk)
            .map(|c| {
                c.chunks_exact(4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .take_while(|&u| u != 0)
                    .filter_map(char::from_u32)
                    .collect()
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_header_alignment() {
        let a = NpyArray::from_rows(2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.5, -6.0]).unwrap();
        let b = a.to_npy_bytes();
        let hlen = u16::from_le_bytes([b[8], b[9]]) as usize;
        assert_eq!((10 + hlen) % 64, 0);
        assert_eq!(b[10 + hlen - 1], b'\n');
        assert_eq!(NpyArray::from_npy_bytes(&b, "t").unwrap(), a);
        let v = NpyArray::new(vec![3], vec![1.0, 2.0, 3.0]).unwrap();
        assert_eq!(NpyArray::from_npy_bytes(&v.to_npy_bytes(), "t").unwrap(), v);
    }

    #[test]
    fn reads_f32_int_big_endian_and_fortran() {
        let make = |descr: &str, fortran: bool, shape: &str, body: Vec<u8>| {
            let mut h = format!(
                "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
                if fortran { "True" } else { "False" }
            );
            while (10 + h.len() + 1) % 64 != 0 {
                h.push(' ');
            }
            h.push('\n');
            let mut b = MAGIC.to_vec();
            b.extend_from_slice(&[1, 0]);
            b.extend_from_slice(&(h.len() as u16).to_le_bytes());
            b.extend_from_slice(h.as_bytes());
            b.extend(body);
            b
        };
        let f32s: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let a = NpyArray::from_npy_bytes(&make("<f4", false, "(2,)", f32s), "t").unwrap();
        assert_eq!(a.data, vec![1.5, -2.0]);
        let i64s: Vec<u8> = [7i64, -3].iter().flat_map(|x| x.to_be_bytes()).collect();
        let a = NpyArray::from_npy_bytes(&make(">i8", false, "(2,)", i64s), "t").unwrap();
        assert_eq!(a.data, vec![7.0, -3.0]);
        // Fortran 2x3 [[1,2,3],[4,5,6]] is stored column by column.
        let col: Vec<u8> = [1.0f64, 4.0, 2.0, 5.0, 3.0, 6.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let a = NpyArray::from_npy_bytes(&make("<f8", true, "(2, 3)", col), "t").unwrap();
        assert_eq!(a.data, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn float16_reference_values_and_round_trip() {
        // IEEE 754 binary16 reference encodings.
        let cases: [(u16, f32); 9] = [
            (0x3c00, 1.0),
            (0xc000, -2.0),
            (0x7bff, 65504.0),
            (0x0400, 6.103_515_6e-5),
            (0x0001, 5.960_464_5e-8),
            (0x3555, 0.333_251_95),
            (0x7c00, f32::INFINITY),
            (0x8000, -0.0),
            (0x0000, 0.0),
        ];
        for (h, x) in cases {
            assert_eq!(f16_to_f32(h), x, "{h:#06x}");
            assert_eq!(f32_to_f16(x), h, "{x}");
        }
        assert!(f16_to_f32(0x7e00).is_nan());
        // Every finite half survives the round trip.
        for h in 0..0x7c00u16 {
            assert_eq!(f32_to_f16(f16_to_f32(h)), h);
        }
        // Rounding to nearest: 1 + 2^-11 is halfway between 1 and 1 + 2^-10 -> even (1.0).
        assert_eq!(f32_to_f16(1.0 + 2f32.powi(-11)), 0x3c00);
        let a = NpyFloats {
            shape: vec![2, 2],
            data: FloatData::F16(vec![0x3c00, 0xc000, 0x3555, 0x0001]),
        };
        let b = NpyFloats::from_npy_bytes(&a.to_npy_bytes(), "t").unwrap();
        assert_eq!(a, b);
        let w = NpyArray::from_npy_bytes(&a.to_npy_bytes(), "t").unwrap();
        assert_eq!(w.data[1], -2.0);
        let f = NpyFloats {
            shape: vec![3],
            data: FloatData::F32(vec![1.5, -2.0, 3.25]),
        };
        let mut out = [0.0f32; 2];
        NpyFloats::from_npy_bytes(&f.to_npy_bytes(), "t")
            .unwrap()
            .data
            .copy_to(1, &mut out);
        assert_eq!(out, [-2.0, 3.25]);
        let f8 = NpyArray::new(vec![1], vec![1.0]).unwrap().to_npy_bytes();
        assert!(NpyFloats::from_npy_bytes(&f8, "t").is_err());
    }

    #[test]
    fn corrupt_input_is_a_data_error() {
        let a = NpyArray::from_rows(2, 2, vec![1.0; 4])
            .unwrap()
            .to_npy_bytes();
        for bytes in [&a[..a.len() - 3], &a[..20], b"hello".as_slice()] {
            assert!(matches!(
                NpyArray::from_npy_bytes(bytes, "x.npy"),
                Err(SpinflipError::Data { .. })
            ));
        }
        let bad = String::from_utf8_lossy(&a).replace("<f8", "<c8");
        assert!(NpyArray::from_npy_bytes(bad.as_bytes(), "x").is_err());
    }

    #[test]
    fn typed_writers_round_trip() {
        let b = f32_npy_bytes(&[2, 2], &[1.5, -2.0, 3.25, 0.0]);
        assert_eq!(b.len() % 16, 0);
        let a = NpyArray::from_npy_bytes(&b, "t").unwrap();
        assert_eq!(a.shape, vec![2, 2]);
        assert_eq!(a.data, vec![1.5, -2.0, 3.25, 0.0]);
        let u = NpyArray::from_npy_bytes(&u64_npy_bytes(&[2], &[7, 1 << 40]), "t").unwrap();
        assert_eq!(u.data, vec![7.0, (1u64 << 40) as f64]);
        let s = str_npy_bytes(&["zeta", "log10_Tvir"]);
        let (descr, shape, off) = npy_header_info(&s, "t").unwrap();
        assert_eq!((descr.as_str(), shape.clone()), ("<U10", vec![2]));
        assert_eq!(off % 64, 0);
        assert_eq!(
            decode_str_array(&descr, 2, &s[off..]).unwrap(),
            vec!["zeta".to_string(), "log10_Tvir".to_string()]
        );
    }
}
