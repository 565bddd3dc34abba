//! The maximum a posteriori point by L-BFGS with a More-Thuente line search (argmin), from
//! several starts, in the priors' unconstrained coordinates (so bounds are never crossed),
//! and the Laplace approximation around it: the covariance from the Hessian of
//! `ln L + ln prior` (central differences of the gradient) and the evidence
//! `ln Z ~ ln L* + ln prior* + (d/2) ln 2 pi + (1/2) ln det Sigma`.

use crate::error::SamplerError;
use crate::hmc::target::Target;
use crate::likelihood::GradLogLikelihood;
use crate::nested::linalg::{cholesky, solve_cholesky};
use crate::parameters::ParameterSet;
use crate::transform::{dlog_prior, Unconstrained};
use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;

/// Settings of [`find_map`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MapSettings {
    /// Starts: random points with unconstrained coordinates in (-2, 2) (the first at the
    /// centre of every prior), the best end point wins.
    pub n_starts: usize,
    /// Most L-BFGS iterations per start.
    pub max_iters: u64,
    /// Stop when the gradient norm (unconstrained coordinates) is below this.
    pub tol_grad: f64,
    /// Seed of the starts.
    pub seed: u64,
    /// Maximise the density of the unconstrained coordinates (log-Jacobian included)
    /// instead of `ln L + ln prior`: the mode of what HMC samples, always inside the prior
    /// (a good start for NUTS), where the physical MAP may sit on a bound. The Laplace
    /// covariance is then that of the unconstrained coordinates
    /// ([`MapResult::covariance_unconstrained`]).
    pub unconstrained: bool,
}

impl Default for MapSettings {
    fn default() -> Self {
        MapSettings {
            n_starts: 4,
            max_iters: 1000,
            tol_grad: 1e-6,
            seed: 0,
            unconstrained: false,
        }
    }
}

/// The MAP point and the Laplace approximation around it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MapResult {
    /// Parameter names (all parameters).
    pub names: Vec<String>,
    /// LaTeX labels.
    pub latex: Vec<String>,
    /// The MAP point, all parameters.
    pub theta: Vec<f64>,
    /// `ln L + ln prior` there.
    pub log_posterior: f64,
    /// `ln L` there.
    pub log_likelihood: f64,
    /// The end point's `ln L + ln prior` of every start (how many found the same optimum).
    pub start_values: Vec<f64>,
    /// Laplace covariance of the free parameters (row-major), when the Hessian there is
    /// negative definite; `None` at a boundary or a saddle.
    pub covariance: Option<Vec<f64>>,
    /// Laplace estimate of ln Z, with the covariance.
    pub log_evidence_laplace: Option<f64>,
    /// With [`MapSettings::unconstrained`]: the Laplace covariance of the unconstrained
    /// coordinates at their mode (row-major; NUTS's first metric), when the Hessian there
    /// is negative definite.
    #[serde(default)]
    pub covariance_unconstrained: Option<Vec<f64>>,
    /// Indices of the free parameters.
    pub free: Vec<usize>,
    /// Gradient evaluations.
    pub n_calls: u64,
}

impl MapResult {
    /// Laplace standard deviation of each free parameter (NaN without a covariance).
    pub fn std(&self) -> Vec<f64> {
        let d = self.free.len();
        (0..d)
            .map(|i| {
                self.covariance
                    .as_ref()
                    .map_or(f64::NAN, |c| c[i * d + i].sqrt())
            })
            .collect()
    }
}

/// `-(ln L + ln prior)` over unconstrained coordinates, for argmin, times `scale`.
///
/// L-BFGS's first step is the raw negative gradient; with chi^2 in the thousands that is a
/// jump of thousands of units in `y`, far outside where the likelihood is finite. Scaling the
/// objective by `1 / |gradient at the start|` makes the first step of unit length and leaves
/// the minimum and the later (curvature-scaled) steps unchanged. Points where the likelihood
/// is zero get a large finite cost, so the line search backs off instead of failing on inf.
struct Objective<'a, L: ?Sized> {
    target: Mutex<Target<'a, L>>,
    error: Mutex<Option<SamplerError>>,
    scale: f64,
    wall: f64,
}

