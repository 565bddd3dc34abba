//! Regression metrics every network reports on held-out data.

/// Coefficient of determination, `1 - sum (p - t)^2 / sum (t - mean t)^2` (1: perfect, 0:
/// no better than predicting the mean); NaN (`null` in JSON reports) when the truth does
/// not vary (e.g. simulations at one fiducial point), where it is undefined.
pub fn r2(pred: &[f64], truth: &[f64]) -> f64 {
    let m = truth.iter().sum::<f64>() / truth.len() as f64;
    let ss_res: f64 = pred.iter().zip(truth).map(|(p, t)| (p - t).powi(2)).sum();
    let ss_tot: f64 = truth.iter().map(|t| (t - m).powi(2)).sum();
    if ss_tot <= 1e-300 * truth.len() as f64 {
        return f64::NAN;
    }
    1.0 - ss_res / ss_tot
}

/// Mean absolute error.
pub fn mae(pred: &[f64], truth: &[f64]) -> f64 {
    pred.iter()
        .zip(truth)
        .map(|(p, t)| (p - t).abs())
        .sum::<f64>()
        / truth.len() as f64
}

/// Column `q` of a row-major matrix with `d` columns.
pub fn column(v: &[f64], d: usize, q: usize) -> Vec<f64> {
    v.chunks(d).map(|r| r[q]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r2_of_perfect_and_mean_predictions() {
        let t = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(r2(&t, &t), 1.0);
        assert_eq!(r2(&[2.5; 4], &t), 0.0);
        assert!((mae(&[1.5, 2.5, 3.5, 4.5], &t) - 0.5).abs() < 1e-15);
        assert_eq!(column(&[1.0, 2.0, 3.0, 4.0], 2, 1), vec![2.0, 4.0]);
        assert!(
            r2(&[1.0, 2.0], &[3.0, 3.0]).is_nan(),
            "undefined for a constant truth"
        );
    }
}
