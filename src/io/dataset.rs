//! The global-signal training set in the 21cmGEM layout: `par_{train,val,test}` (n, 7) and
//! `signal_{train,val,test}` (n, n_z) plus `redshifts` (n_z), as NPZ or HDF5.

use super::npy::NpyArray;
use super::{hdf5, npz};
use crate::global::{output_redshifts, N_OUT};
use crate::SpinflipError;
use std::collections::BTreeMap;
use std::path::Path;

/// Number of 21cmGEM parameters per row.
const N_PAR: usize = 7;

/// File format of a data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    /// NumPy `.npz`.
    Npz,
    /// HDF5 (`.h5`, `.hdf5`).
    Hdf5,
}

impl DataFormat {
    /// The format a path's extension names.
    pub fn from_path(path: &Path) -> Result<Self, SpinflipError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
        {
            Some(e) if e == "npz" => Ok(Self::Npz),
            Some(e) if e == "h5" || e == "hdf5" => Ok(Self::Hdf5),
            _ => Err(SpinflipError::config(
                "path",
                format!("'{}': use a .npz, .h5 or .hdf5 extension", path.display()),
            )),
        }
    }
}

/// Training, validation and test parameters and signals.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalSignalSet {
    /// Redshifts of the signal channels.
    pub redshifts: Vec<f64>,
    /// Training parameters (n, 7).
    pub par_train: NpyArray,
    /// Validation parameters (n, 7).
    pub par_val: NpyArray,
    /// Test parameters (n, 7).
    pub par_test: NpyArray,
    /// Training signals (n, n_z), mK.
    pub signal_train: NpyArray,
    /// Validation signals (n, n_z), mK.
    pub signal_val: NpyArray,
    /// Test signals (n, n_z), mK.
    pub signal_test: NpyArray,
    /// The box the parameters were drawn from, `(min, max)` per parameter, stored as
    /// `box_min` / `box_max` (written by `spinflip simulate global`; `None` for files that
    /// do not say, e.g. the public 21cmGEM set). An emulator trained on the set is valid on it.
    pub design_box: Option<Vec<(f64, f64)>>,
}

const SPLITS: [&str; 3] = ["train", "val", "test"];

impl GlobalSignalSet {
    /// Load an `.npz` or HDF5 file (by extension) and validate it. A file without
    /// `redshifts` (the public 21cmGEM HDF5) gets z = 5..50 in steps of 0.1.
    pub fn load(path: &Path) -> Result<Self, SpinflipError> {
        let arrays = match DataFormat::from_path(path)? {
            DataFormat::Npz => npz::read_npz(path)?,
            DataFormat::Hdf5 => hdf5::read_hdf5(path)?,
        };
        Self::from_arrays(path, arrays)
    }

    fn from_arrays(
        path: &Path,
        mut arrays: BTreeMap<String, NpyArray>,
    ) -> Result<Self, SpinflipError> {
        let bad = |reason: String| SpinflipError::Data {
            path: path.display().to_string(),
            reason,
        };
        let mut take = |name: String| {
            arrays.remove(&name).ok_or_else(|| {
                bad(format!(
                    "missing array '{name}' (expected par_/signal_ train, val, test)"
                ))
            })
        };
        let mut pars = Vec::new();
        let mut sigs = Vec::new();
        for s in SPLITS {
            pars.push(take(format!("par_{s}"))?);
            sigs.push(take(format!("signal_{s}"))?);
        }
        let redshifts = arrays.remove("redshifts").map(|a| a.data);
        let design_box = match (arrays.remove("box_min"), arrays.remove("box_max")) {
            (Some(lo), Some(hi)) => {
                if lo.data.len() != N_PAR || hi.data.len() != N_PAR {
                    return Err(bad(format!(
                        "box_min and box_max need {N_PAR} values each, got {} and {}",
                        lo.data.len(),
                        hi.data.len()
                    )));
                }
                Some(lo.data.into_iter().zip(hi.data).collect())
            }
            (None, None) => None,
            _ => return Err(bad("has only one of box_min and box_max".into())),
        };
        let n_z = sigs[0].cols();
        let redshifts = match redshifts {
            Some(z) => z,
            None if n_z == N_OUT => output_redshifts(),
            None => {
                return Err(bad(format!(
                    "no 'redshifts' array and {n_z} channels (only the 451-channel 21cmGEM grid is implied)"
                )))
            }
        };
        let set = Self {
            redshifts,
            par_train: pars.remove(0),
            par_val: pars.remove(0),
            par_test: pars.remove(0),
            signal_train: sigs.remove(0),
            signal_val: sigs.remove(0),
            signal_test: sigs.remove(0),
            design_box,
        };
        set.validate().map_err(bad)?;
        Ok(set)
    }