impl<L: GradLogLikelihood + ?Sized> Objective<'_, L> {
    /// Unscaled `(cost, gradient)`; `None` where the posterior is zero.
    fn raw(&self, y: &[f64]) -> Option<(f64, Vec<f64>)> {
        let mut g = vec![0.0; y.len()];
        let mut t = self.target.lock().unwrap_or_else(|e| e.into_inner());
        match t.eval(y, &mut g) {
            Ok((lp, _)) if lp.is_finite() => Some((-lp, g.iter().map(|x| -x).collect())),
            Ok(_) => None,
            Err(e) => {
                *self.error.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                None
            }
        }
    }

    fn eval(&self, y: &[f64]) -> (f64, Vec<f64>) {
        match self.raw(y) {
            Some((c, g)) => (c * self.scale, g.iter().map(|x| x * self.scale).collect()),
            None => (self.wall, vec![0.0; y.len()]),
        }
    }
}

/// A borrowed objective (argmin's executor takes its problem by value).
struct ObjRef<'o, 'a, L: ?Sized>(&'o Objective<'a, L>);

impl<L: GradLogLikelihood + ?Sized> CostFunction for ObjRef<'_, '_, L> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, y: &Self::Param) -> Result<f64, argmin::core::Error> {
        Ok(self.0.eval(y).0)
    }
}

impl<L: GradLogLikelihood + ?Sized> Gradient for ObjRef<'_, '_, L> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, y: &Self::Param) -> Result<Vec<f64>, argmin::core::Error> {
        Ok(self.0.eval(y).1)
    }
}

