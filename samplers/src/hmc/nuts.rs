//! One NUTS transition: the No-U-Turn Sampler of Hoffman & Gelman (2014) in the form Stan
//! uses (Betancourt 2017, arXiv:1701.02434): the trajectory doubles in a random direction
//! until the generalised no-U-turn criterion fails (also across the joins of subtrees) or
//! the depth limit is reached; states are chosen by multinomial sampling (uniform within a
//! subtree, biased toward the newer half at the top level); an energy error above 1000
//! is a divergence and ends the trajectory.

use super::metric::Metric;
use super::target::{Point, Target};
use crate::error::SamplerError;
use crate::likelihood::GradLogLikelihood;
use crate::nested::linalg::logaddexp;
use rand::Rng;

/// An energy error above this ends the trajectory as divergent (Stan's `max_deltaH`).
pub const MAX_DELTA_H: f64 = 1000.0;

/// What a transition did.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TransitionStats {
    /// Mean of `min(1, exp(H0 - H))` over the trajectory's states (what dual averaging
    /// adapts the step size by).
    pub accept_stat: f64,
    /// Leapfrog steps (= gradient evaluations) taken.
    pub n_leapfrog: usize,
    /// Tree depth reached (number of doublings).
    pub depth: usize,
    /// Whether the trajectory ended in a divergence.
    pub divergent: bool,
    /// Hamiltonian of the chosen state.
    pub energy: f64,
}

/// A state on the trajectory: position, momentum and the target there.
#[derive(Debug, Clone)]
struct State {
    point: Point,
    p: Vec<f64>,
}

/// A built subtree: its proposal, total weight, momentum sum and end momenta.
struct Subtree {
    sample: State,
    log_w: f64,
    rho: Vec<f64>,
    p_begin: Vec<f64>,
    sharp_begin: Vec<f64>,
    p_end: Vec<f64>,
    sharp_end: Vec<f64>,
}

/// No U-turn between the ends: both end velocities point along the momentum sum.
fn no_uturn(sharp_minus: &[f64], sharp_plus: &[f64], rho: &[f64]) -> bool {
    let dot = |a: &[f64]| a.iter().zip(rho).map(|(x, y)| x * y).sum::<f64>();
    dot(sharp_minus) > 0.0 && dot(sharp_plus) > 0.0
}

