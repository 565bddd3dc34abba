//! Seeded designs over the 21cmGEM prior box: Latin hypercube or independent uniform draws in
//! the unit cube, mapped with [`GlobalParams::from_unit_cube`] (log-uniform in f_star, V_c, f_X).

use super::params::{GlobalParams, N_PARAMS};
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
    unit_cube_design(n, sampling, seed)
        .iter()
        .map(GlobalParams::from_unit_cube)
        .collect()
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
}