/// Find the MAP point of `likelihood` x the priors of `params`; see the [module docs](self).
///
/// ```
/// use spinflip_samplers::map::{find_map, MapSettings};
/// use spinflip_samplers::{GradLogLikelihood, LikelihoodError, LogLikelihood, ParameterSet, Prior};
///
/// /// ln L = -(x - 1)^2 / (2 * 0.3^2): with a flat prior the MAP is 1, the Laplace std 0.3.
/// struct G;
/// impl LogLikelihood for G {
///     fn n_params(&self) -> usize { 1 }
///     fn log_likelihood(&self, t: &[f64]) -> Result<f64, LikelihoodError> {
///         Ok(-0.5 * ((t[0] - 1.0) / 0.3).powi(2))
///     }
/// }
/// impl GradLogLikelihood for G {
///     fn log_likelihood_and_gradient(&self, t: &[f64], g: &mut [f64]) -> Result<f64, LikelihoodError> {
///         g[0] = -(t[0] - 1.0) / 0.09;
///         self.log_likelihood(t)
///     }
/// }
/// let params = ParameterSet::iid(1, Prior::uniform(-5.0, 5.0).unwrap()).unwrap();
/// let r = find_map(&params, &G, &MapSettings::default())?;
/// assert!((r.theta[0] - 1.0).abs() < 1e-5);
/// assert!((r.std()[0] - 0.3).abs() < 1e-4);
/// # Ok::<(), spinflip_samplers::SamplerError>(())
/// ```
pub fn find_map<L: GradLogLikelihood + ?Sized>(
    params: &ParameterSet,
    likelihood: &L,
    settings: &MapSettings,
) -> Result<MapResult, SamplerError> {
    if likelihood.n_params() != params.n_params() {
        return Err(SamplerError::Dimension {
            what: "likelihood parameters vs parameter set".into(),
            expected: params.n_params(),
            got: likelihood.n_params(),
        });
    }
    if settings.n_starts == 0 {
        return Err(SamplerError::InvalidSetting {
            setting: "n_starts".into(),
            reason: "need at least one start".into(),
        });
    }
    let unc = Unconstrained::new(params);
    let d = unc.dim();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(settings.seed);
    let mut best: Option<(f64, Vec<f64>)> = None;
    let mut start_values = Vec::new();
    let mut n_calls = 0;
    for s in 0..settings.n_starts {
        let y0: Vec<f64> = if s == 0 {
            vec![0.0; d]
        } else {
            (0..d).map(|_| rng.random_range(-2.0..2.0)).collect()
        };
        let target = Target::new(likelihood, &unc);
        let target = if settings.unconstrained {
            target
        } else {
            target.without_jacobian()
        };
        let mut obj = Objective {
            target: Mutex::new(target),
            error: Mutex::new(None),
            scale: 1.0,
            wall: f64::INFINITY,
        };
        let Some((c0, g0)) = obj.raw(&y0) else {
            if let Some(e) = obj.error.lock().unwrap_or_else(|e| e.into_inner()).take() {
                return Err(e);
            }
            start_values.push(f64::NEG_INFINITY);
            continue;
        };
        let g_norm = g0.iter().map(|x| x * x).sum::<f64>().sqrt();
        obj.scale = 1.0 / g_norm.max(1e-12);
        obj.wall = (c0.abs() + 1e3) * obj.scale * 1e3;
        let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7.min(d.max(1)) + 3)
            .with_tolerance_grad(settings.tol_grad)
            .and_then(|l| l.with_tolerance_cost(1e-12))
            .map_err(|e| SamplerError::InvalidSetting {
                setting: "tol_grad".into(),
                reason: e.to_string(),
            })?;
        let res = Executor::new(ObjRef(&obj), solver)
            .configure(|st| st.param(y0).max_iters(settings.max_iters))
            .run();
        if let Some(e) = obj.error.lock().unwrap_or_else(|e| e.into_inner()).take() {
            return Err(e);
        }
        n_calls += obj.target.lock().unwrap_or_else(|e| e.into_inner()).n_calls;
        let (cost, y) = match res {
            Ok(r) => match r.state().get_best_param() {
                Some(y) => (r.state().get_best_cost() / obj.scale, y.clone()),
                None => continue,
            },
            // A line search that cannot improve ends the start; its point is still scored.
            Err(_) => continue,
        };
        start_values.push(-cost);
        if cost.is_finite() && best.as_ref().is_none_or(|b| cost < b.0) {
            best = Some((cost, y));
        }
    }
    let Some((cost, y)) = best else {
        return Err(SamplerError::Stalled(format!(
            "none of the {} starts reached a point of finite posterior",
            settings.n_starts
        )));
    };
    let (mut theta, mut dth, mut dlp) = (vec![0.0; params.n_params()], vec![0.0; d], vec![0.0; d]);
    unc.to_theta_with(&y, &mut theta, &mut dth, &mut dlp, false);
    let mut g = vec![0.0; params.n_params()];
    let log_like = likelihood.log_likelihood_and_gradient(&theta, &mut g)?;
    let (covariance, calls) = if settings.unconstrained {
        (None, 0)
    } else {
        laplace(params, likelihood, &theta)?
    };
    n_calls += calls;
    let covariance_unconstrained = if settings.unconstrained {
        let mut target = Target::new(likelihood, &unc);
        let c = laplace_unconstrained(&mut target, &y)?;
        n_calls += target.n_calls;
        c
    } else {
        None
    };
    let log_evidence_laplace = covariance.as_ref().and_then(|c| {
        let l = cholesky(c, d)?;
        let log_det: f64 = 2.0 * (0..d).map(|i| l[i * d + i].ln()).sum::<f64>();
        Some(-cost + 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln() + 0.5 * log_det)
    });
    Ok(MapResult {
        names: params.names(),
        latex: params.params().iter().map(|p| p.latex.clone()).collect(),
        theta,
        log_posterior: -cost,
        log_likelihood: log_like,
        start_values,
        covariance,
        log_evidence_laplace,
        covariance_unconstrained,
        free: params.free_indices().to_vec(),
        n_calls,
    })
}

