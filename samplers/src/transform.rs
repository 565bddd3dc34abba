//! Bijections from each prior's support to the real line, so that gradient-based samplers
//! (NUTS, MAP optimisation) move freely in `y` and never step outside the prior.
//!
//! For a free parameter `x = g(y)` the density in `y` is `p(x) |dx/dy|`; the samplers work
//! with `ln p(g(y)) + ln|g'(y)|` and its derivative `(d ln p / dx) g'(y) + d ln|g'| / dy`.
//! - `[a, b]` bounds (uniform, truncated normal): `x = a + (b - a) sigmoid(y)`,
//!   `ln|g'| = ln(b - a) + ln s + ln(1 - s)`, `d/dy = 1 - 2 s`.
//! - log-uniform on `[a, b]`: the same logistic map on `ln x`, so `x = exp(ln a + (ln b - ln a) s)`.
//! - normal: the identity.

use crate::parameters::ParameterSet;
use crate::prior::Prior;

/// The map between one free parameter and the real line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bijection {
    /// `x = y`.
    Identity,
    /// `x = lo + (hi - lo) sigmoid(y)`.
    Logistic {
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
    /// `ln x = ln lo + (ln hi - ln lo) sigmoid(y)`.
    LogLogistic {
        /// Lower bound (> 0).
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
}

/// `sigmoid(y)` and `ln sigmoid(y) + ln(1 - sigmoid(y))`, accurate for large |y|.
fn sigmoid_and_log_jac(y: f64) -> (f64, f64) {
    let s = if y >= 0.0 {
        1.0 / (1.0 + (-y).exp())
    } else {
        let e = y.exp();
        e / (1.0 + e)
    };
    // ln s + ln(1 - s) = -|y| - 2 ln(1 + e^-|y|)
    let lj = -y.abs() - 2.0 * (-y.abs()).exp().ln_1p();
    (s, lj)
}

impl Bijection {
    /// The bijection for a prior (fixed parameters have none: they are not free).
    pub fn of(prior: &Prior) -> Self {
        match *prior {
            Prior::Uniform { min, max } | Prior::TruncatedNormal { min, max, .. } => {
                Bijection::Logistic { lo: min, hi: max }
            }
            Prior::LogUniform { min, max } => Bijection::LogLogistic { lo: min, hi: max },
            Prior::Normal { .. } | Prior::Fixed { .. } => Bijection::Identity,
        }
    }

    /// `x = g(y)`, `ln|g'(y)|`, `g'(y)` and `d ln|g'(y)| / dy`.
    pub fn forward(self, y: f64) -> (f64, f64, f64, f64) {
        match self {
            Bijection::Identity => (y, 0.0, 1.0, 0.0),
            Bijection::Logistic { lo, hi } => {
                let (s, lj) = sigmoid_and_log_jac(y);
                let w = hi - lo;
                let x = (lo + w * s).clamp(lo, hi);
                // s (1 - s) = exp(lj), exact also where 1 - s has lost its digits.
                (x, w.ln() + lj, w * lj.exp(), 1.0 - 2.0 * s)
            }
            Bijection::LogLogistic { lo, hi } => {
                let (s, lj) = sigmoid_and_log_jac(y);
                let (a, w) = (lo.ln(), hi.ln() - lo.ln());
                let x = (a + w * s).exp().clamp(lo, hi);
                // x = exp(a + w s): dx/dy = x w s (1 - s); ln|dx/dy| = ln x + ln w + lj.
                let s1s = lj.exp();
                let dx = x * w * s1s;
                (x, x.ln() + w.ln() + lj, dx, w * s1s + 1.0 - 2.0 * s)
            }
        }
    }

    /// `y = g^-1(x)` (`x` strictly inside the support; the edges map to +-37, where the
    /// logistic saturates in f64).
    pub fn inverse(self, x: f64) -> f64 {
        let logit = |t: f64| {
            let t = t.clamp(1e-16, 1.0 - 1e-16);
            (t / (1.0 - t)).ln()
        };
        match self {
            Bijection::Identity => x,
            Bijection::Logistic { lo, hi } => logit((x - lo) / (hi - lo)),
            Bijection::LogLogistic { lo, hi } => logit((x.ln() - lo.ln()) / (hi.ln() - lo.ln())),
        }
    }
}

/// The derivative of a prior's log density at `x` inside its support.
pub fn dlog_prior(prior: &Prior, x: f64) -> f64 {
    match *prior {
        Prior::Uniform { .. } | Prior::Fixed { .. } => 0.0,
        Prior::LogUniform { .. } => -1.0 / x,
        Prior::Normal { mean, std } | Prior::TruncatedNormal { mean, std, .. } => {
            -(x - mean) / (std * std)
        }
    }
}

/// The free parameters of a [`ParameterSet`] in unconstrained coordinates.
#[derive(Debug, Clone)]
pub struct Unconstrained {
    params: ParameterSet,
    maps: Vec<Bijection>,
}

impl Unconstrained {
    /// The maps of every free parameter of `params`.
    pub fn new(params: &ParameterSet) -> Self {
        let maps = params
            .free_indices()
            .iter()
            .map(|&i| Bijection::of(&params.params()[i].prior))
            .collect();
        Unconstrained {
            params: params.clone(),
            maps,
        }
    }

    /// Free dimensions.
    pub fn dim(&self) -> usize {
        self.maps.len()
    }

    /// The parameter set.
    pub fn params(&self) -> &ParameterSet {
        &self.params
    }

    /// `theta` (all parameters, fixed ones included) from `y`; returns the log prior plus
    /// the log-Jacobian at `y`. `dtheta[k]` gets `dx_k/dy_k` and `dlp[k]` the derivative of
    /// (log prior + log-Jacobian) with respect to `y_k`.
    pub fn to_theta(
        &self,
        y: &[f64],
        theta: &mut [f64],
        dtheta: &mut [f64],
        dlp: &mut [f64],
    ) -> f64 {
        self.to_theta_with(y, theta, dtheta, dlp, true)
    }

    /// As [`to_theta`](Self::to_theta), with the log-Jacobian left out when `jacobian` is
    /// false (the density of `theta`, whose maximum is the MAP in physical units).
    pub fn to_theta_with(
        &self,
        y: &[f64],
        theta: &mut [f64],
        dtheta: &mut [f64],
        dlp: &mut [f64],
        jacobian: bool,
    ) -> f64 {
        let mut free = vec![0.0; y.len()];
        let mut lp = 0.0;
        let j = if jacobian { 1.0 } else { 0.0 };
        for (k, (&yk, map)) in y.iter().zip(&self.maps).enumerate() {
            let (x, lj, dx, dlj) = map.forward(yk);
            free[k] = x;
            let prior = &self.params.params()[self.params.free_indices()[k]].prior;
            lp += prior.log_prob(x) + j * lj;
            dtheta[k] = dx;
            dlp[k] = dlog_prior(prior, x) * dx + j * dlj;
        }
        // Shapes were fixed at construction, so embedding cannot fail.
        let _ = self.params.embed_free(&free, theta);
        lp
    }

    /// `y` of the free parameters of `theta`.
    pub fn to_y(&self, theta: &[f64]) -> Vec<f64> {
        self.params
            .free_indices()
            .iter()
            .zip(&self.maps)
            .map(|(&i, map)| map.inverse(theta[i]))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(map: Bijection, prior: Prior) {
        for &y in &[-30.0, -3.0, -0.4, 0.0, 0.7, 5.0, 25.0] {
            let (x, lj, dx, dlj) = map.forward(y);
            let h = 1e-5;
            let (xp, ljp, _, _) = map.forward(y + h);
            let (xm, ljm, _, _) = map.forward(y - h);
            let fd = (xp - xm) / (2.0 * h);
            // Far out x sits on a bound and its difference cancels: check the slope there
            // through the log-Jacobian only.
            if y.abs() <= 5.0 {
                assert!(
                    (dx - fd).abs() <= 1e-6 * fd.abs(),
                    "{map:?} dx at {y}: {dx} vs {fd}"
                );
            }
            if dx > 1e-200 {
                assert!((lj - dx.ln()).abs() < 1e-9, "{map:?} lj at {y}");
            }
            let fdj = (ljp - ljm) / (2.0 * h);
            assert!(
                (dlj - fdj).abs() < 1e-5,
                "{map:?} dlj at {y}: {dlj} vs {fdj}"
            );
            let (lo, hi) = prior.bounds();
            assert!((lo..=hi).contains(&x));
            if y.abs() < 20.0 {
                assert!(
                    (map.inverse(x) - y).abs() < 1e-8 * (1.0 + y.abs()),
                    "{map:?} inverse at {y}"
                );
            }
        }
    }

    #[test]
    fn maps_are_consistent_with_their_jacobians_and_inverses() {
        let u = Prior::uniform(-2.0, 5.0).unwrap();
        check(Bijection::of(&u), u);
        let l = Prior::log_uniform(1e-6, 1e3).unwrap();
        check(Bijection::of(&l), l);
        let t = Prior::truncated_normal(0.0, 1.0, -1.0, 3.0).unwrap();
        check(Bijection::of(&t), t);
        let n = Prior::normal(1.0, 2.0).unwrap();
        check(Bijection::of(&n), n);
    }

    #[test]
    fn a_uniform_prior_is_a_logistic_density_in_y() {
        // Uniform on [0, 1] pushed to y is the logistic density s(1 - s), which integrates
        // to 1: check by quadrature over y.
        let params = ParameterSet::iid(1, Prior::uniform(0.0, 1.0).unwrap()).unwrap();
        let u = Unconstrained::new(&params);
        let (mut th, mut dth, mut dlp) = ([0.0], [0.0], [0.0]);
        let dy = 1e-3;
        let total: f64 = (-40_000..40_000)
            .map(|i| {
                let y = i as f64 * dy;
                u.to_theta(&[y], &mut th, &mut dth, &mut dlp).exp() * dy
            })
            .sum();
        assert!((total - 1.0).abs() < 1e-6, "{total}");
    }
}
