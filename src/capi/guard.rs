//! Status codes, the last-error slot and the panic boundary shared by every export.

use crate::SpinflipError;
use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Result of every C ABI call.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpinflipStatus {
    /// Success.
    SpinflipOk = 0,
    /// A required pointer was null.
    SpinflipNullPointer = 1,
    /// An argument has the wrong length or value (wrong dimensions, NaN input, ...).
    SpinflipInvalidArgument = 2,
    /// The point was rejected (outside the prior or the model's valid range); the
    /// log-likelihood written is -infinity.
    SpinflipRejected = 3,
    /// A file could not be read or written.
    SpinflipIo = 4,
    /// A malformed or inconsistent configuration, data or model file.
    SpinflipConfig = 5,
    /// The model failed.
    SpinflipModel = 6,
    /// A bug: a Rust panic was caught at the boundary.
    SpinflipPanic = 7,
    /// Arrays of shapes that do not fit together (a model's inputs, a data set).
    SpinflipShape = 8,
    /// A sampler failed or refused to start (settings, a checkpoint of another run, a
    /// likelihood that returned NaN).
    SpinflipSampler = 9,
    /// A training run failed.
    SpinflipTraining = 10,
    /// The run was interrupted (Ctrl-C) after writing its checkpoint.
    SpinflipInterrupted = 11,
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Record `msg` as this thread's last error.
pub(crate) fn set_last_error(msg: &str) {
    let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// The message of the last failed call on this thread ("" if none). The pointer stays valid
/// until the next failing call on the same thread; copy it if you need it longer.
#[no_mangle]
pub extern "C" fn spinflip_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// An error on its way out through the C ABI.
pub(crate) struct FfiError {
    pub status: SpinflipStatus,
    pub message: String,
}

impl FfiError {
    pub fn new(status: SpinflipStatus, message: impl Into<String>) -> Self {
        FfiError {
            status,
            message: message.into(),
        }
    }
    pub fn null(what: &str) -> Self {
        FfiError::new(
            SpinflipStatus::SpinflipNullPointer,
            format!("{what} is a null pointer"),
        )
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        FfiError::new(SpinflipStatus::SpinflipInvalidArgument, message)
    }
}

impl From<SpinflipError> for FfiError {
    fn from(e: SpinflipError) -> Self {
        use SpinflipStatus::*;
        let status = match &e {
            SpinflipError::Io { .. } => SpinflipIo,
            SpinflipError::Config { .. }
            | SpinflipError::Data { .. }
            | SpinflipError::ModelFile { .. } => SpinflipConfig,
            SpinflipError::Shape { .. } => SpinflipShape,
            SpinflipError::Sampler(_) => SpinflipSampler,
            SpinflipError::Training { .. } => SpinflipTraining,
            SpinflipError::Interrupted { .. } => SpinflipInterrupted,
            _ => SpinflipModel,
        };
        FfiError::new(status, e.to_string())
    }
}

/// Run `f` behind the panic boundary, turning errors and panics into a status and a message.
pub(crate) fn guard(f: impl FnOnce() -> Result<(), FfiError>) -> SpinflipStatus {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => SpinflipStatus::SpinflipOk,
        Ok(Err(e)) => {
            set_last_error(&e.message);
            e.status
        }
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(&format!(
                "internal error (panic caught at the C boundary): {msg}"
            ));
            SpinflipStatus::SpinflipPanic
        }
    }
}
