//! Slice data sets: an NPZ with `slices` `(N, K, cells, N_los)` (float32 or float16, kept in
//! that precision in memory) and `params` `(N, 4)` (zeta, log10_Tvir, log10_LX, E0_keV):
//! `N` light-cones with `K` slices each. Any converter that writes these two arrays with
//! `np.savez` (e.g. from a 21cmFAST set) produces a readable file.

use std::path::Path;

use super::model_file::{InputNorm, TargetNorm};
use super::noise::NoiseSpec;
use crate::io::hash::Fnv1a;
use crate::io::npy::{FloatData, NpyArray, NpyFloats};
use crate::io::npz::{read_npz_raw, write_npz_members};
use crate::SpinflipError;

/// Slices and parameters of `n` light-cones.
#[derive(Debug, Clone, PartialEq)]
pub struct SliceSet {
    /// Light-cones.
    pub n: usize,
    /// Slices per light-cone.
    pub k: usize,
    /// Cells across the sky (rows of a slice).
    pub cells: usize,
    /// Cells along the line of sight (columns).
    pub n_los: usize,
    /// Slice values `(n, k, cells, n_los)`, mK, in the stored precision.
    pub slices: FloatData,
    /// Parameters `(n, n_params)`, physical units.
    pub params: Vec<f64>,
    /// Parameters per light-cone.
    pub n_params: usize,
    /// Where the set came from (for error messages).
    pub source: String,
}

impl SliceSet {
    /// Build from parts, checking the lengths and that every value is finite.
    pub fn new(
        shape: [usize; 4],
        slices: FloatData,
        params: Vec<f64>,
        n_params: usize,
        source: &str,
    ) -> Result<Self, SpinflipError> {
        let bad = |reason: String| SpinflipError::Data {
            path: source.to_string(),
            reason,
        };
        let [n, k, cells, n_los] = shape;
        if n == 0 || k == 0 || cells == 0 || n_los == 0 {
            return Err(bad(format!(
                "'slices' has an empty dimension: shape {shape:?}"
            )));
        }
        if slices.len() != n * k * cells * n_los {
            return Err(bad(format!(
                "'slices' holds {} values, shape {shape:?} needs {}",
                slices.len(),
                n * k * cells * n_los
            )));
        }
        if params.len() != n * n_params {
            return Err(bad(format!(
                "'params' holds {} values; {n} light-cones x {n_params} parameters need {}",
                params.len(),
                n * n_params
            )));
        }
        if let Some(i) = params.iter().position(|x| !x.is_finite()) {
            return Err(bad(format!("'params' row {} is not finite", i / n_params)));
        }
        let finite = match &slices {
            FloatData::F32(v) => v.iter().position(|x| !x.is_finite()),
            FloatData::F16(v) => v.iter().position(|&h| h & 0x7c00 == 0x7c00),
        };
        if let Some(i) = finite {
            let per = k * cells * n_los;
            return Err(bad(format!(
                "slice {} of light-cone {} has a non-finite value",
                (i % per) / (cells * n_los),
                i / per
            )));
        }
        Ok(SliceSet {
            n,
            k,
            cells,
            n_los,
            slices,
            params,
            n_params,
            source: source.to_string(),
        })
    }

    /// Read an NPZ with `slices` and `params` (see the module docs).
    pub fn load(path: &Path) -> Result<Self, SpinflipError> {
        let what = path.display().to_string();
        let mut raw = read_npz_raw(path, &["slices", "params"])?;
        let bad = |reason: String| SpinflipError::Data {
            path: what.clone(),
            reason,
        };
        let s_bytes = raw.remove("slices").unwrap_or_default();
        let s = NpyFloats::from_npy_bytes(&s_bytes, &format!("{what}:slices"))?;
        drop(s_bytes);
        let p = NpyArray::from_npy_bytes(
            &raw.remove("params").unwrap_or_default(),
            &format!("{what}:params"),
        )?;
        let shape: [usize; 4] = s.shape.as_slice().try_into().map_err(|_| {
            bad(format!(
                "'slices' has shape {:?}; expected 4 dimensions (N, K, cells, N_los)",
                s.shape
            ))
        })?;
        if p.shape.len() != 2 || p.shape[0] != shape[0] {
            return Err(bad(format!(
                "'params' has shape {:?}; expected ({}, 4), one row per light-cone",
                p.shape, shape[0]
            )));
        }
        SliceSet::new(shape, s.data, p.data, p.shape[1], &what)
    }

