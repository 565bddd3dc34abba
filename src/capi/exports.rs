//! Handle-based exports: build a likelihood, query it, evaluate it, emulate signals, free it.

use super::active::unregister_if_active;
use super::guard::{guard, FfiError, SpinflipStatus};
use super::handle::SpinflipLikelihood;
use super::pointers::{c_path, check_finite, check_len, handle, out_ptr, slice, slice_mut};
use crate::config::{DataConfig, ModelConfig, OutputConfig, RunConfig};
use crate::problem::Problem;
use spinflip_samplers::LogLikelihood;
use std::ffi::{c_char, CStr};
use std::path::PathBuf;

static VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => c"unknown",
    };

/// The library version, e.g. "0.1.0" (static string; do not free).
#[no_mangle]
pub extern "C" fn spinflip_version() -> *const c_char {
    VERSION.as_ptr()
}

fn boxed(problem: Problem, out: *mut *mut SpinflipLikelihood) -> Result<(), FfiError> {
    let slot = out_ptr(out, "output handle pointer")?;
    *slot = Box::into_raw(Box::new(SpinflipLikelihood::new(problem)));
    Ok(())
}

/// Build a likelihood from a run configuration (the TOML `spinflip fit` reads). On success
/// `*out` holds a handle to release with `spinflip_likelihood_free`.
#[no_mangle]
pub extern "C" fn spinflip_likelihood_from_config(
    path: *const c_char,
    out: *mut *mut SpinflipLikelihood,
) -> SpinflipStatus {
    guard(|| {
        let path = c_path(path, "config path")?;
        let cfg = RunConfig::load(&path)?;
        boxed(Problem::from_config(&cfg)?, out)
    })
}

/// Build a likelihood from a model and a data file (columns `nu_MHz T_mK [sigma_mK]`).
/// `model` is an emulator model path, or the string "simulator". `sigma_mk` > 0 sets white
/// noise (overriding a sigma column); pass 0 to use the file's sigma column. Priors are the
/// default 21cmGEM priors.
#[no_mangle]
pub extern "C" fn spinflip_likelihood_from_model(
    model: *const c_char,
    data: *const c_char,
    sigma_mk: f64,
    out: *mut *mut SpinflipLikelihood,
) -> SpinflipStatus {
    guard(|| {
        let model = c_path(model, "model path")?;
        let data = c_path(data, "data path")?;
        if sigma_mk.is_nan() || sigma_mk < 0.0 || sigma_mk.is_infinite() {
            return Err(FfiError::invalid(format!(
                "sigma_mk must be > 0, or 0 to use the data's sigma column; got {sigma_mk}"
            )));
        }
        let model_cfg = if model.as_os_str() == "simulator" {
            ModelConfig::of_kind("simulator")
        } else {
            ModelConfig {
                path: Some(model),
                ..ModelConfig::of_kind("emulator")
            }
        };
        let cfg = RunConfig {
            output: OutputConfig {
                root: PathBuf::from("unused"),
                plots: false,
            },
            model: model_cfg,
            data: DataConfig {
                file: Some(data),
                mock: None,
                band: None,
                sigma: (sigma_mk > 0.0).then_some(sigma_mk),
                covariance: None,
            },
            params: Default::default(),
            foreground: None,
            sampler: Default::default(),
        };
        cfg.validate()?;
        boxed(Problem::from_config(&cfg)?, out)
    })
}

/// Release a handle (null is accepted and ignored). If it is PolyChord's active likelihood,
/// that registration is cleared.
#[no_mangle]
pub extern "C" fn spinflip_likelihood_free(h: *mut SpinflipLikelihood) -> SpinflipStatus {
    guard(|| {
        if !h.is_null() {
            unregister_if_active(h);
            // SAFETY: `h` came from Box::into_raw in a constructor and is freed once.
            drop(unsafe { Box::from_raw(h) });
        }
        Ok(())
    })
}

/// Number of parameters (length of theta), fixed ones included.
#[no_mangle]
pub extern "C" fn spinflip_n_params(
    h: *const SpinflipLikelihood,
    out: *mut usize,
) -> SpinflipStatus {
    guard(|| {
        let v = handle(h)?.problem().params.n_params();
        *out_ptr(out, "out")? = v;
        Ok(())
    })
}

