//! TEMPORARY stand-in for `crate::io::{NpyArray, GlobalSignalSet}` (branch `sim`), with the
//! same names and fields so the CLI compiles before that lands. Delete this file on merge
//! and point the `use` lines in `cli/{train,eval}.rs` at `crate::io`.

use std::path::Path;

use crate::SpinflipError;

/// An `f64` array in C order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// Shape.
    pub shape: Vec<usize>,
    /// Values, C order.
    pub data: Vec<f64>,
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
}

impl GlobalSignalSet {
    /// Not available until the io module lands.
    pub fn load(path: &Path) -> Result<Self, SpinflipError> {
        Err(SpinflipError::Data {
            path: path.display().to_string(),
            reason: "reading data sets needs the io module (not merged in this build)".into(),
        })
    }
}