    /// Write as an NPZ (`slices` in the stored precision, `params` as float64).
    pub fn save(&self, path: &Path) -> Result<(), SpinflipError> {
        let s = NpyFloats {
            shape: vec![self.n, self.k, self.cells, self.n_los],
            data: self.slices.clone(),
        };
        let p = NpyArray::new(vec![self.n, self.n_params], self.params.clone())?;
        write_npz_members(
            path,
            &[("slices", s.to_npy_bytes()), ("params", p.to_npy_bytes())],
        )
    }

    /// Values per slice.
    pub fn slice_len(&self) -> usize {
        self.cells * self.n_los
    }

    /// Slice `j` of light-cone `i` as f32 into `out` (`cells x n_los`). Panics if `i`, `j`
    /// or `out` are out of range, as slice indexing does ([`Self::fill_batch`] checks).
    pub fn slice_into(&self, i: usize, j: usize, out: &mut [f32]) {
        let len = self.slice_len();
        self.slices.copy_to((i * self.k + j) * len, &mut out[..len]);
    }

    /// Parameters of light-cone `i` (panics if `i >= n`).
    pub fn params_of(&self, i: usize) -> &[f64] {
        &self.params[i * self.n_params..(i + 1) * self.n_params]
    }

    /// Error unless the slices are `height x width` with `n_params` parameters (the model's
    /// geometry and outputs).
    pub fn check_geometry(
        &self,
        height: usize,
        width: usize,
        n_params: usize,
    ) -> Result<(), SpinflipError> {
        if (self.cells, self.n_los) != (height, width) {
            return Err(SpinflipError::Data {
                path: self.source.clone(),
                reason: format!(
                    "slices are {} x {} (cells x N_los) but the model takes {height} x {width}; \
                     simulate or cut the data to the model's geometry",
                    self.cells, self.n_los
                ),
            });
        }
        if self.n_params != n_params {
            return Err(SpinflipError::Data {
                path: self.source.clone(),
                reason: format!(
                    "'params' has {} columns, the model predicts {n_params}",
                    self.n_params
                ),
            });
        }
        Ok(())
    }

    /// Mean and standard deviation of every pixel of the light-cones `which` (all their
    /// slices), summed in f64: the input normalisation to store with a model.
    pub fn pixel_mean_std(&self, which: &[usize]) -> (f64, f64) {
        let len = self.slice_len();
        let mut buf = vec![0.0f32; len];
        let (mut s, mut s2, mut n) = (0.0f64, 0.0f64, 0usize);
        for &i in which {
            for j in 0..self.k {
                self.slice_into(i, j, &mut buf);
                for &v in &buf {
                    s += f64::from(v);
                    s2 += f64::from(v) * f64::from(v);
                }
                n += len;
            }
        }
        if n == 0 {
            return (0.0, 1.0);
        }
        let m = s / n as f64;
        (m, (s2 / n as f64 - m * m).max(0.0).sqrt())
    }

