//! Chain files in the layouts users' tools read: PolyChord (anesthetic), getdist, JSON.

mod files;
pub mod getdist;
pub mod paramnames;
pub mod polychord;
pub mod summary;

pub use getdist::write_getdist;
pub use paramnames::write_paramnames;
pub use polychord::write_polychord;
pub use summary::RunSummary;

pub use files::{ensure_parent, with_suffix, write_atomic};
