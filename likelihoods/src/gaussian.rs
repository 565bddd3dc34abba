//! The one Gaussian likelihood core: data `d` on `n` channels, a forward model's prediction
//! `m(theta)` on (a selection of) its outputs, optionally plus an additive term with
//! parameters of its own, and Gaussian [`Noise`] (white, per channel, or a full covariance):
//! `ln L = -chi^2/2 - ln det(2 pi C)/2`, `chi^2 = r^T C^-1 r`, `r = d - m(theta)`.
//!
//! Every likelihood of data given a forward model is this one or a thin layer on it: the
//! global-signal likelihood adds a band cut (a channel selection) and a foreground (an
//! additive term); a likelihood of summaries or images uses it as it is.

use crate::covariance_model::CovarianceModel;
use crate::error::ModelError;
use crate::forward_model::ForwardModel;
use crate::noise::Noise;
use spinflip_samplers::likelihood::check_batch;
use spinflip_samplers::{GradLogLikelihood, LikelihoodError, LogLikelihood};

/// A term added to the model's prediction on the data channels, with parameters of its own
/// after the model's (e.g. a foreground).
pub trait AdditiveTerm: Send + Sync {
    /// Names of its parameters.
    fn param_names(&self) -> Vec<String>;
    /// Their LaTeX labels.
    fn param_latex(&self) -> Vec<String>;
    /// Number of parameters.
    fn n_params(&self) -> usize {
        self.param_names().len()
    }
    /// Add the term at `theta` (its own parameters only) into `out` (one value per data
    /// channel).
    fn add_to(&self, theta: &[f64], out: &mut [f64]);
    /// `sum_i w_i d(term_i)/d(theta_k)` for each of its parameters into `grad`.
    fn vjp(&self, theta: &[f64], w: &[f64], grad: &mut [f64]);
}

/// What every data likelihood tells reports and plots: the data, the noise, the prediction;
/// and its gradient, for gradient-based samplers and optimisers.
pub trait DataLikelihood: GradLogLikelihood + Send + Sync {
    /// The data vector.
    fn data(&self) -> &[f64];
    /// The noise model of the data.
    fn noise(&self) -> &Noise;
    /// Names of all parameters `theta` takes, in order.
    fn param_names(&self) -> Vec<String>;
    /// The predicted data at `theta`.
    fn predict_data(&self, theta: &[f64]) -> Result<Vec<f64>, ModelError>;
}

/// How one data value is made of model outputs: `(output index, weight)` pairs.
pub type Taps = Vec<(usize, f64)>;

/// Gaussian likelihood of a data vector given a [`ForwardModel`]; see the [module docs](self).
///
/// ```
/// use spinflip_likelihoods::{ForwardModel, GaussianLikelihood, ModelError, Noise};
/// use spinflip_samplers::LogLikelihood;
///
/// /// y = a x on x = 1, 2, 3.
/// struct Slope;
/// impl ForwardModel for Slope {
///     fn param_names(&self) -> Vec<String> { vec!["a".into()] }
///     fn grid(&self) -> &[f64] { &[1.0, 2.0, 3.0] }
///     fn predict(&self, th: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
///         for (o, x) in out.iter_mut().zip([1.0, 2.0, 3.0]) { *o = th[0] * x; }
///         Ok(())
///     }
/// }
/// let like = GaussianLikelihood::new(Slope, vec![2.0, 4.0, 6.0], Noise::white(1.0, 3)?)?;
/// // chi^2 at a = 1 is 1 + 4 + 9 = 14 more than at the truth a = 2.
/// let d = like.log_likelihood(&[2.0]).unwrap() - like.log_likelihood(&[1.0]).unwrap();
/// assert!((d - 7.0).abs() < 1e-12);
/// # Ok::<(), ModelError>(())
/// ```
pub struct GaussianLikelihood<M> {
    model: M,
    data: Vec<f64>,
    noise: Noise,
    /// Each data value as a weighted sum of model outputs (`None`: all outputs, in order).
    channel: Option<Vec<Taps>>,
    term: Option<Box<dyn AdditiveTerm>>,
    /// A parameter-dependent covariance; `noise` is then what reports and plots show.
    cov_model: Option<Box<dyn CovarianceModel>>,
    n_model: usize,
    n_out: usize,
}

impl<M: ForwardModel> GaussianLikelihood<M> {
    /// Data on every output of `model`, in order; one noise entry per data value.
    pub fn new(model: M, data: Vec<f64>, noise: Noise) -> Result<Self, ModelError> {
        let n_out = model.n_outputs();
        if data.len() != n_out {
            return Err(ModelError::Dimension {
                what: "data (one value per model output)".into(),
                expected: n_out,
                got: data.len(),
            });
        }
        Self::build(model, data, noise, None)
    }

