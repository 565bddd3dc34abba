//! One-dimensional priors: the inverse-CDF `prior_transform` used by nested sampling and
//! the `log_prob` density used by MCMC.

use crate::error::SamplerError;
use serde::{Deserialize, Serialize};
use statrs::function::erf::{erfc, erfc_inv};
use std::f64::consts::{PI, SQRT_2};

/// A prior on one parameter.
///
/// In a TOML run configuration: `prior = { dist = "log_uniform", min = 1e-4, max = 0.5 }`
/// (`uniform`, `log_uniform`, `normal` with `mean`/`std`, `truncated_normal` with
/// `mean`/`std`/`min`/`max`, `fixed` with `value`). Deserialising validates the numbers.
///
/// ```
/// use spinflip_samplers::Prior;
/// let p = Prior::log_uniform(1e-4, 1.0).unwrap();
/// assert!((p.prior_transform(0.5) - 1e-2).abs() < 1e-12);
/// assert!(Prior::uniform(1.0, 0.0).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "dist",
    rename_all = "snake_case",
    try_from = "PriorSpec",
    into = "PriorSpec"
)]
pub enum Prior {
    /// Uniform on `[min, max]`.
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// Uniform in `ln x` on `[min, max]`, `0 < min < max`.
    LogUniform {
        /// Lower bound (> 0).
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// Gaussian with `mean` and `std`.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation (> 0).
        std: f64,
    },
    /// Gaussian truncated to `[min, max]`.
    TruncatedNormal {
        /// Mean of the untruncated Gaussian.
        mean: f64,
        /// Its standard deviation.
        std: f64,
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// A parameter held at one value (takes no unit-cube dimension).
    Fixed {
        /// The value.
        value: f64,
    },
}

/// Unvalidated form used for (de)serialisation.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
#[allow(missing_docs)]
pub enum PriorSpec {
    Uniform {
        min: f64,
        max: f64,
    },
    LogUniform {
        min: f64,
        max: f64,
    },
    Normal {
        mean: f64,
        std: f64,
    },
    TruncatedNormal {
        mean: f64,
        std: f64,
        min: f64,
        max: f64,
    },
    Fixed {
        value: f64,
    },
}

impl TryFrom<PriorSpec> for Prior {
    type Error = SamplerError;
    fn try_from(s: PriorSpec) -> Result<Self, SamplerError> {
        match s {
            PriorSpec::Uniform { min, max } => Prior::uniform(min, max),
            PriorSpec::LogUniform { min, max } => Prior::log_uniform(min, max),
            PriorSpec::Normal { mean, std } => Prior::normal(mean, std),
            PriorSpec::TruncatedNormal {
                mean,
                std,
                min,
                max,
            } => Prior::truncated_normal(mean, std, min, max),
            PriorSpec::Fixed { value } => Prior::fixed(value),
        }
    }
}

impl From<Prior> for PriorSpec {
    fn from(p: Prior) -> Self {
        match p {
            Prior::Uniform { min, max } => PriorSpec::Uniform { min, max },
            Prior::LogUniform { min, max } => PriorSpec::LogUniform { min, max },
            Prior::Normal { mean, std } => PriorSpec::Normal { mean, std },
            Prior::TruncatedNormal {
                mean,
                std,
                min,
                max,
            } => PriorSpec::TruncatedNormal {
                mean,
                std,
                min,
                max,
            },
            Prior::Fixed { value } => PriorSpec::Fixed { value },
        }
    }
}

fn invalid(reason: impl Into<String>) -> SamplerError {
    SamplerError::InvalidPrior {
        name: String::new(),
        reason: reason.into(),
    }
}

fn finite(x: f64, what: &str) -> Result<(), SamplerError> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(invalid(format!("{what} must be finite, got {x}")))
    }
}

/// Standard normal CDF.
fn phi(x: f64) -> f64 {
    0.5 * erfc(-x / SQRT_2)
}

/// The prior in words, with its bounds (for messages).
impl std::fmt::Display for Prior {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Prior::Uniform { min, max } => write!(f, "uniform on [{min}, {max}]"),
            Prior::LogUniform { min, max } => write!(f, "log-uniform on [{min}, {max}]"),
            Prior::Normal { mean, std } => {
                write!(f, "normal({mean}, {std}) on the whole real line")
            }
            Prior::TruncatedNormal {
                mean,
                std,
                min,
                max,
            } => write!(f, "normal({mean}, {std}) truncated to [{min}, {max}]"),
            Prior::Fixed { value } => write!(f, "fixed at {value}"),
        }
    }
}

