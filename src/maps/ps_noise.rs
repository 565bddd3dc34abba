//! Thermal noise in the power-spectrum likelihood (`[model] thermal_noise_mk`): white
//! Gaussian noise of rms `sigma` per cell of the observed light-cone, the simplest stand-in for
//! an interferometer's thermal noise on our grid, entered analytically (21CMMC adds a
//! thermal-noise power to the variance of each bin in the same way; Greig & Mesinger 2015).
//!
//! White noise of variance `sigma^2` per cell of volume `V_cell` has the flat power spectrum
//! `P_N = sigma^2 V_cell`, so in a bin whose modes have mean wavenumber `k` its
//! `Delta^2_N = k^3 P_N / (2 pi^2)`, the estimator's convention
//! ([`crate::lightcone::summaries::chunk_power_spectra`]). Noise and signal are independent,
//! so the measured spectrum's expectation is `Delta^2_S + Delta^2_N` (the noise power is a
//! known bias, kept in the model mean rather than subtracted from the data, which keeps the
//! log finite), and its variance, for Gaussian fields over the bin's `N/2` independent modes
//! (the estimator counts each mode and its conjugate), grows from `2 Delta^2_S^2 / N` to
//! `2 (Delta^2_S + Delta^2_N)^2 / N`. The noise-free part of that variance is already in the
//! likelihood's simulated covariance; this adds the difference, carried into
//! `log10(Delta^2 + floor)` by its derivative.

use std::sync::Arc;

use spinflip_likelihoods::{CovarianceModel, ForwardModel, ModelError, Noise};

use super::ps_summary::{PsSummarizer, PS_K_BINS};
use super::scatter::SummaryScatter;
use super::summary_emulator::SummaryEmulator;
use crate::lightcone::lightcone::LightCone;
use crate::lightcone::summaries::{bin_modes, default_k_edges};
use crate::SpinflipError;

/// The noise's power and mode counts in the bins a likelihood keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct PsThermalNoise {
    sigma_mk: f64,
    /// `Delta^2_N` per kept bin, mK^2.
    delta2: Vec<f64>,
    /// Modes per kept bin as the estimator counts them.
    modes: Vec<f64>,
    floor: f64,
}

impl PsThermalNoise {
    /// White noise of `sigma_mk` per cell in light-cones of `box_mpc` on `cells` cells, for
    /// the bins `ps` keeps.
    pub fn white(
        sigma_mk: f64,
        ps: &PsSummarizer,
        box_mpc: f64,
        cells: usize,
    ) -> Result<Self, SpinflipError> {
        if !(sigma_mk.is_finite() && sigma_mk > 0.0) {
            return Err(SpinflipError::config(
                "model.thermal_noise_mk",
                format!("{sigma_mk} must be finite and > 0 (leave it out for no noise)"),
            ));
        }
        let (k, modes) = bin_modes(cells, box_mpc, &default_k_edges(box_mpc, cells, PS_K_BINS));
        let p_n = sigma_mk * sigma_mk * (box_mpc / cells as f64).powi(3);
        let two_pi2 = 2.0 * std::f64::consts::PI.powi(2);
        let (mut delta2, mut m) = (Vec::new(), Vec::new());
        for &i in ps.keep() {
            let b = i % PS_K_BINS;
            // A bin without modes (narrower than the grid's spacing at low k) reads zero
            // power, noise or not.
            delta2.push(k[b].powi(3) * p_n / two_pi2);
            m.push(modes[b].max(1) as f64);
        }
        Ok(PsThermalNoise {
            sigma_mk,
            delta2,
            modes: m,
            floor: ps.spec().floor,
        })
    }

    /// Noise rms per cell, mK.
    pub fn sigma_mk(&self) -> f64 {
        self.sigma_mk
    }

    /// `Delta^2_N` of each kept bin, mK^2.
    pub fn delta2(&self) -> &[f64] {
        &self.delta2
    }

    /// The noisy mean of each bin from the noise-free one, both `log10(Delta^2 + floor)`, and
    /// its derivative with respect to the noise-free one.
    pub fn biased(&self, mu: f64, i: usize) -> (f64, f64) {
        let a = 10f64.powf(mu);
        let b = a + self.delta2[i];
        (b.log10(), a / b)
    }

