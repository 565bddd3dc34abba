//! The forward-model interface shared by the simulator and the emulator.

use crate::error::ModelError;

/// A deterministic map from parameters `theta` to a signal on a fixed grid.
///
/// For the global 21-cm signal the grid is redshift (`grid()` holds z, high to low or low to
/// high as the model documents) and the output is the brightness temperature in mK.
///
/// ```
/// use spinflip_likelihoods::{ForwardModel, ModelError};
///
/// /// A straight line a + b x on x = 0, 1, 2.
/// struct Line { x: Vec<f64> }
/// impl ForwardModel for Line {
///     fn param_names(&self) -> Vec<String> { vec!["a".into(), "b".into()] }
///     fn grid(&self) -> &[f64] { &self.x }
///     fn predict(&self, theta: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
///         self.check_shapes(theta.len(), out.len())?;
///         for (o, x) in out.iter_mut().zip(&self.x) { *o = theta[0] + theta[1] * x; }
///         Ok(())
///     }
/// }
/// let m = Line { x: vec![0.0, 1.0, 2.0] };
/// let mut out = vec![0.0; 6];
/// let mut ok = vec![false; 2];
/// m.predict_batch(&[1.0, 1.0, 0.0, 2.0], &mut out, &mut ok).unwrap();
/// assert_eq!(out, [1.0, 2.0, 3.0, 0.0, 2.0, 4.0]);
/// ```
pub trait ForwardModel: Send + Sync {
    /// Names of the parameters, in the order `theta` takes them.
    fn param_names(&self) -> Vec<String>;

    /// Number of parameters.
    fn n_params(&self) -> usize {
        self.param_names().len()
    }

    /// The grid the signal is computed on (redshifts for the global signal).
    fn grid(&self) -> &[f64];

    /// Number of output channels.
    fn n_outputs(&self) -> usize {
        self.grid().len()
    }

    /// The signal at one point, written into `out` (`n_outputs()` values).
    fn predict(&self, theta: &[f64], out: &mut [f64]) -> Result<(), ModelError>;

