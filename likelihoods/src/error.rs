//! Errors of forward models and likelihood construction.

use spinflip_samplers::LikelihoodError;
use thiserror::Error;

/// An error from a forward model or from building a likelihood.
#[derive(Debug, Clone, Error, PartialEq)]
#[non_exhaustive]
pub enum ModelError {
    /// A parameter outside the range where the model is valid (e.g. an emulator's
    /// training range). Recoverable: a sampler rejects the point.
    #[error("parameter '{name}' = {value} is outside the model's range [{min}, {max}]")]
    OutOfRange {
        /// Parameter name.
        name: String,
        /// Its value.
        value: f64,
        /// Lower edge of the valid range.
        min: f64,
        /// Upper edge.
        max: f64,
    },
    /// NaN or infinite input.
    #[error("non-finite value {value} for '{name}'")]
    NonFinite {
        /// Which input.
        name: String,
        /// The value.
        value: f64,
    },
    /// Wrong vector length.
    #[error("dimension mismatch in {what}: expected {expected}, got {got}")]
    Dimension {
        /// Which quantity.
        what: String,
        /// Expected length.
        expected: usize,
        /// Given length.
        got: usize,
    },
    /// Invalid data or settings (noise <= 0, empty band, ...): names the field and the fix.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The offending field.
        field: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The model failed to evaluate at this point but may work elsewhere (recoverable).
    #[error("model evaluation failed at this point: {0}")]
    Failed(String),
    /// The model cannot be evaluated at all.
    #[error("model error: {0}")]
    Fatal(String),
}

impl ModelError {
    /// Whether a sampler may reject the point and continue.
    pub fn is_recoverable(&self) -> bool {
        matches!(
            self,
            ModelError::OutOfRange { .. } | ModelError::NonFinite { .. } | ModelError::Failed(_)
        )
    }
}

impl From<ModelError> for LikelihoodError {
    fn from(e: ModelError) -> Self {
        if e.is_recoverable() {
            LikelihoodError::Recoverable(e.to_string())
        } else {
            LikelihoodError::Fatal(e.to_string())
        }
    }
}