    /// The variance (in `log10` units squared) the noise adds to each bin, from the noisy mean
    /// of the bins `mu_noisy` (`log10(Delta^2_S + Delta^2_N + floor)`).
    pub fn extra_variance(&self, mu_noisy: &[f64]) -> Vec<f64> {
        let ln10 = std::f64::consts::LN_10;
        mu_noisy
            .iter()
            .enumerate()
            .map(|(i, &m)| {
                let total = 10f64.powf(m);
                let s = (total - self.floor - self.delta2[i]).max(0.0);
                let n = self.delta2[i];
                let var = 2.0 * ((s + n).powi(2) - s * s) / self.modes[i];
                var / (ln10 * total).powi(2)
            })
            .collect()
    }

    /// The noise added to a light-cone, seeded by `seed` (one stream per x = const plane).
    pub fn add_to(&self, lc: &mut LightCone, seed: u64) -> Result<(), SpinflipError> {
        let spec = crate::cnn::noise::NoiseSpec::White {
            rms_mk: self.sigma_mk,
        };
        let (n, n_los) = (lc.cells, lc.n_los);
        for (x, plane) in lc.t_b.chunks_mut(n * n_los).enumerate() {
            spec.apply(plane, n, n_los, seed, x as u64)?;
        }
        Ok(())
    }
}

/// The power-spectrum emulator's mean with the noise power added to every bin.
#[derive(Debug, Clone)]
pub struct NoisyPsEmulator {
    inner: SummaryEmulator,
    noise: Arc<PsThermalNoise>,
}

impl NoisyPsEmulator {
    /// `inner` predicts the kept bins `noise` was made for.
    pub fn new(inner: SummaryEmulator, noise: Arc<PsThermalNoise>) -> Result<Self, SpinflipError> {
        if inner.n_outputs() != noise.delta2.len() {
            return Err(SpinflipError::shape(
                "thermal noise",
                format!(
                    "{} bins of noise for an emulator of {}",
                    noise.delta2.len(),
                    inner.n_outputs()
                ),
            ));
        }
        Ok(NoisyPsEmulator { inner, noise })
    }

    /// The noise.
    pub fn noise(&self) -> &PsThermalNoise {
        &self.noise
    }
}

impl ForwardModel for NoisyPsEmulator {
    fn param_names(&self) -> Vec<String> {
        self.inner.param_names()
    }

    fn valid_box(&self) -> Option<Vec<(f64, f64)>> {
        self.inner.valid_box()
    }

    fn grid(&self) -> &[f64] {
        self.inner.grid()
    }

    fn predict(&self, theta: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
        self.inner.predict(theta, out)?;
        for (i, o) in out.iter_mut().enumerate() {
            *o = self.noise.biased(*o, i).0;
        }
        Ok(())
    }

    fn predict_vjp(
        &self,
        theta: &[f64],
        out: &mut [f64],
        cotangent: &mut dyn FnMut(&[f64], &mut [f64]),
        grad: &mut [f64],
    ) -> Result<bool, ModelError> {
        let noise = &self.noise;
        // The chain rule through the bias: the cotangent of the noise-free mean is that of
        // the noisy one times d(noisy)/d(noise-free).
        let mut wrapped = |clean: &[f64], v: &mut [f64]| {
            let (noisy, slope): (Vec<f64>, Vec<f64>) = clean
                .iter()
                .enumerate()
                .map(|(i, &m)| noise.biased(m, i))
                .unzip();
            cotangent(&noisy, v);
            v.iter_mut().zip(&slope).for_each(|(a, s)| *a *= s);
        };
        let ok = self.inner.predict_vjp(theta, out, &mut wrapped, grad)?;
        if ok {
            for (i, o) in out.iter_mut().enumerate() {
                *o = noise.biased(*o, i).0;
            }
        }
        Ok(ok)
    }
}

/// The noise-free covariance of the bins (fixed, or the scatter model's `C(theta)`).
#[derive(Debug, Clone)]
pub enum BaseCovariance {
    /// A fixed `p x p` matrix.
    Fixed(Vec<f64>),
    /// The parameter-dependent one.
    Scatter(Box<SummaryScatter>),
}

/// The likelihood's covariance with the noise's variance added to each bin at `theta`.
#[derive(Debug, Clone)]
pub struct NoisyPsCovariance {
    base: BaseCovariance,
    mean: NoisyPsEmulator,
}

impl NoisyPsCovariance {
    /// `base` over the bins `mean` predicts.
    pub fn new(base: BaseCovariance, mean: NoisyPsEmulator) -> Self {
        NoisyPsCovariance { base, mean }
    }
}

