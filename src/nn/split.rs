//! Train / validation / test splits in file order: the last examples are held out for
//! test, the ones before them validate, the rest train (a set made in shards keeps the
//! same split however it is joined).

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::SpinflipError;

/// The examples (light-cones) of each split, as index ranges in file order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// Training light-cones.
    pub train: Range<usize>,
    /// Validation light-cones (early stopping, schedule, best epoch).
    pub val: Range<usize>,
    /// Held-out test light-cones (never seen in training).
    pub test: Range<usize>,
}

impl Split {
    /// The last `n_test` light-cones for test, the `n_val` before them for validation, the
    /// rest for training.
    pub fn new(n: usize, n_val: usize, n_test: usize) -> Result<Self, SpinflipError> {
        if n_val == 0 || n_val + n_test >= n {
            return Err(SpinflipError::config(
                "split",
                format!(
                    "{n} light-cones cannot give {n_val} validation and {n_test} test light-cones \
                     and still leave some to train on (need at least one validation light-cone)"
                ),
            ));
        }
        let a = n - n_val - n_test;
        Ok(Split {
            train: 0..a,
            val: a..a + n_val,
            test: a + n_val..n,
        })
    }
}
