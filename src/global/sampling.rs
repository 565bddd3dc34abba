//! Seeded designs over the 21cmGEM prior box: Latin hypercube or independent uniform draws in
//! the unit cube, mapped with [`GlobalParams::from_unit_cube`] (log-uniform in f_star, V_c, f_X).

use super::params::{GlobalParams, N_PARAMS, PARAM_LOG, PARAM_NAMES, PARAM_RANGES};
use crate::SpinflipError;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// How points fill the box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// Latin hypercube (McKay, Beckman & Conover 1979): each parameter's range is cut into n
    /// equal strata, each stratum used once.
    LatinHypercube,
    /// Independent uniform draws.
    Uniform,
}

/// `n` points in the unit cube [0, 1)^7 with `seed`.
pub fn unit_cube_design(n: usize, sampling: Sampling, seed: u64) -> Vec<[f64; N_PARAMS]> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut pts = vec![[0.0; N_PARAMS]; n];
    match sampling {
        Sampling::Uniform => {
            for p in &mut pts {
                for x in p.iter_mut() {
                    *x = rng.random::<f64>();
                }
            }
        }
        Sampling::LatinHypercube => {
            let mut perm: Vec<usize> = (0..n).collect();
            for d in 0..N_PARAMS {
                perm.shuffle(&mut rng);
                for (p, &s) in pts.iter_mut().zip(&perm) {
                    p[d] = (s as f64 + rng.random::<f64>()) / n as f64;
                }
            }
        }
    }
    pts
}

/// `n` parameter points over the 21cmGEM prior box.
pub fn parameter_design(n: usize, sampling: Sampling, seed: u64) -> Vec<GlobalParams> {
    parameter_design_in(n, sampling, seed, &SubBox::default())
}

/// `n` parameter points over a sub-box of the prior: the same design squeezed into it, so a
/// region where an emulator is weak can get more training signals.
pub fn parameter_design_in(
    n: usize,
    sampling: Sampling,
    seed: u64,
    sub: &SubBox,
) -> Vec<GlobalParams> {
    unit_cube_design(n, sampling, seed)
        .iter()
        .map(|u| GlobalParams::from_unit_cube(&sub.squeeze(u)))
        .collect()
}

/// A sub-box of the 21cmGEM prior, kept as unit-cube bounds so that log-uniform parameters
/// stay log-uniform inside it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SubBox {
    lo: [f64; N_PARAMS],
    hi: [f64; N_PARAMS],
}

impl Default for SubBox {
    /// The whole prior box.
    fn default() -> Self {
        Self {
            lo: [0.0; N_PARAMS],
            hi: [1.0; N_PARAMS],
        }
    }
}

impl SubBox {
    /// The prior box without a margin (a fraction of each unit-cube side) at both ends: the
    /// training range of an emulator is the sampled box, so its very edges lie just outside.
    pub fn inner(margin: f64) -> Self {
        let m = margin.clamp(0.0, 0.49);
        Self {
            lo: [m; N_PARAMS],
            hi: [1.0 - m; N_PARAMS],
        }
    }

    /// Restrict parameter `name` to `[min, max]` (physical units), inside its prior range.
    pub fn restrict(&mut self, name: &str, min: f64, max: f64) -> Result<(), SpinflipError> {
        let i = PARAM_NAMES.iter().position(|n| *n == name).ok_or_else(|| {
            SpinflipError::config(
                "box",
                format!(
                    "unknown parameter '{name}' (one of {})",
                    PARAM_NAMES.join(", ")
                ),
            )
        })?;
        let (lo, hi) = PARAM_RANGES[i];
        if !(min.is_finite() && max.is_finite() && lo <= min && min < max && max <= hi) {
            return Err(SpinflipError::config(
                "box",
                format!("{name} in [{min}, {max}]: need {lo} <= min < max <= {hi}"),
            ));
        }
        let unit = |x: f64| {
            if PARAM_LOG[i] {
                (x / lo).ln() / (hi / lo).ln()
            } else {
                (x - lo) / (hi - lo)
            }
        };
        self.lo[i] = unit(min);
        self.hi[i] = unit(max);
        Ok(())
    }

    /// Parse `NAME=MIN,MAX` (e.g. `nu_min=0.1,0.35`) into a restriction of this box.
    pub fn restrict_from_spec(&mut self, spec: &str) -> Result<(), SpinflipError> {
        let bad = || {
            SpinflipError::config(
                "box",
                format!("'{spec}': expected NAME=MIN,MAX, e.g. nu_min=0.1,0.35"),
            )
        };
        let (name, range) = spec.split_once('=').ok_or_else(bad)?;
        let (a, b) = range.split_once(',').ok_or_else(bad)?;
        let min: f64 = a.trim().parse().map_err(|_| bad())?;
        let max: f64 = b.trim().parse().map_err(|_| bad())?;
        self.restrict(name.trim(), min, max)
    }

    /// The box in physical units, `(min, max)` per parameter (the prior's own bounds,
    /// exactly, where it is not restricted).
    pub fn ranges(&self) -> Vec<(f64, f64)> {
        let lo = GlobalParams::from_unit_cube(&self.lo).to_array();
        let hi = GlobalParams::from_unit_cube(&self.hi).to_array();
        (0..N_PARAMS)
            .map(|i| {
                let (a, b) = PARAM_RANGES[i];
                (
                    if self.lo[i] <= 0.0 { a } else { lo[i] },
                    if self.hi[i] >= 1.0 { b } else { hi[i] },
                )
            })
            .collect()
    }

    /// Map a point of the unit cube into this box (still in unit-cube coordinates).
    pub fn squeeze(&self, u: &[f64; N_PARAMS]) -> [f64; N_PARAMS] {
        std::array::from_fn(|i| self.lo[i] + u[i] * (self.hi[i] - self.lo[i]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_hypercube_fills_every_stratum_once() {
        let n = 50;
        let pts = unit_cube_design(n, Sampling::LatinHypercube, 7);
        for d in 0..N_PARAMS {
            let mut seen = vec![false; n];
            for p in &pts {
                let s = (p[d] * n as f64) as usize;
                assert!(!seen[s]);
                seen[s] = true;
            }
        }
        assert_eq!(pts, unit_cube_design(n, Sampling::LatinHypercube, 7));
        assert_ne!(pts, unit_cube_design(n, Sampling::LatinHypercube, 8));
    }

    #[test]
    fn sub_box_keeps_points_inside_and_log_parameters_log_uniform() {
        let mut b = SubBox::default();
        b.restrict_from_spec("nu_min=0.1,0.35").unwrap();
        b.restrict("f_X", 1.0, 100.0).unwrap();
        let pts = parameter_design_in(400, Sampling::LatinHypercube, 3, &b);
        assert!(pts.iter().all(|p| (0.1..=0.35).contains(&p.nu_min)));
        assert!(pts.iter().all(|p| (1.0..=100.0).contains(&p.f_x)));
        // Log-uniform on [1, 100]: one LHS stratum each side of 10, so exactly half below.
        assert_eq!(pts.iter().filter(|p| p.f_x < 10.0).count(), 200);
        // Untouched parameters span their whole prior range.
        let tau_max = pts.iter().map(|p| p.tau).fold(0.0, f64::max);
        assert!(tau_max > 0.19, "{tau_max}");
        for spec in [
            "nu_min=0.05,0.3",
            "nu_min=0.3,0.2",
            "zeta=1,2",
            "nu_min:0.1",
            "nu_min=a,b",
        ] {
            assert!(
                SubBox::default().restrict_from_spec(spec).is_err(),
                "{spec}"
            );
        }
    }
}
