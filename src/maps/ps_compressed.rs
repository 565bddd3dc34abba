//! The power spectrum compressed by a network: the kept Delta^2 bins of a light-cone (the
//! same 21CMMC selection as [`super::ps_summary`]) through an MLP trained to estimate the
//! parameters, so that the likelihood's data vector is a few numbers (one per parameter)
//! instead of 144 correlated, heavy-tailed bins. A Gaussian in 144 log bins turned out
//! overconfident (docs/maps.md); a Gaussian in the compressed numbers is the CNN
//! likelihood's recipe, calibrated over the prior. Compressing with a regression network and
//! then fitting a likelihood of its outputs is the approach of Alsing et al. (2019, MNRAS 488,
//! 4440) and Prelogovic & Mesinger (2023, MNRAS 524, 4239) for the 21-cm power spectrum.
//!
//! The compressor must not have seen the light-cones the summary emulator learns from: a
//! network's outputs on its own training rows are closer to the truth than on new data, and
//! an emulator of those would be biased (scripts/build_maps_ps_compressed.sh splits them).

use super::ps_summary::PsSummarizer;
use crate::lightcone::lightcone::LightCone;
use crate::mlp::{Mlp64, MlpModel};
use crate::SpinflipError;

/// A power-spectrum summarizer followed by a compression network.
#[derive(Debug, Clone)]
pub struct PsCompressor {
    ps: PsSummarizer,
    model: MlpModel,
    net: Mlp64,
}

impl PsCompressor {
    /// `model` must read exactly the bins `ps` keeps (as raw Delta^2; its own transform,
    /// usually log10 with the same floor, is applied by its input features).
    pub fn new(ps: PsSummarizer, model: MlpModel) -> Result<Self, SpinflipError> {
        let n_in = model.sidecar.inputs.len();
        if n_in != ps.keep().len() {
            return Err(SpinflipError::config(
                "compressor",
                format!(
                    "the compression network reads {n_in} values, the power-spectrum selection \
                     keeps {} bins (k_min, k_max, chunk_stride must be those it was trained on)",
                    ps.keep().len()
                ),
            ));
        }
        // Named `ps[i]` by their flat index into the (chunks, k bins) array, the bins must be
        // the selection's, in its order (a same-size selection of other bins would pass the
        // width check and give nonsense).
        let cols = &model.sidecar.inputs.columns;
        if let Some((j, (c, i))) = cols
            .iter()
            .zip(ps.keep())
            .enumerate()
            .find(|(_, (c, &i))| **c != format!("ps[{i}]"))
        {
            return Err(SpinflipError::config(
                "compressor",
                format!(
                    "the compression network's input {j} is '{c}', the selection's is 'ps[{i}]': \
                     train it on the bins this likelihood keeps (scripts/build_maps_ps_compressed.sh)"
                ),
            ));
        }
        let net = model.network64()?;
        Ok(PsCompressor { ps, model, net })
    }

    /// The bin selection.
    pub fn ps(&self) -> &PsSummarizer {
        &self.ps
    }

    /// The compression network.
    pub fn model(&self) -> &MlpModel {
        &self.model
    }

    /// Names of the compressed summaries (`t_` + the network's output columns).
    pub fn names(&self) -> Vec<String> {
        self.model
            .sidecar
            .outputs
            .columns
            .iter()
            .map(|n| format!("t_{n}"))
            .collect()
    }

    /// The compressed summary of a full `(chunks x PS_K_BINS)` Delta^2 array.
    pub fn from_array(&self, ps: &[f64]) -> Result<Vec<f64>, SpinflipError> {
        let raw = self.ps.kept_raw(ps)?;
        let z = self.model.sidecar.inputs.encode(&raw)?;
        let out = self.model.sidecar.outputs.decode(&self.net.predict(&z)?);
        if out.iter().any(|v| !v.is_finite()) {
            return Err(SpinflipError::shape(
                "compressed power spectrum",
                "the compression network gave a non-finite value",
            ));
        }
        Ok(out)
    }