    /// Data on a selection of the model's outputs: data value `i` is compared with output
    /// `channel[i]`.
    pub fn on_channels(
        model: M,
        data: Vec<f64>,
        noise: Noise,
        channel: Vec<usize>,
    ) -> Result<Self, ModelError> {
        let taps = channel.into_iter().map(|c| vec![(c, 1.0)]).collect();
        Self::on_interpolated(model, data, noise, taps)
    }

    /// Data between the model's outputs: data value `i` is compared with
    /// `sum_k w_k * output[j_k]` over its taps `taps[i] = [(j_k, w_k), ...]` (an interpolation
    /// of the model onto the data's channels; a single tap of weight 1 is a selection).
    pub fn on_interpolated(
        model: M,
        data: Vec<f64>,
        noise: Noise,
        taps: Vec<Taps>,
    ) -> Result<Self, ModelError> {
        let n_out = model.n_outputs();
        if taps.len() != data.len() {
            return Err(ModelError::Dimension {
                what: "channel map (one model output per data value)".into(),
                expected: data.len(),
                got: taps.len(),
            });
        }
        for t in &taps {
            if let Some(&(c, _)) = t.iter().find(|(c, _)| *c >= n_out) {
                return Err(ModelError::Invalid {
                    field: "channel".into(),
                    reason: format!("model output {c} does not exist (the model has {n_out})"),
                });
            }
            if t.is_empty() || t.iter().any(|(_, w)| !w.is_finite()) {
                return Err(ModelError::Invalid {
                    field: "channel".into(),
                    reason: "every data value needs finite interpolation weights".into(),
                });
            }
        }
        Self::build(model, data, noise, Some(taps))
    }

    fn build(
        model: M,
        data: Vec<f64>,
        noise: Noise,
        channel: Option<Vec<Taps>>,
    ) -> Result<Self, ModelError> {
        if noise.len() != data.len() {
            return Err(ModelError::Dimension {
                what: "noise (one entry per data value)".into(),
                expected: data.len(),
                got: noise.len(),
            });
        }
        if let Some((i, v)) = data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(ModelError::Invalid {
                field: "data".into(),
                reason: format!(
                    "value {i} (counting from 0) is {v}; every data value must be finite"
                ),
            });
        }
        let (n_model, n_out) = (model.n_params(), model.n_outputs());
        Ok(GaussianLikelihood {
            model,
            data,
            noise,
            channel,
            term: None,
            cov_model: None,
            n_model,
            n_out,
        })
    }

    /// Add `term` (its parameters come after the model's in `theta`).
    pub fn with_term(mut self, term: Box<dyn AdditiveTerm>) -> Self {
        self.term = Some(term);
        self
    }

    /// Let the covariance depend on the model's parameters: `model(theta)` replaces the fixed
    /// noise in every evaluation (the fixed one stays what [`DataLikelihood::noise`] reports,
    /// e.g. the covariance at the truth for plots). Gradients then come from central
    /// differences of `ln L`.
    pub fn with_covariance_model(mut self, model: Box<dyn CovarianceModel>) -> Self {
        self.cov_model = Some(model);
        self
    }

    /// The noise at `theta`: the covariance model's, or the fixed one.
    fn noise_at(&self, theta: &[f64]) -> Result<std::borrow::Cow<'_, Noise>, ModelError> {
        match &self.cov_model {
            None => Ok(std::borrow::Cow::Borrowed(&self.noise)),
            Some(c) => {
                let n = c.noise_at(&theta[..self.n_model])?;
                if n.len() != self.data.len() {
                    return Err(ModelError::Dimension {
                        what: "covariance model's noise (one entry per data value)".into(),
                        expected: self.data.len(),
                        got: n.len(),
                    });
                }
                Ok(std::borrow::Cow::Owned(n))
            }
        }
    }

    /// The forward model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The additive term, if any.
    pub fn term(&self) -> Option<&dyn AdditiveTerm> {
        self.term.as_deref()
    }

    /// Prediction on the data channels from a full model output.
    fn predicted(&self, theta: &[f64], model_out: &[f64], pred: &mut [f64]) {
        match &self.channel {
            Some(ch) => {
                for (p, taps) in pred.iter_mut().zip(ch) {
                    *p = taps.iter().map(|&(c, w)| w * model_out[c]).sum();
                }
            }
            None => pred.copy_from_slice(model_out),
        }
        if let Some(t) = &self.term {
            t.add_to(&theta[self.n_model..], pred);
        }
    }

    fn log_likelihood_of_output(
        &self,
        theta: &[f64],
        model_out: &[f64],
        buf: &mut [f64],
    ) -> Result<f64, ModelError> {
        self.predicted(theta, model_out, buf);
        for (b, d) in buf.iter_mut().zip(&self.data) {
            *b = d - *b;
        }
        Ok(self.noise_at(theta)?.log_likelihood(buf))
    }

    fn check_theta(&self, theta: &[f64]) -> Result<(), ModelError> {
        if theta.len() != self.n_params() {
            return Err(ModelError::Dimension {
                what: "parameters".into(),
                expected: self.n_params(),
                got: theta.len(),
            });
        }
        Ok(())
    }
}

