//! The chain files of a nested-sampling run (PolyChord layout, getdist, JSON summary).

use super::result::NestedResult;
use crate::driver::WriteChains;
use crate::error::SamplerError;
use crate::output::summary::RunSummary;
use crate::output::{write_getdist, write_polychord};
use std::path::Path;

impl NestedResult {
    /// Writes every output file under the prefix `root`: the PolyChord layout
    /// (`root_dead-birth.txt`, `root_phys_live-birth.txt`, `root.paramnames`, `root.stats`)
    /// read by anesthetic, getdist's `root.txt`, and the JSON summary `root.json`.
    pub fn write_chains(&self, root: impl AsRef<Path>) -> Result<(), SamplerError> {
        let root = root.as_ref();
        write_polychord(root, self)?;
        write_getdist(root, &self.posterior())?;
        RunSummary::from_nested(self).write(root)
    }
}

impl WriteChains for NestedResult {
    fn write_chains(&self, root: &Path) -> Result<(), SamplerError> {
        NestedResult::write_chains(self, root)
    }
}
