//! Model kinds: each forward model family describes itself (parameters, LaTeX labels,
//! default priors, fiducial point, batch size, what its outputs are) through the
//! [`ModelKind`] trait, and `[model] kind = "..."` resolves through one [`registry`].
//!
//! A new family lives in its own folder and implements [`ModelKind`] there; it becomes
//! usable from configs, `spinflip fit`, `spinflip bias` and the C ABI by one line in
//! [`registry::builtins`] (or, from outside the crate, one [`registry::register`] call).
//! Nothing outside a family's folder reads its parameter tables: everything asks the kind.

pub mod kind;
pub mod registry;
pub mod shipped;

pub use kind::{MockData, ModelKind, OutputSpace, SharedModel};
pub use registry::{known_kinds, lookup, register};

use crate::config::ModelConfig;
use crate::SpinflipError;

/// Load the forward model a `[model]` table asks for.
pub fn load_model(cfg: &ModelConfig) -> Result<SharedModel, SpinflipError> {
    lookup(&cfg.kind)?.load(cfg)
}