impl<M: ForwardModel> DataLikelihood for GaussianLikelihood<M> {
    fn data(&self) -> &[f64] {
        &self.data
    }

    fn noise(&self) -> &Noise {
        &self.noise
    }

    fn param_names(&self) -> Vec<String> {
        let mut n = self.model.param_names();
        if let Some(t) = &self.term {
            n.extend(t.param_names());
        }
        n
    }

    fn predict_data(&self, theta: &[f64]) -> Result<Vec<f64>, ModelError> {
        self.check_theta(theta)?;
        let mut out = vec![0.0; self.n_out];
        self.model.predict(&theta[..self.n_model], &mut out)?;
        let mut pred = vec![0.0; self.data.len()];
        self.predicted(theta, &out, &mut pred);
        Ok(pred)
    }
}

impl<M: ForwardModel> LogLikelihood for GaussianLikelihood<M> {
    fn n_params(&self) -> usize {
        self.n_model + self.term.as_ref().map_or(0, |t| t.n_params())
    }

    fn log_likelihood(&self, theta: &[f64]) -> Result<f64, LikelihoodError> {
        self.check_theta(theta)?;
        let mut out = vec![0.0; self.n_out];
        self.model.predict(&theta[..self.n_model], &mut out)?;
        let mut buf = vec![0.0; self.data.len()];
        Ok(self.log_likelihood_of_output(theta, &out, &mut buf)?)
    }

    fn log_likelihood_batch(&self, points: &[f64], out: &mut [f64]) -> Result<(), LikelihoodError> {
        let (d, n, m) = (self.n_params(), out.len(), self.n_out);
        check_batch(points.len(), n, d)?;
        let mut model_theta = Vec::with_capacity(n * self.n_model);
        for th in points.chunks_exact(d.max(1)) {
            model_theta.extend_from_slice(&th[..self.n_model]);
        }
        let mut signals = vec![0.0; n * m];
        let mut ok = vec![false; n];
        self.model
            .predict_batch(&model_theta, &mut signals, &mut ok)?;
        let mut buf = vec![0.0; self.data.len()];
        for i in 0..n {
            out[i] = if ok[i] {
                self.log_likelihood_of_output(
                    &points[i * d..(i + 1) * d],
                    &signals[i * m..(i + 1) * m],
                    &mut buf,
                )?
            } else {
                f64::NEG_INFINITY
            };
        }
        Ok(())
    }

    fn preferred_batch(&self) -> usize {
        self.model.preferred_batch()
    }
}

