//! The mean summary as a function of the parameters, `mu(theta)`: an MLP trained on
//! simulated `(theta, t)` pairs (`spinflip train mlp --x params --y t_cnn`), evaluated
//! in `f64` with its exact input gradient, as a [`ForwardModel`] the Gaussian likelihood
//! and every sampler use. Points outside the box the emulator was trained on are
//! recoverable [`ModelError::OutOfRange`] errors. Outputs trained with a log transform (power
//! spectra) are predicted in that transformed space (`log10(v + floor)`), where the summary's
//! likelihood lives; [`SummaryEmulator::select`] keeps a subset of them.

use spinflip_likelihoods::{ForwardModel, ModelError};

use crate::mlp::{Mlp64, MlpModel, Transform};
use crate::SpinflipError;

/// An emulator of summaries.
#[derive(Debug, Clone)]
pub struct SummaryEmulator {
    model: MlpModel,
    net: Mlp64,
    names: Vec<String>,
    ranges: Vec<(f64, f64)>,
    grid: Vec<f64>,
    keep: Vec<usize>,
}

impl SummaryEmulator {
    /// From an MLP whose inputs are the parameters `names`, valid over `ranges`.
    pub fn new(
        model: MlpModel,
        names: &[&str],
        ranges: &[(f64, f64)],
    ) -> Result<Self, SpinflipError> {
        let s = &model.sidecar;
        let bad = |r: String| SpinflipError::ModelFile {
            path: "summary emulator".into(),
            reason: r,
        };
        if s.inputs.columns != names {
            return Err(bad(format!(
                "its inputs are {:?}; a summary emulator of the map parameters takes {names:?} \
                 (train it with `spinflip train mlp --x params --y <summary>` on light-cones \
                 from `spinflip simulate maps`)",
                s.inputs.columns
            )));
        }
        if s.inputs.transform != Transform::Identity {
            return Err(bad(
                "the parameters must enter untransformed (identity)".into()
            ));
        }
        let net = model.network64()?;
        Ok(SummaryEmulator {
            grid: (0..s.outputs.len()).map(|i| i as f64).collect(),
            keep: (0..s.outputs.len()).collect(),
            names: names.iter().map(|s| s.to_string()).collect(),
            ranges: ranges.to_vec(),
            net,
            model,
        })
    }

    /// Keep only the outputs `keep` (indices into the MLP's outputs), in that order.
    pub fn select(mut self, keep: Vec<usize>) -> Result<Self, SpinflipError> {
        let n = self.model.sidecar.outputs.len();
        if keep.is_empty() || keep.iter().any(|&i| i >= n) {
            return Err(SpinflipError::shape(
                "summary emulator",
                format!("selection of {} outputs out of {n}", keep.len()),
            ));
        }
        self.grid = (0..keep.len()).map(|i| i as f64).collect();
        self.keep = keep;
        Ok(self)
    }

    /// Names of the (kept) summaries.
    pub fn summary_names(&self) -> Vec<String> {
        let c = &self.model.sidecar.outputs.columns;
        self.keep.iter().map(|&i| c[i].clone()).collect()
    }

    /// Indices of the kept outputs.
    pub fn kept(&self) -> &[usize] {
        &self.keep
    }

    /// From the network's standardised outputs to the summary space (the transformed one
    /// for log outputs), kept outputs only.
    fn to_summary(&self, y: &[f64], out: &mut [f64]) {
        let o = &self.model.sidecar.outputs;
        for (dst, &i) in out.iter_mut().zip(&self.keep) {
            *dst = y[i] * o.std[i] + o.mean[i];
        }
    }

    /// The MLP.
    pub fn model(&self) -> &MlpModel {
        &self.model
    }

    fn encode(&self, theta: &[f64]) -> Result<Vec<f64>, ModelError> {
        self.check_shapes(theta.len(), self.grid.len())?;
        let f = &self.model.sidecar.inputs;
        theta
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                if !v.is_finite() {
                    return Err(ModelError::NonFinite {
                        name: self.names[i].clone(),
                        value: v,
                    });
                }
                let (lo, hi) = self.ranges[i];
                if v < lo || v > hi {
                    return Err(ModelError::OutOfRange {
                        name: self.names[i].clone(),
                        value: v,
                        min: lo,
                        max: hi,
                    });
                }
                Ok((v - f.mean[i]) / f.std[i])
            })
            .collect()
    }
}

fn failed(e: SpinflipError) -> ModelError {
    ModelError::Invalid {
        field: "summary emulator".into(),
        reason: e.to_string(),
    }
}

impl ForwardModel for SummaryEmulator {
    fn param_names(&self) -> Vec<String> {
        self.names.clone()
    }

