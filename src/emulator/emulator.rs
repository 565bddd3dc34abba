//! [`GlobalEmulator`]: a trained model behind the [`ForwardModel`] interface, evaluated with
//! the fast CPU path.

use std::path::Path;

use spinflip_likelihoods::{ForwardModel, ModelError};

use super::bptt::InputGradient;
use super::fast::FastLstm;
use super::model_file::{load_model, EmulatorModel, ModelSidecar};
use crate::SpinflipError;
use std::sync::Arc;

/// The global 21-cm signal (mK on the model's ascending redshift grid) from parameters.
///
/// Points outside the training range give [`ModelError::OutOfRange`] (recoverable: a sampler
/// rejects them) unless extrapolation is allowed with [`GlobalEmulator::allow_extrapolation`];
/// NaN or infinite parameters always give [`ModelError::NonFinite`].
#[derive(Clone)]
pub struct GlobalEmulator {
    sidecar: ModelSidecar,
    fast: FastLstm,
    /// Reverse mode through the network, for gradients.
    gradient: Arc<InputGradient<f32>>,
    extrapolate: bool,
}

impl std::fmt::Debug for GlobalEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlobalEmulator")
            .field("architecture", &self.sidecar.architecture)
            .field("extrapolate", &self.extrapolate)
            .finish()
    }
}

impl GlobalEmulator {
    /// Load and validate a model (`models/NAME`, see [`super::model_file::model_paths`]).
    pub fn load(path: &Path) -> Result<Self, SpinflipError> {
        Self::from_model(load_model(path)?)
    }

    /// Wrap an in-memory model.
    pub fn from_model(model: EmulatorModel) -> Result<Self, SpinflipError> {
        model
            .sidecar
            .validate()
            .map_err(|r| SpinflipError::config("model", r))?;
        let freqs = model.sidecar.normalisation.step_inputs(
            &model.sidecar.redshifts,
            model.sidecar.architecture.outputs_per_step,
        );
        let gradient = Arc::new(InputGradient::new(&model.weights, &freqs)?);
        let fast = FastLstm::new(&model.weights, freqs)?;
        Ok(GlobalEmulator {
            sidecar: model.sidecar,
            fast,
            gradient,
            extrapolate: false,
        })
    }

    /// Allow parameters outside the training range (the network extrapolates; accuracy is
    /// unknown there). Off by default.
    pub fn allow_extrapolation(mut self, allow: bool) -> Self {
        self.extrapolate = allow;
        self
    }

    /// The model's sidecar (architecture, ranges, metrics).
    pub fn sidecar(&self) -> &ModelSidecar {
        &self.sidecar
    }

    /// The fast network (for benchmarks).
    pub fn fast(&self) -> &FastLstm {
        &self.fast
    }

    /// Mutable fast network (to pick an instruction set in benchmarks).
    pub fn fast_mut(&mut self) -> &mut FastLstm {
        &mut self.fast
    }

    /// Check one point and write its normalised features.
    fn prepare(&self, theta: &[f64], out: &mut [f32]) -> Result<(), ModelError> {
        let s = &self.sidecar;
        for (i, &x) in theta.iter().enumerate() {
            if !x.is_finite() {
                return Err(ModelError::NonFinite {
                    name: s.param_names[i].clone(),
                    value: x,
                });
            }
            let (lo, hi) = (s.param_min[i], s.param_max[i]);
            let log_bad = s.normalisation.log10[i] && x < 0.0;
            if (!self.extrapolate && (x < lo || x > hi)) || log_bad {
                return Err(ModelError::OutOfRange {
                    name: s.param_names[i].clone(),
                    value: x,
                    min: lo,
                    max: hi,
                });
            }
        }
        s.normalisation.normalise_params(theta, out);
        Ok(())
    }
}

impl ForwardModel for GlobalEmulator {
    fn param_names(&self) -> Vec<String> {
        self.sidecar.param_names.clone()
    }

    fn n_params(&self) -> usize {
        self.sidecar.param_names.len()
    }

    fn grid(&self) -> &[f64] {
        &self.sidecar.redshifts
    }

