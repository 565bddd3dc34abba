//! Convergence diagnostics for Markov chains: autocorrelation function, integrated
//! autocorrelation time, split R-hat (classic and rank-normalised), effective sample size and
//! acceptance fraction.
//!
//! References:
//! - A. D. Sokal, "Monte Carlo Methods in Statistical Mechanics: Foundations and New
//!   Algorithms" (1997), sec. 3: integrated autocorrelation time with an automatic window.
//! - J. Goodman & J. Weare, Comm. App. Math. Comp. Sci. 5, 65 (2010), and the emcee
//!   documentation ("Autocorrelation analysis & convergence"): average the normalised
//!   autocorrelation function over walkers before windowing, window constant c = 5.
//! - A. Gelman et al., *Bayesian Data Analysis*, 3rd ed. (2013), sec. 11.4: split R-hat.
//! - A. Vehtari, A. Gelman, D. Simpson, B. Carpenter, P.-C. Bürkner, Bayesian Analysis 16,
//!   667 (2021): rank-normalised, folded split R-hat.

use crate::error::SamplerError;
use realfft::num_complex::Complex;
use realfft::RealFftPlanner;
use statrs::function::erf::erfc_inv;
use std::f64::consts::SQRT_2;

/// Sokal's window constant used by emcee and recommended by Goodman & Weare.
pub const DEFAULT_WINDOW_C: f64 = 5.0;

fn invalid(setting: &str, reason: impl Into<String>) -> SamplerError {
    SamplerError::InvalidSetting {
        setting: setting.into(),
        reason: reason.into(),
    }
}

/// Normalised autocorrelation function `rho(t)`, `t = 0..n-1`, of one series, with the
/// usual biased estimator `c(t) = (1/n) sum_i (x_i - m)(x_{i+t} - m)`, `rho = c / c(0)`
/// (computed by FFT, zero-padded so the correlation is not circular).
///
/// A constant series has no defined correlation; it is reported as perfectly correlated
/// (`rho = 1` at every lag), the right answer for a walker that never moved.
pub fn autocorrelation(x: &[f64]) -> Vec<f64> {
    mean_autocorrelation(&[x])
}

/// The average of the normalised autocorrelation functions of equal-length series (see
/// [`autocorrelation`]).
///
/// Since `c(0)` is the total power of a series' spectrum (Parseval: `sum_k |X_k|^2 = m sum_i
/// x_i^2` for a transform of length `m`), the normalised power spectra are summed and
/// transformed back once (real FFTs from `realfft`).
pub fn mean_autocorrelation(series: &[&[f64]]) -> Vec<f64> {
    let n = series.first().map_or(0, |s| s.len());
    if n == 0 || series.iter().any(|s| s.len() != n) {
        return Vec::new();
    }
    let m = (2 * n).next_power_of_two();
    let mut planner = RealFftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(m);
    let inverse = planner.plan_fft_inverse(m);
    let mut x = forward.make_input_vec();
    let mut z = forward.make_output_vec();
    let mut scratch = forward.make_scratch_vec();
    // Sum over series of power spectrum / total power; constant series counted apart.
    let mut spectrum = vec![Complex::new(0.0, 0.0); z.len()];
    let mut n_constant = 0usize;
    for s in series {
        let mean = s.iter().sum::<f64>() / n as f64;
        x.fill(0.0);
        for (d, &v) in x.iter_mut().zip(s.iter()) {
            *d = v - mean;
        }
        let centred: f64 = x.iter().map(|v| v * v).sum();
        let raw: f64 = s.iter().map(|v| v * v).sum();
        // Only rounding of the mean is left in a constant series: ~1e-32 of its power.
        if centred <= 1e-24 * raw.max(f64::MIN_POSITIVE) {
            n_constant += 1;
            continue;
        }
        forward
            .process_with_scratch(&mut x, &mut z, &mut scratch)
            .expect("buffers made by the plan");
        let inv = 1.0 / (m as f64 * centred);
        for (acc, v) in spectrum.iter_mut().zip(&z) {
            acc.re += v.norm_sqr() * inv;
        }
    }
    let mut acf = inverse.make_output_vec();
    let mut scratch = inverse.make_scratch_vec();
    inverse
        .process_with_scratch(&mut spectrum, &mut acf, &mut scratch)
        .expect("buffers made by the plan");
    let n_series = series.len() as f64;
    acf.truncate(n);
    acf.iter()
        .map(|v| (v + n_constant as f64) / n_series)
        .collect()
}

