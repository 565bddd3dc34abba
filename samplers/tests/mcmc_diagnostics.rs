//! Diagnostics against known answers: the autocorrelation time of AR(1) processes,
//! split R-hat by hand and for mixed / unmixed chains, effective sample size.

use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use spinflip_samplers::diagnostics::{
    acceptance_fraction, autocorrelation, effective_sample_size, ensemble_autocorr_time,
    integrated_autocorr_time, rank_normalized_r_hat, split_r_hat,
};

/// Stationary AR(1): `x_t = rho x_{t-1} + sqrt(1 - rho^2) e_t`, unit variance.
fn ar1(rng: &mut Xoshiro256PlusPlus, rho: f64, n: usize) -> Vec<f64> {
    let mut x = rng.sample::<f64, _>(StandardNormal);
    let s = (1.0 - rho * rho).sqrt();
    (0..n)
        .map(|_| {
            x = rho * x + s * rng.sample::<f64, _>(StandardNormal);
            x
        })
        .collect()
}

#[test]
fn ar1_acf_is_geometric() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let x = ar1(&mut rng, 0.7, 400_000);
    let a = autocorrelation(&x);
    // rho(t) = 0.7^t; the estimate's standard error is about 1/sqrt(n) * O(few).
    for (t, r) in a.iter().enumerate().take(6) {
        assert!((r - 0.7f64.powi(t as i32)).abs() < 0.01, "lag {t}: {r}");
    }
}

#[test]
fn ar1_integrated_time_single_series() {
    // tau = (1 + rho) / (1 - rho) = 19. Sokal's variance estimate of tau-hat,
    // var ~ 2 (2M + 1) / n tau^2 with M ~ 5 tau, gives a relative sd of 2.2% for n = 10^6;
    // allow 5 sd.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    let x = ar1(&mut rng, 0.9, 1_000_000);
    let tau = integrated_autocorr_time(&x, 5.0).unwrap();
    assert!((tau / 19.0 - 1.0).abs() < 0.11, "tau {tau}");
}

#[test]
fn ar1_integrated_time_ensemble() {
    // 32 independent AR(1) walkers of 40,000 steps in each of two dimensions with different
    // rho; the walker-averaged estimator sees 1.28e6 draws: relative sd ~2.5% (tau = 19)
    // and ~1% (tau = 3).
    let (n_steps, n_walkers, n_dim) = (40_000, 32, 2);
    let rhos = [0.9, 0.5];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let mut chain = vec![0.0; n_steps * n_walkers * n_dim];
    for w in 0..n_walkers {
        for (d, &rho) in rhos.iter().enumerate() {
            for (s, v) in ar1(&mut rng, rho, n_steps).into_iter().enumerate() {
                chain[(s * n_walkers + w) * n_dim + d] = v;
            }
        }
    }
    let tau = ensemble_autocorr_time(&chain, n_steps, n_walkers, n_dim, 5.0).unwrap();
    for (t, rho) in tau.iter().zip(rhos) {
        let exact = (1.0 + rho) / (1.0 - rho);
        assert!((t / exact - 1.0).abs() < 0.12, "tau {t} vs {exact}");
    }
    // Too-short or inconsistent input is an error, not a NaN.
    assert!(ensemble_autocorr_time(&chain, n_steps, n_walkers, 3, 5.0).is_err());
    assert!(ensemble_autocorr_time(&chain, n_steps, n_walkers, n_dim, 0.0).is_err());
    assert!(integrated_autocorr_time(&[1.0], 5.0).is_err());
    assert!(integrated_autocorr_time(&[1.0, f64::NAN, 2.0], 5.0).is_err());
}

#[test]
fn split_r_hat_by_hand() {
    // Halves [0,1] [0,1] [2,3] [2,3]: half means 0.5, 0.5, 2.5, 2.5; B/n = 4/3 (variance of
    // the means), W = 1/2 (within-half variance), var+ = (1/2) W + B/n = 19/12,
    // R-hat = sqrt(var+ / W) = sqrt(19/6).
    let a = [0.0, 1.0, 0.0, 1.0];
    let b = [2.0, 3.0, 2.0, 3.0];
    let r = split_r_hat(&[&a, &b]).unwrap();
    assert!((r - (19.0f64 / 6.0).sqrt()).abs() < 1e-12, "{r}");
    // Odd length: the middle draw is dropped, so appending it changes nothing.
    let a5 = [0.0, 1.0, 100.0, 0.0, 1.0];
    let b5 = [2.0, 3.0, -100.0, 2.0, 3.0];
    assert!((split_r_hat(&[&a5, &b5]).unwrap() - r).abs() < 1e-12);
    assert!(split_r_hat(&[&a[..3], &b[..3]]).is_err());
    assert!(split_r_hat(&[&a, &b[..3]]).is_err());
    assert!(split_r_hat(&[]).is_err());
}

#[test]
fn r_hat_near_one_when_mixed_and_large_when_stuck() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
    let mixed: Vec<Vec<f64>> = (0..8).map(|_| ar1(&mut rng, 0.5, 2000)).collect();
    let refs: Vec<&[f64]> = mixed.iter().map(Vec::as_slice).collect();
    let (r, rr) = (
        split_r_hat(&refs).unwrap(),
        rank_normalized_r_hat(&refs).unwrap(),
    );
    assert!(r < 1.01 && rr < 1.01, "mixed: {r} {rr}");
    assert!(r > 0.99 && rr > 0.99);

    // Half the chains in a mode at 0, half in a mode at 4 (unit width): never mixed.
    let stuck: Vec<Vec<f64>> = (0..8)
        .map(|k| {
            let shift = if k % 2 == 0 { 0.0 } else { 4.0 };
            ar1(&mut rng, 0.5, 2000)
                .into_iter()
                .map(|x| x + shift)
                .collect()
        })
        .collect();
    let refs: Vec<&[f64]> = stuck.iter().map(Vec::as_slice).collect();
    // Classic: var+ / W ~ 1 + 4 (between-mode variance 4.57 over W = 1), R-hat ~ 2.3.
    let (r, rr) = (
        split_r_hat(&refs).unwrap(),
        rank_normalized_r_hat(&refs).unwrap(),
    );
    assert!(r > 2.0 && rr > 1.5, "stuck: {r} {rr}");

    // Same means, different widths: the bulk statistic misses it, the folded tail one does not.
    let widths: Vec<Vec<f64>> = (0..8)
        .map(|k| {
            let s = if k % 2 == 0 { 1.0 } else { 5.0 };
            ar1(&mut rng, 0.0, 2000)
                .into_iter()
                .map(|x| s * x)
                .collect()
        })
        .collect();
    let refs: Vec<&[f64]> = widths.iter().map(Vec::as_slice).collect();
    let rr = rank_normalized_r_hat(&refs).unwrap();
    assert!(rr > 1.1, "scale mismatch: {rr}");
}

#[test]
fn effective_sample_size_and_acceptance() {
    assert_eq!(effective_sample_size(1000, 4.0), 250.0);
    assert_eq!(acceptance_fraction(30, 120), 0.25);
    assert_eq!(acceptance_fraction(0, 0), 0.0);
}
