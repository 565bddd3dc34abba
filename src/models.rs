//! Loading forward models by kind: the shipped emulator, an emulator model file, or the simulator.

use crate::config::{ModelConfig, ModelKind};
use crate::global::{GlobalParams, GlobalSimulator, PARAM_NAMES};
use crate::SpinflipError;
use spinflip_likelihoods::ForwardModel;
use std::sync::Arc;

/// A shareable forward model.
pub type SharedModel = Arc<dyn ForwardModel>;

/// Load the forward model a `[model]` table asks for.
pub fn load_model(cfg: &ModelConfig) -> Result<SharedModel, SpinflipError> {
    match cfg.kind {
        ModelKind::Simulator => Ok(Arc::new(GlobalSimulator::planck18())),
        ModelKind::Emulator => Err(SpinflipError::config(
            "model.kind",
            "the emulator is not available in this build yet",
        )),
    }
}

/// The fiducial value of a named parameter (used for mock truths not given in a config).
pub fn fiducial(name: &str) -> Option<f64> {
    let i = PARAM_NAMES.iter().position(|n| *n == name)?;
    Some(GlobalParams::fiducial().to_array()[i])
}