/// Integrated autocorrelation time `tau = 1 + 2 sum_{t=1}^{M} rho(t)` with Sokal's automatic
/// window: the smallest `M` with `M >= c tau(M)` (the last lag if none).
pub fn integrated_time_from_acf(rho: &[f64], c: f64) -> f64 {
    let mut tau = 1.0;
    for (m, &r) in rho.iter().enumerate().skip(1) {
        tau += 2.0 * r;
        if m as f64 >= c * tau {
            return tau;
        }
    }
    tau
}

/// Integrated autocorrelation time of one series (window constant `c`, 5 is customary).
///
/// ```
/// use spinflip_samplers::diagnostics::integrated_autocorr_time;
/// // Alternating series: strongly anti-correlated, tau well below 1.
/// let x: Vec<f64> = (0..1000).map(|i| if i % 2 == 0 { 1.0 } else { -1.0 }).collect();
/// assert!(integrated_autocorr_time(&x, 5.0).unwrap() < 0.1);
/// ```
pub fn integrated_autocorr_time(x: &[f64], c: f64) -> Result<f64, SamplerError> {
    check_c(c)?;
    if x.len() < 2 {
        return Err(invalid(
            "series",
            format!(
                "need at least 2 values for an autocorrelation time, got {}",
                x.len()
            ),
        ));
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err(invalid("series", "contains a non-finite value"));
    }
    Ok(integrated_time_from_acf(&autocorrelation(x), c))
}

fn check_c(c: f64) -> Result<f64, SamplerError> {
    if !(c.is_finite() && c > 0.0) {
        return Err(invalid(
            "tau_window",
            format!("window constant c must be finite and > 0 (5 is customary), got {c}"),
        ));
    }
    Ok(c)
}

/// Integrated autocorrelation time of each dimension of an ensemble chain stored row-major as
/// `[step][walker][dim]` (`n_steps * n_walkers * n_dim` values).
///
/// The normalised autocorrelation functions of the walkers are averaged before Sokal's
/// window is applied (Goodman & Weare 2010; emcee), which is far less noisy than averaging
/// per-walker times.
pub fn ensemble_autocorr_time(
    chain: &[f64],
    n_steps: usize,
    n_walkers: usize,
    n_dim: usize,
    c: f64,
) -> Result<Vec<f64>, SamplerError> {
    check_c(c)?;
    if chain.len() != n_steps * n_walkers * n_dim {
        return Err(SamplerError::Dimension {
            what: "chain (steps x walkers x dims)".into(),
            expected: n_steps * n_walkers * n_dim,
            got: chain.len(),
        });
    }
    if n_steps < 2 || n_walkers == 0 {
        return Err(invalid(
            "chain",
            format!("need at least 2 steps and 1 walker, got {n_steps} steps, {n_walkers} walkers"),
        ));
    }
    if chain.iter().any(|v| !v.is_finite()) {
        return Err(invalid("chain", "contains a non-finite value"));
    }
    let mut series = vec![vec![0.0; n_steps]; n_walkers];
    let mut taus = Vec::with_capacity(n_dim);
    for d in 0..n_dim {
        for (w, x) in series.iter_mut().enumerate() {
            for (s, v) in x.iter_mut().enumerate() {
                *v = chain[(s * n_walkers + w) * n_dim + d];
            }
        }
        let refs: Vec<&[f64]> = series.iter().map(Vec::as_slice).collect();
        taus.push(integrated_time_from_acf(&mean_autocorrelation(&refs), c));
    }
    Ok(taus)
}

/// Effective sample size `n_total / tau` of `n_total` correlated draws.
pub fn effective_sample_size(n_total: usize, tau: f64) -> f64 {
    if tau > 0.0 {
        n_total as f64 / tau.max(1e-300)
    } else {
        n_total as f64
    }
}

/// Fraction of proposals accepted (0 when nothing was proposed).
pub fn acceptance_fraction(n_accepted: u64, n_proposed: u64) -> f64 {
    if n_proposed == 0 {
        0.0
    } else {
        n_accepted as f64 / n_proposed as f64
    }
}

fn check_chains(chains: &[&[f64]]) -> Result<usize, SamplerError> {
    if chains.is_empty() {
        return Err(invalid("chains", "need at least one chain for R-hat"));
    }
    let n = chains[0].len();
    if let Some(c) = chains.iter().find(|c| c.len() != n) {
        return Err(SamplerError::Dimension {
            what: "R-hat chain length".into(),
            expected: n,
            got: c.len(),
        });
    }
    if n < 4 {
        return Err(invalid(
            "chains",
            format!("split R-hat needs chains of at least 4 draws, got {n}"),
        ));
    }
    if chains.iter().any(|c| c.iter().any(|v| !v.is_finite())) {
        return Err(invalid("chains", "contains a non-finite value"));
    }
    Ok(n)
}

