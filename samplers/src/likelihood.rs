//! The likelihood contract between a model and the samplers.

use crate::error::LikelihoodError;
use rayon::prelude::*;

/// A log-likelihood over a parameter vector `theta` (physical parameters, in
/// [`ParameterSet`](crate::ParameterSet) order, fixed parameters included).
///
/// Implement [`log_likelihood`](LogLikelihood::log_likelihood); override
/// [`log_likelihood_batch`](LogLikelihood::log_likelihood_batch) when many points are
/// cheaper together (neural emulators evaluate a batch in one pass).
///
/// Return `f64::NEG_INFINITY` or [`LikelihoodError::Recoverable`] to reject a point;
/// NaN and `+inf` stop the sampler with a clear error.
///
/// ```
/// use spinflip_samplers::{LikelihoodError, LogLikelihood};
///
/// /// Unit Gaussian centred on the origin.
/// struct Gauss(usize);
/// impl LogLikelihood for Gauss {
///     fn n_params(&self) -> usize { self.0 }
///     fn log_likelihood(&self, theta: &[f64]) -> Result<f64, LikelihoodError> {
///         let r2: f64 = theta.iter().map(|x| x * x).sum();
///         Ok(-0.5 * r2 - 0.5 * self.0 as f64 * (2.0 * std::f64::consts::PI).ln())
///     }
/// }
/// let g = Gauss(2);
/// let mut out = [0.0; 2];
/// g.log_likelihood_batch(&[0.0, 0.0, 1.0, 0.0], &mut out).unwrap();
/// assert!((out[0] - out[1] - 0.5).abs() < 1e-12);
/// ```
pub trait LogLikelihood {
    /// Number of parameters `theta` must have.
    fn n_params(&self) -> usize;

    /// The log-likelihood at one point.
    fn log_likelihood(&self, theta: &[f64]) -> Result<f64, LikelihoodError>;

    /// The log-likelihood at `n = out.len()` points stored row-major in `points`
    /// (`n * n_params()` values). A recoverable failure at one point writes `-inf` there;
    /// a fatal one fails the whole batch.
    fn log_likelihood_batch(&self, points: &[f64], out: &mut [f64]) -> Result<(), LikelihoodError> {
        let d = self.n_params();
        check_batch(points.len(), out.len(), d)?;
        for (theta, o) in points.chunks_exact(d.max(1)).zip(out.iter_mut()) {
            *o = recover(self.log_likelihood(theta))?;
        }
        Ok(())
    }

    /// A hint for batching: batch sizes that are multiples of this cost no more per call than
    /// smaller ones, so samplers round batches up to it. An emulator that evaluates signals in
    /// groups of 16 SIMD lanes returns 16 (a batch of 3 costs as much as one of 16). The
    /// default, 1, means no preference.
    ///
    /// Only the nested sampler's rejection step uses it: slice sampling batches the
    /// proposals of its `slice_chains` chains in lockstep (a setting, best a multiple of
    /// this), and the ensemble sampler's batch is half the walkers, fixed by the settings.
    fn preferred_batch(&self) -> usize {
        1
    }
}

/// A likelihood that also gives its gradient with respect to `theta`.
pub trait GradLogLikelihood: LogLikelihood {
    /// Writes d(log L)/d(theta) into `grad` and returns log L.
    fn log_likelihood_and_gradient(
        &self,
        theta: &[f64],
        grad: &mut [f64],
    ) -> Result<f64, LikelihoodError>;
}

/// Turn a per-point result into a value: recoverable errors become `-inf`.
pub fn recover(r: Result<f64, LikelihoodError>) -> Result<f64, LikelihoodError> {
    match r {
        Ok(v) => Ok(v),
        Err(e) if e.is_recoverable() => Ok(f64::NEG_INFINITY),
        Err(e) => Err(e),
    }
}

/// Check the shapes of a batched call.
pub fn check_batch(n_points_values: usize, n_out: usize, d: usize) -> Result<(), LikelihoodError> {
    if n_points_values != n_out * d {
        return Err(LikelihoodError::Dimension {
            expected: n_out * d,
            got: n_points_values,
        });
    }
    Ok(())
}

