//! New live points by slice sampling (Neal 2003, Ann. Stat. 31, 705) along random directions
//! in the space whitened by the live points' covariance, as PolyChord does (Handley, Hobson &
//! Lasenby 2015, MNRAS 453, 4384): start at a random live point, take `n_repeats` slice steps
//! within the hard constraint ln L > ln L_min, keep the last point.
//!
//! By default each step draws from one randomly placed interval whose width is adapted so
//! that a step shrinks it [`SLICE_CONTRACTIONS`] times on average, with no stepping out:
//! valid slice sampling (Neal 2003, sec. 4: every point of the interval would have placed
//! the same interval with the same probability, and shrinkage keeps detailed balance).
//! Stepping out ([`NestedSettings::step_out`](super::NestedSettings)) spends two calls on
//! the interval's ends and one per expansion before shrinking; without it a run takes
//! 0.67-0.78x the calls at the same ln Z offsets (samplers/README.md).

use super::evaluator::Evaluator;
use super::linalg::mul_lower;
use super::state::State;
use crate::error::SamplerError;
use crate::likelihood::LogLikelihood;
use rand::Rng;
use rand_distr::StandardNormal;

/// Most interval expansions per side before giving up on stepping out further.
const MAX_EXPAND: usize = 100;

/// Mean contractions per step the interval width is adapted to without stepping out
/// (nested_suite, 500 live points, `ceil(1.5 d)` steps, 8-16 seeds): with 1 the steps move
/// too little (ln Z 2 reported errors high at 30-D, 6 at 50-D); with 2 the offsets are up to
/// 1.8x those of stepping out; with 3 they are those of stepping out (30-D +0.16 both) at
/// 0.67-0.78x its calls (samplers/README.md, "Many dimensions").
pub const SLICE_CONTRACTIONS: f64 = 3.0;

