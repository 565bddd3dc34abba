//! `root.paramnames`: one `name  latex` line per parameter; derived names end with `*`.

use super::files::{ensure_parent, with_suffix, write_atomic};
use crate::error::SamplerError;
use std::fmt::Write;
use std::path::Path;

/// Write `root.paramnames` for the given names and LaTeX labels (and derived parameters).
pub fn write_paramnames(
    root: &Path,
    names: &[String],
    latex: &[String],
    derived: &[(String, String)],
) -> Result<(), SamplerError> {
    ensure_parent(root)?;
    let mut s = String::new();
    for (n, l) in names.iter().zip(latex) {
        let _ = writeln!(s, "{n}\t{l}");
    }
    for (n, l) in derived {
        let _ = writeln!(s, "{n}*\t{l}");
    }
    write_atomic(&with_suffix(root, ".paramnames"), s.as_bytes())
}
