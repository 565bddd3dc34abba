//! How an MLP sees its inputs and outputs: a named block of columns (e.g. `ps`, 24 redshift
//! chunks x 16 k bins, or `params`), an optional log transform (power spectra span decades
//! and are zero where the box is ionised), and a per-column standardisation fitted on the
//! training rows and stored in the model.

use serde::{Deserialize, Serialize};

use crate::SpinflipError;

/// Element-wise transform applied before standardisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Transform {
    /// Values as they are.
    #[default]
    Identity,
    /// `log10(v + floor)` (for power spectra; `floor` keeps empty bins finite).
    Log10,
}

/// A block of columns with its transform and standardisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Features {
    /// Array name in the data files (`ps`, `params`, ...).
    pub name: String,
    /// Shape of one row in the file (flattened in C order).
    pub shape: Vec<usize>,
    /// Column names (for reports; `name[i]` when the file has none).
    pub columns: Vec<String>,
    /// Transform before standardisation.
    pub transform: Transform,
    /// Added before [`Transform::Log10`] (same units as the data).
    pub floor: f64,
    /// Per-column mean after the transform (training rows).
    pub mean: Vec<f64>,
    /// Per-column standard deviation after the transform (1 where constant).
    pub std: Vec<f64>,
}

impl Features {
    /// Fit the standardisation on the rows `rows` of `data` (`n x d`, row-major).
    #[allow(clippy::too_many_arguments)]
    pub fn fit(
        name: &str,
        shape: Vec<usize>,
        columns: Vec<String>,
        transform: Transform,
        floor: f64,
        data: &[f64],
        rows: std::ops::Range<usize>,
    ) -> Result<Self, SpinflipError> {
        let d: usize = shape.iter().product();
        if columns.len() != d {
            return Err(SpinflipError::shape(
                name,
                format!("{} column names for {d} columns", columns.len()),
            ));
        }
        if transform == Transform::Log10 && !(floor > 0.0 && floor.is_finite()) {
            return Err(SpinflipError::config(
                "log floor",
                format!("{floor}: a log10 transform needs a positive floor"),
            ));
        }
        let mut f = Features {
            name: name.to_string(),
            shape,
            columns,
            transform,
            floor,
            mean: vec![0.0; d],
            std: vec![1.0; d],
        };
        let n = rows.len() as f64;
        let mut sum = vec![0.0; d];
        let mut sq = vec![0.0; d];
        for r in rows {
            for (j, &v) in data[r * d..(r + 1) * d].iter().enumerate() {
                let t = f.forward(v)?;
                sum[j] += t;
                sq[j] += t * t;
            }
        }
        for j in 0..d {
            let m = sum[j] / n;
            let var = (sq[j] / n - m * m).max(0.0);
            f.mean[j] = m;
            f.std[j] = if var > 1e-24 { var.sqrt() } else { 1.0 };
        }
        Ok(f)
    }

    /// Columns.
    pub fn len(&self) -> usize {
        self.mean.len()
    }

    /// No columns.
    pub fn is_empty(&self) -> bool {
        self.mean.is_empty()
    }

    fn forward(&self, v: f64) -> Result<f64, SpinflipError> {
        let t = match self.transform {
            Transform::Identity => v,
            Transform::Log10 => (v + self.floor).log10(),
        };
        if !t.is_finite() {
            return Err(SpinflipError::shape(
                &self.name,
                format!(
                    "value {v} is not finite after the {:?} transform (floor {})",
                    self.transform, self.floor
                ),
            ));
        }
        Ok(t)
    }

    /// Standardised values of one or more rows (`raw.len()` a multiple of the columns).
    pub fn encode(&self, raw: &[f64]) -> Result<Vec<f64>, SpinflipError> {
        let d = self.len();
        if !raw.len().is_multiple_of(d) {
            return Err(SpinflipError::shape(
                &self.name,
                format!("{} values are not whole rows of {d}", raw.len()),
            ));
        }
        raw.iter()
            .enumerate()
            .map(|(i, &v)| Ok((self.forward(v)? - self.mean[i % d]) / self.std[i % d]))
            .collect()
    }

    /// Physical values from standardised ones (the inverse of [`Self::encode`]).
    pub fn decode(&self, z: &[f64]) -> Vec<f64> {
        let d = self.len();
        z.iter()
            .enumerate()
            .map(|(i, &v)| {
                let t = v * self.std[i % d] + self.mean[i % d];
                match self.transform {
                    Transform::Identity => t,
                    Transform::Log10 => 10f64.powf(t) - self.floor,
                }
            })
            .collect()
    }

    /// Check a stored block.
    pub fn validate(&self) -> Result<(), String> {
        let d: usize = self.shape.iter().product();
        if d == 0 || self.mean.len() != d || self.std.len() != d || self.columns.len() != d {
            return Err(format!(
                "'{}': shape {:?} needs {d} means, standard deviations and column names",
                self.name, self.shape
            ));
        }
        if self.mean.iter().any(|m| !m.is_finite())
            || self.std.iter().any(|s| !(s.is_finite() && *s > 0.0))
        {
            return Err(format!(
                "'{}': means must be finite and standard deviations positive",
                self.name
            ));
        }
        if self.transform == Transform::Log10 && (self.floor.is_nan() || self.floor <= 0.0) {
            return Err(format!(
                "'{}': log10 transform needs a positive floor",
                self.name
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip() {
        let data = [1.0, 100.0, 3.0, 0.0, 5.0, 10.0];
        let names = vec!["a".to_string(), "b".to_string()];
        for t in [Transform::Identity, Transform::Log10] {
            let f = Features::fit("x", vec![2], names.clone(), t, 0.01, &data, 0..3).unwrap();
            let z = f.encode(&data).unwrap();
            // Standardised columns: mean 0, variance 1 over the fitted rows.
            for j in 0..2 {
                let c: Vec<f64> = z.chunks(2).map(|r| r[j]).collect();
                let m = c.iter().sum::<f64>() / 3.0;
                let v = c.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 3.0;
                assert!(m.abs() < 1e-12 && (v - 1.0).abs() < 1e-12);
            }
            let back = f.decode(&z);
            for (a, b) in back.iter().zip(&data) {
                assert!((a - b).abs() < 1e-9 * (1.0 + b.abs()));
            }
        }
        let f = Features::fit("x", vec![2], names, Transform::Log10, 0.01, &data, 0..3).unwrap();
        assert!(
            f.encode(&[-1.0, 1.0]).is_err(),
            "log of a negative value is an error"
        );
        assert!(f.encode(&[1.0, 2.0, 3.0]).is_err());
    }
}
