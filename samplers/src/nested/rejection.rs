//! New live points by rejection: uniform draws inside the bounding ellipsoids (or the whole
//! cube while that is smaller), evaluated in batches, the first above the bound kept.

use super::evaluator::Evaluator;
use super::state::State;
use crate::error::SamplerError;
use crate::likelihood::LogLikelihood;
use rand::Rng;

/// Replaces live point `slot` by a uniform draw from the prior above `log_l_min`.
///
/// Candidates are drawn `batch` at a time and evaluated in one batched call; the first one
/// above the bound in proposal order is kept, so the result has the distribution of
/// one-at-a-time rejection sampling. Every candidate evaluated counts as a call.
pub fn replace<L: LogLikelihood + ?Sized>(
    state: &mut State,
    eval: &mut Evaluator<'_, L>,
    slot: usize,
    log_l_min: f64,
    batch: usize,
    max_rejections: u64,
) -> Result<(), SamplerError> {
    let (d, p) = (eval.n_free(), eval.n_params());
    let mut u = vec![0.0; batch * d];
    let mut scratch = vec![0.0; d];
    let mut rejected = 0u64;
    // Draws from bound-and-cube never cost more calls than draws from the cube, but while a
    // single ellipsoid is much larger than the cube most of its draws fall outside (CPU time).
    let bound = state
        .bound
        .as_ref()
        .filter(|b| b.log_volume() < std::f64::consts::LN_2 || b.ellipsoids().len() > 1);
    loop {
        for cand in u.chunks_exact_mut(d) {
            match bound {
                Some(b) => b.sample(&mut state.rng, cand, &mut scratch),
                None => cand.iter_mut().for_each(|x| *x = state.rng.random()),
            }
        }
        let (theta, log_l) = eval.evaluate(&u, &mut state.n_calls)?;
        if let Some(k) = log_l.iter().position(|&v| v > log_l_min) {
            state.live.u[slot * d..(slot + 1) * d].copy_from_slice(&u[k * d..(k + 1) * d]);
            state.live.theta[slot * p..(slot + 1) * p].copy_from_slice(&theta[k * p..(k + 1) * p]);
            state.live.log_l[slot] = log_l[k];
            state.live.birth[slot] = log_l_min;
            return Ok(());
        }
        rejected += batch as u64;
        if rejected >= max_rejections {
            return Err(SamplerError::Stalled(format!(
                "{rejected} candidates in a row below ln L = {log_l_min}: the bound may have \
                 lost part of the likelihood contour, or the likelihood is flat; try more live \
                 points or a larger `enlarge`"
            )));
        }
    }
}
