//! Shared helpers of the emulator tests: synthetic smooth signals.
#![allow(dead_code)]

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use spinflip::emulator::TrainData;

/// The 21cmGEM parameter names.
pub fn names() -> Vec<String> {
    ["f_star", "V_c", "f_X", "tau", "alpha_X", "nu_min", "R_mfp"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// Uniform-in-log or uniform draws over 21cmGEM-like ranges.
pub fn draw_params(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut p = Vec::with_capacity(n * 7);
    for _ in 0..n {
        p.push(10f64.powf(rng.random_range(-3.0..-0.5))); // f_star
        p.push(10f64.powf(rng.random_range(0.6..1.9))); // V_c
        p.push(10f64.powf(rng.random_range(-2.0..1.0))); // f_X
        p.push(rng.random_range(0.04..0.1)); // tau
        p.push(rng.random_range(1.0..1.5)); // alpha_X
        p.push(rng.random_range(0.1..3.0)); // nu_min
        p.push(rng.random_range(10.0..50.0)); // R_mfp
    }
    p
}

/// A Gaussian absorption trough whose depth, position and width depend on the parameters,
/// plus a small emission bump: smooth and learnable.
pub fn signal(theta: &[f64], z: &[f64]) -> Vec<f64> {
    let depth = 60.0 + 40.0 * (theta[0].log10() + 3.0) / 2.5 + 30.0 * theta[4];
    let z0 = 12.0 + 4.0 * (theta[1].log10() - 0.6) - 2.0 * (theta[2].log10() + 2.0) / 3.0;
    let w = 2.0 + theta[5];
    let bump = 5.0 * (theta[3] - 0.04) / 0.06;
    z.iter()
        .map(|z| {
            -depth * (-(z - z0).powi(2) / (2.0 * w * w)).exp()
                + bump * (-(z - 7.0).powi(2) / 2.0).exp()
                + 0.01 * theta[6] * (-(z - 30.0f64).powi(2) / 50.0).exp()
        })
        .collect()
}

/// z = 5, 5 + dz, ..., 50.
pub fn grid(dz: f64) -> Vec<f64> {
    let n = ((50.0 - 5.0) / dz).round() as usize + 1;
    (0..n).map(|i| 5.0 + dz * i as f64).collect()
}

/// A train/validation set of synthetic signals.
pub fn data(n_train: usize, n_val: usize, dz: f64, seed: u64) -> TrainData {
    let z = grid(dz);
    let tp = draw_params(n_train, seed);
    let vp = draw_params(n_val, seed + 1000);
    let sig = |p: &[f64]| -> Vec<f64> { p.chunks_exact(7).flat_map(|t| signal(t, &z)).collect() };
    TrainData {
        param_names: names(),
        redshifts: z.clone(),
        train_signals: sig(&tp),
        val_signals: sig(&vp),
        train_params: tp,
        val_params: vp,
        param_box: None,
    }
}
