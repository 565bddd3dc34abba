//! The [`ModelKind`] trait: what a forward-model family says about itself.

use crate::config::{MockConfig, ModelConfig};
use crate::SpinflipError;
use spinflip_likelihoods::{mock_vector, CovarianceModel, ForwardModel, Noise};
use spinflip_samplers::{Parameter, ParameterSet, Prior};
use std::sync::Arc;

/// A shareable forward model.
pub type SharedModel = Arc<dyn ForwardModel>;

/// What a model's outputs are, so data files, plots and reports know how to treat them.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputSpace {
    /// A sky-averaged spectrum: brightness temperature in mK at these redshifts (the model's
    /// grid). Data are spectra in frequency; band cuts and foregrounds apply.
    Redshifts {
        /// The redshift of each output channel.
        z: Vec<f64>,
    },
    /// A vector of named summaries (e.g. a network's outputs, binned power spectra).
    Vector {
        /// One name per output.
        names: Vec<String>,
        /// Unit of the values, for axis labels.
        unit: String,
    },
    /// An image or a stack of images, flattened row-major (last axis fastest).
    Image {
        /// The image shape, e.g. `[ny, nx]` or `[k, ny, nx]`.
        shape: Vec<usize>,
        /// Unit of the pixel values.
        unit: String,
    },
}

impl OutputSpace {
    /// Number of output values.
    pub fn len(&self) -> usize {
        match self {
            OutputSpace::Redshifts { z } => z.len(),
            OutputSpace::Vector { names, .. } => names.len(),
            OutputSpace::Image { shape, .. } => shape.iter().product(),
        }
    }

    /// Whether there are no outputs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A mock data set made at a known truth.
#[derive(Debug, Clone)]
pub struct MockData {
    /// The noisy data, one value per model output.
    pub data: Vec<f64>,
    /// The noise the data carry (and the likelihood assumes).
    pub noise: Noise,
    /// The noiseless model outputs at the truth.
    pub clean: Vec<f64>,
}

/// A forward-model family: everything configs, fits and reports need to know about it.
///
/// Implement it in the family's own folder and register it (see [`super::registry`]).
///
/// ```
/// use spinflip::models::{lookup, ModelKind, OutputSpace};
///
/// let kind = lookup("simulator").unwrap();
/// assert_eq!(kind.param_names()[0], "f_star");
/// assert_eq!(kind.default_priors().len(), kind.param_names().len());
/// assert!(matches!(kind.output(), OutputSpace::Redshifts { .. }));
/// // An unknown kind is an error that lists the known ones.
/// let e = lookup("nope").err().unwrap().to_string();
/// assert!(e.contains("emulator") && e.contains("simulator"), "{e}");
/// ```
pub trait ModelKind: Send + Sync {
    /// The name `[model] kind = "..."` uses.
    fn name(&self) -> &str;

    /// One line for listings: what the family is.
    fn describe(&self) -> String;

    /// Parameter names, in the order the model takes them.
    fn param_names(&self) -> Vec<String>;

    /// LaTeX labels (with units), one per parameter.
    fn param_latex(&self) -> Vec<String>;

    /// The default prior of each parameter (used unless `[params.NAME]` overrides it).
    fn default_priors(&self) -> Vec<Prior>;

    /// A representative point: the truth of a mock when a config gives no value.
    fn fiducial(&self) -> Vec<f64>;

    /// Points per likelihood call a sampler should aim for (a rejection batch): large for
    /// emulators that evaluate batches in one pass, small for slow simulators.
    fn preferred_batch(&self) -> usize {
        1
    }

    /// What the outputs are.
    fn output(&self) -> OutputSpace;

    /// The parameters with their LaTeX labels and default priors, ready for a sampler.
    fn parameters(&self) -> Result<ParameterSet, SpinflipError> {
        let params = self
            .param_names()
            .into_iter()
            .zip(self.param_latex())
            .zip(self.default_priors())
            .map(|((name, latex), prior)| Parameter::new(name, latex, prior))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ParameterSet::new(params)?)
    }

    /// The kind whose model makes mock data unless `[data.mock] model` says otherwise (an
    /// emulator's mocks come from the simulator it emulates).
    fn mock_kind(&self) -> String {
        self.name().to_string()
    }

    /// Load (or build) the model.
    fn load(&self, cfg: &ModelConfig) -> Result<SharedModel, SpinflipError>;

    /// Data of this kind read from a file of its own format (the map kinds read a light-cone
    /// set from `spinflip simulate maps` and summarise it), with the noise the likelihood
    /// assumes; `None` (the default) reads a plain vector (`[data] file`, an NPY).
    fn data_from_file(
        &self,
        path: &std::path::Path,
        model: &dyn ForwardModel,
        cfg: &ModelConfig,
    ) -> Result<Option<(Vec<f64>, Noise)>, SpinflipError> {
        let _ = (path, model, cfg);
        Ok(None)
    }

    /// Whether `[model] thermal_noise_mk` means something to this kind (the map kinds decide
    /// per likelihood file; every other kind refuses it).
    fn takes_thermal_noise(&self) -> bool {
        false
    }

    /// A covariance that depends on the parameters, replacing the fixed noise of the data in
    /// the likelihood (the map power spectrum's scatter changes across the prior); `None` (the
    /// default) keeps the data's noise.
    fn covariance_model(
        &self,
        cfg: &ModelConfig,
    ) -> Result<Option<Box<dyn CovarianceModel>>, SpinflipError> {
        let _ = cfg;
        Ok(None)
    }

    /// Mock data at `truth` with this kind's `model` (loaded from `cfg`): by default the
    /// model's outputs plus white Gaussian noise of `mock.noise` (in the outputs' unit),
    /// seeded by `mock.seed`. Kinds whose data are made another way (the map kinds simulate
    /// a light-cone and summarise it) override this.
    fn mock(
        &self,
        model: &dyn ForwardModel,
        truth: &[f64],
        mock: &MockConfig,
        cfg: &ModelConfig,
    ) -> Result<MockData, SpinflipError> {
        let _ = cfg;
        let noise = Noise::white(mock.noise, model.n_outputs()).map_err(|_| {
            SpinflipError::config(
                "data.mock.noise",
                format!(
                    "{} mK: a mock of kind '{}' adds white noise, which must be positive",
                    mock.noise,
                    self.name()
                ),
            )
        })?;
        let (data, clean) = mock_vector(model, truth, &noise, mock.seed)?;
        Ok(MockData { data, noise, clean })
    }
}