impl<T: LogLikelihood + ?Sized> LogLikelihood for &T {
    fn n_params(&self) -> usize {
        (**self).n_params()
    }
    fn log_likelihood(&self, theta: &[f64]) -> Result<f64, LikelihoodError> {
        (**self).log_likelihood(theta)
    }
    fn log_likelihood_batch(&self, points: &[f64], out: &mut [f64]) -> Result<(), LikelihoodError> {
        (**self).log_likelihood_batch(points, out)
    }
    fn preferred_batch(&self) -> usize {
        (**self).preferred_batch()
    }
}

impl<T: LogLikelihood + ?Sized> LogLikelihood for Box<T> {
    fn n_params(&self) -> usize {
        (**self).n_params()
    }
    fn log_likelihood(&self, theta: &[f64]) -> Result<f64, LikelihoodError> {
        (**self).log_likelihood(theta)
    }
    fn log_likelihood_batch(&self, points: &[f64], out: &mut [f64]) -> Result<(), LikelihoodError> {
        (**self).log_likelihood_batch(points, out)
    }
    fn preferred_batch(&self) -> usize {
        (**self).preferred_batch()
    }
}

/// Evaluates a thread-safe likelihood's batches in parallel with rayon, one point per task.
///
/// Wrap a likelihood in `Parallel` when single calls are expensive (a simulator) and the
/// likelihood is `Sync`; emulators that already vectorise a batch gain nothing from it.
#[derive(Debug, Clone)]
pub struct Parallel<L>(pub L);

impl<L: LogLikelihood + Sync> LogLikelihood for Parallel<L> {
    fn n_params(&self) -> usize {
        self.0.n_params()
    }
    fn log_likelihood(&self, theta: &[f64]) -> Result<f64, LikelihoodError> {
        self.0.log_likelihood(theta)
    }
    fn log_likelihood_batch(&self, points: &[f64], out: &mut [f64]) -> Result<(), LikelihoodError> {
        let d = self.0.n_params();
        check_batch(points.len(), out.len(), d)?;
        points
            .par_chunks_exact(d.max(1))
            .zip(out.par_iter_mut())
            .try_for_each(|(theta, o)| {
                *o = recover(self.0.log_likelihood(theta))?;
                Ok(())
            })
    }
    fn preferred_batch(&self) -> usize {
        self.0.preferred_batch()
    }
}

/// A likelihood from a closure, for tests and quick problems.
pub struct FnLikelihood<F> {
    n: usize,
    f: F,
}

impl<F> FnLikelihood<F>
where
    F: Fn(&[f64]) -> f64,
{
    /// `f(theta)` over `n` parameters.
    pub fn new(n: usize, f: F) -> Self {
        FnLikelihood { n, f }
    }
}

impl<F> LogLikelihood for FnLikelihood<F>
where
    F: Fn(&[f64]) -> f64,
{
    fn n_params(&self) -> usize {
        self.n
    }
    fn log_likelihood(&self, theta: &[f64]) -> Result<f64, LikelihoodError> {
        if theta.len() != self.n {
            return Err(LikelihoodError::Dimension {
                expected: self.n,
                got: theta.len(),
            });
        }
        Ok((self.f)(theta))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_default_matches_single_and_rejects_recoverable() {
        struct L;
        impl LogLikelihood for L {
            fn n_params(&self) -> usize {
                1
            }
            fn log_likelihood(&self, t: &[f64]) -> Result<f64, LikelihoodError> {
                if t[0] < 0.0 {
                    Err(LikelihoodError::Recoverable("negative".into()))
                } else {
                    Ok(-t[0])
                }
            }
        }
        let mut out = [0.0; 3];
        L.log_likelihood_batch(&[1.0, -1.0, 2.0], &mut out).unwrap();
        assert_eq!(out, [-1.0, f64::NEG_INFINITY, -2.0]);
        let mut par = [0.0; 3];
        Parallel(L)
            .log_likelihood_batch(&[1.0, -1.0, 2.0], &mut par)
            .unwrap();
        assert_eq!(out, par);
        assert!(L.log_likelihood_batch(&[1.0, 2.0], &mut out).is_err());
    }

    #[test]
    fn fatal_error_fails_batch() {
        let l = FnLikelihood::new(2, |t: &[f64]| t[0]);
        let err = l.log_likelihood(&[1.0]).unwrap_err();
        assert!(!err.is_recoverable());
    }
}