    /// Check shapes (7 parameters, equal rows, n_z channels) and finiteness.
    pub fn validate(&self) -> Result<(), String> {
        let n_z = self.redshifts.len();
        if n_z == 0 {
            return Err("empty redshift grid".into());
        }
        if let Some(z) = self.redshifts.iter().find(|z| !z.is_finite()) {
            return Err(format!("non-finite redshift {z}"));
        }
        if let Some(b) = &self.design_box {
            if b.len() != N_PAR {
                return Err(format!(
                    "the design box has {} ranges, expected {N_PAR}",
                    b.len()
                ));
            }
            if let Some((i, (lo, hi))) = b
                .iter()
                .enumerate()
                .find(|(_, (lo, hi))| !(lo.is_finite() && hi.is_finite() && lo <= hi))
            {
                return Err(format!("design box range {i} [{lo}, {hi}] is not a range"));
            }
        }
        for (s, (p, sig)) in SPLITS.iter().zip(self.splits()) {
            if p.shape.len() != 2 || p.shape[1] != N_PAR {
                return Err(format!(
                    "par_{s} has shape {:?}, expected (n, {N_PAR})",
                    p.shape
                ));
            }
            if sig.shape.len() != 2 || sig.shape[1] != n_z {
                return Err(format!(
                    "signal_{s} has shape {:?}, expected (n, {n_z}) to match the redshifts",
                    sig.shape
                ));
            }
            if p.shape[0] != sig.shape[0] {
                return Err(format!(
                    "par_{s} has {} rows but signal_{s} has {}",
                    p.shape[0], sig.shape[0]
                ));
            }
            for (what, a) in [("par", p), ("signal", sig)] {
                if let Some(i) = a.data.iter().position(|v| !v.is_finite()) {
                    return Err(format!(
                        "{what}_{s} row {} has a non-finite value {}",
                        i / a.cols().max(1),
                        a.data[i]
                    ));
                }
            }
            if let Some(b) = &self.design_box {
                for (k, v) in p.data.iter().enumerate() {
                    let (lo, hi) = b[k % N_PAR];
                    let slack = 1e-9 * lo.abs().max(hi.abs());
                    if *v < lo - slack || *v > hi + slack {
                        return Err(format!(
                            "par_{s} row {} parameter {} = {v} lies outside the design box \
                             [{lo}, {hi}] (box_min/box_max)",
                            k / N_PAR,
                            k % N_PAR
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn splits(&self) -> [(&NpyArray, &NpyArray); 3] {
        [
            (&self.par_train, &self.signal_train),
            (&self.par_val, &self.signal_val),
            (&self.par_test, &self.signal_test),
        ]
    }

    /// Save as `.npz` or HDF5 (by extension), after validating.
    pub fn save(&self, path: &Path) -> Result<(), SpinflipError> {
        self.save_as(path, DataFormat::from_path(path)?)
    }

    /// Save in an explicit format.
    pub fn save_as(&self, path: &Path, format: DataFormat) -> Result<(), SpinflipError> {
        self.validate()
            .map_err(|reason| SpinflipError::config("data set", reason))?;
        let z = NpyArray::new(vec![self.redshifts.len()], self.redshifts.clone())?;
        let boxes = match &self.design_box {
            Some(b) => Some((
                NpyArray::new(vec![b.len()], b.iter().map(|r| r.0).collect())?,
                NpyArray::new(vec![b.len()], b.iter().map(|r| r.1).collect())?,
            )),
            None => None,
        };
        let mut arrays: Vec<(&str, &NpyArray)> = vec![
            ("par_train", &self.par_train),
            ("par_val", &self.par_val),
            ("par_test", &self.par_test),
            ("signal_train", &self.signal_train),
            ("signal_val", &self.signal_val),
            ("signal_test", &self.signal_test),
            ("redshifts", &z),
        ];
        if let Some((lo, hi)) = &boxes {
            arrays.push(("box_min", lo));
            arrays.push(("box_max", hi));
        }
        match format {
            DataFormat::Npz => npz::write_npz(path, &arrays),
            DataFormat::Hdf5 => hdf5::write_hdf5(path, &arrays),
        }
    }
}
