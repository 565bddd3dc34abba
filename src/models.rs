//! Loading forward models by kind: the shipped emulator, an emulator model file, or the simulator.

use crate::config::{ModelConfig, ModelKind};
use crate::emulator::model_file::model_paths;
use crate::emulator::GlobalEmulator;
use crate::global::{GlobalParams, GlobalSimulator, PARAM_NAMES};
use crate::SpinflipError;
use spinflip_likelihoods::ForwardModel;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A shareable forward model.
pub type SharedModel = Arc<dyn ForwardModel>;

/// Load the forward model a `[model]` table asks for.
pub fn load_model(cfg: &ModelConfig) -> Result<SharedModel, SpinflipError> {
    match cfg.kind {
        ModelKind::Simulator => Ok(Arc::new(GlobalSimulator::planck18())),
        ModelKind::Emulator => {
            let path = match &cfg.path {
                Some(p) => p.clone(),
                None => default_emulator_path(),
            };
            let emu = GlobalEmulator::load(&path)?.allow_extrapolation(cfg.allow_extrapolation);
            Ok(Arc::new(emu))
        }
    }
}

/// Where the shipped emulator lives, relative to the repository root.
pub const DEFAULT_EMULATOR: &str = "models/global_lstm";

/// The shipped emulator: `models/global_lstm` in the working directory, else in the source
/// tree this binary was built from.
pub fn default_emulator_path() -> PathBuf {
    let rel = Path::new(DEFAULT_EMULATOR);
    if model_paths(rel).1.exists() {
        return rel.to_path_buf();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_EMULATOR)
}

/// The fiducial value of a named parameter (used for mock truths not given in a config).
pub fn fiducial(name: &str) -> Option<f64> {
    let i = PARAM_NAMES.iter().position(|n| *n == name)?;
    Some(GlobalParams::fiducial().to_array()[i])
}