impl CovarianceModel for NoisyPsCovariance {
    fn noise_at(&self, theta: &[f64]) -> Result<Noise, ModelError> {
        let p = self.mean.n_outputs();
        let mut c = match &self.base {
            BaseCovariance::Fixed(c) => c.clone(),
            BaseCovariance::Scatter(s) => s.covariance(theta)?,
        };
        let mut mu = vec![0.0; p];
        self.mean.predict(theta, &mut mu)?;
        for (i, v) in self.mean.noise.extra_variance(&mu).iter().enumerate() {
            c[i * p + i] += v;
        }
        Noise::covariance(&c, p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lightcone::summaries::chunk_power_spectra;
    use crate::maps::ps_summary::PsSpec;

    /// A pure-noise light-cone of `chunks` cubes of 32^3 cells, 128 Mpc (the shipped
    /// likelihoods' geometry).
    fn noise_cone(noise: &PsThermalNoise, chunks: usize, seed: u64) -> LightCone {
        let n = 32;
        let n_los = n * chunks;
        let mut lc = LightCone {
            cells: n,
            n_los,
            t_b: vec![0.0; n * n * n_los],
            global_tb: vec![0.0; n_los],
            global_xhi: vec![0.0; n_los],
            redshifts: (0..n_los).map(|i| 6.0 + 0.01 * i as f64).collect(),
        };
        noise.add_to(&mut lc, seed).unwrap();
        lc
    }

    /// The measured power of pure white noise averages to the analytic Delta^2_N in every kept
    /// bin, and scatters as 2 Delta^2_N^2 / modes: the two numbers the likelihood adds.
    #[test]
    fn white_noise_power_matches_the_analytic_bias_and_variance() {
        let (n, l, chunks, reps) = (32, 128.0, 2, 40);
        let spec = PsSpec {
            chunk_stride: 1,
            ..PsSpec::default()
        };
        let ps = PsSummarizer::new(spec, l, n, chunks).unwrap();
        let noise = PsThermalNoise::white(10.0, &ps, l, n).unwrap();
        let edges = default_k_edges(l, n, PS_K_BINS);
        let keep = ps.keep().to_vec();
        let mut est = vec![Vec::new(); keep.len()];
        for r in 0..reps {
            let lc = noise_cone(&noise, chunks, r);
            let all: Vec<f64> = chunk_power_spectra(&lc, l, &edges)
                .iter()
                .flat_map(|c| c.delta2.clone())
                .collect();
            for (j, &i) in keep.iter().enumerate() {
                est[j].push(all[i] / noise.delta2()[j]);
            }
        }
        let mut ratio = 0.0;
        for (j, e) in est.iter().enumerate() {
            let m = e.iter().sum::<f64>() / reps as f64;
            let var = e.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (reps - 1) as f64;
            // The mean of `reps` estimates has relative sd sqrt(2 / (modes reps)); 5 sigma.
            let rel = (2.0 / (noise.modes[j] * reps as f64)).sqrt();
            assert!(
                (m - 1.0).abs() < 5.0 * rel,
                "bin {}: mean {m} (sd {rel})",
                keep[j]
            );
            ratio += var / (2.0 / noise.modes[j]) / keep.len() as f64;
        }
        // Each bin's variance ratio has relative sd sqrt(2 / (reps - 1)) ~ 0.23; over 24 bins
        // the mean's is ~0.05: 1 within 0.2 (a factor 2 in the mode count fails by far).
        assert!(
            (ratio - 1.0).abs() < 0.2,
            "variance / (2 Delta^2_N^2 / modes) = {ratio}"
        );
    }

    #[test]
    fn the_bias_and_its_derivative() {
        let ps = PsSummarizer::new(PsSpec::default(), 128.0, 32, 24).unwrap();
        let noise = PsThermalNoise::white(5.0, &ps, 128.0, 32).unwrap();
        let (mu, h) = (1.3, 1e-6);
        let (b, d) = noise.biased(mu, 7);
        assert!((10f64.powf(b) - 10f64.powf(mu) - noise.delta2()[7]).abs() < 1e-9);
        let fd = (noise.biased(mu + h, 7).0 - noise.biased(mu - h, 7).0) / (2.0 * h);
        assert!((fd - d).abs() < 1e-7, "{fd} vs {d}");
        // Noise variance vanishes as sigma -> 0 relative to a fixed signal.
        let quiet = PsThermalNoise::white(1e-6, &ps, 128.0, 32).unwrap();
        let v = quiet.extra_variance(&[mu; 144]);
        assert!(v.iter().all(|x| (0.0..1e-12).contains(x)), "{v:?}");
        assert!(PsThermalNoise::white(0.0, &ps, 128.0, 32).is_err());
        assert!(PsThermalNoise::white(f64::NAN, &ps, 128.0, 32).is_err());
    }
}
