//! The state of a NUTS run: every chain and the iteration count.

use super::chain::Chain;
use crate::driver::SamplerState;
use crate::error::SamplerError;
use serde::{Deserialize, Serialize};

/// Layout version of [`NutsState`]; bump when it changes.
pub const STATE_VERSION: u32 = 1;

/// All chains between two iterations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NutsState {
    /// The chains.
    pub chains: Vec<Chain>,
    /// Iterations done (warmup included), the same for every chain.
    pub iteration: usize,
    /// Wall time so far, seconds.
    pub elapsed: f64,
}

impl SamplerState for NutsState {
    fn iteration(&self) -> usize {
        self.iteration
    }
    fn n_calls(&self) -> u64 {
        self.chains.iter().map(|c| c.n_calls).sum()
    }
    fn elapsed(&self) -> f64 {
        self.elapsed
    }
    fn set_elapsed(&mut self, seconds: f64) {
        self.elapsed = seconds;
    }
    fn encode(&self) -> Result<Vec<u8>, SamplerError> {
        serde_json::to_vec(self).map_err(|e| SamplerError::Checkpoint {
            path: String::new(),
            reason: format!("cannot serialise the NUTS state: {e}"),
        })
    }
    fn decode(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("not a NUTS state ({e})"))
    }
}
