//! Checked conversions of the raw pointers C callers pass: null checks, slices of stated
//! lengths, paths, finiteness. Every export goes through these.

use super::guard::FfiError;
use super::handle::SpinflipLikelihood;
use std::ffi::{c_char, CStr};
use std::path::PathBuf;

pub(crate) fn handle<'a>(h: *const SpinflipLikelihood) -> Result<&'a SpinflipLikelihood, FfiError> {
    // SAFETY: the caller passes a pointer obtained from a spinflip constructor and not yet freed.
    unsafe { h.as_ref() }.ok_or_else(|| FfiError::null("likelihood handle"))
}

pub(crate) fn c_path(p: *const c_char, what: &str) -> Result<PathBuf, FfiError> {
    if p.is_null() {
        return Err(FfiError::null(what));
    }
    // SAFETY: non-null, and the caller promises a NUL-terminated string.
    let s = unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| FfiError::invalid(format!("{what} is not valid UTF-8")))?;
    Ok(PathBuf::from(s))
}

pub(crate) fn slice<'a>(p: *const f64, n: usize, what: &str) -> Result<&'a [f64], FfiError> {
    if p.is_null() {
        return Err(FfiError::null(what));
    }
    // SAFETY: non-null; the caller promises `n` readable values.
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

pub(crate) fn slice_mut<'a>(p: *mut f64, n: usize, what: &str) -> Result<&'a mut [f64], FfiError> {
    if p.is_null() {
        return Err(FfiError::null(what));
    }
    // SAFETY: non-null; the caller promises `n` writable values not aliased by inputs.
    Ok(unsafe { std::slice::from_raw_parts_mut(p, n) })
}

pub(crate) fn out_ptr<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T, FfiError> {
    // SAFETY: the caller passes a valid pointer to write one value into, or null.
    unsafe { p.as_mut() }.ok_or_else(|| FfiError::null(what))
}

pub(crate) fn check_len(got: usize, expected: usize, what: &str) -> Result<(), FfiError> {
    if got != expected {
        return Err(FfiError::invalid(format!(
            "{what}: expected {expected} values, got {got}"
        )));
    }
    Ok(())
}

pub(crate) fn check_finite(x: &[f64], what: &str) -> Result<(), FfiError> {
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(FfiError::invalid(format!(
            "{what}[{i}] = {} is not finite",
            x[i]
        )));
    }
    Ok(())
}