/// Potential scale reduction of equal-length sequences (BDA3 eq. 11.4), no splitting.
fn r_hat_of(seqs: &[&[f64]]) -> f64 {
    let m = seqs.len() as f64;
    let n = seqs[0].len() as f64;
    let means: Vec<f64> = seqs.iter().map(|s| s.iter().sum::<f64>() / n).collect();
    let grand = means.iter().sum::<f64>() / m;
    let b_over_n = if m > 1.0 {
        means.iter().map(|x| (x - grand).powi(2)).sum::<f64>() / (m - 1.0)
    } else {
        0.0
    };
    let w = seqs
        .iter()
        .zip(&means)
        .map(|(s, mu)| s.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (n - 1.0))
        .sum::<f64>()
        / m;
    let var_plus = (n - 1.0) / n * w + b_over_n;
    if w > 0.0 {
        (var_plus / w).sqrt()
    } else if b_over_n > 0.0 {
        // Every sequence constant but at different values: infinitely far from mixed.
        f64::INFINITY
    } else {
        1.0
    }
}

/// Split R-hat (Gelman et al. 2013): each chain is cut into halves (a middle draw of an odd
/// length is dropped) and the potential scale reduction is computed over the halves. Values
/// near 1 mean the chains agree; above ~1.01 they have not mixed.
pub fn split_r_hat(chains: &[&[f64]]) -> Result<f64, SamplerError> {
    let n = check_chains(chains)?;
    let h = n / 2;
    let halves: Vec<&[f64]> = chains.iter().flat_map(|c| [&c[..h], &c[n - h..]]).collect();
    Ok(r_hat_of(&halves))
}

/// Standard normal inverse CDF.
fn phi_inv(p: f64) -> f64 {
    -SQRT_2 * erfc_inv(2.0 * p)
}

/// Rank-normalise pooled draws: `z = Phi^-1((r - 3/8) / (S + 1/4))` with average ranks for ties.
fn rank_normalise(chains: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let total: usize = chains.iter().map(Vec::len).sum();
    let mut idx: Vec<(f64, usize, usize)> = chains
        .iter()
        .enumerate()
        .flat_map(|(c, v)| v.iter().enumerate().map(move |(i, &x)| (x, c, i)))
        .collect();
    idx.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<Vec<f64>> = chains.iter().map(|v| vec![0.0; v.len()]).collect();
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && idx[j + 1].0 == idx[i].0 {
            j += 1;
        }
        // Ranks are 1-based; tied values share the average rank.
        let rank = 0.5 * ((i + 1) + (j + 1)) as f64;
        let z = phi_inv((rank - 0.375) / (total as f64 + 0.25));
        for &(_, c, k) in &idx[i..=j] {
            out[c][k] = z;
        }
        i = j + 1;
    }
    out
}

/// Rank-normalised split R-hat of Vehtari et al. (2021): the larger of the split R-hat of the
/// rank-normalised draws (bulk) and of the rank-normalised draws folded about the median
/// (tails). Robust to heavy tails; recommended threshold 1.01.
pub fn rank_normalized_r_hat(chains: &[&[f64]]) -> Result<f64, SamplerError> {
    check_chains(chains)?;
    let owned: Vec<Vec<f64>> = chains.iter().map(|c| c.to_vec()).collect();
    let bulk = rank_normalise(&owned);
    let mut pooled: Vec<f64> = owned.iter().flatten().copied().collect();
    pooled.sort_by(|a, b| a.total_cmp(b));
    let k = pooled.len();
    let median = if k % 2 == 1 {
        pooled[k / 2]
    } else {
        0.5 * (pooled[k / 2 - 1] + pooled[k / 2])
    };
    let folded: Vec<Vec<f64>> = owned
        .iter()
        .map(|c| c.iter().map(|x| (x - median).abs()).collect())
        .collect();
    let tail = rank_normalise(&folded);
    let r_hat = |v: &[Vec<f64>]| {
        let s: Vec<&[f64]> = v.iter().map(Vec::as_slice).collect();
        split_r_hat(&s)
    };
    Ok(r_hat(&bulk)?.max(r_hat(&tail)?))
}

