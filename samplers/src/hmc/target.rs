//! The log posterior in unconstrained coordinates and its gradient, from a
//! [`GradLogLikelihood`] and the priors' bijections.

use super::transport::TransportMap;
use crate::error::SamplerError;
use crate::likelihood::GradLogLikelihood;
use crate::transform::Unconstrained;

/// A point of the chain in unconstrained coordinates, with its log density and gradient.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Position `y`.
    pub y: Vec<f64>,
    /// `ln p(y)` (log posterior in `y`, up to the evidence).
    pub logp: f64,
    /// `d ln p / dy`.
    pub grad: Vec<f64>,
    /// The log-likelihood at the point (for chain files).
    pub log_like: f64,
}

/// Evaluates `ln L(theta(y)) + ln prior(theta(y)) + ln|dtheta/dy|` and its gradient.
pub struct Target<'a, L: ?Sized> {
    like: &'a L,
    unc: &'a Unconstrained,
    /// Include the log-Jacobian (sampling); without it the density is that of theta
    /// (optimising for the MAP).
    jacobian: bool,
    theta: Vec<f64>,
    dtheta: Vec<f64>,
    dlp: Vec<f64>,
    gtheta: Vec<f64>,
    /// The sampler's coordinates are `z` with `y = T(z)` when set (a
    /// [`TransportMap`]); otherwise they are `y` itself.
    map: Option<TransportMap>,
    ybuf: Vec<f64>,
    gybuf: Vec<f64>,
    /// Gradient evaluations so far.
    pub n_calls: u64,
}

impl<'a, L: GradLogLikelihood + ?Sized> Target<'a, L> {
    /// A target for `like` over the free parameters of `unc`.
    pub fn new(like: &'a L, unc: &'a Unconstrained) -> Self {
        let (d, p) = (unc.dim(), unc.params().n_params());
        Target {
            like,
            unc,
            jacobian: true,
            theta: vec![0.0; p],
            dtheta: vec![0.0; d],
            dlp: vec![0.0; d],
            gtheta: vec![0.0; p],
            map: None,
            ybuf: vec![0.0; d],
            gybuf: vec![0.0; d],
            n_calls: 0,
        }
    }

    /// Sample in the coordinates `z` of `map` (`y = T(z)`), or in `y` itself (`None`).
    /// The density in `z` is that in `y` times the map's Jacobian.
    pub fn set_map(&mut self, map: Option<TransportMap>) {
        self.map = map;
    }

    /// The unconstrained coordinates `y` of the sampler's coordinates `x`.
    pub fn y_of(&self, x: &[f64]) -> Vec<f64> {
        match &self.map {
            Some(m) => {
                let mut y = vec![0.0; x.len()];
                m.forward(x, &mut y);
                y
            }
            None => x.to_vec(),
        }
    }

    /// The same target without the log-Jacobian: `ln L + ln prior` of theta(y), whose
    /// maximum over `y` is the maximum a posteriori point in physical units.
    pub fn without_jacobian(mut self) -> Self {
        self.jacobian = false;
        self
    }

    /// The physical parameters (all of them) at the last evaluated `y`.
    pub fn theta(&self) -> &[f64] {
        &self.theta
    }

    /// The physical parameters (all of them) at the sampler's coordinates `x`, without
    /// evaluating the likelihood.
    pub fn theta_of(&mut self, x: &[f64]) -> &[f64] {
        let y = self.y_of(x);
        self.unc
            .to_theta(&y, &mut self.theta, &mut self.dtheta, &mut self.dlp);
        &self.theta
    }

    /// The point at `y`; a rejected or non-finite likelihood gives `logp = -inf`.
    pub fn point(&mut self, y: &[f64]) -> Result<Point, SamplerError> {
        let mut grad = vec![0.0; y.len()];
        let (logp, log_like) = self.eval(y, &mut grad)?;
        Ok(Point {
            y: y.to_vec(),
            logp,
            grad,
            log_like,
        })
    }

    /// `(ln p(x), ln L)` at the sampler's coordinates `x` (`y`, or `z` of the map), with
    /// `d ln p / dx` written into `grad`.
    pub fn eval(&mut self, x: &[f64], grad: &mut [f64]) -> Result<(f64, f64), SamplerError> {
        let Some(map) = self.map.take() else {
            return self.eval_y(x, grad);
        };
        let mut y = std::mem::take(&mut self.ybuf);
        let mut gy = std::mem::take(&mut self.gybuf);
        map.forward(x, &mut y);
        let mut out = self.eval_y(&y, &mut gy);
        if let Ok((logp, _)) = &mut out {
            let log_det = map.pullback(&y, &gy, grad);
            *logp += log_det;
        }
        (self.ybuf, self.gybuf, self.map) = (y, gy, Some(map));
        out
    }

    /// `(ln p(y), ln L)`, with `d ln p / dy` written into `grad`.
    fn eval_y(&mut self, y: &[f64], grad: &mut [f64]) -> Result<(f64, f64), SamplerError> {
        let lp = self.unc.to_theta_with(
            y,
            &mut self.theta,
            &mut self.dtheta,
            &mut self.dlp,
            self.jacobian,
        );
        self.n_calls += 1;
        if !lp.is_finite() {
            grad.fill(0.0);
            return Ok((f64::NEG_INFINITY, f64::NEG_INFINITY));
        }
        let ll = match self
            .like
            .log_likelihood_and_gradient(&self.theta, &mut self.gtheta)
        {
            Ok(v) => v,
            Err(e) if e.is_recoverable() => f64::NEG_INFINITY,
            Err(e) => return Err(e.into()),
        };
        if ll.is_nan() || ll == f64::INFINITY {
            return Err(SamplerError::NonFiniteLikelihood {
                value: ll,
                theta: self.theta.clone(),
            });
        }
        if ll == f64::NEG_INFINITY || self.gtheta.iter().any(|g| !g.is_finite()) {
            grad.fill(0.0);
            return Ok((f64::NEG_INFINITY, ll));
        }
        for (k, &i) in self.unc.params().free_indices().iter().enumerate() {
            grad[k] = self.gtheta[i] * self.dtheta[k] + self.dlp[k];
        }
        Ok((ll + lp, ll))
    }
}
