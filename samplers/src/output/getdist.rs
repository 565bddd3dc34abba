//! getdist / CosmoMC plain-text chain `root.txt`: `weight  -2lnL  params...` per line
//! (the convention MultiNest and PolyChord use for their `root.txt`).

use super::files::{ensure_parent, with_suffix, write_atomic};
use super::paramnames::write_paramnames;
use crate::error::SamplerError;
use crate::samples::WeightedSamples;
use std::fmt::Write;
use std::path::Path;

/// Write `root.txt` and `root.paramnames` from weighted samples. Zero-weight rows are dropped.
pub fn write_getdist(root: &Path, s: &WeightedSamples) -> Result<(), SamplerError> {
    s.validate()?;
    ensure_parent(root)?;
    let wmax = s.weights.iter().cloned().fold(0.0, f64::max);
    let mut out = String::with_capacity(s.len() * (s.n_params() + 2) * 24);
    for i in 0..s.len() {
        // Normalise to the largest weight so tiny weights keep their digits.
        let w = if wmax > 0.0 { s.weights[i] / wmax } else { 0.0 };
        if w <= 0.0 {
            continue;
        }
        let _ = write!(out, "{:.15e} {:.15e}", w, -2.0 * s.log_likelihood[i]);
        for x in s.row(i) {
            let _ = write!(out, " {:.15e}", x);
        }
        out.push('\n');
    }
    write_atomic(&with_suffix(root, ".txt"), out.as_bytes())?;
    write_paramnames(root, &s.names, &s.latex, &[])
}
