//! Error types of the samplers crate.

use thiserror::Error;

/// An error raised by a likelihood evaluation.
///
/// A *recoverable* error (say, a point outside an emulator's training range) makes the
/// sampler reject that point, as if its likelihood were zero; a *fatal* one stops the run.
#[derive(Debug, Clone, Error, PartialEq)]
#[non_exhaustive]
pub enum LikelihoodError {
    /// The point cannot be evaluated, but the run may go on: the point is rejected.
    #[error("point rejected: {0}")]
    Recoverable(String),
    /// The likelihood cannot be evaluated at all: the run stops.
    #[error("likelihood failed: {0}")]
    Fatal(String),
    /// The parameter vector has the wrong length.
    #[error("wrong number of parameters: expected {expected}, got {got}")]
    Dimension {
        /// Length the likelihood expects.
        expected: usize,
        /// Length it was given.
        got: usize,
    },
}

impl LikelihoodError {
    /// Whether the sampler may reject the point and continue.
    pub fn is_recoverable(&self) -> bool {
        matches!(self, LikelihoodError::Recoverable(_))
    }
}

/// An error that stops a sampler (or refuses to start one).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SamplerError {
    /// An invalid prior specification.
    #[error("invalid prior for parameter '{name}': {reason}")]
    InvalidPrior {
        /// Parameter name (empty when the prior stands alone).
        name: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// An invalid sampler setting (too few live points, bad tolerance, ...).
    #[error("invalid setting '{setting}': {reason}")]
    InvalidSetting {
        /// The setting's name.
        setting: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// Vectors of mismatched lengths.
    #[error("dimension mismatch in {what}: expected {expected}, got {got}")]
    Dimension {
        /// Which quantity.
        what: String,
        /// Expected length.
        expected: usize,
        /// Given length.
        got: usize,
    },
    /// The likelihood returned NaN or +inf.
    #[error("likelihood returned a non-finite value ({value}) at theta = {theta:?}; return -inf (or a recoverable error) to reject a point")]
    NonFiniteLikelihood {
        /// The value returned.
        value: f64,
        /// The point.
        theta: Vec<f64>,
    },
    /// A fatal likelihood error.
    #[error(transparent)]
    Likelihood(#[from] LikelihoodError),
    /// File input/output.
    #[error("i/o error on '{path}': {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A checkpoint that cannot be used for this run.
    #[error("checkpoint '{path}' cannot be used: {reason}")]
    Checkpoint {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The sampler could not make progress (e.g. no point found above the likelihood bound).
    #[error("sampler stalled: {0}")]
    Stalled(String),
}

impl SamplerError {
    /// Wrap an I/O error with the path it concerns.
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        if let Some(reason) = path_through_file(path.as_ref(), &source) {
            return SamplerError::InvalidSetting {
                setting: "output path".into(),
                reason,
            };
        }
        SamplerError::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}

/// Why an I/O error on `path` happened when the path runs through a regular file ("File
/// exists" or "Not a directory" say nothing useful), or `None`.
pub fn path_through_file(path: &std::path::Path, source: &std::io::Error) -> Option<String> {
    let file = path.ancestors().find(|a| a.is_file())?;
    (file != path || source.kind() == std::io::ErrorKind::AlreadyExists).then(|| {
        format!(
            "'{}' is a file, not a folder, so '{}' cannot be inside it: choose a path whose \
             folders are folders (or move the file)",
            file.display(),
            path.display()
        )
    })
}
