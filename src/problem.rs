//! A fit problem built from a run configuration: parameters with priors, data, noise and the
//! likelihood. Used by `spinflip fit`, `spinflip bias` and the C ABI alike.

use crate::config::{ModelConfig, ParamConfig, RunConfig};
use crate::models::{fiducial, load_model, SharedModel};
use crate::priors::default_prior;
use crate::SpinflipError;
use spinflip_likelihoods::ForwardModel;
use spinflip_likelihoods::{
    mock_spectrum, GlobalSignalLikelihood, LogPolyForeground, Noise, Spectrum,
};
use spinflip_samplers::{LikelihoodError, LogLikelihood, Parameter, ParameterSet};
use std::collections::BTreeMap;

/// Everything a sampler needs, plus what the reports need (data, truth).
pub struct Problem {
    /// Parameters (model ones, then foreground ones) with their priors.
    pub params: ParameterSet,
    /// The likelihood of the data.
    pub likelihood: GlobalSignalLikelihood<SharedModel>,
    /// The true parameters when the data are a mock.
    pub truth: Option<Vec<f64>>,
    /// The noiseless signal of the truth on the data channels, when known.
    pub truth_signal: Option<Vec<f64>>,
}

impl Problem {
    /// The parameter set of a model (+ foreground): default priors, overridden by `[params]`.
    /// Unknown names are errors that list the known ones.
    pub fn parameters(
        model: &dyn ForwardModel,
        overrides: &BTreeMap<String, ParamConfig>,
        foreground: Option<&LogPolyForeground>,
    ) -> Result<ParameterSet, SpinflipError> {
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
        let mut params = Vec::new();
        for name in &model_names {
            let over = overrides.get(name);
            let (latex, prior) =
                match (over.and_then(|o| o.prior), default_prior(name)) {
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
        Ok(ParameterSet::new(params)?)
    }
    /// Build from a configuration.
    pub fn from_config(cfg: &RunConfig) -> Result<Self, SpinflipError> {
        let model = load_model(&cfg.model)?;
        Self::with_model(cfg, model)
    }

    /// Build from a configuration with an already loaded model.
    pub fn with_model(cfg: &RunConfig, model: SharedModel) -> Result<Self, SpinflipError> {
        Self::with_models(cfg, model, None)
    }

    /// Build with an already loaded fit model and, optionally, the model that makes the mock
    /// (otherwise loaded as `[data.mock] model` asks).
    pub fn with_models(
        cfg: &RunConfig,
        model: SharedModel,
        mock_model: Option<SharedModel>,
    ) -> Result<Self, SpinflipError> {
        let model_names = model.param_names();
        let foreground = match &cfg.foreground {
            Some(f) => Some(LogPolyForeground::new(f.order, f.nu0)?),
            None => None,
        };
        let n_fg = foreground.as_ref().map_or(0, |f| f.n_params());
        let params = Self::parameters(model.as_ref(), &cfg.params, foreground.as_ref())?;

        // Data and noise.
        let (data, noise, truth, truth_signal) = if let Some(m) = &cfg.data.mock {
            for k in m.truth.keys() {
                if !model_names.contains(k) {
                    return Err(SpinflipError::config(
                        format!("data.mock.truth.{k}"),
                        format!(
                            "unknown parameter; the model's parameters are: {}",
                            model_names.join(", ")
                        ),
                    ));
                }
            }
            let truth: Vec<f64> = model_names
                .iter()
                .map(|n| {
                    m.truth
                        .get(n)
                        .copied()
                        .or_else(|| fiducial(n))
                        .ok_or_else(|| {
                            SpinflipError::config(
                                format!("data.mock.truth.{n}"),
                                "no value given and no fiducial value known",
                            )
                        })
                })
                .collect::<Result<_, _>>()?;
            let mock_model = if let Some(mm) = mock_model {
                mm
            } else if m.model == cfg.model.kind {
                model.clone()
            } else {
                load_model(&ModelConfig {
                    kind: m.model,
                    ..cfg.model.clone()
                })?
            };
            let noise = Noise::white(m.noise, mock_model.n_outputs())?;
            let data = mock_spectrum(mock_model.as_ref(), &truth, &noise, m.seed)?;
            let mut clean = vec![0.0; mock_model.n_outputs()];
            mock_model.predict(&truth, &mut clean)?;
            (data, noise, Some(truth), Some(clean))
        } else {
            let path = cfg.data.file.as_ref().expect("validated: file or mock");
            let data = crate::io::text::read_spectrum(path)?;
            let noise = if let Some(cov) = &cfg.data.covariance {
                read_covariance(cov, data.len())?
            } else if let Some(s) = cfg.data.sigma {
                Noise::white(s, data.len())?
            } else if let Some(s) = &data.sigma_mk {
                Noise::diagonal(s.clone())?
            } else {
                return Err(SpinflipError::config(
                    "data.sigma",
                    "the data file has no sigma column: add `sigma = <mK>` to [data] or a third column",
                ));
            };
            (data, noise, None, None)
        };
        let truth_full = truth.map(|mut t: Vec<f64>| {
            // Foreground truth unknown for mocks (mocks carry no foreground).
            t.extend(std::iter::repeat_n(f64::NAN, n_fg));
            t
        });

        // Band cut: keep channels in [lo, hi] MHz, for data, noise and the clean signal alike.
        let (data, noise, truth_signal) = match cfg.data.band {
            Some([lo, hi]) => {
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
                (cut, noise.select(&keep)?, ts)
            }
            None => (data, noise, truth_signal),
        };
        let likelihood = GlobalSignalLikelihood::new(model, data, noise, foreground)?;
        Ok(Problem {
            params,
            likelihood,
            truth: truth_full,
            truth_signal,
        })
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
            "entry ({}, {}) is {}; every entry must be finite (mK^2)",
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
