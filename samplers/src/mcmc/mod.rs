//! Ensemble Markov chain Monte Carlo: the affine-invariant stretch-move sampler of
//! Goodman & Weare (2010), with adaptive stopping on the autocorrelation time, burn-in and
//! thinning, diagnostics, getdist output and checkpoint/resume.

pub mod ensemble;
pub mod result;
pub mod settings;
pub mod state;

pub use ensemble::{check_interval, EnsembleRun, EnsembleSampler};
pub use result::{EnsembleResult, EnsembleSummary, ParamDiagnostics};
pub use settings::{CheckpointSettings, EnsembleSettings, Init, Stop};
pub use state::ChainState;
