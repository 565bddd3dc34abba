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
//!
//! Each step depends on the last, so one chain evaluates one point at a time. With
//! [`NestedSettings::slice_chains`](super::NestedSettings) `k > 1`, `k` chains run in
//! lockstep instead, from `k` random live points above the same bound: each round evaluates
//! every unfinished chain's next proposal in one batched call, which a threaded likelihood
//! ([`Parallel`](crate::Parallel)) or a batched emulator spreads over its cores. The first chain's end
//! replaces the dead point, the others are queued ([`State::queue`]) for the next
//! replacements, each used once above the then-current bound: a point slice sampled inside
//! an earlier contour and above the later one is a draw inside the later one, as in
//! PolyChord's parallel mode (Handley et al. 2015, sec. 3.4).

use super::evaluator::Evaluator;
use super::linalg::mul_lower;
use super::settings::NestedSettings;
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

/// How a slice step's settings are shared by the chains of one call to [`replace`].
struct StepRule<'a> {
    d: usize,
    n_repeats: usize,
    step_out: bool,
    max_rejections: u64,
    log_l_min: f64,
    whiten: &'a [f64],
    scale: f64,
}

/// Where a chain stands within its current slice step.
#[derive(Clone, Copy)]
enum Phase {
    /// About to draw the next step's direction and interval (or done after `n_repeats`).
    NewStep,
    /// Stepping the interval's left end out (`expanded` times so far).
    Left,
    /// Stepping the right end out.
    Right,
    /// Drawing inside the interval, shrinking it on every miss.
    Shrink,
}

/// One slice-sampling chain, moved on proposal by proposal so that several can share
/// batched likelihood calls.
struct Chain {
    x: Vec<f64>,
    theta: Vec<f64>,
    log_l: f64,
    /// Steps completed.
    r: usize,
    phase: Phase,
    basis: Vec<f64>,
    dir: Vec<f64>,
    left: f64,
    right: f64,
    /// Position of the pending proposal along `dir`.
    t: f64,
    /// The pending proposal (cube coordinates).
    y: Vec<f64>,
    expanded: usize,
    tries: u64,
    n_expand: usize,
    n_contract: usize,
}

impl Chain {
    fn new(x: &[f64], theta: &[f64], log_l: f64) -> Self {
        let d = x.len();
        Chain {
            x: x.to_vec(),
            theta: theta.to_vec(),
            log_l,
            r: 0,
            phase: Phase::NewStep,
            basis: vec![0.0; d * d],
            dir: vec![0.0; d],
            left: 0.0,
            right: 0.0,
            t: 0.0,
            y: vec![0.0; d],
            expanded: 0,
            tries: 0,
            n_expand: 0,
            n_contract: 0,
        }
    }

    /// Sets the proposal at `t` along the direction; whether it lies inside the cube.
    fn propose(&mut self, t: f64) -> bool {
        self.t = t;
        for ((y, x), v) in self.y.iter_mut().zip(&self.x).zip(&self.dir) {
            *y = x + t * v;
        }
        self.y.iter().all(|v| (0.0..1.0).contains(v))
    }

    /// Moves the chain on until it needs the likelihood at `self.y` (true) or has taken
    /// all its steps (false). Proposals outside the cube are misses without a call.
    fn next_proposal<R: Rng + ?Sized>(
        &mut self,
        rng: &mut R,
        rule: &StepRule<'_>,
    ) -> Result<bool, SamplerError> {
        let d = rule.d;
        loop {
            match self.phase {
                Phase::NewStep => {
                    if self.r == rule.n_repeats {
                        return Ok(false);
                    }
                    if self.r.is_multiple_of(d) {
                        random_orthonormal_basis(rng, d, &mut self.basis);
                    }
                    let e = &self.basis[(self.r % d) * d..(self.r % d + 1) * d];
                    mul_lower(rule.whiten, d, e, &mut self.dir);
                    self.dir.iter_mut().for_each(|v| *v *= rule.scale);
                    // A randomly placed unit interval (in units of the adapted width),
                    // stepped out until both ends are outside the contour if asked to.
                    let r0: f64 = rng.random();
                    (self.left, self.right) = (-r0, 1.0 - r0);
                    self.expanded = 0;
                    self.tries = 0;
                    self.phase = if rule.step_out {
                        Phase::Left
                    } else {
                        Phase::Shrink
                    };
                }
                Phase::Left => {
                    if self.expanded < MAX_EXPAND && self.propose(self.left) {
                        return Ok(true);
                    }
                    self.expanded = 0;
                    self.phase = Phase::Right;
                }
                Phase::Right => {
                    if self.expanded < MAX_EXPAND && self.propose(self.right) {
                        return Ok(true);
                    }
                    self.phase = Phase::Shrink;
                }
                Phase::Shrink => {
                    // Shrink towards the current point until a point inside is found.
                    let t = self.left + rng.random::<f64>() * (self.right - self.left);
                    if self.propose(t) {
                        return Ok(true);
                    }
                    self.contract(rule)?;
                }
            }
        }
    }

