//! Loading forward models by kind: the shipped emulator, an emulator model file, or the simulator.

use crate::config::{ModelConfig, ModelKind};
use crate::SpinflipError;
use spinflip_likelihoods::ForwardModel;
use std::sync::Arc;

/// A shareable forward model.
pub type SharedModel = Arc<dyn ForwardModel>;

/// Load the forward model a `[model]` table asks for.
pub fn load_model(cfg: &ModelConfig) -> Result<SharedModel, SpinflipError> {
    match cfg.kind {
        ModelKind::Simulator => Err(SpinflipError::config(
            "model.kind",
            "the simulator is not available in this build yet",
        )),
        ModelKind::Emulator => Err(SpinflipError::config(
            "model.kind",
            "the emulator is not available in this build yet",
        )),
    }
}

/// The fiducial value of a named parameter (used for mock truths not given in a config).
pub fn fiducial(_name: &str) -> Option<f64> {
    None
}