impl<M: ForwardModel> GradLogLikelihood for GaussianLikelihood<M> {
    /// `d ln L / d theta`: the model part is `J^T C^-1 (d - m)` from the model's
    /// vector-Jacobian product ([`ForwardModel::predict_vjp`]), or central finite differences
    /// of `ln L` for a model without one; the additive term's part is its own product.
    fn log_likelihood_and_gradient(
        &self,
        theta: &[f64],
        grad: &mut [f64],
    ) -> Result<f64, LikelihoodError> {
        self.check_theta(theta)?;
        if grad.len() != theta.len() {
            return Err(LikelihoodError::Dimension {
                expected: theta.len(),
                got: grad.len(),
            });
        }
        let nm = self.n_model;
        let mut value = f64::NAN;
        let mut w = vec![0.0; self.data.len()];
        let mut out = vec![0.0; self.n_out];
        let noise = self.noise_at(theta)?;
        let mut cot = |model_out: &[f64], v: &mut [f64]| {
            let mut pred = vec![0.0; self.data.len()];
            self.predicted(theta, model_out, &mut pred);
            let r: Vec<f64> = self.data.iter().zip(&pred).map(|(d, p)| d - p).collect();
            value = noise.log_likelihood(&r);
            w = noise.solve(&r);
            v.iter_mut().for_each(|x| *x = 0.0);
            match &self.channel {
                Some(ch) => ch
                    .iter()
                    .zip(&w)
                    .for_each(|(taps, wi)| taps.iter().for_each(|&(c, t)| v[c] += t * wi)),
                None => v.copy_from_slice(&w),
            }
        };
        // A parameter-dependent covariance has terms the model's product does not carry.
        let exact = self.cov_model.is_none()
            && self
                .model
                .predict_vjp(&theta[..nm], &mut out, &mut cot, &mut grad[..nm])?;
        if !exact {
            // Central differences, step 1e-6 of each value's size (ln L's rounding then
            // costs ~1e-10 relative of the derivative; its curvature ~1e-12).
            self.model.predict(&theta[..nm], &mut out)?;
            let mut v = vec![0.0; self.n_out];
            cot(&out, &mut v);
            let mut t = theta.to_vec();
            for i in 0..nm {
                let h = 1e-6 * theta[i].abs().max(1e-6);
                t[i] = theta[i] + h;
                let up = self.log_likelihood(&t)?;
                t[i] = theta[i] - h;
                let down = self.log_likelihood(&t)?;
                t[i] = theta[i];
                grad[i] = (up - down) / (2.0 * h);
            }
        }
        if let Some(term) = &self.term {
            term.vjp(&theta[nm..], &w, &mut grad[nm..]);
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Ramp;
    impl ForwardModel for Ramp {
        fn param_names(&self) -> Vec<String> {
            vec!["a".into()]
        }
        fn grid(&self) -> &[f64] {
            &[0.0, 1.0, 2.0, 3.0]
        }
        fn predict(&self, th: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
            self.check_shapes(th.len(), out.len())?;
            for (i, o) in out.iter_mut().enumerate() {
                *o = th[0] * i as f64;
            }
            Ok(())
        }
    }

    struct Offset;
    impl AdditiveTerm for Offset {
        fn param_names(&self) -> Vec<String> {
            vec!["c".into()]
        }
        fn param_latex(&self) -> Vec<String> {
            vec!["c".into()]
        }
        fn add_to(&self, theta: &[f64], out: &mut [f64]) {
            out.iter_mut().for_each(|o| *o += theta[0]);
        }
        fn vjp(&self, _theta: &[f64], w: &[f64], grad: &mut [f64]) {
            grad[0] = w.iter().sum();
        }
    }

    /// The ramp with its exact derivative: dm_k/da = k.
    struct ExactRamp;
    impl ForwardModel for ExactRamp {
        fn param_names(&self) -> Vec<String> {
            Ramp.param_names()
        }
        fn grid(&self) -> &[f64] {
            &[0.0, 1.0, 2.0, 3.0]
        }
        fn predict(&self, th: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
            Ramp.predict(th, out)
        }
        fn predict_vjp(
            &self,
            th: &[f64],
            out: &mut [f64],
            cot: &mut dyn FnMut(&[f64], &mut [f64]),
            grad: &mut [f64],
        ) -> Result<bool, ModelError> {
            self.predict(th, out)?;
            let mut v = vec![0.0; 4];
            cot(out, &mut v);
            grad[0] = v.iter().enumerate().map(|(k, x)| k as f64 * x).sum();
            Ok(true)
        }
    }

    #[test]
    fn gradient_is_exact_for_a_linear_model_with_and_without_a_vjp() {
        // ln L = -((7 - 3a - c)^2 + (3 - a - c)^2) / (2 s^2) + const with correlated noise:
        // check against the finite difference of ln L itself.
        let noise = || Noise::covariance(&[2.0, 0.5, 0.5, 1.0], 2).unwrap();
        let exact = GaussianLikelihood::on_channels(ExactRamp, vec![7.0, 3.0], noise(), vec![3, 1])
            .unwrap()
            .with_term(Box::new(Offset));
        let fd = GaussianLikelihood::on_channels(Ramp, vec![7.0, 3.0], noise(), vec![3, 1])
            .unwrap()
            .with_term(Box::new(Offset));
        let theta = [1.3, -0.4];
        let (mut g1, mut g2) = ([0.0; 2], [0.0; 2]);
        let v1 = exact.log_likelihood_and_gradient(&theta, &mut g1).unwrap();
        let v2 = fd.log_likelihood_and_gradient(&theta, &mut g2).unwrap();
        assert_eq!(v1, exact.log_likelihood(&theta).unwrap());
        assert_eq!(v1, v2);
        for i in 0..2 {
            let h = 1e-5;
            let mut t = theta;
            t[i] += h;
            let up = exact.log_likelihood(&t).unwrap();
            t[i] -= 2.0 * h;
            let down = exact.log_likelihood(&t).unwrap();
            let want = (up - down) / (2.0 * h);
            // ln L is quadratic: central differences are exact up to rounding (~1e-10).
            assert!(
                (g1[i] - want).abs() < 1e-7 * want.abs().max(1.0),
                "{i}: {} vs {want}",
                g1[i]
            );
            assert!(
                (g2[i] - want).abs() < 1e-6 * want.abs().max(1.0),
                "{i}: {} vs {want}",
                g2[i]
            );
        }
    }

    #[test]
    fn selection_and_term_shape_the_prediction() {
        // Data on outputs 3 and 1 of a ramp, plus an offset: prediction (3a + c, a + c).
        let like = GaussianLikelihood::on_channels(
            Ramp,
            vec![7.0, 3.0],
            Noise::white(1.0, 2).unwrap(),
            vec![3, 1],
        )
        .unwrap()
        .with_term(Box::new(Offset));
        assert_eq!(like.param_names(), ["a", "c"]);
        assert_eq!(like.predict_data(&[2.0, 1.0]).unwrap(), [7.0, 3.0]);
        // At the truth chi^2 = 0: ln L = -ln(2 pi) for two unit-variance channels.
        let at = like.log_likelihood(&[2.0, 1.0]).unwrap();
        assert!((at + (2.0 * std::f64::consts::PI).ln()).abs() < 1e-12);
        let mut out = [0.0; 2];
        like.log_likelihood_batch(&[2.0, 1.0, 0.0, 0.0], &mut out)
            .unwrap();
        assert_eq!(out[0], at);
        // chi^2 at (0, 0) = 49 + 9.
        assert!((at - out[1] - 29.0).abs() < 1e-12);
    }

    #[test]
    fn bad_shapes_and_values_are_errors() {
        let n = || Noise::white(1.0, 4).unwrap();
        assert!(GaussianLikelihood::new(Ramp, vec![0.0; 3], n()).is_err());
        let e = GaussianLikelihood::new(Ramp, vec![0.0, f64::NAN, 0.0, 0.0], n()).err();
        assert!(e.unwrap().to_string().contains("value 1"));
        assert!(GaussianLikelihood::on_channels(
            Ramp,
            vec![0.0],
            Noise::white(1.0, 1).unwrap(),
            vec![4]
        )
        .is_err());
        let like = GaussianLikelihood::new(Ramp, vec![0.0; 4], n()).unwrap();
        assert!(like.log_likelihood(&[1.0, 2.0]).is_err());
    }
    /// sigma = a on every channel (white).
    struct ScaleWithA;
    impl CovarianceModel for ScaleWithA {
        fn noise_at(&self, theta: &[f64]) -> Result<Noise, ModelError> {
            Noise::white(theta[0].abs(), 4)
        }
    }

    #[test]
    fn a_parameter_dependent_covariance_enters_chi2_and_the_determinant() {
        // Data 0 on four channels, m_k = a k: chi^2 = a^2 (0 + 1 + 4 + 9) / a^2 = 14 for
        // every a, so ln L = -7 - 4 ln(2 pi a^2) / 2 exactly.
        let like = GaussianLikelihood::new(ExactRamp, vec![0.0; 4], Noise::white(1.0, 4).unwrap())
            .unwrap()
            .with_covariance_model(Box::new(ScaleWithA));
        let exact = |a: f64| -7.0 - 2.0 * (2.0 * std::f64::consts::PI * a * a).ln();
        for a in [0.5, 1.0, 3.0] {
            let v = like.log_likelihood(&[a]).unwrap();
            assert!((v - exact(a)).abs() < 1e-12, "{a}: {v} vs {}", exact(a));
            let mut b = [0.0];
            like.log_likelihood_batch(&[a], &mut b).unwrap();
            assert_eq!(b[0], v);
            // d ln L / da = -4 / a, all from the determinant (chi^2 is flat in a): a gradient
            // through the model alone would miss it.
            let mut g = [0.0];
            let v2 = like.log_likelihood_and_gradient(&[a], &mut g).unwrap();
            assert_eq!(v2, v);
            assert!((g[0] + 4.0 / a).abs() < 1e-6 * (4.0 / a), "{a}: {}", g[0]);
        }
        // A covariance model that fails (sigma 0) is an error, not a NaN.
        assert!(like.log_likelihood(&[0.0]).is_err());
    }
}
