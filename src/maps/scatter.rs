//! The scatter of a summary about its emulated mean as a function of the parameters:
//! `C(theta)_ij = sigma_i(theta) sigma_j(theta) R_ij + m^2 delta_ij`, with
//! `sigma_i^2(theta) = s_i exp(g_i(theta))`. `g` is an MLP trained to predict `ln r_i^2` (the
//! squared residual of the emulator on simulations) from the parameters; for Gaussian
//! residuals `E[ln r^2] = ln sigma^2 + psi(1/2) + ln 2 = ln sigma^2 - 1.27`, and the per-summary
//! factors `s_i` (fitted on held-out simulations so that `<r_i^2 / sigma_i^2> = 1`) absorb that
//! offset and any bias of the fit. `R` is the correlation of the standardised residuals and
//! `m` the modelling uncertainty. A fixed covariance averages the scatter over the prior; the
//! power spectrum's varies by an order of magnitude across it (sample variance of a patchy
//! late-reionization field against a nearly neutral one), which made fixed-covariance
//! posteriors overconfident where the scatter is large.

use std::path::Path;

use spinflip_likelihoods::{CovarianceModel, ModelError, Noise};

use crate::io::npz::NpzReader;
use crate::mlp::MlpModel;
use crate::nn::files::model_file_error as bad;
use crate::SpinflipError;

/// A parameter-dependent covariance of `p` summaries.
#[derive(Debug, Clone)]
pub struct SummaryScatter {
    net: MlpModel,
    scale: Vec<f64>,
    corr: Vec<f64>,
    modelling_var: f64,
    p: usize,
}

impl SummaryScatter {
    /// From the MLP `g` (file stem `net`) and an NPZ with `scale` (`p`) and `correlation`
    /// (`p x p`); `modelling_var` is added to the diagonal.
    pub fn load(
        net: &Path,
        file: &Path,
        p: usize,
        modelling_var: f64,
    ) -> Result<Self, SpinflipError> {
        let net = crate::mlp::load_mlp(net)?;
        if net.sidecar.outputs.len() != p {
            return Err(bad(
                file,
                format!(
                    "the scatter network predicts {} values; the likelihood has {p} summaries",
                    net.sidecar.outputs.len()
                ),
            ));
        }
        let mut r = NpzReader::open(file)?;
        let scale = r.array("scale")?;
        let corr = r.array("correlation")?;
        if scale.shape != [p] || corr.shape != [p, p] {
            return Err(bad(
                file,
                format!(
                    "'scale' {:?} and 'correlation' {:?}: expected [{p}] and [{p}, {p}]",
                    scale.shape, corr.shape
                ),
            ));
        }
        if scale.data.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(bad(file, "'scale' must be finite and > 0".into()));
        }
        if corr.data.iter().any(|c| !c.is_finite()) {
            return Err(bad(file, "'correlation' must be finite".into()));
        }
        if !(modelling_var.is_finite() && modelling_var >= 0.0) {
            return Err(bad(
                file,
                format!("modelling variance {modelling_var} must be finite and >= 0"),
            ));
        }
        let s = SummaryScatter {
            net,
            scale: scale.data,
            corr: corr.data,
            modelling_var,
            p,
        };
        // Fail at load, not in the first likelihood call, if R is not a covariance.
        let mid = s.net.sidecar.inputs.mean.clone();
        s.noise_at(&mid)
            .map_err(|e| bad(file, format!("the covariance at the training mean: {e}")))?;
        Ok(s)
    }

    /// `sigma_i(theta)`, without the modelling term.
    pub fn sigma(&self, theta: &[f64]) -> Result<Vec<f64>, ModelError> {
        let g = self.net.predict(theta).map_err(|e| ModelError::Invalid {
            field: "scatter network".into(),
            reason: e.to_string(),
        })?;
        Ok(g.iter()
            .zip(&self.scale)
            .map(|(g, s)| (s * g.exp()).sqrt())
            .collect())
    }
}

impl SummaryScatter {
    /// `C(theta)`, `p x p` row-major.
    pub fn covariance(&self, theta: &[f64]) -> Result<Vec<f64>, ModelError> {
        let sd = self.sigma(theta)?;
        let p = self.p;
        let mut c = vec![0.0; p * p];
        for i in 0..p {
            for j in 0..p {
                c[i * p + j] = sd[i] * sd[j] * self.corr[i * p + j];
            }
            c[i * p + i] += self.modelling_var;
        }
        Ok(c)
    }
}

impl CovarianceModel for SummaryScatter {
    fn noise_at(&self, theta: &[f64]) -> Result<Noise, ModelError> {
        Noise::covariance(&self.covariance(theta)?, self.p)
    }
}