/// Effective sample size of equal-length chains (Stan's estimator; Vehtari et al. 2021,
/// Bayesian Analysis 16, 667, eqs. 10-11): the multi-chain autocorrelation
/// `rho_t = 1 - (W - mean_c acov_c(t)) / var+`, summed with Geyer's initial monotone sequence.
pub fn ess_chains(chains: &[&[f64]]) -> Result<f64, SamplerError> {
    let n = check_chains(chains)?;
    let m = chains.len();
    let mut acov = Vec::with_capacity(m);
    let mut means = Vec::with_capacity(m);
    for c in chains {
        let mean = c.iter().sum::<f64>() / n as f64;
        let c0 = c.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        let rho = if c0 > 0.0 {
            autocorrelation(c)
        } else {
            vec![0.0; n]
        };
        acov.push(rho.iter().map(|r| r * c0).collect::<Vec<f64>>());
        means.push(mean);
    }
    let nf = n as f64;
    let w = acov.iter().map(|a| a[0] * nf / (nf - 1.0)).sum::<f64>() / m as f64;
    let mut var_plus = w * (nf - 1.0) / nf;
    if m > 1 {
        let g = means.iter().sum::<f64>() / m as f64;
        var_plus += means.iter().map(|x| (x - g).powi(2)).sum::<f64>() / (m as f64 - 1.0);
    }
    if var_plus <= 0.0 {
        // Constant draws carry no information about the spread: report the draw count.
        return Ok((m * n) as f64);
    }
    let rho = |t: usize| 1.0 - (w - acov.iter().map(|a| a[t]).sum::<f64>() / m as f64) / var_plus;
    let mut r = vec![0.0; n];
    r[0] = 1.0;
    r[1] = rho(1);
    // Geyer's initial positive sequence: pairs (r_2k + r_2k+1) while positive.
    let mut t = 1;
    while t + 2 < n {
        let (a, b) = (rho(t + 1), rho(t + 2));
        if a + b <= 0.0 {
            break;
        }
        r[t + 1] = a;
        r[t + 2] = b;
        t += 2;
    }
    let max_t = t;
    // Initial monotone sequence: the pair sums may not increase.
    let mut k = 1;
    while k + 2 <= max_t {
        let prev = r[k - 1] + r[k];
        if r[k + 1] + r[k + 2] > prev {
            r[k + 1] = prev / 2.0;
            r[k + 2] = prev / 2.0;
        }
        k += 2;
    }
    let tau = (-1.0 + 2.0 * r[..=max_t].iter().sum::<f64>()).max(1.0 / ((m * n) as f64).log10());
    Ok((m * n) as f64 / tau)
}

/// The halves of each chain (a middle draw of an odd length dropped).
fn split(chains: &[&[f64]]) -> Result<Vec<Vec<f64>>, SamplerError> {
    let n = check_chains(chains)?;
    let h = n / 2;
    Ok(chains
        .iter()
        .flat_map(|c| [c[..h].to_vec(), c[n - h..].to_vec()])
        .collect())
}

/// Bulk effective sample size (Vehtari et al. 2021): the ESS of the rank-normalised split
/// chains, a measure of how well the centre of the posterior is sampled.
pub fn ess_bulk(chains: &[&[f64]]) -> Result<f64, SamplerError> {
    let z = rank_normalise(&split(chains)?);
    let s: Vec<&[f64]> = z.iter().map(Vec::as_slice).collect();
    ess_chains(&s)
}