    /// Assemble a batch: slice `j` of light-cone `i` for each `(i, j)` of `items`, with
    /// `noise` (if any) drawn from `(seed, i * k + j)` and added in mK, then normalised by
    /// `input`, into `x` (`items.len() x cells x n_los`); the light-cones' parameters
    /// normalised by `targets` into `y` (`items.len() x n_params`). Train and evaluate with
    /// this one function so both see the same preprocessing.
    #[allow(clippy::too_many_arguments)]
    pub fn fill_batch(
        &self,
        items: &[(usize, usize)],
        input: &InputNorm,
        targets: &TargetNorm,
        noise: Option<&NoiseSpec>,
        seed: u64,
        x: &mut [f32],
        y: &mut [f32],
    ) -> Result<(), SpinflipError> {
        let (len, d) = (self.slice_len(), self.n_params);
        if x.len() != items.len() * len || y.len() != items.len() * d || targets.names.len() != d {
            return Err(SpinflipError::shape(
                "batch buffers",
                format!(
                    "{} items need {} inputs and {} targets ({d} parameters), got {} and {}",
                    items.len(),
                    items.len() * len,
                    items.len() * d,
                    x.len(),
                    y.len()
                ),
            ));
        }
        for (b, &(i, j)) in items.iter().enumerate() {
            if i >= self.n || j >= self.k {
                return Err(SpinflipError::config(
                    "batch item",
                    format!(
                        "({i}, {j}) is outside {} light-cones x {} slices",
                        self.n, self.k
                    ),
                ));
            }
            let xs = &mut x[b * len..(b + 1) * len];
            self.slice_into(i, j, xs);
            if let Some(nz) = noise {
                nz.apply(xs, self.cells, self.n_los, seed, (i * self.k + j) as u64)?;
            }
            input.apply(xs);
            targets.normalise(self.params_of(i), &mut y[b * d..(b + 1) * d]);
        }
        Ok(())
    }

    /// The light-cones of several sets (same geometry and parameters) joined in order; a
    /// float16 set joined with float32 ones is widened.
    pub fn join(mut sets: Vec<SliceSet>) -> Result<SliceSet, SpinflipError> {
        if sets.is_empty() {
            return Err(SpinflipError::config("data", "give at least one slice set"));
        }
        if sets.len() == 1 {
            return Ok(sets.remove(0));
        }
        let first = sets.remove(0);
        let (k, cells, n_los, d) = (first.k, first.cells, first.n_los, first.n_params);
        let mut n = first.n;
        let mut params = first.params;
        let mut sources = vec![first.source];
        let mut all_f16 = matches!(first.slices, FloatData::F16(_));
        let mut parts = vec![first.slices];
        for s in sets {
            if (s.k, s.cells, s.n_los, s.n_params) != (k, cells, n_los, d) {
                return Err(SpinflipError::Data {
                    path: s.source.clone(),
                    reason: format!(
                        "{} slices of {} x {} with {} parameters, but the first set has {k} of {cells} x {n_los} with {d}: \
                         only sets of one geometry join",
                        s.k, s.cells, s.n_los, s.n_params
                    ),
                });
            }
            n += s.n;
            params.extend(s.params);
            sources.push(s.source);
            all_f16 &= matches!(s.slices, FloatData::F16(_));
            parts.push(s.slices);
        }
        let slices = if all_f16 {
            FloatData::F16(
                parts
                    .into_iter()
                    .flat_map(|p| match p {
                        FloatData::F16(v) => v,
                        FloatData::F32(_) => Vec::new(),
                    })
                    .collect(),
            )
        } else {
            let mut v = Vec::new();
            for p in parts {
                let start = v.len();
                v.resize(start + p.len(), 0.0);
                p.copy_to(0, &mut v[start..]);
            }
            FloatData::F32(v)
        };
        SliceSet::new(
            [n, k, cells, n_los],
            slices,
            params,
            d,
            &sources.join(" + "),
        )
    }