/// Replaces live point `slot` by the end of a slice-sampling chain started at another live
/// point, and adapts the slice width: with `step_out`, so that expansions and contractions
/// balance (dynesty's rule); without, towards [`SLICE_CONTRACTIONS`] per step.
///
/// Points are evaluated one at a time (each step depends on the last), so the likelihood's
/// [`preferred_batch`](LogLikelihood::preferred_batch) does not apply here.
pub fn replace<L: LogLikelihood + ?Sized>(
    state: &mut State,
    eval: &mut Evaluator<'_, L>,
    slot: usize,
    log_l_min: f64,
    n_repeats: usize,
    step_out: bool,
    max_rejections: u64,
) -> Result<(), SamplerError> {
    let (d, p) = (eval.n_free(), eval.n_params());
    let n = state.live.len();
    // Start from a random live point above the bound (not the one being replaced, nor
    // another point of a plateau at the bound).
    let mut start = state.rng.random_range(0..n);
    let mut tries = 0u64;
    while start == slot || state.live.log_l[start] <= log_l_min {
        start = state.rng.random_range(0..n);
        tries += 1;
        if tries >= max_rejections {
            return Err(SamplerError::Stalled(format!(
                "no live point above ln L = {log_l_min} to start slice sampling from"
            )));
        }
    }
    let mut x = state.live.u[start * d..(start + 1) * d].to_vec();
    let mut theta = state.live.theta[start * p..(start + 1) * p].to_vec();
    let mut log_l = state.live.log_l[start];
    let mut basis = vec![0.0; d * d];
    let mut dir = vec![0.0; d];
    let mut y = vec![0.0; d];
    let (mut n_expand, mut n_contract) = (0usize, 0usize);
    for r in 0..n_repeats {
        if r % d == 0 {
            random_orthonormal_basis(&mut state.rng, d, &mut basis);
        }
        let e = &basis[(r % d) * d..(r % d + 1) * d];
        mul_lower(&state.whiten, d, e, &mut dir);
        dir.iter_mut().for_each(|v| *v *= state.slice_scale);

        // A randomly placed unit interval (in units of the adapted width), stepped out
        // until both ends are outside the contour if asked to.
        let r0: f64 = state.rng.random();
        let (mut left, mut right) = (-r0, 1.0 - r0);
        let mut inside = |t: f64, y: &mut [f64], n_calls: &mut u64| -> Result<bool, SamplerError> {
            for k in 0..d {
                y[k] = x[k] + t * dir[k];
            }
            if y.iter().any(|&v| !(0.0..1.0).contains(&v)) {
                return Ok(false);
            }
            let (_, l) = eval.evaluate(y, n_calls)?;
            Ok(l[0] > log_l_min)
        };
        let most = if step_out { MAX_EXPAND } else { 0 };
        let mut k = 0;
        while k < most && inside(left, &mut y, &mut state.n_calls)? {
            left -= 1.0;
            n_expand += 1;
            k += 1;
        }
        k = 0;
        while k < most && inside(right, &mut y, &mut state.n_calls)? {
            right += 1.0;
            n_expand += 1;
            k += 1;
        }
        // Shrink towards the current point until a point inside is found.
        let mut tries = 0u64;
        loop {
            let t = left + state.rng.random::<f64>() * (right - left);
            for k in 0..d {
                y[k] = x[k] + t * dir[k];
            }
            if y.iter().all(|&v| (0.0..1.0).contains(&v)) {
                let (th, l) = eval.evaluate(&y, &mut state.n_calls)?;
                if l[0] > log_l_min {
                    x.copy_from_slice(&y);
                    theta.copy_from_slice(th);
                    log_l = l[0];
                    break;
                }
            }
            n_contract += 1;
            if t < 0.0 {
                left = t;
            } else {
                right = t;
            }
            tries += 1;
            if tries >= max_rejections || right - left < 1e-14 {
                return Err(SamplerError::Stalled(format!(
                    "slice sampling could not find a point above ln L = {log_l_min}: \
                     the slice shrank to nothing"
                )));
            }
        }
    }
    let ratio = if step_out {
        // dynesty's rule: grow the width when expansions dominate, shrink it otherwise.
        2.0 * n_expand as f64 / (n_expand + n_contract).max(1) as f64
    } else {
        // Wider when the steps shrink the interval less often than the target, narrower
        // when more often.
        (1.0 + SLICE_CONTRACTIONS) / (1.0 + n_contract as f64 / n_repeats as f64)
    };
    state.slice_scale *= ratio.clamp(0.5, 2.0);
    state.live.u[slot * d..(slot + 1) * d].copy_from_slice(&x);
    state.live.theta[slot * p..(slot + 1) * p].copy_from_slice(&theta);
    state.live.log_l[slot] = log_l;
    state.live.birth[slot] = log_l_min;
    Ok(())
}

/// Rows of `basis` (`d x d`) become a random orthonormal basis (Gram-Schmidt on Gaussians).
fn random_orthonormal_basis<R: Rng + ?Sized>(rng: &mut R, d: usize, basis: &mut [f64]) {
    let mut i = 0;
    while i < d {
        for v in basis[i * d..(i + 1) * d].iter_mut() {
            *v = rng.sample(StandardNormal);
        }
        for j in 0..i {
            let dot: f64 = (0..d).map(|k| basis[i * d + k] * basis[j * d + k]).sum();
            for k in 0..d {
                basis[i * d + k] -= dot * basis[j * d + k];
            }
        }
        let norm: f64 = basis[i * d..(i + 1) * d]
            .iter()
            .map(|v| v * v)
            .sum::<f64>()
            .sqrt();
        if norm > 1e-8 {
            basis[i * d..(i + 1) * d]
                .iter_mut()
                .for_each(|v| *v /= norm);
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn basis_is_orthonormal() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let d = 6;
        let mut b = vec![0.0; d * d];
        random_orthonormal_basis(&mut rng, d, &mut b);
        for i in 0..d {
            for j in 0..d {
                let dot: f64 = (0..d).map(|k| b[i * d + k] * b[j * d + k]).sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-12);
            }
        }
    }
}
