//! Nested sampling: evidence and posterior from live points shrinking through nested
//! likelihood contours, with multi-ellipsoid rejection sampling (MultiNest style) in low
//! dimensions and slice sampling (PolyChord style) in high ones.
//!
//! Start from [`NestedSampler`]; write the files users' tools read with
//! [`NestedResult::write_chains`].

mod chains;
pub mod ellipsoid;
mod evaluator;
mod extremes;

pub mod fingerprint;
pub mod linalg;
mod rejection;
pub mod result;
pub mod sampler;
pub mod settings;
mod slice;
pub mod state;

pub use result::NestedResult;
pub use sampler::{NestedRun, NestedSampler};
pub use settings::{CheckpointSettings, Method, NestedSettings};
pub use slice::SLICE_CONTRACTIONS;