    /// The compressed summary of a simulated light-cone.
    pub fn summarize_light_cone(&self, lc: &LightCone) -> Result<Vec<f64>, SpinflipError> {
        self.from_array(&self.ps.light_cone_array(lc)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maps::ps_summary::{PsSpec, PS_K_BINS};
    use crate::mlp::{Activation, Features, MlpSidecar, MlpSpec, Transform};

    fn spec() -> PsSpec {
        PsSpec {
            modelling_error: 0.0,
            ..PsSpec::default()
        }
    }

    /// A one-layer identity-like network on `n_in` log10 inputs: output j = mean of the
    /// standardised inputs times `w` (a linear map we can check by hand).
    fn linear_model(keep: &[usize], w: f32) -> MlpModel {
        let n_in = keep.len();
        let arch = MlpSpec::new(n_in, &[], 2, Activation::Tanh);
        let inputs = Features {
            name: "ps_kept".into(),
            shape: vec![n_in],
            columns: keep.iter().map(|i| format!("ps[{i}]")).collect(),
            transform: Transform::Log10,
            floor: 0.01,
            mean: vec![0.0; n_in],
            std: vec![1.0; n_in],
        };
        let outputs = Features {
            name: "params".into(),
            shape: vec![2],
            columns: vec!["a".into(), "b".into()],
            transform: Transform::Identity,
            floor: 0.01,
            mean: vec![1.0, -1.0],
            std: vec![2.0, 1.0],
        };
        // Layout: dense0.weight (2 x n_in), dense0.bias (2).
        let mut params = vec![w / n_in as f32; 2 * n_in];
        params[n_in..].iter_mut().for_each(|v| *v = 0.0);
        params.extend([0.0, 0.5]);
        MlpModel {
            sidecar: MlpSidecar {
                format: crate::mlp::model_file::FORMAT.into(),
                version: crate::mlp::model_file::VERSION,
                architecture: arch,
                inputs,
                outputs,
                data_hash: String::new(),
                weights_hash: String::new(),
                metrics: None,
                training: None,
            },
            params,
        }
    }

    #[test]
    fn compresses_the_kept_bins_through_the_network() {
        let ps = PsSummarizer::new(spec(), 128.0, 32, 24).unwrap();
        let model = linear_model(ps.keep(), 1.0);
        let c = PsCompressor::new(ps, model).unwrap();
        // Every bin Delta^2 = 99.99 mK^2: log10(99.99 + 0.01) = 2 in every kept bin.
        let full = vec![99.99; 24 * PS_K_BINS];
        let t = c.from_array(&full).unwrap();
        // Output 0: the mean of the inputs (2) -> 2 * std 2 + mean 1 = 5; output 1: bias 0.5
        // -> 0.5 * 1 - 1 = -0.5.
        assert!((t[0] - 5.0).abs() < 1e-5, "{t:?}");
        assert!((t[1] + 0.5).abs() < 1e-12, "{t:?}");
        assert_eq!(c.names(), vec!["t_a", "t_b"]);
        // Bins outside the selection do not matter.
        let mut other = full.clone();
        other[0] = 1e6;
        assert_eq!(c.from_array(&other).unwrap(), t);
    }

    #[test]
    fn a_network_for_another_selection_is_refused() {
        let ps = PsSummarizer::new(spec(), 128.0, 32, 24).unwrap();
        let e = PsCompressor::new(ps.clone(), linear_model(&[0; 100], 1.0)).unwrap_err();
        assert!(e.to_string().contains("reads 100 values"), "{e}");
        // The same number of bins, shifted by one k bin.
        let shifted: Vec<usize> = ps.keep().iter().map(|i| i + 1).collect();
        let e = PsCompressor::new(ps, linear_model(&shifted, 1.0)).unwrap_err();
        assert!(e.to_string().contains("input 0 is 'ps[4]'"), "{e}");
    }

    #[test]
    fn negative_power_is_an_error() {
        let ps = PsSummarizer::new(spec(), 128.0, 32, 24).unwrap();
        let first = ps.keep()[0];
        let model = linear_model(ps.keep(), 1.0);
        let c = PsCompressor::new(ps, model).unwrap();
        let mut full = vec![1.0; 24 * PS_K_BINS];
        full[first] = -1.0;
        assert!(c.from_array(&full).is_err());
        full[first] = f64::NAN;
        assert!(c.from_array(&full).is_err());
    }
}
