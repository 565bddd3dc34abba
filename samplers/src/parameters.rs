//! An ordered, named parameter set: what a run configuration builds and a sampler explores.

use crate::error::SamplerError;
use crate::prior::Prior;
use serde::{Deserialize, Serialize};

/// One named parameter with its LaTeX label and prior.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parameter {
    /// Name used in files and configs (no spaces).
    pub name: String,
    /// LaTeX label without dollar signs, e.g. `f_\star`.
    pub latex: String,
    /// The prior.
    pub prior: Prior,
}

impl Parameter {
    /// A parameter; the name must be a non-empty identifier-like string.
    pub fn new(
        name: impl Into<String>,
        latex: impl Into<String>,
        prior: Prior,
    ) -> Result<Self, SamplerError> {
        let name = name.into();
        if name.is_empty() || name.chars().any(|c| c.is_whitespace()) {
            return Err(SamplerError::InvalidPrior {
                name: name.clone(),
                reason: "parameter names must be non-empty and contain no whitespace".into(),
            });
        }
        Ok(Parameter {
            name,
            latex: latex.into(),
            prior,
        })
    }
}

/// An ordered set of parameters.
///
/// `theta` (what a likelihood sees) has one entry per parameter, fixed ones included; the
/// unit cube of nested sampling has one dimension per *free* parameter.
///
/// ```
/// use spinflip_samplers::{Parameter, ParameterSet, Prior};
/// let ps = ParameterSet::new(vec![
///     Parameter::new("a", "a", Prior::uniform(0.0, 2.0).unwrap()).unwrap(),
///     Parameter::new("b", "b", Prior::fixed(7.0).unwrap()).unwrap(),
/// ]).unwrap();
/// let mut theta = [0.0; 2];
/// ps.prior_transform(&[0.25], &mut theta).unwrap();
/// assert_eq!(theta, [0.5, 7.0]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParameterSet {
    params: Vec<Parameter>,
    #[serde(skip)]
    free: Vec<usize>,
}

impl ParameterSet {
    /// Build from parameters; names must be unique and at least one must be free.
    pub fn new(params: Vec<Parameter>) -> Result<Self, SamplerError> {
        for (i, p) in params.iter().enumerate() {
            if params[..i].iter().any(|q| q.name == p.name) {
                return Err(SamplerError::InvalidPrior {
                    name: p.name.clone(),
                    reason: "parameter name appears twice".into(),
                });
            }
        }
        let free: Vec<usize> = params
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.prior.is_fixed())
            .map(|(i, _)| i)
            .collect();
        if free.is_empty() {
            return Err(SamplerError::InvalidSetting {
                setting: "params".into(),
                reason: "at least one parameter must have a non-fixed prior".into(),
            });
        }
        Ok(ParameterSet { params, free })
    }

    /// Same prior `prior` on `n` parameters named `x0, x1, ...`.
    pub fn iid(n: usize, prior: Prior) -> Result<Self, SamplerError> {
        ParameterSet::new(
            (0..n)
                .map(|i| Parameter::new(format!("x{i}"), format!("x_{{{i}}}"), prior))
                .collect::<Result<_, _>>()?,
        )
    }

    /// All parameters in order.
    pub fn params(&self) -> &[Parameter] {
        &self.params
    }

    /// Number of parameters (length of `theta`).
    pub fn n_params(&self) -> usize {
        self.params.len()
    }

    /// Number of free parameters (dimension of the unit cube).
    pub fn n_free(&self) -> usize {
        self.free.len()
    }

    /// Indices into `theta` of the free parameters.
    pub fn free_indices(&self) -> &[usize] {
        &self.free
    }

    /// Parameter names in order.
    pub fn names(&self) -> Vec<String> {
        self.params.iter().map(|p| p.name.clone()).collect()
    }

    /// Position of a named parameter.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }

    /// Maps a unit-cube point (`n_free` values in [0, 1]) to `theta` (`n_params` values).
    pub fn prior_transform(&self, cube: &[f64], theta: &mut [f64]) -> Result<(), SamplerError> {
        self.check(cube.len(), self.n_free(), "unit cube")?;
        self.check(theta.len(), self.n_params(), "theta")?;
        let mut k = 0;
        for (p, t) in self.params.iter().zip(theta.iter_mut()) {
            if p.prior.is_fixed() {
                *t = p.prior.prior_transform(0.5);
            } else {
                *t = p.prior.prior_transform(cube[k]);
                k += 1;
            }
        }
        Ok(())
    }

    /// Sum of the log prior densities at `theta` (`-inf` outside the support).
    pub fn log_prior(&self, theta: &[f64]) -> Result<f64, SamplerError> {
        self.check(theta.len(), self.n_params(), "theta")?;
        Ok(self
            .params
            .iter()
            .zip(theta)
            .map(|(p, &t)| p.prior.log_prob(t))
            .sum())
    }

    /// Fills `theta` from the free values, setting fixed parameters to their values.
    pub fn embed_free(&self, free: &[f64], theta: &mut [f64]) -> Result<(), SamplerError> {
        self.check(free.len(), self.n_free(), "free parameters")?;
        self.check(theta.len(), self.n_params(), "theta")?;
        for (p, t) in self.params.iter().zip(theta.iter_mut()) {
            if let Prior::Fixed { value } = p.prior {
                *t = value;
            }
        }
        for (&i, &f) in self.free.iter().zip(free) {
            theta[i] = f;
        }
        Ok(())
    }

    fn check(&self, got: usize, expected: usize, what: &str) -> Result<(), SamplerError> {
        if got != expected {
            return Err(SamplerError::Dimension {
                what: what.into(),
                expected,
                got,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_names_and_all_fixed_are_errors() {
        let u = Prior::uniform(0.0, 1.0).unwrap();
        let a = Parameter::new("a", "a", u).unwrap();
        assert!(ParameterSet::new(vec![a.clone(), a.clone()]).is_err());
        let f = Parameter::new("f", "f", Prior::fixed(1.0).unwrap()).unwrap();
        assert!(ParameterSet::new(vec![f]).is_err());
        assert!(Parameter::new("a b", "", u).is_err());
    }

    #[test]
    fn wrong_lengths_are_errors() {
        let ps = ParameterSet::iid(3, Prior::uniform(0.0, 1.0).unwrap()).unwrap();
        let mut theta = [0.0; 3];
        assert!(ps.prior_transform(&[0.1, 0.2], &mut theta).is_err());
        assert!(ps.log_prior(&[0.1]).is_err());
        assert_eq!(ps.log_prior(&[0.1, 0.2, 2.0]).unwrap(), f64::NEG_INFINITY);
    }
}
