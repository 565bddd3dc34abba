//! Batch normalisation of `n` feature vectors of width `u` (Ioffe & Szegedy 2015), in
//! candle's conventions: training normalises with the batch mean and biased variance and
//! updates the running statistics as `r = (1 - m) r + m s`, with the unbiased variance
//! (`n / (n - 1)`) for the running variance; evaluation uses the running statistics.
//! Statistics are summed in `f64` (64 features over a few hundred samples: cheap).

/// Saved by the training forward pass for the backward pass.
#[derive(Debug, Clone, Default)]
pub struct BnCache {
    /// Normalised inputs `(x - mean) / sqrt(var + eps)`, `n x u`.
    pub xhat: Vec<f32>,
    /// `1 / sqrt(var + eps)` per feature.
    pub inv_std: Vec<f32>,
}

/// Training forward: `y = gamma xhat + beta` with batch statistics; updates
/// `running_mean`/`running_var` with weight `momentum`. Needs `n >= 2`.
#[allow(clippy::too_many_arguments)]
pub fn forward_train(
    x: &[f32],
    n: usize,
    u: usize,
    gamma: &[f32],
    beta: &[f32],
    eps: f64,
    momentum: f64,
    running_mean: &mut [f32],
    running_var: &mut [f32],
    cache: &mut BnCache,
    y: &mut [f32],
) {
    assert!(n >= 2 && x.len() >= n * u && y.len() >= n * u);
    cache.xhat.resize(n * u, 0.0);
    cache.inv_std.resize(u, 0.0);
    for j in 0..u {
        let mean = (0..n).map(|i| f64::from(x[i * u + j])).sum::<f64>() / n as f64;
        let var = (0..n)
            .map(|i| (f64::from(x[i * u + j]) - mean).powi(2))
            .sum::<f64>()
            / n as f64;
        let inv = 1.0 / (var + eps).sqrt();
        cache.inv_std[j] = inv as f32;
        for i in 0..n {
            let xh = ((f64::from(x[i * u + j]) - mean) * inv) as f32;
            cache.xhat[i * u + j] = xh;
            y[i * u + j] = gamma[j] * xh + beta[j];
        }
        running_mean[j] = ((1.0 - momentum) * f64::from(running_mean[j]) + momentum * mean) as f32;
        running_var[j] = ((1.0 - momentum) * f64::from(running_var[j])
            + momentum * var * n as f64 / (n as f64 - 1.0)) as f32;
    }
}

/// Evaluation forward with the running statistics.
#[allow(clippy::too_many_arguments)]
pub fn forward_eval(
    x: &[f32],
    n: usize,
    u: usize,
    gamma: &[f32],
    beta: &[f32],
    eps: f64,
    running_mean: &[f32],
    running_var: &[f32],
    y: &mut [f32],
) {
    for j in 0..u {
        let inv = (1.0 / (f64::from(running_var[j]) + eps).sqrt()) as f32;
        let (s, m) = (gamma[j] * inv, running_mean[j]);
        for i in 0..n {
            y[i * u + j] = s * (x[i * u + j] - m) + beta[j];
        }
    }
}

/// Backward of [`forward_train`]: from `dy` (`n x u`) writes `dx` and adds nothing; writes
/// `dgamma`, `dbeta`. With `g = dy gamma`:
/// `dx = inv_std (g - mean(g) - xhat mean(g xhat))`.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    dy: &[f32],
    n: usize,
    u: usize,
    gamma: &[f32],
    cache: &BnCache,
    dx: &mut [f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
) {
    for j in 0..u {
        let (mut sg, mut sgx, mut sdy, mut sdyx) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for i in 0..n {
            let (d, xh) = (f64::from(dy[i * u + j]), f64::from(cache.xhat[i * u + j]));
            sdy += d;
            sdyx += d * xh;
            sg += d * f64::from(gamma[j]);
            sgx += d * f64::from(gamma[j]) * xh;
        }
        dgamma[j] = sdyx as f32;
        dbeta[j] = sdy as f32;
        let (mg, mgx, inv) = (sg / n as f64, sgx / n as f64, f64::from(cache.inv_std[j]));
        for i in 0..n {
            let g = f64::from(dy[i * u + j]) * f64::from(gamma[j]);
            let xh = f64::from(cache.xhat[i * u + j]);
            dx[i * u + j] = (inv * (g - mg - xh * mgx)) as f32;
        }
    }
}
