//! Ensemble Markov chain Monte Carlo: the affine-invariant stretch-move sampler of
//! Goodman & Weare (2010), with adaptive stopping on the autocorrelation time, burn-in and
//! thinning, diagnostics, getdist output and checkpoint/resume.

mod checkpoint;
pub mod ensemble;
pub mod result;
pub mod settings;

pub use ensemble::EnsembleSampler;
pub use result::{EnsembleResult, EnsembleSummary, ParamDiagnostics};
pub use settings::{CheckpointSettings, EnsembleSettings, Init, Stop};
