//! The Gaussian likelihood of a measured global spectrum given a forward model
//! (emulator or simulator), optionally plus a log-polynomial foreground: a thin layer on
//! [`GaussianLikelihood`] (the model interpolated onto the data's frequencies is a linear map
//! of its outputs, the foreground an [`AdditiveTerm`]).

use crate::error::ModelError;
use crate::foreground::LogPolyForeground;
use crate::forward_model::ForwardModel;
use crate::gaussian::{AdditiveTerm, DataLikelihood, GaussianLikelihood, Taps};
use crate::noise::Noise;
use crate::spectrum::{freq_of_z, Spectrum};
use spinflip_samplers::{GradLogLikelihood, LikelihoodError, LogLikelihood};

/// Gaussian likelihood of a spectrum given `model(theta_model) + foreground(theta_fg)`.
///
/// `theta` = model parameters (in `model.param_names()` order) followed by the foreground
/// coefficients `fg_a0..fg_aN`, if any. Data channels may sit anywhere inside the model's
/// frequency range: the model is interpolated onto them ([`channel_taps`]; data on the model's
/// own channels use them exactly). A recoverable model error (e.g. a point outside an
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
    core: GaussianLikelihood<M>,
    spectrum: Spectrum,
    foreground: Option<LogPolyForeground>,
}

/// The foreground on the data frequencies, as the core likelihood's additive term.
struct ForegroundTerm {
    fg: LogPolyForeground,
    freq_mhz: Vec<f64>,
}

impl AdditiveTerm for ForegroundTerm {
    fn param_names(&self) -> Vec<String> {
        self.fg.param_names()
    }
    fn param_latex(&self) -> Vec<String> {
        self.fg.param_latex()
    }
    fn n_params(&self) -> usize {
        self.fg.n_params()
    }
    fn add_to(&self, theta: &[f64], out: &mut [f64]) {
        self.fg.add_to(theta, &self.freq_mhz, out);
    }
    fn vjp(&self, theta: &[f64], w: &[f64], grad: &mut [f64]) {
        self.fg.vjp(theta, &self.freq_mhz, w, grad);
    }
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
        let taps = channel_taps(&model_freq, &data.freq_mhz)?;
        let mut core =
            GaussianLikelihood::on_interpolated(model, data.temp_mk.clone(), noise, taps)?;
        if let Some(fg) = &foreground {
            core = core.with_term(Box::new(ForegroundTerm {
                fg: fg.clone(),
                freq_mhz: data.freq_mhz.clone(),
            }));
        }
        Ok(GlobalSignalLikelihood {
            core,
            spectrum: data,
            foreground,
        })
    }

    /// The forward model.
    pub fn model(&self) -> &M {
        self.core.model()
    }

    /// The data as a spectrum (frequencies, temperatures, sigmas).
    pub fn spectrum(&self) -> &Spectrum {
        &self.spectrum
    }

    /// The noise model.
    pub fn noise(&self) -> &Noise {
        self.core.noise()
    }

    /// The foreground term, if any.
    pub fn foreground(&self) -> Option<&LogPolyForeground> {
        self.foreground.as_ref()
    }

    /// Names of all parameters: model ones, then foreground ones.
    pub fn param_names(&self) -> Vec<String> {
        self.core.param_names()
    }

    /// The predicted spectrum on the data channels (model + foreground) at `theta`.
    pub fn predict_data(&self, theta: &[f64]) -> Result<Vec<f64>, ModelError> {
        self.core.predict_data(theta)
    }
}

impl<M: ForwardModel> DataLikelihood for GlobalSignalLikelihood<M> {
    fn data(&self) -> &[f64] {
        self.core.data()
    }
    fn noise(&self) -> &Noise {
        self.core.noise()
    }
    fn param_names(&self) -> Vec<String> {
        self.core.param_names()
    }
    fn predict_data(&self, theta: &[f64]) -> Result<Vec<f64>, ModelError> {
        self.core.predict_data(theta)
    }
}

/// For each data frequency, how to make it from the model's channels: the model channel
/// itself where one sits at that frequency (to 1e-6 relative), else cubic Lagrange
/// interpolation in frequency over the four nearest model channels (the two either side; at
/// the grid's ends the four end channels). The signal varies on scales of MHz and the
/// model's channels are 0.03-4 MHz apart, so the interpolation error is far below any
/// telescope's noise. A frequency outside the model's range is an error.
pub fn channel_taps(model_freq: &[f64], data_freq: &[f64]) -> Result<Vec<Taps>, ModelError> {
    let n = model_freq.len();
    if n == 0 {
        return Err(ModelError::Invalid {
            field: "model".into(),
            reason: "the model grid is empty".into(),
        });
    }
    // Model channels sorted by frequency (a redshift grid runs the other way).
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| model_freq[a].total_cmp(&model_freq[b]));
    let f: Vec<f64> = order.iter().map(|&j| model_freq[j]).collect();
    let (lo, hi) = (f[0], f[n - 1]);
    data_freq
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let k = f.partition_point(|&m| m < x);
            let near = [k.saturating_sub(1), k.min(n - 1)]
                .into_iter()
                .min_by(|&a, &b| (f[a] - x).abs().total_cmp(&(f[b] - x).abs()))
                .unwrap_or(0);
            if (f[near] - x).abs() <= 1e-6 * x.abs().max(1.0) {
                return Ok(vec![(order[near], 1.0)]);
            }
            if !(lo..=hi).contains(&x) || n < 4 {
                return Err(ModelError::Invalid {
                    field: "data.freq".into(),
                    reason: format!(
                        "data row {} (of {}, comment lines not counted) at {x} MHz is outside the model's \
                         range {lo:.3}..{hi:.3} MHz (z = {:.1}..{:.1}); cut the data to the \
                         range with `band = [{:.1}, {:.1}]` in [data]",
                        i + 1,
                        data_freq.len(),
                        crate::spectrum::z_of_freq(hi),
                        crate::spectrum::z_of_freq(lo),
                        lo.ceil(),
                        hi.floor()
                    ),
                });
            }
            // f[k-1] < x < f[k]: nodes k-2..k+1, shifted inside the grid.
            let first = k.saturating_sub(2).min(n - 4);
            let nodes = first..first + 4;
            Ok(nodes
                .clone()
                .map(|a| {
                    let w: f64 = nodes
                        .clone()
                        .filter(|&b| b != a)
                        .map(|b| (x - f[b]) / (f[a] - f[b]))
                        .product();
                    (order[a], w)
                })
                .collect())
        })
        .collect()
}

impl<M: ForwardModel> GradLogLikelihood for GlobalSignalLikelihood<M> {
    fn log_likelihood_and_gradient(
        &self,
        theta: &[f64],
        grad: &mut [f64],
    ) -> Result<f64, LikelihoodError> {
        self.core.log_likelihood_and_gradient(theta, grad)
    }
}

impl<M: ForwardModel> LogLikelihood for GlobalSignalLikelihood<M> {
    fn n_params(&self) -> usize {
        self.core.n_params()
    }
    fn log_likelihood(&self, theta: &[f64]) -> Result<f64, LikelihoodError> {
        self.core.log_likelihood(theta)
    }
    fn log_likelihood_batch(&self, points: &[f64], out: &mut [f64]) -> Result<(), LikelihoodError> {
        self.core.log_likelihood_batch(points, out)
    }
    fn preferred_batch(&self) -> usize {
        self.core.preferred_batch()
    }
}