/// Mass of N(mean, std) in `[lo, hi]`, from the tail nearer the interval for precision.
fn normal_mass(mean: f64, std: f64, lo: f64, hi: f64) -> f64 {
    let (a, b) = ((lo - mean) / std, (hi - mean) / std);
    if a > 0.0 {
        phi(-a) - phi(-b)
    } else {
        phi(b) - phi(a)
    }
}

/// Standard normal inverse CDF, accurate in both tails.
fn phi_inv(p: f64) -> f64 {
    -SQRT_2 * erfc_inv(2.0 * p)
}

impl Prior {
    /// Uniform on `[min, max]`; errors unless `min < max`, both finite.
    pub fn uniform(min: f64, max: f64) -> Result<Self, SamplerError> {
        finite(min, "min")?;
        finite(max, "max")?;
        if min >= max {
            return Err(invalid(format!(
                "uniform prior needs min < max, got min = {min}, max = {max}"
            )));
        }
        Ok(Prior::Uniform { min, max })
    }

    /// Log-uniform on `[min, max]`; errors unless `0 < min < max`.
    pub fn log_uniform(min: f64, max: f64) -> Result<Self, SamplerError> {
        finite(min, "min")?;
        finite(max, "max")?;
        if min <= 0.0 {
            return Err(invalid(format!(
                "log-uniform prior needs min > 0, got {min}"
            )));
        }
        if min >= max {
            return Err(invalid(format!(
                "log-uniform prior needs min < max, got min = {min}, max = {max}"
            )));
        }
        Ok(Prior::LogUniform { min, max })
    }

    /// Normal with `std > 0`.
    pub fn normal(mean: f64, std: f64) -> Result<Self, SamplerError> {
        finite(mean, "mean")?;
        finite(std, "std")?;
        if std <= 0.0 {
            return Err(invalid(format!("normal prior needs std > 0, got {std}")));
        }
        Ok(Prior::Normal { mean, std })
    }

    /// Normal truncated to `[min, max]`, with enough mass inside to sample.
    pub fn truncated_normal(mean: f64, std: f64, min: f64, max: f64) -> Result<Self, SamplerError> {
        Prior::normal(mean, std)?;
        Prior::uniform(min, max)?;
        let p = Prior::TruncatedNormal {
            mean,
            std,
            min,
            max,
        };
        let mass = p.truncated_mass();
        if mass.is_nan() || mass <= 1e-300 {
            return Err(invalid(format!(
                "truncated normal N({mean}, {std}) has no probability mass in [{min}, {max}]"
            )));
        }
        Ok(p)
    }

    /// A fixed value.
    pub fn fixed(value: f64) -> Result<Self, SamplerError> {
        finite(value, "value")?;
        Ok(Prior::Fixed { value })
    }

    /// Whether the parameter is fixed (no unit-cube dimension).
    pub fn is_fixed(&self) -> bool {
        matches!(self, Prior::Fixed { .. })
    }

    /// The support `[lo, hi]` (infinite for a normal).
    pub fn bounds(&self) -> (f64, f64) {
        match *self {
            Prior::Uniform { min, max }
            | Prior::LogUniform { min, max }
            | Prior::TruncatedNormal { min, max, .. } => (min, max),
            Prior::Normal { .. } => (f64::NEG_INFINITY, f64::INFINITY),
            Prior::Fixed { value } => (value, value),
        }
    }

    /// Prior probability of `[lo, hi]` (1 for a fixed value inside it, 0 outside).
    pub fn mass_in(&self, lo: f64, hi: f64) -> f64 {
        let (a, b) = self.bounds();
        let (lo, hi) = (lo.max(a), hi.min(b));
        if lo > hi || lo.is_nan() || hi.is_nan() {
            return 0.0;
        }
        match *self {
            Prior::Uniform { min, max } => (hi - lo) / (max - min),
            Prior::LogUniform { min, max } => (hi.ln() - lo.ln()) / (max.ln() - min.ln()),
            Prior::Normal { mean, std } => normal_mass(mean, std, lo, hi),
            Prior::TruncatedNormal { mean, std, .. } => {
                normal_mass(mean, std, lo, hi) / self.truncated_mass()
            }
            Prior::Fixed { .. } => 1.0,
        }
    }