fn add(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

struct Ctx<'t, 'a, L: ?Sized> {
    target: &'t mut Target<'a, L>,
    metric: &'t Metric,
    h0: f64,
    n_leapfrog: usize,
    sum_accept: f64,
    divergent: bool,
    v: Vec<f64>,
}

impl<L: GradLogLikelihood + ?Sized> Ctx<'_, '_, L> {
    fn hamiltonian(&self, s: &State) -> f64 {
        -s.point.logp + self.metric.kinetic(&s.p)
    }

    /// One leapfrog step of signed size `eps` from `s`, in place.
    fn leapfrog(&mut self, s: &mut State, eps: f64) -> Result<(), SamplerError> {
        for (p, g) in s.p.iter_mut().zip(&s.point.grad) {
            *p += 0.5 * eps * g;
        }
        self.metric.velocity(&s.p, &mut self.v);
        for (y, v) in s.point.y.iter_mut().zip(&self.v) {
            *y += eps * v;
        }
        let (logp, ll) = self.target.eval(&s.point.y, &mut s.point.grad)?;
        s.point.logp = logp;
        s.point.log_like = ll;
        for (p, g) in s.p.iter_mut().zip(&s.point.grad) {
            *p += 0.5 * eps * g;
        }
        Ok(())
    }

    /// A subtree of `2^depth` steps from `edge` (advanced in place); `None` if it diverged
    /// or turned back on itself.
    fn build<R: Rng + ?Sized>(
        &mut self,
        edge: &mut State,
        depth: usize,
        eps: f64,
        rng: &mut R,
    ) -> Result<Option<Subtree>, SamplerError> {
        if depth == 0 {
            self.leapfrog(edge, eps)?;
            self.n_leapfrog += 1;
            let h = self.hamiltonian(edge);
            if !h.is_finite() || h - self.h0 > MAX_DELTA_H {
                self.divergent = true;
                return Ok(None);
            }
            self.sum_accept += (self.h0 - h).exp().min(1.0);
            let mut sharp = vec![0.0; edge.p.len()];
            self.metric.velocity(&edge.p, &mut sharp);
            return Ok(Some(Subtree {
                sample: edge.clone(),
                log_w: self.h0 - h,
                rho: edge.p.clone(),
                p_begin: edge.p.clone(),
                sharp_begin: sharp.clone(),
                p_end: edge.p.clone(),
                sharp_end: sharp,
            }));
        }
        let Some(init) = self.build(edge, depth - 1, eps, rng)? else {
            return Ok(None);
        };
        let Some(fin) = self.build(edge, depth - 1, eps, rng)? else {
            return Ok(None);
        };
        let log_w = logaddexp(init.log_w, fin.log_w);
        let take_final = rng.random::<f64>().ln() < fin.log_w - log_w;
        let rho = add(&init.rho, &fin.rho);
        let persist = no_uturn(&init.sharp_begin, &fin.sharp_end, &rho)
            && no_uturn(
                &init.sharp_begin,
                &fin.sharp_begin,
                &add(&init.rho, &fin.p_begin),
            )
            && no_uturn(&init.sharp_end, &fin.sharp_end, &add(&fin.rho, &init.p_end));
        if !persist {
            return Ok(None);
        }
        Ok(Some(Subtree {
            sample: if take_final { fin.sample } else { init.sample },
            log_w,
            rho,
            p_begin: init.p_begin,
            sharp_begin: init.sharp_begin,
            p_end: fin.p_end,
            sharp_end: fin.sharp_end,
        }))
    }
}

/// One NUTS transition from `z0` with step size `eps`.
pub fn transition<L: GradLogLikelihood + ?Sized, R: Rng + ?Sized>(
    target: &mut Target<'_, L>,
    metric: &Metric,
    z0: &Point,
    eps: f64,
    max_depth: usize,
    rng: &mut R,
) -> Result<(Point, TransitionStats), SamplerError> {
    let d = z0.y.len();
    let mut p0 = vec![0.0; d];
    metric.sample_momentum(rng, &mut p0);
    let start = State {
        point: z0.clone(),
        p: p0.clone(),
    };
    let mut ctx = Ctx {
        target,
        metric,
        h0: 0.0,
        n_leapfrog: 0,
        sum_accept: 0.0,
        divergent: false,
        v: vec![0.0; d],
    };
    ctx.h0 = ctx.hamiltonian(&start);
    let mut sharp0 = vec![0.0; d];
    metric.velocity(&p0, &mut sharp0);
    let (mut minus, mut plus) = (start.clone(), start.clone());
    let (mut p_minus, mut sharp_minus) = (p0.clone(), sharp0.clone());
    let (mut p_plus, mut sharp_plus) = (p0.clone(), sharp0);
    let mut rho = p0;
    let mut log_w = 0.0;
    let mut sample = start;
    let mut depth = 0;
    while depth < max_depth {
        let forward = rng.random::<bool>();
        let sub = if forward {
            ctx.build(&mut plus, depth, eps, rng)?
        } else {
            ctx.build(&mut minus, depth, -eps, rng)?
        };
        depth += 1;
        let Some(s) = sub else { break };
        // Biased progressive sampling: the new subtree's proposal replaces the current one
        // with probability min(1, w_new / w_old).
        if rng.random::<f64>().ln() < s.log_w - log_w {
            sample = s.sample.clone();
        }
        log_w = logaddexp(log_w, s.log_w);
        let rho_old = rho.clone();
        rho = add(&rho, &s.rho);
        // The old tree oriented with its end next to the new subtree.
        let (old_begin_sharp, old_end_p, old_end_sharp) = if forward {
            (&sharp_minus, &p_plus, &sharp_plus)
        } else {
            (&sharp_plus, &p_minus, &sharp_minus)
        };
        let persist = no_uturn(old_begin_sharp, &s.sharp_end, &rho)
            && no_uturn(old_begin_sharp, &s.sharp_begin, &add(&rho_old, &s.p_begin))
            && no_uturn(old_end_sharp, &s.sharp_end, &add(&s.rho, old_end_p));
        if forward {
            p_plus = s.p_end;
            sharp_plus = s.sharp_end;
        } else {
            p_minus = s.p_end;
            sharp_minus = s.sharp_end;
        }
        if !persist {
            break;
        }
    }
    let energy = ctx.hamiltonian(&sample);
    let stats = TransitionStats {
        accept_stat: if ctx.n_leapfrog > 0 {
            ctx.sum_accept / ctx.n_leapfrog as f64
        } else {
            0.0
        },
        n_leapfrog: ctx.n_leapfrog,
        depth,
        divergent: ctx.divergent,
        energy,
    };
    Ok((sample.point, stats))
}

/// Stan's step-size heuristic: from `eps`, double (or halve) until one leapfrog step's
/// acceptance `exp(H0 - H)` crosses 0.8.
pub fn initial_step_size<L: GradLogLikelihood + ?Sized, R: Rng + ?Sized>(
    target: &mut Target<'_, L>,
    metric: &Metric,
    z0: &Point,
    eps: f64,
    rng: &mut R,
) -> Result<f64, SamplerError> {
    let d = z0.y.len();
    let mut eps = eps;
    let mut p0 = vec![0.0; d];
    let mut direction = 0.0;
    for _ in 0..100 {
        metric.sample_momentum(rng, &mut p0);
        let start = State {
            point: z0.clone(),
            p: p0.clone(),
        };
        let mut ctx = Ctx {
            target: &mut *target,
            metric,
            h0: 0.0,
            n_leapfrog: 0,
            sum_accept: 0.0,
            divergent: false,
            v: vec![0.0; d],
        };
        let h0 = ctx.hamiltonian(&start);
        let mut s = start;
        ctx.leapfrog(&mut s, eps)?;
        let h = ctx.hamiltonian(&s);
        let delta = if h.is_finite() {
            h0 - h
        } else {
            f64::NEG_INFINITY
        };
        if direction == 0.0 {
            direction = if delta > 0.8f64.ln() { 1.0 } else { -1.0 };
        }
        if (direction > 0.0 && delta <= 0.8f64.ln()) || (direction < 0.0 && delta >= 0.8f64.ln()) {
            break;
        }
        eps = if direction > 0.0 {
            2.0 * eps
        } else {
            0.5 * eps
        };
        if !(1e-10..=1e7).contains(&eps) {
            break;
        }
    }
    Ok(eps.clamp(1e-10, 1e7))
}
