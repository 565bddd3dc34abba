//! The Gaussian likelihood of a measured global spectrum given a forward model
//! (emulator or simulator), optionally plus a log-polynomial foreground.

use crate::error::ModelError;
use crate::foreground::LogPolyForeground;
use crate::forward_model::ForwardModel;
use crate::noise::Noise;
use crate::spectrum::{freq_of_z, Spectrum};
use spinflip_samplers::likelihood::check_batch;
use spinflip_samplers::{LikelihoodError, LogLikelihood};

/// Gaussian likelihood of a spectrum given `model(theta_model) + foreground(theta_fg)`.
///
/// `theta` = model parameters (in `model.param_names()` order) followed by the foreground
/// coefficients `fg_a0..fg_aN`, if any. Data channels must coincide with channels of the
/// model grid (a band cut of it is fine). A recoverable model error (e.g. a point outside an
/// emulator's training range) rejects the point.
///
/// ```
/// use spinflip_likelihoods::{ForwardModel, GlobalSignalLikelihood, ModelError, Noise, Spectrum};
/// use spinflip_likelihoods::spectrum::freq_of_z;
/// use spinflip_samplers::LogLikelihood;
///
/// struct Flat { z: Vec<f64> }
/// impl ForwardModel for Flat {
///     fn param_names(&self) -> Vec<String> { vec!["t".into()] }
///     fn grid(&self) -> &[f64] { &self.z }
///     fn predict(&self, th: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
///         out.iter_mut().for_each(|o| *o = th[0]); Ok(())
///     }
/// }
/// let z = vec![10.0, 11.0, 12.0];
/// let data = Spectrum::new(z.iter().map(|&z| freq_of_z(z)).collect(), vec![1.0; 3], None).unwrap();
/// let like = GlobalSignalLikelihood::new(Flat { z }, data, Noise::white(1.0, 3).unwrap(), None).unwrap();
/// let at_truth = like.log_likelihood(&[1.0]).unwrap();
/// let off = like.log_likelihood(&[2.0]).unwrap();
/// assert!((at_truth - off - 1.5).abs() < 1e-12); // chi^2 differs by 3
/// ```
pub struct GlobalSignalLikelihood<M> {
    model: M,
    data: Spectrum,
    noise: Noise,
    foreground: Option<LogPolyForeground>,
    /// Model output index of each data channel.
    channel: Vec<usize>,
    n_model: usize,
}

impl<M: ForwardModel> GlobalSignalLikelihood<M> {
    /// Build the likelihood; checks that every data channel matches a model channel and that
    /// the noise has one entry per data channel.
    pub fn new(
        model: M,
        data: Spectrum,
        noise: Noise,
        foreground: Option<LogPolyForeground>,
    ) -> Result<Self, ModelError> {
        data.validate()?;
        if noise.len() != data.len() {
            return Err(ModelError::Dimension {
                what: "noise (one sigma per data channel)".into(),
                expected: data.len(),
                got: noise.len(),
            });
        }
        let model_freq: Vec<f64> = model.grid().iter().map(|&z| freq_of_z(z)).collect();
        let channel = match_channels(&model_freq, &data.freq_mhz)?;
        let n_model = model.n_params();
        Ok(GlobalSignalLikelihood {
            model,
            data,
            noise,
            foreground,
            channel,
            n_model,
        })
    }

    /// The forward model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The data.
    pub fn data(&self) -> &Spectrum {
        &self.data
    }

    /// The noise model.
    pub fn noise(&self) -> &Noise {
        &self.noise
    }

    /// The foreground term, if any.
    pub fn foreground(&self) -> Option<&LogPolyForeground> {
        self.foreground.as_ref()
    }

    /// Names of all parameters: model ones, then foreground ones.
    pub fn param_names(&self) -> Vec<String> {
        let mut n = self.model.param_names();
        if let Some(fg) = &self.foreground {
            n.extend(fg.param_names());
        }
        n
    }

    /// Model prediction (plus foreground) on the data channels, from a full model output.
    fn predicted(&self, theta: &[f64], model_out: &[f64], pred: &mut [f64]) {
        for (p, &c) in pred.iter_mut().zip(&self.channel) {
            *p = model_out[c];
        }
        if let Some(fg) = &self.foreground {
            fg.add_to(&theta[self.n_model..], &self.data.freq_mhz, pred);
        }
    }

    /// Log-likelihood from a model output (all model channels) at `theta`.
    fn log_likelihood_of_output(&self, theta: &[f64], model_out: &[f64], buf: &mut [f64]) -> f64 {
        self.predicted(theta, model_out, buf);
        for (b, d) in buf.iter_mut().zip(&self.data.temp_mk) {
            *b = d - *b;
        }
        self.noise.log_likelihood(buf)
    }

    /// The predicted spectrum on the data channels (model + foreground) at `theta`.
    pub fn predict_data(&self, theta: &[f64]) -> Result<Vec<f64>, ModelError> {
        self.check_theta(theta)?;
        let mut out = vec![0.0; self.model.n_outputs()];
        self.model.predict(&theta[..self.n_model], &mut out)?;
        let mut pred = vec![0.0; self.data.len()];
        self.predicted(theta, &out, &mut pred);
        Ok(pred)
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

/// For each data frequency, the index of the model channel at the same frequency.
fn match_channels(model_freq: &[f64], data_freq: &[f64]) -> Result<Vec<usize>, ModelError> {
    data_freq
        .iter()
        .enumerate()
        .map(|(i, &f)| {
            let (j, df) = model_freq
                .iter()
                .enumerate()
                .map(|(j, &m)| (j, (m - f).abs()))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .ok_or_else(|| ModelError::Invalid {
                    field: "model".into(),
                    reason: "the model grid is empty".into(),
                })?;
            if df > 1e-6 * f.max(1.0) + 1e-6 {
                return Err(ModelError::Invalid {
                    field: "data.freq".into(),
                    reason: format!(
                        "data channel {i} at {f} MHz is not a model channel (nearest {:.6} MHz); \
                         the data must be sampled on the model grid nu = 1420.405751/(1+z) MHz, \
                         z = {:.1}..{:.1}, or a band of it",
                        model_freq[j],
                        crate::spectrum::z_of_freq(*model_freq.last().unwrap_or(&f)),
                        crate::spectrum::z_of_freq(model_freq[0]),
                    ),
                });
            }
            Ok(j)
        })
        .collect()
}

impl<M: ForwardModel> LogLikelihood for GlobalSignalLikelihood<M> {
    fn n_params(&self) -> usize {
        self.n_model + self.foreground.as_ref().map_or(0, |f| f.n_params())
    }

    fn log_likelihood(&self, theta: &[f64]) -> Result<f64, LikelihoodError> {
        self.check_theta(theta)?;
        let mut out = vec![0.0; self.model.n_outputs()];
        self.model.predict(&theta[..self.n_model], &mut out)?;
        let mut buf = vec![0.0; self.data.len()];
        Ok(self.log_likelihood_of_output(theta, &out, &mut buf))
    }

    fn log_likelihood_batch(&self, points: &[f64], out: &mut [f64]) -> Result<(), LikelihoodError> {
        let (d, n, m) = (self.n_params(), out.len(), self.model.n_outputs());
        check_batch(points.len(), n, d)?;
        let mut model_theta = Vec::with_capacity(n * self.n_model);
        for th in points.chunks_exact(d) {
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
                )
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