    fn valid_box(&self) -> Option<Vec<(f64, f64)>> {
        Some(self.ranges.clone())
    }

    fn grid(&self) -> &[f64] {
        &self.grid
    }

    fn predict(&self, theta: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
        self.check_shapes(theta.len(), out.len())?;
        let z = self.encode(theta)?;
        let y = self.net.predict(&z).map_err(failed)?;
        self.to_summary(&y, out);
        Ok(())
    }

    fn predict_vjp(
        &self,
        theta: &[f64],
        out: &mut [f64],
        cotangent: &mut dyn FnMut(&[f64], &mut [f64]),
        grad: &mut [f64],
    ) -> Result<bool, ModelError> {
        self.check_shapes(theta.len(), out.len())?;
        let z = self.encode(theta)?;
        let acts = self.net.forward(&z).map_err(failed)?;
        let y = acts.last().cloned().unwrap_or_default();
        self.to_summary(&y, out);
        let mut v = vec![0.0; out.len()];
        cotangent(out, &mut v);
        // out_k = y_keep[k] * std_out + mean_out; z = (theta - mean_in) / std_in.
        let o = &self.model.sidecar.outputs;
        let mut vy = vec![0.0; y.len()];
        for (vk, &i) in v.iter().zip(&self.keep) {
            vy[i] += vk * o.std[i];
        }
        let gz = self.net.vjp(&acts, &vy).map_err(failed)?;
        let si = &self.model.sidecar.inputs.std;
        for (g, (a, s)) in grad.iter_mut().zip(gz.iter().zip(si)) {
            *g = a / s;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mlp::{Activation, Features, MlpSidecar, MlpSpec};

    fn emulator() -> SummaryEmulator {
        let spec = MlpSpec::new(2, &[8], 3, Activation::Tanh);
        let rows = [0.0, 10.0, 1.0, 20.0, 2.0, 15.0];
        let cols = |p: &str, n: usize| (0..n).map(|i| format!("{p}{i}")).collect::<Vec<_>>();
        let inputs = Features::fit(
            "params",
            vec![2],
            vec!["a".into(), "b".into()],
            Transform::Identity,
            1.0,
            &rows,
            0..3,
        )
        .unwrap();
        let outs = [1.0, 2.0, 3.0, 2.0, 5.0, 1.0, 0.0, 1.0, 4.0];
        let outputs = Features::fit(
            "t",
            vec![3],
            cols("t", 3),
            Transform::Identity,
            1.0,
            &outs,
            0..3,
        )
        .unwrap();
        let model = MlpModel {
            params: spec.init(5),
            sidecar: MlpSidecar {
                format: crate::mlp::model_file::FORMAT.into(),
                version: crate::mlp::model_file::VERSION,
                architecture: spec,
                inputs,
                outputs,
                data_hash: String::new(),
                weights_hash: String::new(),
                metrics: None,
                training: None,
            },
        };
        SummaryEmulator::new(model, &["a", "b"], &[(0.0, 2.0), (10.0, 20.0)]).unwrap()
    }

    /// J^T v through the standardisations agrees with central differences of v . mu.
    #[test]
    fn gradient_matches_finite_differences() {
        let e = emulator();
        let theta = [0.7, 13.0];
        let v = [0.3, -1.2, 0.8];
        let mut out = [0.0; 3];
        let mut g = [0.0; 2];
        let has = e
            .predict_vjp(&theta, &mut out, &mut |_, w| w.copy_from_slice(&v), &mut g)
            .unwrap();
        assert!(has);
        let f = |t: &[f64]| -> f64 {
            let mut o = [0.0; 3];
            e.predict(t, &mut o).unwrap();
            o.iter().zip(&v).map(|(a, b)| a * b).sum()
        };
        for k in 0..2 {
            let h = 1e-5 * (1.0 + theta[k].abs());
            let (mut a, mut b) = (theta, theta);
            a[k] += h;
            b[k] -= h;
            let fd = (f(&a) - f(&b)) / (2.0 * h);
            assert!(
                (fd - g[k]).abs() < 1e-7 * (1.0 + fd.abs()),
                "{k}: {fd} vs {}",
                g[k]
            );
        }
    }

    #[test]
    fn outside_the_training_box_is_recoverable() {
        let e = emulator();
        let mut out = [0.0; 3];
        let err = e.predict(&[3.0, 15.0], &mut out).unwrap_err();
        assert!(matches!(err, ModelError::OutOfRange { .. }), "{err}");
        let err = e.predict(&[f64::NAN, 15.0], &mut out).unwrap_err();
        assert!(matches!(err, ModelError::NonFinite { .. }), "{err}");
    }
}