    /// This prior restricted to `[lo, hi]` (renormalised: a uniform stays uniform on the
    /// overlap, a normal becomes a truncated normal), and the fraction of the original
    /// prior's mass it keeps. Errors when nothing of the prior lies in `[lo, hi]`.
    pub fn truncated(&self, lo: f64, hi: f64) -> Result<(Prior, f64), SamplerError> {
        let (a, b) = self.bounds();
        let kept = self.mass_in(lo, hi);
        if kept <= 0.0 || (self.is_fixed() && !(lo..=hi).contains(&a)) {
            return Err(invalid(format!(
                "no prior mass in [{lo}, {hi}] (the prior's support is [{a}, {b}])"
            )));
        }
        let (lo, hi) = (lo.max(a), hi.min(b));
        let p = match *self {
            Prior::Uniform { .. } => Prior::uniform(lo, hi)?,
            Prior::LogUniform { .. } => Prior::log_uniform(lo, hi)?,
            Prior::Normal { mean, std } | Prior::TruncatedNormal { mean, std, .. } => {
                Prior::truncated_normal(mean, std, lo, hi)?
            }
            Prior::Fixed { value } => Prior::fixed(value)?,
        };
        Ok((p, kept))
    }

    /// Probability mass of the untruncated normal inside the truncation bounds.
    fn truncated_mass(&self) -> f64 {
        match *self {
            Prior::TruncatedNormal {
                mean,
                std,
                min,
                max,
            } => {
                let (a, b) = ((min - mean) / std, (max - mean) / std);
                // Use the far tail for accuracy when both bounds sit on one side.
                if a > 0.0 {
                    phi(-a) - phi(-b)
                } else {
                    phi(b) - phi(a)
                }
            }
            _ => 1.0,
        }
    }

    /// Inverse CDF: maps `u` in `[0, 1]` to a parameter value distributed as the prior.
    pub fn prior_transform(&self, u: f64) -> f64 {
        match *self {
            Prior::Uniform { min, max } => min + u * (max - min),
            Prior::LogUniform { min, max } => {
                (min.ln() + u * (max.ln() - min.ln())).exp().clamp(min, max)
            }
            Prior::Normal { mean, std } => mean + std * phi_inv(u.clamp(1e-300, 1.0 - 1e-16)),
            Prior::TruncatedNormal {
                mean,
                std,
                min,
                max,
            } => {
                let (a, b) = ((min - mean) / std, (max - mean) / std);
                let x = if a > 0.0 {
                    // Mirror into the lower tail where the CDF has full relative precision.
                    let (pa, pb) = (phi(-a), phi(-b));
                    -phi_inv(pa - u * (pa - pb))
                } else {
                    let (pa, pb) = (phi(a), phi(b));
                    phi_inv(pa + u * (pb - pa))
                };
                (mean + std * x).clamp(min, max)
            }
            Prior::Fixed { value } => value,
        }
    }

    /// Log prior density at `x` (`-inf` outside the support; 0 for a fixed parameter).
    pub fn log_prob(&self, x: f64) -> f64 {
        if !x.is_finite() {
            return f64::NEG_INFINITY;
        }
        match *self {
            Prior::Uniform { min, max } => {
                if (min..=max).contains(&x) {
                    -(max - min).ln()
                } else {
                    f64::NEG_INFINITY
                }
            }
            Prior::LogUniform { min, max } => {
                if (min..=max).contains(&x) {
                    -x.ln() - (max.ln() - min.ln()).ln()
                } else {
                    f64::NEG_INFINITY
                }
            }
            Prior::Normal { mean, std } => {
                let z = (x - mean) / std;
                -0.5 * z * z - std.ln() - 0.5 * (2.0 * PI).ln()
            }
            Prior::TruncatedNormal {
                mean,
                std,
                min,
                max,
            } => {
                if (min..=max).contains(&x) {
                    let z = (x - mean) / std;
                    -0.5 * z * z - std.ln() - 0.5 * (2.0 * PI).ln() - self.truncated_mass().ln()
                } else {
                    f64::NEG_INFINITY
                }
            }
            Prior::Fixed { value } => {
                if x == value {
                    0.0
                } else {
                    f64::NEG_INFINITY
                }
            }
        }
    }

