//! A fit problem built from a run configuration: parameters with priors, data, noise and the
//! likelihood, for any registered model kind. Used by `spinflip fit`, `spinflip bias` and the
//! C ABI alike.
//!
//! What the data are follows the kind's [`OutputSpace`]: a spectrum (a text file of
//! frequencies, temperatures and optional sigmas; band cuts and foregrounds apply) for
//! redshift-grid models, a plain vector (an NPY file, one value per model output) otherwise.

use crate::config::{ModelConfig, ParamConfig, RunConfig};
use crate::io::hash::Fnv1a;
use crate::models::{lookup, ModelKind, OutputSpace, SharedModel};
use crate::prior_box::{fit_priors_to_box, PriorCut};
use crate::SpinflipError;
use spinflip_likelihoods::spectrum::freq_of_z;
use spinflip_likelihoods::{
    DataLikelihood, ForwardModel, GaussianLikelihood, GlobalSignalLikelihood, LogPolyForeground,
    Noise, Spectrum,
};
use spinflip_samplers::{
    GradLogLikelihood, LikelihoodError, LogLikelihood, Parameter, ParameterSet,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// How the data values are laid out, for plots: an x value per data value and axis labels.
#[derive(Debug, Clone, PartialEq)]
pub struct DataAxis {
    /// x of each data value (frequency in MHz for spectra, the index otherwise).
    pub x: Vec<f64>,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis (the data's unit).
    pub y_label: String,
}

/// Everything a sampler needs, plus what the reports need (data, truth, predictions).
pub struct Problem {
    /// Parameters (model ones, then any extra ones such as a foreground) with their priors.
    pub params: ParameterSet,
    /// The likelihood of the data.
    pub likelihood: Box<dyn DataLikelihood>,
    /// The model kind.
    pub kind: Arc<dyn ModelKind>,
    /// The forward model inside the likelihood.
    pub model: SharedModel,
    /// The `[model]` table the model was made from.
    pub model_config: ModelConfig,
    /// Where the data values sit, for plots.
    pub axis: DataAxis,
    /// The true parameters when the data are a mock (NaN for parameters without a truth,
    /// e.g. foreground coefficients).
    pub truth: Option<Vec<f64>>,
    /// The noiseless prediction at the truth on the data channels, when known.
    pub truth_signal: Option<Vec<f64>>,
    /// Priors cut to the model's valid range (`[model] truncate_priors = true`).
    pub prior_cuts: Vec<PriorCut>,
}

impl Problem {
    /// The parameter set of a model kind (+ foreground): the kind's default priors,
    /// overridden by `[params]`. Unknown names are errors that list the known ones. A prior
    /// reaching outside the model's [valid box](ForwardModel::valid_box) is an error, or,
    /// with `truncate`, cut to it (the cuts are returned).
    pub fn parameters(
        kind: &dyn ModelKind,
        model: &dyn ForwardModel,
        overrides: &BTreeMap<String, ParamConfig>,
        foreground: Option<&LogPolyForeground>,
        truncate: bool,
    ) -> Result<(ParameterSet, Vec<PriorCut>), SpinflipError> {
        let model_names = model.param_names();
        let fg_names = foreground.map(|f| f.param_names()).unwrap_or_default();
        let fg_latex = foreground.map(|f| f.param_latex()).unwrap_or_default();
        // Unknown names in [params] are typos: say which names exist.
        for name in overrides.keys() {
            if !model_names.contains(name) && !fg_names.contains(name) {
                let mut known = model_names.clone();
                known.extend(fg_names.iter().cloned());
                return Err(SpinflipError::config(
                    format!("params.{name}"),
                    format!(
                        "unknown parameter; this model's parameters are: {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        let defaults: BTreeMap<String, (String, spinflip_samplers::Prior)> = kind
            .param_names()
            .into_iter()
            .zip(kind.param_latex().into_iter().zip(kind.default_priors()))
            .collect();
        let mut params = Vec::new();
        for name in &model_names {
            let over = overrides.get(name);
            let default = defaults.get(name).cloned();
            let (latex, prior) =
                match (over.and_then(|o| o.prior), default) {
                    (Some(p), d) => (d.map(|d| d.0).unwrap_or_else(|| name.clone()), p),
                    (None, Some(d)) => d,
                    (None, None) => return Err(SpinflipError::config(
                        format!("params.{name}"),
                        "this parameter has no default prior; add `prior = { dist = ..., ... }`",
                    )),
                };
            let latex = over.and_then(|o| o.latex.clone()).unwrap_or(latex);
            params.push(Parameter::new(name.clone(), latex, prior)?);
        }
        let cuts = match model.valid_box() {
            Some(b) => fit_priors_to_box(
                &mut params,
                &b,
                truncate,
                &format!("the {} model's valid range", kind.name()),
            )?,
            None => Vec::new(),
        };
        for (name, latex) in fg_names.iter().zip(fg_latex) {
            let over = overrides.get(name);
            let prior = over.and_then(|o| o.prior).ok_or_else(|| {
                SpinflipError::config(
                    format!("params.{name}"),
                    "foreground coefficients need a prior, e.g. `[params.fg_a0] prior = { dist = \"uniform\", min = 2, max = 4 }`",
                )
            })?;
            let latex = over.and_then(|o| o.latex.clone()).unwrap_or(latex);
            params.push(Parameter::new(name.clone(), latex, prior)?);
        }
        Ok((ParameterSet::new(params)?, cuts))
    }

    /// Build from a configuration.
    pub fn from_config(cfg: &RunConfig) -> Result<Self, SpinflipError> {
        let model = lookup(&cfg.model.kind)?.load(&cfg.model)?;
        Self::with_model(cfg, model)
    }

    /// Build from a configuration with an already loaded model.
    pub fn with_model(cfg: &RunConfig, model: SharedModel) -> Result<Self, SpinflipError> {
        Self::with_models(cfg, model, None)
    }

    /// Build with an already loaded fit model and, optionally, the model that makes the mock
    /// (otherwise loaded as `[data.mock] model` asks, by default the kind's
    /// [`mock_kind`](ModelKind::mock_kind)).
    pub fn with_models(
        cfg: &RunConfig,
        model: SharedModel,
        mock_model: Option<SharedModel>,
    ) -> Result<Self, SpinflipError> {
        let kind = lookup(&cfg.model.kind)?;
        if cfg.model.thermal_noise_mk != 0.0 && !kind.takes_thermal_noise() {
            return Err(SpinflipError::config(
                "model.thermal_noise_mk",
                format!(
                    "model kind '{}' has no thermal-noise term (the power-spectrum kind 'maps_ps' has); \
                     a spectrum's noise is [data] sigma or [data.mock] noise",
                    kind.name()
                ),
            ));
        }
        let spectral = matches!(kind.output(), OutputSpace::Redshifts { .. });
        if !spectral {
            for (field, set) in [
                ("foreground", cfg.foreground.is_some()),
                ("data.band", cfg.data.band.is_some()),
            ] {
                if set {
                    return Err(SpinflipError::config(
                        field,
                        format!(
                            "applies to spectra only; model kind '{}' has no redshift grid",
                            kind.name()
                        ),
                    ));
                }
            }
        }
        let foreground = match &cfg.foreground {
            Some(f) => Some(LogPolyForeground::new(f.order, f.nu0)?),
            None => None,
        };
        let n_fg = foreground.as_ref().map_or(0, |f| f.n_params());
        let (params, prior_cuts) = Self::parameters(
            kind.as_ref(),
            model.as_ref(),
            &cfg.params,
            foreground.as_ref(),
            cfg.model.truncate_priors,
        )?;

        // Data and noise, on every model output (mock) or as the file gives them.
        let (data, noise, truth, truth_signal) = match (&cfg.data.mock, &cfg.data.file) {
            (Some(m), _) => {
                let truth = mock_truth(kind.as_ref(), model.as_ref(), &m.truth)?;
                let mock_kind = lookup(m.model.as_deref().unwrap_or(&kind.mock_kind()))?;
                let mock_cfg = ModelConfig {
                    kind: mock_kind.name().to_string(),
                    ..cfg.model.clone()
                };
                let mock_model = match mock_model {
                    Some(mm) => mm,
                    None if mock_kind.name() == kind.name() => model.clone(),
                    None => mock_kind.load(&mock_cfg)?,
                };
                let mock = mock_kind.mock(mock_model.as_ref(), &truth, m, &mock_cfg)?;
                let data = if spectral {
                    Data::Spectrum(spectrum_of(mock_model.as_ref(), mock.data, &mock.noise)?)
                } else {
                    Data::Vector(mock.data)
                };
                (data, mock.noise, Some(truth), Some(mock.clean))
            }
            (None, Some(path)) => {
                let (data, noise) = if spectral {
                    let spec = crate::io::text::read_spectrum(path)?;
                    let noise = spectrum_noise(cfg, &spec)?;
                    (Data::Spectrum(spec), noise)
                } else if let Some((v, noise)) =
                    kind.data_from_file(path, model.as_ref(), &cfg.model)?
                {
                    (Data::Vector(v), noise)
                } else {
                    let v = read_vector(path, model.n_outputs())?;
                    let noise = vector_noise(cfg, v.len())?;
                    (Data::Vector(v), noise)
                };
                (data, noise, None, None)
            }
            (None, None) => {
                return Err(SpinflipError::config(
                    "data",
                    "give either `file = \"...\"` or a `[data.mock]` table",
                ))
            }
        };
        let truth_full = truth.map(|mut t: Vec<f64>| {
            // Foreground truth unknown for mocks (mocks carry no foreground).
            t.extend(std::iter::repeat_n(f64::NAN, n_fg));
            t
        });

        let (likelihood, axis, truth_signal): (Box<dyn DataLikelihood>, DataAxis, _) = match data {
            Data::Spectrum(spec) => {
                let (spec, noise, truth_signal) = band_cut(cfg, spec, noise, truth_signal)?;
                let axis = DataAxis {
                    x: spec.freq_mhz.clone(),
                    x_label: "frequency [MHz]".into(),
                    y_label: "T [mK]".into(),
                };
                let like = GlobalSignalLikelihood::new(model.clone(), spec, noise, foreground)?;
                (Box::new(like), axis, truth_signal)
            }
            Data::Vector(v) => {
                let axis = DataAxis {
                    x: (0..v.len()).map(|i| i as f64).collect(),
                    x_label: "output index".into(),
                    y_label: match kind.output() {
                        OutputSpace::Vector { unit, .. } | OutputSpace::Image { unit, .. } => unit,
                        OutputSpace::Redshifts { .. } => "mK".into(),
                    },
                };
                let mut like = GaussianLikelihood::new(model.clone(), v, noise)?;
                if let Some(c) = kind.covariance_model(&cfg.model)? {
                    like = like.with_covariance_model(c);
                }
                (Box::new(like), axis, truth_signal)
            }
        };
        Ok(Problem {
            params,
            likelihood,
            kind,
            model,
            model_config: cfg.model.clone(),
            axis,
            truth: truth_full,
            truth_signal,
            prior_cuts,
        })
    }

    /// A sigma per data value for plots (the square root of the covariance's diagonal).
    pub fn data_sigma(&self) -> Vec<f64> {
        self.likelihood.noise().sigma_diagonal()
    }

    /// What identifies this problem for a checkpoint: the model (kind, options, and the
    /// bytes of a model file), the parameters and priors, the data and the noise. A
    /// checkpoint of another problem is refused.
    pub fn fingerprint(&self) -> serde_json::Value {
        let mut data = Fnv1a::default();
        data.f64s(self.likelihood.data());
        data.f64s(&self.axis.x);
        let mut noise = Fnv1a::default();
        noise.bytes(format!("{:?}", self.likelihood.noise()).as_bytes());
        let mut model = Fnv1a::default();
        if let Some(p) = &self.model_config.path {
            let (w, s) = crate::emulator::model_file::model_paths(p);
            for f in [w, s] {
                model.bytes(&std::fs::read(&f).unwrap_or_default());
            }
        }
        let priors: Vec<String> = self
            .params
            .params()
            .iter()
            .map(|p| format!("{} {:?}", p.name, p.prior))
            .collect();
        let mut fp = serde_json::json!({
            "model_kind": self.kind.name(),
            "model_path": self.model_config.path.as_ref().map(|p| p.display().to_string()),
            "model_files": model.hex(),
            "allow_extrapolation": self.model_config.allow_extrapolation,
            "params": priors,
            "data": data.hex(),
            "noise": noise.hex(),
        });
        // Only when set, so checkpoints written before the option existed still resume.
        if self.model_config.thermal_noise_mk != 0.0 {
            fp["thermal_noise_mk"] = self.model_config.thermal_noise_mk.into();
        }
        fp
    }
}

/// The data before the likelihood is built.
enum Data {
    Spectrum(Spectrum),
    Vector(Vec<f64>),
}

/// The truth of a mock: the config's values by name, the kind's fiducial value otherwise.
fn mock_truth(
    kind: &dyn ModelKind,
    model: &dyn ForwardModel,
    given: &BTreeMap<String, f64>,
) -> Result<Vec<f64>, SpinflipError> {
    let names = model.param_names();
    for k in given.keys() {
        if !names.contains(k) {
            return Err(SpinflipError::config(
                format!("data.mock.truth.{k}"),
                format!(
                    "unknown parameter; the model's parameters are: {}",
                    names.join(", ")
                ),
            ));
        }
    }
    let fid: BTreeMap<String, f64> = kind
        .param_names()
        .into_iter()
        .zip(kind.fiducial())
        .collect();
    names
        .iter()
        .map(|n| {
            given.get(n).or_else(|| fid.get(n)).copied().ok_or_else(|| {
                SpinflipError::config(
                    format!("data.mock.truth.{n}"),
                    "no value given and no fiducial value known",
                )
            })
        })
        .collect()
}

/// A mock spectrum on a redshift-grid model's channels, with per-channel sigmas when the
/// noise has them.
fn spectrum_of(
    model: &dyn ForwardModel,
    temp: Vec<f64>,
    noise: &Noise,
) -> Result<Spectrum, SpinflipError> {
    let sigma = match noise {
        Noise::White { sigma, n } => Some(vec![*sigma; *n]),
        Noise::Diagonal { sigma } => Some(sigma.clone()),
        Noise::Full { .. } => None,
    };
    Ok(Spectrum::new(
        model.grid().iter().map(|&z| freq_of_z(z)).collect(),
        temp,
        sigma,
    )?)
}

/// The noise of a measured spectrum: a covariance file, a `sigma`, or the file's column.
fn spectrum_noise(cfg: &RunConfig, data: &Spectrum) -> Result<Noise, SpinflipError> {
    if let Some(cov) = &cfg.data.covariance {
        read_covariance(cov, data.len())
    } else if let Some(s) = cfg.data.sigma {
        Ok(Noise::white(s, data.len())?)
    } else if let Some(s) = &data.sigma_mk {
        Ok(Noise::diagonal(s.clone())?)
    } else {
        Err(SpinflipError::config(
            "data.sigma",
            "the data file has no sigma column: add `sigma = <mK>` to [data] or a third column",
        ))
    }
}

/// The noise of a measured data vector: a covariance file or a `sigma`.
fn vector_noise(cfg: &RunConfig, n: usize) -> Result<Noise, SpinflipError> {
    if let Some(cov) = &cfg.data.covariance {
        read_covariance(cov, n)
    } else if let Some(s) = cfg.data.sigma {
        Ok(Noise::white(s, n)?)
    } else {
        Err(SpinflipError::config(
            "data.sigma",
            "give the noise of the data vector: `sigma = ...` or `covariance = \"cov.npy\"`",
        ))
    }
}

/// A data vector from an NPY file: `n` values (any shape with `n` elements).
fn read_vector(path: &std::path::Path, n: usize) -> Result<Vec<f64>, SpinflipError> {
    let bytes = std::fs::read(path).map_err(|e| SpinflipError::io(path, e))?;
    let arr = crate::io::NpyArray::from_npy_bytes(&bytes, &path.display().to_string())?;
    if arr.data.len() != n {
        return Err(SpinflipError::Data {
            path: path.display().to_string(),
            reason: format!(
                "{} values, but the model has {n} outputs: the data file must hold one value per output",
                arr.data.len()
            ),
        });
    }
    if let Some(i) = arr.data.iter().position(|v| !v.is_finite()) {
        return Err(SpinflipError::Data {
            path: path.display().to_string(),
            reason: format!(
                "element {} (0-based, as numpy indexes) is {}; every data value must be finite",
                numpy_index(i, &arr.shape),
                arr.data[i]
            ),
        });
    }
    Ok(arr.data)
}

/// The numpy index of the `flat`-th value of a C-order array of `shape`: `7` for a vector,
/// `(1, 3)` for a matrix, so an error points where `a[...]` in numpy finds it.
fn numpy_index(flat: usize, shape: &[usize]) -> String {
    if shape.len() <= 1 {
        return flat.to_string();
    }
    let mut idx = vec![0; shape.len()];
    let mut rest = flat;
    for (i, &d) in idx.iter_mut().zip(shape).rev() {
        *i = rest % d.max(1);
        rest /= d.max(1);
    }
    let idx: Vec<String> = idx.iter().map(usize::to_string).collect();
    format!("({})", idx.join(", "))
}

/// Band cut: keep channels in [lo, hi] MHz, for data, noise and the clean signal alike.
fn band_cut(
    cfg: &RunConfig,
    data: Spectrum,
    noise: Noise,
    truth_signal: Option<Vec<f64>>,
) -> Result<(Spectrum, Noise, Option<Vec<f64>>), SpinflipError> {
    let Some([lo, hi]) = cfg.data.band else {
        return Ok((data, noise, truth_signal));
    };
    let keep: Vec<usize> = (0..data.len())
        .filter(|&i| (lo..=hi).contains(&data.freq_mhz[i]))
        .collect();
    if keep.is_empty() {
        return Err(SpinflipError::config(
            "data.band",
            format!("no channel lies in [{lo}, {hi}] MHz"),
        ));
    }
    let cut = Spectrum::new(
        keep.iter().map(|&i| data.freq_mhz[i]).collect(),
        keep.iter().map(|&i| data.temp_mk[i]).collect(),
        data.sigma_mk
            .as_ref()
            .map(|s| keep.iter().map(|&i| s[i]).collect()),
    )?;
    let ts = truth_signal.map(|t| keep.iter().map(|&i| t[i]).collect());
    Ok((cut, noise.select(&keep)?, ts))
}

impl GradLogLikelihood for Problem {
    fn log_likelihood_and_gradient(
        &self,
        theta: &[f64],
        grad: &mut [f64],
    ) -> Result<f64, LikelihoodError> {
        self.likelihood.log_likelihood_and_gradient(theta, grad)
    }
}

impl LogLikelihood for Problem {
    fn n_params(&self) -> usize {
        self.likelihood.n_params()
    }
    fn log_likelihood(&self, theta: &[f64]) -> Result<f64, LikelihoodError> {
        self.likelihood.log_likelihood(theta)
    }
    fn log_likelihood_batch(&self, points: &[f64], out: &mut [f64]) -> Result<(), LikelihoodError> {
        self.likelihood.log_likelihood_batch(points, out)
    }
    fn preferred_batch(&self) -> usize {
        self.likelihood.preferred_batch()
    }
}

/// Relative tolerance of the symmetry check, in units of sqrt(C_ii C_jj) (the largest an
/// entry C_ij of a covariance can be): loose enough for a matrix written in float64 after
/// some arithmetic, tight enough to catch a transposed or wrongly stacked block.
const SYMMETRY_RTOL: f64 = 1e-10;
/// The same for float32 files, whose entries carry only ~7 digits (8 float32 epsilons).
const SYMMETRY_RTOL_F32: f64 = 1e-6;

/// Whether an NPY file's header declares float32 data.
fn npy_is_f32(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]);
    head.find("descr")
        .and_then(|i| head.get(i..(i + 16).min(head.len())))
        .is_some_and(|s| s.contains("f4"))
}

/// The noise covariance in the NPY file `path` (`data.covariance`): an `n x n` array in mK^2
/// over the `n` channels of `data.file`, in the file's order. A band cut is applied to it
/// afterwards exactly as to the data. float32 and integer arrays are converted to f64.
///
/// Checked here so the error names the field: shape, finiteness, symmetry (to
/// [`SYMMETRY_RTOL`], or [`SYMMETRY_RTOL_F32`] for float32 files) and positive definiteness
/// (its Cholesky factor is what the likelihood uses). The matrix is symmetrised,
/// `(C + C^T) / 2`, before factorisation.
fn read_covariance(path: &std::path::Path, n: usize) -> Result<Noise, SpinflipError> {
    let bad = |reason: String| {
        SpinflipError::config("data.covariance", format!("'{}': {reason}", path.display()))
    };
    let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read the file ({e})")))?;
    let arr =
        crate::io::NpyArray::from_npy_bytes(&bytes, &path.display().to_string()).map_err(|e| {
            match e {
                SpinflipError::Data { reason, .. } => {
                    bad(format!("not a readable .npy array: {reason}"))
                }
                e => bad(e.to_string()),
            }
        })?;
    if arr.shape != [n, n] {
        let dims: Vec<String> = arr.shape.iter().map(usize::to_string).collect();
        return Err(bad(format!(
            "shape ({}), expected ({n}, {n}): one row and one column per channel of data.file \
             ({n} channels; a band cut is applied to the covariance as to the data)",
            dims.join(", ")
        )));
    }
    let rtol = if npy_is_f32(&bytes) {
        SYMMETRY_RTOL_F32
    } else {
        SYMMETRY_RTOL
    };
    let c = arr.data;
    if let Some(k) = c.iter().position(|v| !v.is_finite()) {
        return Err(bad(format!(
            "entry ({}, {}) (0-based, as numpy indexes) is {}; every entry must be finite \
             (mK^2)",
            k / n,
            k % n,
            c[k]
        )));
    }
    for i in 0..n {
        for j in 0..i {
            let (a, b) = (c[i * n + j], c[j * n + i]);
            let scale = (c[i * n + i] * c[j * n + j]).abs().sqrt();
            if (a - b).abs() > rtol * scale {
                return Err(bad(format!(
                    "not symmetric: entry ({i}, {j}) = {a} but ({j}, {i}) = {b} \
                     (diagonal scale {scale:e} mK^2, tolerance {rtol:e} of it)"
                )));
            }
        }
    }
    let mut sym = c;
    for i in 0..n {
        for j in 0..i {
            let m = 0.5 * (sym[i * n + j] + sym[j * n + i]);
            sym[i * n + j] = m;
            sym[j * n + i] = m;
        }
    }
    Noise::covariance(&sym, n).map_err(|e| match e {
        spinflip_likelihoods::ModelError::Invalid { reason, .. } => bad(reason),
        e => bad(e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::NpyArray;

    #[test]
    fn a_nan_in_npy_data_is_named_by_its_numpy_index() {
        let dir = std::env::temp_dir().join(format!("spinflip-vector-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("d.npy");
        let mut v = vec![1.0; 6];
        v[4] = f64::NAN;
        NpyArray::new(vec![6], v.clone()).unwrap().save(&p).unwrap();
        let e = read_vector(&p, 6).unwrap_err().to_string();
        assert!(
            e.contains("element 4 (0-based, as numpy indexes) is NaN"),
            "{e}"
        );
        NpyArray::new(vec![2, 3], v).unwrap().save(&p).unwrap();
        let e = read_vector(&p, 6).unwrap_err().to_string();
        assert!(e.contains("element (1, 1) (0-based"), "{e}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