    /// FNV-1a fingerprint of the shape, parameters and slice values (stored precision).
    pub fn hash(&self) -> String {
        let mut h = Fnv1a::default();
        for d in [self.n, self.k, self.cells, self.n_los, self.n_params] {
            h.bytes(&(d as u64).to_le_bytes());
        }
        h.f64s(&self.params);
        match &self.slices {
            FloatData::F32(v) => v.iter().for_each(|x| {
                h.bytes(&x.to_le_bytes());
            }),
            FloatData::F16(v) => v.iter().for_each(|x| {
                h.bytes(&x.to_le_bytes());
            }),
        }
        h.hex()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::npy::f32_to_f16;

    #[test]
    fn round_trip_f32_and_f16_and_errors() {
        let dir = std::env::temp_dir().join(format!("spinflip_slices_{}", std::process::id()));
        let (n, k, c, l) = (3, 2, 4, 5);
        let vals: Vec<f32> = (0..n * k * c * l).map(|i| i as f32 * 0.25 - 7.0).collect();
        let params: Vec<f64> = (0..n * 4).map(|i| i as f64).collect();
        for half in [false, true] {
            let data = if half {
                FloatData::F16(vals.iter().map(|&x| f32_to_f16(x)).collect())
            } else {
                FloatData::F32(vals.clone())
            };
            let s = SliceSet::new([n, k, c, l], data, params.clone(), 4, "mem").unwrap();
            let p = dir.join(format!("s{half}.npz"));
            s.save(&p).unwrap();
            let r = SliceSet::load(&p).unwrap();
            assert_eq!(r.slices, s.slices);
            assert_eq!(r.hash(), s.hash());
            let mut out = vec![0.0f32; c * l];
            r.slice_into(2, 1, &mut out);
            // Values are multiples of 0.25 below 2048: exact in float16 too.
            assert_eq!(&out[..], &vals[(2 * k + 1) * c * l..(2 * k + 2) * c * l]);
            assert_eq!(r.params_of(1), &params[4..8]);
            r.check_geometry(c, l, 4).unwrap();
            let e = r.check_geometry(32, 787, 4).unwrap_err().to_string();
            assert!(e.contains("4 x 5") && e.contains("32 x 787"), "{e}");
            // Batches: normalised inputs and targets, noise reproducible from the seed.
            let input = InputNorm {
                mean: 1.0,
                std: 2.0,
            };
            let t = TargetNorm {
                names: vec!["a".into(), "b".into(), "c".into(), "d".into()],
                min: vec![0.0; 4],
                max: vec![100.0; 4],
            };
            let items = [(2, 1), (0, 0)];
            let (mut x, mut y) = (vec![0.0f32; 2 * c * l], vec![0.0f32; 8]);
            r.fill_batch(&items, &input, &t, None, 0, &mut x, &mut y)
                .unwrap();
            assert_eq!(x[0], (vals[(2 * k + 1) * c * l] - 1.0) / 2.0);
            assert_eq!(y[4], 0.0);
            assert_eq!(y[0], 0.08);
            let noise = NoiseSpec::White { rms_mk: 3.0 };
            let mut x2 = x.clone();
            r.fill_batch(&items, &input, &t, Some(&noise), 5, &mut x2, &mut y)
                .unwrap();
            let mut x3 = x.clone();
            r.fill_batch(&items, &input, &t, Some(&noise), 5, &mut x3, &mut y)
                .unwrap();
            assert_eq!(x2, x3);
            assert_ne!(x2, x);
            assert!(r
                .fill_batch(&[(3, 0)], &input, &t, None, 0, &mut x[..c * l], &mut y[..4])
                .is_err());
            let (m, sd) = r.pixel_mean_std(&[0, 1, 2]);
            let want = vals.iter().map(|&v| f64::from(v)).sum::<f64>() / vals.len() as f64;
            assert!((m - want).abs() < 1e-9 && sd > 0.0);
        }
        assert!(SliceSet::new(
            [n, k, c, l],
            FloatData::F32(vec![0.0; 3]),
            params.clone(),
            4,
            "m"
        )
        .is_err());
        let mut bad = vals.clone();
        bad[7] = f32::NAN;
        assert!(SliceSet::new([n, k, c, l], FloatData::F32(bad), params, 4, "m").is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
