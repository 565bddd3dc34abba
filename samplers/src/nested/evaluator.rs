//! Unit-cube points to likelihood values, in batches, with the checks every value needs.

use crate::error::SamplerError;
use crate::likelihood::LogLikelihood;
use crate::parameters::ParameterSet;

/// Maps cube points through the prior transform and calls the likelihood on the batch.
pub struct Evaluator<'a, L: ?Sized> {
    params: &'a ParameterSet,
    likelihood: &'a L,
    theta: Vec<f64>,
    out: Vec<f64>,
}

impl<'a, L: LogLikelihood + ?Sized> Evaluator<'a, L> {
    /// An evaluator for `likelihood` over `params`.
    pub fn new(params: &'a ParameterSet, likelihood: &'a L) -> Self {
        Evaluator {
            params,
            likelihood,
            theta: Vec::new(),
            out: Vec::new(),
        }
    }

    /// Free dimensions.
    pub fn n_free(&self) -> usize {
        self.params.n_free()
    }

    /// Parameters per theta.
    pub fn n_params(&self) -> usize {
        self.params.n_params()
    }

    /// The likelihood's [`LogLikelihood::preferred_batch`], at least 1.
    pub fn preferred_batch(&self) -> usize {
        self.likelihood.preferred_batch().max(1)
    }

    /// Evaluates the cube points `u` (row-major): returns (theta row-major, log L).
    /// Every point counts as a call in `n_calls`. NaN or `+inf` stop the run; recoverable
    /// errors are already `-inf` through [`LogLikelihood::log_likelihood_batch`].
    pub fn evaluate(
        &mut self,
        u: &[f64],
        n_calls: &mut u64,
    ) -> Result<(&[f64], &[f64]), SamplerError> {
        let (d, p) = (self.n_free(), self.n_params());
        let n = u.len() / d;
        self.theta.resize(n * p, 0.0);
        self.out.resize(n, 0.0);
        for (cube, th) in u.chunks_exact(d).zip(self.theta.chunks_exact_mut(p)) {
            self.params.prior_transform(cube, th)?;
        }
        self.likelihood
            .log_likelihood_batch(&self.theta, &mut self.out)?;
        *n_calls += n as u64;
        for (i, &v) in self.out.iter().enumerate() {
            if v.is_nan() || v == f64::INFINITY {
                return Err(SamplerError::NonFiniteLikelihood {
                    value: v,
                    theta: self.theta[i * p..(i + 1) * p].to_vec(),
                });
            }
        }
        Ok((&self.theta, &self.out))
    }
}