/// Tail effective sample size (Vehtari et al. 2021): the smaller ESS of the indicators of
/// the draws below the 5% and above the 95% quantile (split chains), a measure of how well the
/// 90% interval's ends are sampled.
pub fn ess_tail(chains: &[&[f64]]) -> Result<f64, SamplerError> {
    let halves = split(chains)?;
    let mut pooled: Vec<f64> = halves.iter().flatten().copied().collect();
    pooled.sort_by(|a, b| a.total_cmp(b));
    let q =
        |p: f64| pooled[((p * (pooled.len() - 1) as f64).round() as usize).min(pooled.len() - 1)];
    let (q05, q95) = (q(0.05), q(0.95));
    let ind = |f: &dyn Fn(f64) -> bool| -> Vec<Vec<f64>> {
        halves
            .iter()
            .map(|c| c.iter().map(|&x| if f(x) { 1.0 } else { 0.0 }).collect())
            .collect()
    };
    let lo = ind(&|x| x <= q05);
    let hi = ind(&|x| x >= q95);
    let lo: Vec<&[f64]> = lo.iter().map(Vec::as_slice).collect();
    let hi: Vec<&[f64]> = hi.iter().map(Vec::as_slice).collect();
    Ok(ess_chains(&lo)?.min(ess_chains(&hi)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct O(n^2) autocorrelation, the definition itself.
    fn acf_direct(x: &[f64]) -> Vec<f64> {
        let n = x.len();
        let m = x.iter().sum::<f64>() / n as f64;
        let c: Vec<f64> = (0..n)
            .map(|t| (0..n - t).map(|i| (x[i] - m) * (x[i + t] - m)).sum::<f64>() / n as f64)
            .collect();
        c.iter().map(|v| v / c[0]).collect()
    }

    #[test]
    fn fft_acf_matches_the_definition() {
        // Deterministic pseudo-random series (odd length, not a power of two).
        let mut s = 12345u64;
        let x: Vec<f64> = (0..333)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (s >> 11) as f64 / (1u64 << 53) as f64 + 100.0
            })
            .collect();
        let a = autocorrelation(&x);
        let b = acf_direct(&x);
        for (u, v) in a.iter().zip(&b) {
            assert!((u - v).abs() < 1e-10, "{u} vs {v}");
        }
    }

    #[test]
    fn paired_fft_mean_matches_mean_of_definitions() {
        let mut s = 7u64;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        // Three series (odd count: the last FFT carries one series), different scales.
        let xs: Vec<Vec<f64>> = (0..3)
            .map(|k| (0..101).map(|_| (k as f64 + 1.0) * next()).collect())
            .collect();
        let refs: Vec<&[f64]> = xs.iter().map(Vec::as_slice).collect();
        let got = mean_autocorrelation(&refs);
        let direct: Vec<Vec<f64>> = xs.iter().map(|x| acf_direct(x)).collect();
        for t in 0..101 {
            let want = (direct[0][t] + direct[1][t] + direct[2][t]) / 3.0;
            assert!(
                (got[t] - want).abs() < 1e-10,
                "lag {t}: {} vs {want}",
                got[t]
            );
        }
    }

    #[test]
    fn constant_series_is_fully_correlated() {
        let a = autocorrelation(&[3.0; 10]);
        assert_eq!(a, vec![1.0; 10]);
    }

    #[test]
    fn r_hat_of_identical_constant_chains_is_one() {
        let c = [1.0; 8];
        assert_eq!(split_r_hat(&[&c, &c]).unwrap(), 1.0);
        let d = [2.0; 8];
        assert_eq!(split_r_hat(&[&c, &d]).unwrap(), f64::INFINITY);
    }

    #[test]
    fn rank_normalisation_averages_ties() {
        let z = rank_normalise(&[vec![1.0, 1.0, 2.0]]);
        assert_eq!(z[0][0], z[0][1]);
        assert!(z[0][2] > z[0][0]);
    }

    /// An AR(1) series x_t = a x_{t-1} + e_t has tau = (1 + a)/(1 - a).
    fn ar1(n: usize, a: f64, seed: u64) -> Vec<f64> {
        let mut s = seed;
        let mut unif = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let mut x = 0.0;
        (0..n)
            .map(|_| {
                // Box-Muller.
                let e = (-2.0 * unif().ln()).sqrt() * (2.0 * std::f64::consts::PI * unif()).cos();
                x = a * x + e;
                x
            })
            .collect()
    }

    #[test]
    fn ess_of_ar1_chains_matches_the_analytic_autocorrelation_time() {
        for (a, tol) in [(0.0, 0.1), (0.5, 0.12), (0.9, 0.2)] {
            let chains: Vec<Vec<f64>> = (0..4).map(|c| ar1(20_000, a, 7 + c)).collect();
            let s: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
            let want = 80_000.0 * (1.0 - a) / (1.0 + a);
            let got = ess_chains(&s).unwrap();
            assert!(
                (got / want - 1.0).abs() < tol,
                "a = {a}: ESS {got} vs {want}"
            );
            let bulk = ess_bulk(&s).unwrap();
            assert!(
                (bulk / want - 1.0).abs() < tol + 0.05,
                "a = {a}: bulk {bulk} vs {want}"
            );
            // Tail indicators decorrelate faster than x itself (for a = 0.5 the 5%-tail
            // indicator's tau is ~1.7, not 3): only bracket it between the white-noise ESS
            // and a fraction of x's.
            let tail = ess_tail(&s).unwrap();
            assert!(
                tail > 0.3 * want && tail < 1.1 * 80_000.0,
                "a = {a}: tail {tail}"
            );
        }
        // Chains stuck at different values: the between-chain variance makes the ESS tiny.
        let stuck: Vec<Vec<f64>> = (0..4)
            .map(|c| {
                ar1(1000, 0.5, c)
                    .iter()
                    .map(|x| x * 0.01 + c as f64)
                    .collect()
            })
            .collect();
        let s: Vec<&[f64]> = stuck.iter().map(Vec::as_slice).collect();
        assert!(ess_bulk(&s).unwrap() < 50.0);
    }
}