    /// Takes the likelihood `log_l` (and parameters `theta`) at the pending proposal.
    fn take(&mut self, theta: &[f64], log_l: f64, rule: &StepRule<'_>) -> Result<(), SamplerError> {
        let inside = log_l > rule.log_l_min;
        match self.phase {
            Phase::Left if inside => {
                self.left -= 1.0;
                self.n_expand += 1;
                self.expanded += 1;
            }
            Phase::Left => {
                self.expanded = 0;
                self.phase = Phase::Right;
            }
            Phase::Right if inside => {
                self.right += 1.0;
                self.n_expand += 1;
                self.expanded += 1;
            }
            Phase::Right => self.phase = Phase::Shrink,
            Phase::Shrink if inside => {
                self.x.copy_from_slice(&self.y);
                self.theta.copy_from_slice(theta);
                self.log_l = log_l;
                self.r += 1;
                self.phase = Phase::NewStep;
            }
            Phase::Shrink => self.contract(rule)?,
            Phase::NewStep => unreachable!("a chain between steps has no pending proposal"),
        }
        Ok(())
    }

    /// A miss while shrinking: the interval's end on the proposal's side moves to it.
    fn contract(&mut self, rule: &StepRule<'_>) -> Result<(), SamplerError> {
        self.n_contract += 1;
        if self.t < 0.0 {
            self.left = self.t;
        } else {
            self.right = self.t;
        }
        self.tries += 1;
        if self.tries >= rule.max_rejections || self.right - self.left < 1e-14 {
            return Err(SamplerError::Stalled(format!(
                "slice sampling could not find a point above ln L = {}: the slice shrank to \
                 nothing",
                rule.log_l_min
            )));
        }
        Ok(())
    }
}

/// Replaces live point `slot` by the end of a slice-sampling chain started at another live
/// point, queues the ends of the `slice_chains - 1` chains run in lockstep with it, and
/// adapts the slice width over all chains: with `step_out`, so that expansions and
/// contractions balance (dynesty's rule); without, towards [`SLICE_CONTRACTIONS`] per step.
/// Each chain takes `n_repeats` steps. Returns the number of points made (chains).
pub fn replace<L: LogLikelihood + ?Sized>(
    state: &mut State,
    eval: &mut Evaluator<'_, L>,
    slot: usize,
    log_l_min: f64,
    settings: &NestedSettings,
    n_repeats: usize,
) -> Result<usize, SamplerError> {
    let (step_out, max_rejections) = (settings.step_out, settings.max_rejections);
    let (d, p) = (eval.n_free(), eval.n_params());
    let n = state.live.len();
    let n_chains = settings.slice_chains.max(1);
    let mut chains = Vec::with_capacity(n_chains);
    for _ in 0..n_chains {
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
        chains.push(Chain::new(
            &state.live.u[start * d..(start + 1) * d],
            &state.live.theta[start * p..(start + 1) * p],
            state.live.log_l[start],
        ));
    }
    let whiten = std::mem::take(&mut state.whiten);
    let rule = StepRule {
        d,
        n_repeats,
        step_out,
        max_rejections,
        log_l_min,
        whiten: &whiten,
        scale: state.slice_scale,
    };
    let result = run_lockstep(state, eval, &mut chains, &rule);
    state.whiten = whiten;
    result?;

    let n_contract: usize = chains.iter().map(|c| c.n_contract).sum();
    let n_expand: usize = chains.iter().map(|c| c.n_expand).sum();
    let ratio = if step_out {
        // dynesty's rule: grow the width when expansions dominate, shrink it otherwise.
        2.0 * n_expand as f64 / (n_expand + n_contract).max(1) as f64
    } else {
        // Wider when the steps shrink the interval less often than the target, narrower
        // when more often.
        (1.0 + SLICE_CONTRACTIONS) / (1.0 + n_contract as f64 / (n_repeats * n_chains) as f64)
    };
    state.slice_scale *= ratio.clamp(0.5, 2.0);
    let first = &chains[0];
    state.live.u[slot * d..(slot + 1) * d].copy_from_slice(&first.x);
    state.live.theta[slot * p..(slot + 1) * p].copy_from_slice(&first.theta);
    state.live.log_l[slot] = first.log_l;
    state.live.birth[slot] = log_l_min;
    for c in &chains[1..] {
        let q = &mut state.queue;
        q.u.extend_from_slice(&c.x);
        q.theta.extend_from_slice(&c.theta);
        q.log_l.push(c.log_l);
        q.birth.push(log_l_min);
    }
    Ok(n_chains)
}

/// Runs `chains` to their ends: each round draws every unfinished chain's next proposal (in
/// chain order, so the random stream does not depend on timing) and evaluates them in one
/// batched call.
fn run_lockstep<L: LogLikelihood + ?Sized>(
    state: &mut State,
    eval: &mut Evaluator<'_, L>,
    chains: &mut [Chain],
    rule: &StepRule<'_>,
) -> Result<(), SamplerError> {
    let (d, p) = (rule.d, eval.n_params());
    let mut waiting: Vec<usize> = Vec::with_capacity(chains.len());
    let mut batch: Vec<f64> = Vec::with_capacity(chains.len() * d);
    loop {
        waiting.clear();
        batch.clear();
        for (i, c) in chains.iter_mut().enumerate() {
            if c.next_proposal(&mut state.rng, rule)? {
                waiting.push(i);
                batch.extend_from_slice(&c.y);
            }
        }
        if waiting.is_empty() {
            return Ok(());
        }
        let (theta, log_l) = eval.evaluate(&batch, &mut state.n_calls)?;
        for (k, &i) in waiting.iter().enumerate() {
            chains[i].take(&theta[k * p..(k + 1) * p], log_l[k], rule)?;
        }
    }
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
