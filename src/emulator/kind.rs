//! The LSTM emulator of the global signal as a model kind (`[model] kind = "emulator"`):
//! the shipped model by default, or `[model] path`. It emulates the simulator, so it shares
//! the simulator kind's parameters, priors and fiducial point, and its mocks come from the
//! simulator.

use super::emulator::GlobalEmulator;
use super::model_file::model_paths;
use crate::config::ModelConfig;
use crate::global::kind::GlobalSimulatorKind;
use crate::models::{ModelKind, OutputSpace, SharedModel};
use crate::SpinflipError;
use spinflip_samplers::Prior;
use std::path::PathBuf;
use std::sync::Arc;

/// The neural emulator of the global signal.
#[derive(Debug, Clone, Copy, Default)]
pub struct GlobalEmulatorKind;

/// Where the shipped emulator lives, relative to the repository root.
pub const DEFAULT_EMULATOR: &str = "models/global_lstm";

/// The shipped emulator: `global_lstm` in `$SPINFLIP_MODELS` if set, else `models/global_lstm`
/// in the working directory, else in the source tree this binary was built from.
pub fn default_emulator_path() -> PathBuf {
    crate::models::shipped::shipped_path(DEFAULT_EMULATOR, |p| model_paths(p).1.exists())
}

impl ModelKind for GlobalEmulatorKind {
    fn name(&self) -> &str {
        "emulator"
    }
    fn describe(&self) -> String {
        format!("the LSTM emulator of the simulator ({DEFAULT_EMULATOR}, or [model] path)")
    }
    fn param_names(&self) -> Vec<String> {
        GlobalSimulatorKind.param_names()
    }
    fn param_latex(&self) -> Vec<String> {
        GlobalSimulatorKind.param_latex()
    }
    fn default_priors(&self) -> Vec<Prior> {
        GlobalSimulatorKind.default_priors()
    }
    fn fiducial(&self) -> Vec<f64> {
        GlobalSimulatorKind.fiducial()
    }
    /// One vectorised pass evaluates 16 signals for the price of a few: large batches.
    fn preferred_batch(&self) -> usize {
        64
    }
    fn output(&self) -> OutputSpace {
        GlobalSimulatorKind.output()
    }
    fn mock_kind(&self) -> String {
        GlobalSimulatorKind.name().to_string()
    }
    fn load(&self, cfg: &ModelConfig) -> Result<SharedModel, SpinflipError> {
        let path = cfg.path.clone().unwrap_or_else(default_emulator_path);
        let emu = GlobalEmulator::load(&path)?.allow_extrapolation(cfg.allow_extrapolation);
        Ok(Arc::new(emu))
    }
}
