//! Callbacks with the exact shapes MultiNest and PolyChord call.
//!
//! MultiNest: `void LogLike(double *Cube, int *ndim, int *npars, double *lnew, void *context)`;
//! the unit cube is overwritten with the physical parameters. Pass the handle as `context`.
//!
//! PolyChord: `double loglike(double *theta, int nDims, double *phi, int nDerived)` and
//! `void prior(double *cube, double *theta, int nDims)` take no context pointer, so a handle
//! is registered as the active likelihood first with [`spinflip_polychord_register`].
//!
//! These signatures cannot return a status: on failure or rejection they return
//! [`SPINFLIP_LOGZERO`] (the point counts as zero likelihood) and record why for
//! [`super::spinflip_last_error`]; a long streak of them is reported on stderr
//! ([`super::spinflip_set_rejection_warning`]).

use super::active::{active, set_active};
use super::guard::{guard, set_last_error, FfiError, SpinflipStatus};
use super::handle::SpinflipLikelihood;
use super::pointers::{check_finite, handle, slice, slice_mut};
use super::watchdog;
use spinflip_samplers::LogLikelihood;
use std::ffi::c_int;

/// The log-likelihood the adapters report for rejected points and errors: below MultiNest's
/// and PolyChord's `logZero` (-1e90 and -1e30 by default), so the point carries no weight.
pub const SPINFLIP_LOGZERO: f64 = -1e300;

/// Evaluate, mapping rejections and errors to LOGZERO; both set the last-error message.
fn loglike_or_logzero(h: &SpinflipLikelihood, theta: &[f64]) -> Result<f64, FfiError> {
    check_finite(theta, "theta")?;
    match h.problem().log_likelihood(theta) {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(v) => {
            set_last_error(&format!(
                "log-likelihood {v} at {theta:?}: answered log-zero"
            ));
            Ok(SPINFLIP_LOGZERO)
        }
        Err(e) if e.is_recoverable() => {
            set_last_error(&format!("point rejected (answered log-zero): {e}"));
            Ok(SPINFLIP_LOGZERO)
        }
        Err(e) => Err(FfiError::new(SpinflipStatus::SpinflipModel, e.to_string())),
    }
}

/// Count the answer for the watchdog; the reason is this thread's last error.
fn watch(value: f64) {
    watchdog::record(value <= SPINFLIP_LOGZERO, || {
        // SAFETY: spinflip_last_error returns a valid NUL-terminated string.
        unsafe { std::ffi::CStr::from_ptr(super::guard::spinflip_last_error()) }
            .to_string_lossy()
            .into_owned()
    });
}

fn to_usize(n: c_int, what: &str) -> Result<usize, FfiError> {
    usize::try_from(n).map_err(|_| FfiError::invalid(format!("{what} = {n} is negative")))
}

/// MultiNest's `LogLike` callback. `context` must be a `SpinflipLikelihood*`; `*ndim` must be
/// the number of free parameters and `*npars` at least the number of parameters. `Cube` (of
/// length `*npars`) is overwritten with the physical parameters.
#[no_mangle]
pub extern "C" fn spinflip_multinest_loglike(
    cube: *mut f64,
    ndim: *mut c_int,
    npars: *mut c_int,
    lnew: *mut f64,
    context: *mut std::ffi::c_void,
) {
    let mut value = SPINFLIP_LOGZERO;
    let status = guard(|| {
        let h = handle(context as *const SpinflipLikelihood)?;
        // SAFETY: MultiNest passes valid int pointers; null is checked.
        let (ndim, npars) = unsafe { (ndim.as_ref(), npars.as_ref()) };
        let (ndim, npars) = (
            to_usize(*ndim.ok_or_else(|| FfiError::null("ndim"))?, "ndim")?,
            to_usize(*npars.ok_or_else(|| FfiError::null("npars"))?, "npars")?,
        );
        let p = &h.problem().params;
        if ndim != p.n_free() || npars < p.n_params() {
            return Err(FfiError::invalid(format!(
                "MultiNest called with ndim = {ndim}, npars = {npars}; this likelihood needs ndim = {} and npars >= {}",
                p.n_free(),
                p.n_params()
            )));
        }
        let buf = slice_mut(cube, npars, "Cube")?;
        let u = buf[..ndim].to_vec();
        p.prior_transform(&u, &mut buf[..p.n_params()])
            .map_err(|e| FfiError::invalid(e.to_string()))?;
        value = loglike_or_logzero(h, &buf[..p.n_params()])?;
        Ok(())
    });
    if status != SpinflipStatus::SpinflipOk {
        value = SPINFLIP_LOGZERO;
    }
    if !lnew.is_null() {
        // SAFETY: non-null pointer from MultiNest.
        unsafe { *lnew = value };
    } else {
        set_last_error("MultiNest passed a null lnew pointer");
    }
    watch(value);
}

/// Make `h` the likelihood PolyChord's context-free callbacks use (null clears it). Free the
/// handle only after PolyChord has finished.
#[no_mangle]
pub extern "C" fn spinflip_polychord_register(h: *mut SpinflipLikelihood) -> SpinflipStatus {
    guard(|| {
        set_active(h);
        Ok(())
    })
}

/// PolyChord's `loglike(theta, nDims, phi, nDerived)` on the registered likelihood; `theta` holds
/// the physical parameters the `prior` callback produced. No derived parameters are written.
#[no_mangle]
pub extern "C" fn spinflip_polychord_loglike(
    theta: *mut f64,
    n_dims: c_int,
    phi: *mut f64,
    n_derived: c_int,
) -> f64 {
    let _ = phi; // no derived parameters to write
    let mut value = SPINFLIP_LOGZERO;
    let _ = guard(|| {
        let h = handle(active()).map_err(|_| {
            FfiError::invalid("no active likelihood: call spinflip_polychord_register first")
        })?;
        let n = to_usize(n_dims, "nDims")?;
        if n_derived != 0 {
            return Err(FfiError::invalid(format!(
                "nDerived = {n_derived}: spinflip likelihoods have no derived parameters"
            )));
        }
        let p = &h.problem().params;
        if n != p.n_params() || p.n_free() != p.n_params() {
            return Err(FfiError::invalid(format!(
                "PolyChord nDims = {n}, but the likelihood has {} free of {} parameters (fix no parameter when using PolyChord)",
                p.n_free(),
                p.n_params()
            )));
        }
        value = loglike_or_logzero(h, slice(theta, n, "theta")?)?;
        Ok(())
    });
    watch(value);
    value
}

/// PolyChord's `prior(cube, theta, nDims)` on the registered likelihood.
#[no_mangle]
pub extern "C" fn spinflip_polychord_prior(cube: *mut f64, theta: *mut f64, n_dims: c_int) {
    let _ = guard(|| {
        let h = handle(active()).map_err(|_| {
            FfiError::invalid("no active likelihood: call spinflip_polychord_register first")
        })?;
        let n = to_usize(n_dims, "nDims")?;
        let p = &h.problem().params;
        if n != p.n_free() || n != p.n_params() {
            return Err(FfiError::invalid(format!(
                "PolyChord nDims = {n}, but the likelihood has {} parameters",
                p.n_params()
            )));
        }
        let u = slice(cube, n, "cube")?.to_vec();
        let t = slice_mut(theta, n, "theta")?;
        p.prior_transform(&u, t)
            .map_err(|e| FfiError::invalid(e.to_string()))
    });
}
