"""A small ctypes wrapper over spinflip's C ABI (include/spinflip.h), numpy in and out.

    from spinflip import Likelihood
    with Likelihood("run.toml") as like:          # or Likelihood("run.toml", lib="path/libspinflip.so")
        theta = like.prior_transform(np.full(like.n_dims, 0.5))
        print(like.names, like.log_likelihood(theta))

The library is found from the `lib` argument, else the SPINFLIP_LIB environment variable.
Every call checks its status and raises SpinflipError with spinflip_last_error()'s message.
Points the model rejects (outside its valid range) give -inf from the log-likelihood calls,
which is what samplers expect; every other failure raises.
"""

import ctypes
import os

import numpy as np

__all__ = ["Likelihood", "SpinflipError", "load_library"]

# SpinflipStatus (include/spinflip.h).
OK = 0
NULL_POINTER = 1
INVALID_ARGUMENT = 2
REJECTED = 3
IO = 4
CONFIG = 5
MODEL = 6
PANIC = 7
SHAPE = 8
SAMPLER = 9
TRAINING = 10
INTERRUPTED = 11
STATUS_NAMES = {
    OK: "OK",
    NULL_POINTER: "NULL_POINTER",
    INVALID_ARGUMENT: "INVALID_ARGUMENT",
    REJECTED: "REJECTED",
    IO: "IO",
    CONFIG: "CONFIG",
    MODEL: "MODEL",
    PANIC: "PANIC",
    SHAPE: "SHAPE",
    SAMPLER: "SAMPLER",
    TRAINING: "TRAINING",
    INTERRUPTED: "INTERRUPTED",
}


class SpinflipError(RuntimeError):
    """A failed spinflip call: `status` is the SpinflipStatus code, the message says why."""

    def __init__(self, status, message):
        self.status = status
        super().__init__(f"spinflip: {STATUS_NAMES.get(status, status)}: {message}")


_dptr = ctypes.POINTER(ctypes.c_double)
_size = ctypes.c_size_t
_handle = ctypes.c_void_p
_libs = {}


def load_library(lib=None):
    """Load libspinflip.so from `lib` or $SPINFLIP_LIB (once per path) and declare signatures."""
    path = lib or os.environ.get("SPINFLIP_LIB")
    if not path:
        raise SpinflipError(
            NULL_POINTER,
            "no library: pass lib=PATH or set SPINFLIP_LIB to target/<profile>/libspinflip.so",
        )
    path = os.path.abspath(path)
    if path in _libs:
        return _libs[path]
    c = ctypes.CDLL(path)
    sigs = {
        "spinflip_version": ([], ctypes.c_char_p),
        "spinflip_last_error": ([], ctypes.c_char_p),
        "spinflip_likelihood_from_config": ([ctypes.c_char_p, ctypes.POINTER(_handle)], ctypes.c_int),
        "spinflip_likelihood_free": ([_handle], ctypes.c_int),
        "spinflip_n_params": ([_handle, ctypes.POINTER(_size)], ctypes.c_int),
        "spinflip_n_dims": ([_handle, ctypes.POINTER(_size)], ctypes.c_int),
        "spinflip_param_name": (
            [_handle, _size, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_char_p)],
            ctypes.c_int,
        ),
        "spinflip_prior_transform": ([_handle, _dptr, _size, _dptr, _size], ctypes.c_int),
        "spinflip_log_prior": ([_handle, _dptr, _size, _dptr], ctypes.c_int),
        "spinflip_log_likelihood": ([_handle, _dptr, _size, _dptr], ctypes.c_int),
        "spinflip_log_likelihood_batch": ([_handle, _dptr, _size, _size, _dptr], ctypes.c_int),
        "spinflip_model_shape": ([_handle, ctypes.POINTER(_size), ctypes.POINTER(_size)], ctypes.c_int),
        "spinflip_model_grid": ([_handle, _dptr, _size], ctypes.c_int),
        "spinflip_emulate": ([_handle, _dptr, _size, _dptr, _size], ctypes.c_int),
        "spinflip_emulate_batch": ([_handle, _dptr, _size, _size, _dptr, _size], ctypes.c_int),
    }
    for name, (args, res) in sigs.items():
        f = getattr(c, name)
        f.argtypes = args
        f.restype = res
    _libs[path] = c
    return c


def _ptr(a):
    return a.ctypes.data_as(_dptr)


def _vector(x, n, what):
    """A contiguous float64 copy-if-needed of `x`, checked to hold `n` values."""
    a = np.ascontiguousarray(x, dtype=np.float64)
    if a.ndim != 1 or a.shape[0] != n:
        raise ValueError(f"{what}: expected shape ({n},), got {np.shape(x)}")
    return a


