//! Mock observations: a forward model at known parameters plus seeded Gaussian noise.

use crate::error::ModelError;
use crate::forward_model::ForwardModel;
use crate::noise::Noise;
use crate::spectrum::{freq_of_z, Spectrum};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

/// A mock data vector: `model(truth)` plus noise drawn from `noise` with `seed`, on every
/// model output. Returns `(data, clean)`, the noisy and the noiseless outputs.
pub fn mock_vector<M: ForwardModel + ?Sized>(
    model: &M,
    truth: &[f64],
    noise: &Noise,
    seed: u64,
) -> Result<(Vec<f64>, Vec<f64>), ModelError> {
    let m = model.n_outputs();
    if noise.len() != m {
        return Err(ModelError::Dimension {
            what: "mock noise (one per model output)".into(),
            expected: m,
            got: noise.len(),
        });
    }
    let mut signal = vec![0.0; m];
    model.predict(truth, &mut signal)?;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let z: Vec<f64> = (0..m).map(|_| StandardNormal.sample(&mut rng)).collect();
    let n = noise.correlate(&z);
    let data = signal.iter().zip(&n).map(|(s, e)| s + e).collect();
    Ok((data, signal))
}

/// A mock spectrum on the model grid: `model(truth)` plus noise drawn from `noise` with `seed`.
/// The returned spectrum carries per-channel sigmas when the noise is white or diagonal.
pub fn mock_spectrum<M: ForwardModel + ?Sized>(
    model: &M,
    truth: &[f64],
    noise: &Noise,
    seed: u64,
) -> Result<Spectrum, ModelError> {
    let (temp, _) = mock_vector(model, truth, noise, seed)?;
    let sigma = match noise {
        Noise::White { sigma, n } => Some(vec![*sigma; *n]),
        Noise::Diagonal { sigma } => Some(sigma.clone()),
        Noise::Full { .. } => None,
    };
    Spectrum::new(
        model.grid().iter().map(|&z| freq_of_z(z)).collect(),
        temp,
        sigma,
    )
}