/// Number of free parameters (dimension of the unit cube of the prior transform).
#[no_mangle]
pub extern "C" fn spinflip_n_dims(h: *const SpinflipLikelihood, out: *mut usize) -> SpinflipStatus {
    guard(|| {
        let v = handle(h)?.problem().params.n_free();
        *out_ptr(out, "out")? = v;
        Ok(())
    })
}

/// Name (and LaTeX label, if `latex` is non-null) of parameter `i`; the strings are owned by
/// the handle and live as long as it does.
#[no_mangle]
pub extern "C" fn spinflip_param_name(
    h: *const SpinflipLikelihood,
    i: usize,
    name: *mut *const c_char,
    latex: *mut *const c_char,
) -> SpinflipStatus {
    guard(|| {
        let l = handle(h)?;
        if i >= l.names.len() {
            return Err(FfiError::invalid(format!(
                "parameter index {i} out of range (0..{})",
                l.names.len()
            )));
        }
        *out_ptr(name, "name")? = l.names[i].as_ptr();
        if !latex.is_null() {
            *out_ptr(latex, "latex")? = l.latex[i].as_ptr();
        }
        Ok(())
    })
}

/// Map a unit-cube point (`n_dims` values in [0, 1]) to theta (`n_params` values).
#[no_mangle]
pub extern "C" fn spinflip_prior_transform(
    h: *const SpinflipLikelihood,
    cube: *const f64,
    n_cube: usize,
    theta: *mut f64,
    n_theta: usize,
) -> SpinflipStatus {
    guard(|| {
        let p = &handle(h)?.problem().params;
        check_len(n_cube, p.n_free(), "cube")?;
        check_len(n_theta, p.n_params(), "theta")?;
        let cube = slice(cube, n_cube, "cube")?;
        if let Some(i) = cube.iter().position(|u| !(0.0..=1.0).contains(u)) {
            return Err(FfiError::invalid(format!(
                "cube[{i}] = {} is outside [0, 1]",
                cube[i]
            )));
        }
        let theta = slice_mut(theta, n_theta, "theta")?;
        p.prior_transform(cube, theta)
            .map_err(|e| FfiError::invalid(e.to_string()))
    })
}

/// Log prior density at theta (-infinity outside the prior; status Ok).
#[no_mangle]
pub extern "C" fn spinflip_log_prior(
    h: *const SpinflipLikelihood,
    theta: *const f64,
    n: usize,
    out: *mut f64,
) -> SpinflipStatus {
    guard(|| {
        let p = &handle(h)?.problem().params;
        check_len(n, p.n_params(), "theta")?;
        let theta = slice(theta, n, "theta")?;
        check_finite(theta, "theta")?;
        *out_ptr(out, "out")? = p
            .log_prior(theta)
            .map_err(|e| FfiError::invalid(e.to_string()))?;
        Ok(())
    })
}

/// Log-likelihood at one point. A point outside the model's valid range writes -infinity and
/// returns `SpinflipRejected` (with a message); NaN input is `SpinflipInvalidArgument`.
#[no_mangle]
pub extern "C" fn spinflip_log_likelihood(
    h: *const SpinflipLikelihood,
    theta: *const f64,
    n: usize,
    out: *mut f64,
) -> SpinflipStatus {
    guard(|| {
        let l = handle(h)?;
        check_len(n, l.problem().n_params(), "theta")?;
        let theta = slice(theta, n, "theta")?;
        check_finite(theta, "theta")?;
        let out = out_ptr(out, "out")?;
        match l.problem().log_likelihood(theta) {
            Ok(v) => {
                *out = v;
                Ok(())
            }
            Err(e) if e.is_recoverable() => {
                *out = f64::NEG_INFINITY;
                Err(FfiError::new(
                    SpinflipStatus::SpinflipRejected,
                    e.to_string(),
                ))
            }
            Err(e) => Err(FfiError::new(SpinflipStatus::SpinflipModel, e.to_string())),
        }
    })
}