def _matrix(x, n, what):
    a = np.ascontiguousarray(x, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != n:
        raise ValueError(f"{what}: expected shape (n_points, {n}), got {np.shape(x)}")
    return a


class Likelihood:
    """A spinflip likelihood handle built from a run configuration (the TOML `spinflip fit` reads).

    theta always holds all `n_params` parameters (fixed ones included); the unit cube of
    `prior_transform` has `n_dims` (free) dimensions. `free_index` lists the indices of the free
    parameters in theta, and `to_theta`/`free_part` convert between the two.
    """

    def __init__(self, config, lib=None):
        self._lib = load_library(lib)
        self._h = None
        h = _handle()
        self._check(self._lib.spinflip_likelihood_from_config(os.fsencode(config), ctypes.byref(h)))
        self._h = h
        n = _size()
        self._check(self._lib.spinflip_n_params(self._h, ctypes.byref(n)))
        self.n_params = n.value
        self._check(self._lib.spinflip_n_dims(self._h, ctypes.byref(n)))
        self.n_dims = n.value
        m, o = _size(), _size()
        self._check(self._lib.spinflip_model_shape(self._h, ctypes.byref(m), ctypes.byref(o)))
        self.n_model_params, self.n_outputs = m.value, o.value
        self.names, self.latex = [], []
        for i in range(self.n_params):
            name, latex = ctypes.c_char_p(), ctypes.c_char_p()
            self._check(
                self._lib.spinflip_param_name(self._h, i, ctypes.byref(name), ctypes.byref(latex))
            )
            self.names.append(name.value.decode())
            self.latex.append(latex.value.decode())
        # The ABI has no "is fixed" query; a free parameter's quantile function is strictly
        # increasing, so it differs between two cube points, and a fixed one never moves.
        lo = self.prior_transform(np.full(self.n_dims, 0.25))
        hi = self.prior_transform(np.full(self.n_dims, 0.75))
        self.free_index = np.flatnonzero(lo != hi)
        if len(self.free_index) != self.n_dims:
            raise SpinflipError(
                INVALID_ARGUMENT,
                f"found {len(self.free_index)} varying parameters for {self.n_dims} cube dimensions",
            )
        self._fixed_theta = lo  # the fixed entries, overwritten by to_theta
        self.free_names = [self.names[i] for i in self.free_index]

    # --- lifetime -----------------------------------------------------------------------------
    def free(self):
        """Release the handle (idempotent). Later calls raise."""
        if self._h is not None:
            h, self._h = self._h, None
            self._check(self._lib.spinflip_likelihood_free(h))

    close = free

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.free()

    def __del__(self):
        try:
            self.free()
        except Exception:
            pass

    # --- helpers ------------------------------------------------------------------------------
    def _check(self, status, allow=()):
        if status != OK and status not in allow:
            msg = self._lib.spinflip_last_error()
            raise SpinflipError(status, msg.decode(errors="replace") if msg else "")
        return status

    def _live(self):
        if self._h is None:
            raise SpinflipError(NULL_POINTER, "the likelihood handle was freed")
        return self._h

    @property
    def version(self):
        """The library version string."""
        return self._lib.spinflip_version().decode()

    def to_theta(self, x):
        """Full theta (n_params) from the free parameters (n_dims), fixed ones filled in.
        Works on one point (n_dims,) or many (n_points, n_dims)."""
        x = np.asarray(x, dtype=np.float64)
        out = np.broadcast_to(self._fixed_theta, x.shape[:-1] + (self.n_params,)).copy()
        out[..., self.free_index] = x
        return out

    def free_part(self, theta):
        """The free parameters of a full theta (one point or many)."""
        return np.asarray(theta)[..., self.free_index]

    # --- the ABI ------------------------------------------------------------------------------
    def prior_transform(self, u):
        """Unit-cube point (n_dims values in [0, 1]) -> theta (n_params values)."""
        u = _vector(u, self.n_dims, "u")
        theta = np.empty(self.n_params)
        self._check(
            self._lib.spinflip_prior_transform(self._live(), _ptr(u), u.size, _ptr(theta), theta.size)
        )
        return theta

    def log_prior(self, theta):
        """Log prior density at theta (-inf outside the prior)."""
        theta = _vector(theta, self.n_params, "theta")
        out = ctypes.c_double()
        self._check(self._lib.spinflip_log_prior(self._live(), _ptr(theta), theta.size, ctypes.byref(out)))
        return out.value

    def log_likelihood(self, theta):
        """Log-likelihood at theta; -inf where the model rejects the point."""
        theta = _vector(theta, self.n_params, "theta")
        out = ctypes.c_double()
        self._check(
            self._lib.spinflip_log_likelihood(self._live(), _ptr(theta), theta.size, ctypes.byref(out)),
            allow=(REJECTED,),
        )
        return out.value

    def log_likelihood_batch(self, thetas):
        """Log-likelihoods of (n_points, n_params) points in one batched call (UltraNest's
        vectorised shape); rejected points get -inf."""
        thetas = _matrix(thetas, self.n_params, "thetas")
        out = np.empty(thetas.shape[0])
        self._check(
            self._lib.spinflip_log_likelihood_batch(
                self._live(), _ptr(thetas), thetas.shape[0], self.n_params, _ptr(out)
            )
        )
        return out

    @property
    def grid(self):
        """The model's output grid (redshifts), n_outputs values."""
        g = np.empty(self.n_outputs)
        self._check(self._lib.spinflip_model_grid(self._live(), _ptr(g), g.size))
        return g

    def emulate(self, params):
        """Model signal(s) in mK on `grid` for the model parameters (the first n_model_params
        entries of theta): shape (n_model_params,) -> (n_outputs,), or (n, n_model_params) ->
        (n, n_outputs). Raises SpinflipError(REJECTED) if a point is outside the model's range."""
        p = np.ascontiguousarray(params, dtype=np.float64)
        single = p.ndim == 1
        p = _matrix(p[None, :] if single else p, self.n_model_params, "params")
        out = np.empty((p.shape[0], self.n_outputs))
        self._check(
            self._lib.spinflip_emulate_batch(
                self._live(), _ptr(p), p.shape[0], self.n_model_params, _ptr(out), out.size
            )
        )
        return out[0] if single else out