    /// The signal at `n = ok.len()` points (`theta` row-major, `n * n_params()` values) into
    /// `out` (`n * n_outputs()` values). A point that fails recoverably gets `ok[i] = false`
    /// (its outputs are unspecified); a fatal error fails the batch.
    fn predict_batch(
        &self,
        thetas: &[f64],
        out: &mut [f64],
        ok: &mut [bool],
    ) -> Result<(), ModelError> {
        self.check_batch_shapes(thetas.len(), out.len(), ok.len())?;
        let (d, m, n) = (self.n_params(), self.n_outputs(), ok.len());
        for i in 0..n {
            match self.predict(&thetas[i * d..(i + 1) * d], &mut out[i * m..(i + 1) * m]) {
                Ok(()) => ok[i] = true,
                Err(e) if e.is_recoverable() => ok[i] = false,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// A hint for batching: batch sizes that are multiples of this cost no more per call than
    /// smaller ones; samplers round batches up to it. An emulator evaluating signals in SIMD
    /// groups of 16 returns 16. The default, 1, means no preference. Likelihoods built on a
    /// model pass it on as [`LogLikelihood::preferred_batch`](spinflip_samplers::LogLikelihood::preferred_batch).
    fn preferred_batch(&self) -> usize {
        1
    }

    /// The box of parameters the model is valid on, one `(min, max)` per parameter: for an
    /// emulator, the box its training data were drawn from. `None`: no limit the model knows
    /// of (points it cannot compute still fail one by one). Configurations check their priors
    /// against it before a run starts.
    fn valid_box(&self) -> Option<Vec<(f64, f64)>> {
        None
    }

    /// The outputs at `theta` (into `out`) and a vector-Jacobian product: `cotangent` is
    /// given the outputs and writes `v` (one value per output) into its second argument;
    /// `grad` receives `J^T v = d(v . m)/d(theta)` for that fixed `v`. Reverse-mode models
    /// (a network with a backward pass) get the gradient of a likelihood for about the cost
    /// of a couple of evaluations.
    ///
    /// Returns `Ok(false)`, writing nothing, when the model has no derivative; likelihoods
    /// then fall back to finite differences.
    fn predict_vjp(
        &self,
        theta: &[f64],
        out: &mut [f64],
        cotangent: &mut dyn FnMut(&[f64], &mut [f64]),
        grad: &mut [f64],
    ) -> Result<bool, ModelError> {
        let _ = (theta, out, cotangent, grad);
        Ok(false)
    }

    /// Check a batched call's shapes (`n` points); implementations call this first.
    fn check_batch_shapes(
        &self,
        n_thetas: usize,
        n_out: usize,
        n: usize,
    ) -> Result<(), ModelError> {
        let (d, m) = (self.n_params(), self.n_outputs());
        if n_thetas != n * d {
            return Err(ModelError::Dimension {
                what: "batched parameters".into(),
                expected: n * d,
                got: n_thetas,
            });
        }
        if n_out != n * m {
            return Err(ModelError::Dimension {
                what: "batched output".into(),
                expected: n * m,
                got: n_out,
            });
        }
        Ok(())
    }

    /// Check a single call's shapes; implementations call this first.
    fn check_shapes(&self, n_theta: usize, n_out: usize) -> Result<(), ModelError> {
        if n_theta != self.n_params() {
            return Err(ModelError::Dimension {
                what: "parameters".into(),
                expected: self.n_params(),
                got: n_theta,
            });
        }
        if n_out != self.n_outputs() {
            return Err(ModelError::Dimension {
                what: "output".into(),
                expected: self.n_outputs(),
                got: n_out,
            });
        }
        Ok(())
    }
}

impl<T: ForwardModel + ?Sized> ForwardModel for Box<T> {
    fn predict_vjp(
        &self,
        theta: &[f64],
        out: &mut [f64],
        cotangent: &mut dyn FnMut(&[f64], &mut [f64]),
        grad: &mut [f64],
    ) -> Result<bool, ModelError> {
        (**self).predict_vjp(theta, out, cotangent, grad)
    }
    fn param_names(&self) -> Vec<String> {
        (**self).param_names()
    }
    fn n_params(&self) -> usize {
        (**self).n_params()
    }
    fn grid(&self) -> &[f64] {
        (**self).grid()
    }
    fn n_outputs(&self) -> usize {
        (**self).n_outputs()
    }
    fn predict(&self, theta: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
        (**self).predict(theta, out)
    }
    fn predict_batch(
        &self,
        thetas: &[f64],
        out: &mut [f64],
        ok: &mut [bool],
    ) -> Result<(), ModelError> {
        (**self).predict_batch(thetas, out, ok)
    }
    fn preferred_batch(&self) -> usize {
        (**self).preferred_batch()
    }
    fn valid_box(&self) -> Option<Vec<(f64, f64)>> {
        (**self).valid_box()
    }
}

impl<T: ForwardModel + ?Sized> ForwardModel for std::sync::Arc<T> {
    fn predict_vjp(
        &self,
        theta: &[f64],
        out: &mut [f64],
        cotangent: &mut dyn FnMut(&[f64], &mut [f64]),
        grad: &mut [f64],
    ) -> Result<bool, ModelError> {
        (**self).predict_vjp(theta, out, cotangent, grad)
    }
    fn param_names(&self) -> Vec<String> {
        (**self).param_names()
    }
    fn n_params(&self) -> usize {
        (**self).n_params()
    }
    fn grid(&self) -> &[f64] {
        (**self).grid()
    }
    fn n_outputs(&self) -> usize {
        (**self).n_outputs()
    }
    fn predict(&self, theta: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
        (**self).predict(theta, out)
    }
    fn predict_batch(
        &self,
        thetas: &[f64],
        out: &mut [f64],
        ok: &mut [bool],
    ) -> Result<(), ModelError> {
        (**self).predict_batch(thetas, out, ok)
    }
    fn preferred_batch(&self) -> usize {
        (**self).preferred_batch()
    }
    fn valid_box(&self) -> Option<Vec<(f64, f64)>> {
        (**self).valid_box()
    }
}