/// `(-H)^-1` of the unconstrained log density at `y`, `H` by central differences of its
/// gradient (steps 1e-4), or `None` if `-H` is not positive definite.
fn laplace_unconstrained<L: GradLogLikelihood + ?Sized>(
    target: &mut Target<'_, L>,
    y: &[f64],
) -> Result<Option<Vec<f64>>, SamplerError> {
    let d = y.len();
    let mut h = vec![0.0; d * d];
    let (mut gu, mut gd) = (vec![0.0; d], vec![0.0; d]);
    for b in 0..d {
        let step = 1e-4 * y[b].abs().max(1.0);
        let (mut up, mut down) = (y.to_vec(), y.to_vec());
        up[b] += step;
        down[b] -= step;
        let (lu, _) = target.eval(&up, &mut gu)?;
        let (ld, _) = target.eval(&down, &mut gd)?;
        if !lu.is_finite() || !ld.is_finite() {
            return Ok(None);
        }
        for a in 0..d {
            h[a * d + b] = -(gu[a] - gd[a]) / (2.0 * step);
        }
    }
    Ok(invert_negative_hessian(h, d))
}

/// `(-H)^-1` of `ln L + ln prior` over the free parameters at `theta`, `H` by central
/// differences of the gradient (steps 1e-4 of each value's size), or `None` if `-H` is not
/// positive definite.
fn laplace<L: GradLogLikelihood + ?Sized>(
    params: &ParameterSet,
    likelihood: &L,
    theta: &[f64],
) -> Result<(Option<Vec<f64>>, u64), SamplerError> {
    let free = params.free_indices();
    let d = free.len();
    let grad_at = |t: &[f64]| -> Result<Option<Vec<f64>>, SamplerError> {
        let mut g = vec![0.0; t.len()];
        let ll = likelihood.log_likelihood_and_gradient(t, &mut g);
        let ll = match ll {
            Ok(v) => v,
            Err(e) if e.is_recoverable() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if !ll.is_finite() {
            return Ok(None);
        }
        Ok(Some(
            free.iter()
                .map(|&i| g[i] + dlog_prior(&params.params()[i].prior, t[i]))
                .collect(),
        ))
    };
    let mut h = vec![0.0; d * d];
    let mut calls = 0;
    for (b, &j) in free.iter().enumerate() {
        let (lo, hi) = params.params()[j].prior.bounds();
        let step = 1e-4 * theta[j].abs().max(1e-8);
        let (mut up, mut down) = (theta.to_vec(), theta.to_vec());
        up[j] += step;
        down[j] -= step;
        if up[j] > hi || down[j] < lo {
            return Ok((None, calls)); // at a bound: no Gaussian approximation
        }
        calls += 2;
        let (Some(gu), Some(gd)) = (grad_at(&up)?, grad_at(&down)?) else {
            return Ok((None, calls));
        };
        for a in 0..d {
            h[a * d + b] = -(gu[a] - gd[a]) / (2.0 * step);
        }
    }
    Ok((invert_negative_hessian(h, d), calls))
}

/// Symmetrises `-H` (row-major `d x d`) and inverts it through its Cholesky factor; `None`
/// if it is not positive definite.
fn invert_negative_hessian(mut h: Vec<f64>, d: usize) -> Option<Vec<f64>> {
    for a in 0..d {
        for b in 0..a {
            let m = 0.5 * (h[a * d + b] + h[b * d + a]);
            h[a * d + b] = m;
            h[b * d + a] = m;
        }
    }
    let l = cholesky(&h, d)?;
    let mut cov = vec![0.0; d * d];
    for col in 0..d {
        let mut x = vec![0.0; d];
        x[col] = 1.0;
        solve_cholesky(&l, d, &mut x);
        for i in 0..d {
            cov[i * d + col] = x[i];
        }
    }
    Some(cov)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LikelihoodError, LogLikelihood, Prior};

    /// A correlated 2-D Gaussian likelihood: the Laplace covariance is exactly its
    /// covariance and the Laplace evidence exact (flat prior far from the bulk).
    struct G2;
    const C: [f64; 4] = [2.0, 0.6, 0.6, 0.5];
    impl LogLikelihood for G2 {
        fn n_params(&self) -> usize {
            2
        }
        fn log_likelihood(&self, t: &[f64]) -> Result<f64, LikelihoodError> {
            let mut g = [0.0; 2];
            self.log_likelihood_and_gradient(t, &mut g)
        }
    }
    impl GradLogLikelihood for G2 {
        fn log_likelihood_and_gradient(
            &self,
            t: &[f64],
            g: &mut [f64],
        ) -> Result<f64, LikelihoodError> {
            let det = C[0] * C[3] - C[1] * C[2];
            let p = [C[3] / det, -C[1] / det, -C[2] / det, C[0] / det];
            let r = [t[0] - 1.0, t[1] + 2.0];
            g[0] = -(p[0] * r[0] + p[1] * r[1]);
            g[1] = -(p[2] * r[0] + p[3] * r[1]);
            Ok(0.5 * (r[0] * g[0] + r[1] * g[1]))
        }
    }

    #[test]
    fn laplace_is_exact_for_a_gaussian() {
        let params = ParameterSet::iid(2, Prior::uniform(-20.0, 20.0).unwrap()).unwrap();
        let r = find_map(
            &params,
            &G2,
            &MapSettings {
                n_starts: 3,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(
            (r.theta[0] - 1.0).abs() < 1e-5 && (r.theta[1] + 2.0).abs() < 1e-5,
            "{:?}",
            r.theta
        );
        let cov = r.covariance.as_ref().unwrap();
        for k in 0..4 {
            assert!((cov[k] - C[k]).abs() < 1e-5 * 2.0, "{cov:?}");
        }
        // Z = integral of L over the box / 40^2 = 2 pi sqrt(det C) / 1600 (the box holds the
        // whole Gaussian to 1e-40).
        let det = C[0] * C[3] - C[1] * C[2];
        let exact = (2.0 * std::f64::consts::PI * det.sqrt() / 1600.0).ln();
        assert!((r.log_evidence_laplace.unwrap() - exact).abs() < 1e-6);
        assert!(r
            .start_values
            .iter()
            .all(|v| (v - r.log_posterior).abs() < 1e-8));
    }

    #[test]
    fn the_unconstrained_laplace_covariance_is_exact_for_a_gaussian_with_normal_priors() {
        // Normal priors map to R by the identity: the unconstrained density is the
        // likelihood times the priors, a Gaussian with precision C^-1 + diag(1/100): its
        // covariance is the Laplace covariance exactly (to the differences' rounding).
        let p = Prior::normal(0.0, 10.0).unwrap();
        let params = ParameterSet::iid(2, p).unwrap();
        let r = find_map(
            &params,
            &G2,
            &MapSettings {
                unconstrained: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(r.covariance.is_none());
        let got = r.covariance_unconstrained.expect("a Laplace covariance");
        let det = C[0] * C[3] - C[1] * C[2];
        let prec = [
            C[3] / det + 0.01,
            -C[1] / det,
            -C[2] / det,
            C[0] / det + 0.01,
        ];
        let dp = prec[0] * prec[3] - prec[1] * prec[2];
        let want = [prec[3] / dp, -prec[1] / dp, -prec[2] / dp, prec[0] / dp];
        for k in 0..4 {
            assert!((got[k] - want[k]).abs() < 1e-6, "{got:?} vs {want:?}");
        }
    }
}