/// Log-likelihood at `n_points` points (row-major `n_points x n_params`), one batched model
/// call. Rejected points get -infinity; the status is Ok unless the whole call failed.
#[no_mangle]
pub extern "C" fn spinflip_log_likelihood_batch(
    h: *const SpinflipLikelihood,
    theta: *const f64,
    n_points: usize,
    n_params: usize,
    out: *mut f64,
) -> SpinflipStatus {
    guard(|| {
        let l = handle(h)?;
        check_len(n_params, l.problem().n_params(), "n_params")?;
        let total = n_points
            .checked_mul(n_params)
            .ok_or_else(|| FfiError::invalid("n_points * n_params overflows"))?;
        let theta = slice(theta, total, "theta")?;
        check_finite(theta, "theta")?;
        let out = slice_mut(out, n_points, "out")?;
        l.problem()
            .log_likelihood_batch(theta, out)
            .map_err(|e| FfiError::new(SpinflipStatus::SpinflipModel, e.to_string()))
    })
}

/// Number of model parameters (the first `n_model_params` entries of theta) and of output
/// channels of the forward model.
#[no_mangle]
pub extern "C" fn spinflip_model_shape(
    h: *const SpinflipLikelihood,
    n_model_params: *mut usize,
    n_outputs: *mut usize,
) -> SpinflipStatus {
    guard(|| {
        let m = handle(h)?.problem().model.as_ref();
        *out_ptr(n_model_params, "n_model_params")? = m.n_params();
        *out_ptr(n_outputs, "n_outputs")? = m.n_outputs();
        Ok(())
    })
}

/// The model's grid (redshifts of the output channels), `n` = n_outputs values.
#[no_mangle]
pub extern "C" fn spinflip_model_grid(
    h: *const SpinflipLikelihood,
    out: *mut f64,
    n: usize,
) -> SpinflipStatus {
    guard(|| {
        let g = handle(h)?.problem().model.as_ref().grid();
        check_len(n, g.len(), "grid")?;
        slice_mut(out, n, "out")?.copy_from_slice(g);
        Ok(())
    })
}

/// The model signal (mK, on the model grid) for the model parameters `theta`
/// (`n_model_params` values); `n_out` must equal n_outputs.
#[no_mangle]
pub extern "C" fn spinflip_emulate(
    h: *const SpinflipLikelihood,
    theta: *const f64,
    n: usize,
    out: *mut f64,
    n_out: usize,
) -> SpinflipStatus {
    spinflip_emulate_batch(h, theta, 1, n, out, n_out)
}

/// Signals for `n_points` parameter vectors (row-major `n_points x n_model_params`) into `out`
/// (`n_points x n_outputs`). If any point is outside the model's range the call returns
/// `SpinflipRejected`; the rows of valid points are still written, the others are NaN.
#[no_mangle]
pub extern "C" fn spinflip_emulate_batch(
    h: *const SpinflipLikelihood,
    theta: *const f64,
    n_points: usize,
    n_model_params: usize,
    out: *mut f64,
    n_out_total: usize,
) -> SpinflipStatus {
    guard(|| {
        let m = handle(h)?.problem().model.as_ref();
        check_len(n_model_params, m.n_params(), "n_model_params")?;
        let total = n_points
            .checked_mul(n_model_params)
            .ok_or_else(|| FfiError::invalid("n_points * n_model_params overflows"))?;
        check_len(n_out_total, n_points * m.n_outputs(), "out")?;
        let theta = slice(theta, total, "theta")?;
        check_finite(theta, "theta")?;
        let out = slice_mut(out, n_out_total, "out")?;
        let mut ok = vec![false; n_points];
        m.predict_batch(theta, out, &mut ok)
            .map_err(|e| FfiError::new(SpinflipStatus::SpinflipModel, e.to_string()))?;
        let bad: Vec<usize> = (0..n_points).filter(|&i| !ok[i]).collect();
        for &i in &bad {
            out[i * m.n_outputs()..(i + 1) * m.n_outputs()].fill(f64::NAN);
        }
        if let Some(&i) = bad.first() {
            // Say why, using the single-point call's message.
            let msg = m
                .predict(
                    &theta[i * n_model_params..(i + 1) * n_model_params],
                    &mut vec![0.0; m.n_outputs()],
                )
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            return Err(FfiError::new(
                SpinflipStatus::SpinflipRejected,
                format!(
                    "{} of {n_points} points rejected; first (row {i}): {msg}",
                    bad.len()
                ),
            ));
        }
        Ok(())
    })
}
