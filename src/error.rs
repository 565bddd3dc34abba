//! The error type of the `spinflip` crate.

use spinflip_likelihoods::ModelError;
use spinflip_samplers::SamplerError;
use thiserror::Error;

/// Anything that can go wrong in spinflip; messages name the file or field and the fix.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SpinflipError {
    /// File input/output.
    #[error("i/o error on '{path}': {source}")]
    Io {
        /// The file.
        path: String,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A malformed or inconsistent configuration or command-line argument.
    #[error("invalid {field}: {reason}")]
    Config {
        /// The offending field or argument.
        field: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A data file that cannot be used (wrong layout, lengths, non-finite values).
    #[error("bad data in '{path}': {reason}")]
    Data {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A model file (weights or sidecar) that cannot be loaded.
    #[error("cannot load model '{path}': {reason}")]
    ModelFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Forward-model error.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Sampler error.
    #[error(transparent)]
    Sampler(#[from] SamplerError),
    /// Tensor library error.
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
    /// Array or tensor shapes that do not fit together (a network's input, a data set).
    #[error("shape mismatch in {what}: {reason}")]
    Shape {
        /// What has the wrong shape.
        what: String,
        /// Expected and found.
        reason: String,
    },
    /// A training run that cannot go on (diverging loss, a checkpoint of another run).
    #[error("training failed: {reason}")]
    Training {
        /// What went wrong and what to change.
        reason: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A run stopped by Ctrl-C (SIGINT) after writing its checkpoint.
    #[error(
        "interrupted; the checkpoint is in '{checkpoint}': run the same command again to resume"
    )]
    Interrupted {
        /// The checkpoint file.
        checkpoint: String,
    },
    /// Plotting error.
    #[error("plot '{path}': {reason}")]
    Plot {
        /// The PNG.
        path: String,
        /// What failed.
        reason: String,
    },
}

impl SpinflipError {
    /// Wrap an I/O error with its path (a path through a regular file becomes a
    /// configuration error that says so).
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        let path = path.as_ref();
        if let Some(reason) = spinflip_samplers::error::path_through_file(path, &source) {
            return SpinflipError::config("path", reason);
        }
        SpinflipError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    /// A training error with no underlying error.
    pub fn training(reason: impl Into<String>) -> Self {
        SpinflipError::Training {
            reason: reason.into(),
            source: None,
        }
    }

    /// A shape error on `what`.
    pub fn shape(what: impl Into<String>, reason: impl Into<String>) -> Self {
        SpinflipError::Shape {
            what: what.into(),
            reason: reason.into(),
        }
    }

    /// A configuration error on `field`.
    pub fn config(field: impl Into<String>, reason: impl Into<String>) -> Self {
        SpinflipError::Config {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
