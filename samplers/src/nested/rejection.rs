//! New live points by rejection: uniform draws inside the bounding ellipsoids (or the whole
//! cube while that is smaller), evaluated in batches, the first above the bound kept and the
//! batch's other ones above the bound queued for the next new points.

use super::evaluator::Evaluator;
use super::state::State;
use crate::error::SamplerError;
use crate::likelihood::LogLikelihood;
use rand::Rng;

/// Replaces live point `slot` by a uniform draw from the prior above `log_l_min`.
///
/// The caller takes queued points first ([`State::take_queued`]): a queued candidate was a
/// uniform draw inside an earlier, larger contour (from bounds that covered it), so one
/// above the current bound is a uniform draw inside the current contour: the sequence of
/// kept points is that of one-at-a-time rejection sampling from the older bounds, and no
/// evaluated candidate above the bound is thrown away.
///
/// Candidates are drawn in batches and evaluated in one batched call each; the
/// first one above the bound in proposal order is kept and the later ones above it are
/// queued. Every candidate evaluated counts as a call. The batch is the running mean of
/// candidates needed per new point, capped at `max_batch`: about one batch per new point,
/// and with the queue no more calls than one-at-a-time sampling (samplers/README.md).
///
/// The batch is then rounded up to a multiple of the likelihood's
/// [`preferred_batch`](LogLikelihood::preferred_batch) `q` (an emulator whose SIMD groups
/// of 16 make a batch of 3 cost as much as one of 16), and the cap becomes the largest
/// multiple of `q` not above `max(max_batch, q)`. With `q = 1` nothing changes.
pub fn replace<L: LogLikelihood + ?Sized>(
    state: &mut State,
    eval: &mut Evaluator<'_, L>,
    slot: usize,
    log_l_min: f64,
    max_batch: usize,
    max_rejections: u64,
) -> Result<(), SamplerError> {
    let (d, p) = (eval.n_free(), eval.n_params());
    // Deterministic in the run's state and the likelihood, so a resumed run batches exactly
    // as the original.
    let batch = batch_size(state.calls_per_accept, max_batch, eval.preferred_batch());
    let calls_before = state.n_calls;
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
            for j in k + 1..batch {
                if log_l[j] > log_l_min {
                    let q = &mut state.queue;
                    q.u.extend_from_slice(&u[j * d..(j + 1) * d]);
                    q.theta.extend_from_slice(&theta[j * p..(j + 1) * p]);
                    q.log_l.push(log_l[j]);
                    q.birth.push(log_l_min);
                }
            }
            // Calls to the first success if candidates had been evaluated one at a time.
            let needed = (state.n_calls - calls_before) as f64 - (batch - 1 - k) as f64;
            state.calls_per_accept += 0.05 * (needed - state.calls_per_accept);
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

/// Candidates per batch: the running calls per acceptance, rounded up to a multiple of the
/// preferred batch `q` (extra lanes are free, and raise the chance of one batch sufficing),
/// capped at the largest multiple of `q` within `max(max_batch, q)`.
fn batch_size(calls_per_accept: f64, max_batch: usize, q: usize) -> usize {
    let q = q.max(1);
    let cap = max_batch.max(q) / q * q;
    (calls_per_accept.round() as usize)
        .clamp(1, cap)
        .next_multiple_of(q)
}

#[cfg(test)]
mod tests {
    use super::batch_size;

    #[test]
    fn batches_round_up_to_the_preferred_multiple_within_the_cap() {
        // q = 1: the adaptive batch clamped to [1, max_batch], as before.
        assert_eq!(batch_size(0.2, 8, 1), 1);
        assert_eq!(batch_size(5.4, 8, 1), 5);
        assert_eq!(batch_size(30.0, 8, 1), 8);
        assert_eq!(batch_size(30.0, 0, 1), 1);
        // q = 16: multiples of 16, at least one group even when max_batch is smaller.
        assert_eq!(batch_size(1.0, 64, 16), 16);
        assert_eq!(batch_size(17.0, 64, 16), 32);
        assert_eq!(batch_size(200.0, 64, 16), 64);
        assert_eq!(batch_size(5.0, 8, 16), 16);
        assert_eq!(batch_size(200.0, 40, 16), 32);
        assert_eq!(batch_size(f64::NAN, 64, 16), 16);
    }
}