    /// Mean of the prior (used for reports and defaults).
    pub fn mean(&self) -> f64 {
        match *self {
            Prior::Uniform { min, max } => 0.5 * (min + max),
            Prior::LogUniform { min, max } => (max - min) / (max.ln() - min.ln()),
            Prior::Normal { mean, .. } => mean,
            Prior::TruncatedNormal {
                mean,
                std,
                min,
                max,
            } => {
                let (a, b) = ((min - mean) / std, (max - mean) / std);
                let pdf = |z: f64| (-0.5 * z * z).exp() / (2.0 * PI).sqrt();
                mean + std * (pdf(a) - pdf(b)) / self.truncated_mass()
            }
            Prior::Fixed { value } => value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_the_mass_inside_and_renormalises() {
        // Log-uniform over 1e-8..1e4 cut to 1e-6..1e3: 9 of 12 decades kept.
        let (p, kept) = Prior::log_uniform(1e-8, 1e4)
            .unwrap()
            .truncated(1e-6, 1e3)
            .unwrap();
        assert_eq!(
            p,
            Prior::LogUniform {
                min: 1e-6,
                max: 1e3
            }
        );
        assert!((kept - 0.75).abs() < 1e-12, "{kept}");
        // A normal N(0, 1) cut to [0, 50]: half, as a truncated normal.
        let (p, kept) = Prior::normal(0.0, 1.0)
            .unwrap()
            .truncated(0.0, 50.0)
            .unwrap();
        assert!((kept - 0.5).abs() < 1e-15, "{kept}");
        assert!(matches!(p, Prior::TruncatedNormal { min, .. } if min == 0.0));
        // A prior already inside keeps everything and stays itself.
        let u = Prior::uniform(2.0, 3.0).unwrap();
        assert_eq!(u.truncated(0.0, 10.0).unwrap(), (u, 1.0));
        // Disjoint: an error, not an empty prior.
        assert!(u.truncated(5.0, 6.0).is_err());
        assert!(Prior::fixed(7.0).unwrap().truncated(0.0, 1.0).is_err());
    }

    #[test]
    fn invalid_priors_are_rejected() {
        assert!(Prior::uniform(1.0, 1.0).is_err());
        assert!(Prior::uniform(f64::NAN, 1.0).is_err());
        assert!(Prior::log_uniform(0.0, 1.0).is_err());
        assert!(Prior::log_uniform(-1.0, 1.0).is_err());
        assert!(Prior::normal(0.0, 0.0).is_err());
        assert!(Prior::truncated_normal(0.0, 1.0, 2.0, 1.0).is_err());
        assert!(Prior::truncated_normal(0.0, 1.0, 100.0, 101.0).is_err());
        assert!(Prior::fixed(f64::INFINITY).is_err());
    }

    #[test]
    fn transforms_invert_cdf() {
        // Median of each prior is the transform of 0.5.
        assert!((Prior::uniform(-2.0, 4.0).unwrap().prior_transform(0.5) - 1.0).abs() < 1e-14);
        assert!((Prior::normal(3.0, 2.0).unwrap().prior_transform(0.5) - 3.0).abs() < 1e-12);
        // Phi(1) = 0.8413447460685429
        let x = Prior::normal(0.0, 1.0)
            .unwrap()
            .prior_transform(0.841_344_746_068_542_9);
        assert!((x - 1.0).abs() < 1e-9, "{x}");
        // Upper-tail truncation: the transform stays in range and is monotone.
        let t = Prior::truncated_normal(0.0, 1.0, 5.0, 6.0).unwrap();
        let xs: Vec<f64> = (0..=10)
            .map(|i| t.prior_transform(i as f64 / 10.0))
            .collect();
        assert!(xs.windows(2).all(|w| w[1] >= w[0]));
        assert!((xs[0] - 5.0).abs() < 1e-9 && (xs[10] - 6.0).abs() < 1e-9);
    }

    #[test]
    fn densities_integrate_to_one() {
        let priors = [
            Prior::uniform(-1.0, 3.0).unwrap(),
            Prior::log_uniform(0.01, 10.0).unwrap(),
            Prior::normal(1.0, 0.5).unwrap(),
            Prior::truncated_normal(0.0, 1.0, -0.5, 2.0).unwrap(),
        ];
        for p in priors {
            let (lo, hi) = p.bounds();
            let (lo, hi) = (lo.max(-10.0), hi.min(10.0));
            let n = 200_000;
            let h = (hi - lo) / n as f64;
            let s: f64 = (0..n)
                .map(|i| p.log_prob(lo + (i as f64 + 0.5) * h).exp() * h)
                .sum();
            assert!((s - 1.0).abs() < 2e-3, "{p:?}: {s}");
        }
    }

    #[test]
    fn toml_style_deserialisation_validates() {
        let p: Prior =
            serde_json::from_str(r#"{"dist":"log_uniform","min":1e-4,"max":0.5}"#).unwrap();
        assert_eq!(
            p,
            Prior::LogUniform {
                min: 1e-4,
                max: 0.5
            }
        );
        let e = serde_json::from_str::<Prior>(r#"{"dist":"uniform","min":1,"max":0}"#).unwrap_err();
        assert!(e.to_string().contains("min < max"), "{e}");
    }
}