    fn predict(&self, theta: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
        self.check_shapes(theta.len(), out.len())?;
        let mut x = vec![0f32; theta.len()];
        self.prepare(theta, &mut x)?;
        let mut seq = vec![0f32; out.len()];
        self.fast
            .forward(&x, &mut seq)
            .map_err(|e| ModelError::Fatal(e.to_string()))?;
        self.sidecar.normalisation.denormalise_signal(&seq, out);
        Ok(())
    }

    fn predict_batch(
        &self,
        thetas: &[f64],
        out: &mut [f64],
        ok: &mut [bool],
    ) -> Result<(), ModelError> {
        self.check_batch_shapes(thetas.len(), out.len(), ok.len())?;
        let (d, m, n) = (self.n_params(), self.n_outputs(), ok.len());
        // Valid points are packed together and run as one batch.
        let mut x = Vec::with_capacity(n * d);
        let mut idx = Vec::with_capacity(n);
        let mut buf = vec![0f32; d];
        for i in 0..n {
            ok[i] = self.prepare(&thetas[i * d..(i + 1) * d], &mut buf).is_ok();
            if ok[i] {
                x.extend_from_slice(&buf);
                idx.push(i);
            }
        }
        let mut seq = vec![0f32; idx.len() * m];
        // More than one group of 8 is worth a thread per group: an ensemble's half of 32
        // walkers (fewer when proposals fall outside the prior) runs on two cores.
        let run = if idx.len() > 8 && rayon::current_num_threads() > 1 {
            self.fast.forward_batch_par(&x, &mut seq)
        } else {
            self.fast.forward_batch(&x, &mut seq)
        };
        run.map_err(|e| ModelError::Fatal(e.to_string()))?;
        for (k, &i) in idx.iter().enumerate() {
            self.sidecar
                .normalisation
                .denormalise_signal(&seq[k * m..(k + 1) * m], &mut out[i * m..(i + 1) * m]);
        }
        Ok(())
    }

    fn preferred_batch(&self) -> usize {
        self.fast.preferred_batch()
    }

    /// The training box (none when extrapolation is allowed).
    fn valid_box(&self) -> Option<Vec<(f64, f64)>> {
        let s = &self.sidecar;
        (!self.extrapolate).then(|| {
            s.param_min
                .iter()
                .copied()
                .zip(s.param_max.iter().copied())
                .collect()
        })
    }

    /// Reverse mode through the LSTM ([`InputGradient`]) and the chain rule through the
    /// input and output normalisations. The outputs come from the same `f32` network as
    /// [`ForwardModel::predict`] but another summation order: they agree to ~1e-6 relative.
    fn predict_vjp(
        &self,
        theta: &[f64],
        out: &mut [f64],
        cotangent: &mut dyn FnMut(&[f64], &mut [f64]),
        grad: &mut [f64],
    ) -> Result<bool, ModelError> {
        self.check_shapes(theta.len(), out.len())?;
        if grad.len() != theta.len() {
            return Err(ModelError::Dimension {
                what: "gradient".into(),
                expected: theta.len(),
                got: grad.len(),
            });
        }
        let mut x = vec![0f32; theta.len()];
        self.prepare(theta, &mut x)?;
        let norm = &self.sidecar.normalisation;
        let scale = norm.signal_max - norm.signal_min;
        let m = out.len();
        let mut seq = vec![0f64; m];
        let dp = self
            .gradient
            .vjp(&x, &mut seq, |s| {
                // The sequence runs from high z to low z: reverse it onto the grid.
                for (o, y) in out.iter_mut().zip(s.iter().rev()) {
                    *o = y * scale + norm.signal_min;
                }
                let mut v = vec![0.0; m];
                cotangent(out, &mut v);
                v.iter().rev().map(|vi| vi * scale).collect()
            })
            .map_err(|e| ModelError::Fatal(e.to_string()))?;
        for ((g, d), j) in grad.iter_mut().zip(dp).zip(norm.param_derivatives(theta)) {
            *g = d * j;
        }
        Ok(true)
    }
}
