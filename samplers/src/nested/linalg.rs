//! Small dense linear algebra for ellipsoids and whitening (row-major `d x d` matrices).
//!
//! The dimensions here are those of a unit cube (a few to a few tens), so plain loops beat
//! pulling in a linear-algebra crate.

/// Mean and covariance (divided by `n - 1`) of the points `idx` of a row-major point set.
pub fn mean_cov(points: &[f64], d: usize, idx: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let n = idx.len();
    let mut mean = vec![0.0; d];
    for &i in idx {
        for (m, &x) in mean.iter_mut().zip(&points[i * d..(i + 1) * d]) {
            *m += x;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut cov = vec![0.0; d * d];
    let mut dx = vec![0.0; d];
    for &i in idx {
        for (k, v) in dx.iter_mut().enumerate() {
            *v = points[i * d + k] - mean[k];
        }
        for a in 0..d {
            for b in 0..=a {
                cov[a * d + b] += dx[a] * dx[b];
            }
        }
    }
    let norm = (n.max(2) - 1) as f64;
    for a in 0..d {
        for b in 0..=a {
            let v = cov[a * d + b] / norm;
            cov[a * d + b] = v;
            cov[b * d + a] = v;
        }
    }
    (mean, cov)
}

/// Lower Cholesky factor of a symmetric matrix, or `None` if it is not positive definite.
pub fn cholesky(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let mut s = a[i * d + j];
            for k in 0..j {
                s -= l[i * d + k] * l[j * d + k];
            }
            if i == j {
                if s.is_nan() || s <= 0.0 || s.is_infinite() {
                    return None;
                }
                l[i * d + i] = s.sqrt();
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    }
    Some(l)
}

/// Cholesky factor of a covariance, adding diagonal jitter when it is (nearly) singular,
/// as happens for clusters with few points or points on a lower-dimensional manifold.
pub fn cholesky_jitter(cov: &[f64], d: usize) -> Vec<f64> {
    let scale = (0..d)
        .map(|i| cov[i * d + i])
        .fold(0.0, f64::max)
        .max(1e-300);
    let mut a = cov.to_vec();
    let mut jitter = 1e-10 * scale;
    loop {
        if let Some(l) = cholesky(&a, d) {
            return l;
        }
        for i in 0..d {
            a[i * d + i] = cov[i * d + i] + jitter;
        }
        jitter *= 10.0;
        if jitter > 1e3 * scale {
            // Degenerate beyond repair: fall back to an isotropic factor.
            let mut l = vec![0.0; d * d];
            let s = scale.max(1e-12).sqrt();
            for i in 0..d {
                l[i * d + i] = s;
            }
            return l;
        }
    }
}

/// Solves `L y = b` in place for lower-triangular `L`.
pub fn solve_lower(l: &[f64], d: usize, b: &mut [f64]) {
    for i in 0..d {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * d + k] * b[k];
        }
        b[i] = s / l[i * d + i];
    }
}

/// Solves `L^T x = b` in place for lower-triangular `L`.
pub fn solve_lower_transpose(l: &[f64], d: usize, b: &mut [f64]) {
    for i in (0..d).rev() {
        let mut s = b[i];
        for k in i + 1..d {
            s -= l[k * d + i] * b[k];
        }
        b[i] = s / l[i * d + i];
    }
}

/// Solves `L L^T x = b` in place, `L` the lower Cholesky factor of a symmetric matrix.
pub fn solve_cholesky(l: &[f64], d: usize, b: &mut [f64]) {
    solve_lower(l, d, b);
    solve_lower_transpose(l, d, b);
}

/// `out = L z` for lower-triangular `L`.
pub fn mul_lower(l: &[f64], d: usize, z: &[f64], out: &mut [f64]) {
    for i in 0..d {
        out[i] = (0..=i).map(|k| l[i * d + k] * z[k]).sum();
    }
}

/// Log-volume of the unit ball in `d` dimensions: `(d/2) ln pi - ln Gamma(d/2 + 1)`.
pub fn log_unit_ball_volume(d: usize) -> f64 {
    let h = d as f64 / 2.0;
    h * std::f64::consts::PI.ln() - statrs::function::gamma::ln_gamma(h + 1.0)
}

/// `ln(e^a + e^b)` without overflow; `-inf` is the identity.
pub fn logaddexp(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_reconstructs_and_solves() {
        let a = [4.0, 2.0, 0.4, 2.0, 5.0, 1.0, 0.4, 1.0, 3.0];
        let l = cholesky(&a, 3).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let s: f64 = (0..3).map(|k| l[i * 3 + k] * l[j * 3 + k]).sum();
                assert!((s - a[i * 3 + j]).abs() < 1e-12);
            }
        }
        let z = [1.0, -2.0, 0.5];
        let mut b = [0.0; 3];
        mul_lower(&l, 3, &z, &mut b);
        solve_lower(&l, 3, &mut b);
        for (x, y) in b.iter().zip(z) {
            assert!((x - y).abs() < 1e-12);
        }
        assert!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
        // A x = b through L L^T: A (A^-1 b) reproduces b.
        let b0 = [1.0, -2.0, 0.5];
        let mut x = b0;
        solve_cholesky(&l, 3, &mut x);
        for i in 0..3 {
            let ax: f64 = (0..3).map(|k| a[i * 3 + k] * x[k]).sum();
            assert!((ax - b0[i]).abs() < 1e-12, "{ax} vs {}", b0[i]);
        }
    }

    #[test]
    fn ball_volumes_match_closed_forms() {
        assert!((log_unit_ball_volume(2) - std::f64::consts::PI.ln()).abs() < 1e-12);
        let v3 = 4.0 / 3.0 * std::f64::consts::PI;
        assert!((log_unit_ball_volume(3) - v3.ln()).abs() < 1e-12);
        assert!((logaddexp(0.0, 0.0) - 2f64.ln()).abs() < 1e-15);
        assert_eq!(logaddexp(f64::NEG_INFINITY, -3.0), -3.0);
    }
}
