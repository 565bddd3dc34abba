//! Test problems with known evidences, shared by the integration tests.
#![allow(dead_code)]

use spinflip_samplers::{FnLikelihood, LikelihoodError, LogLikelihood, ParameterSet, Prior};
use std::f64::consts::PI;
use std::sync::Mutex;

/// `inner` as an emulator that evaluates `lanes` points per SIMD group would present it
/// (`preferred_batch() == lanes`), recording the size of every batch it is given.
pub struct Lanes<L> {
    pub inner: L,
    pub lanes: usize,
    pub sizes: Mutex<Vec<usize>>,
}

impl<L> Lanes<L> {
    pub fn new(inner: L, lanes: usize) -> Self {
        Lanes {
            inner,
            lanes,
            sizes: Mutex::new(Vec::new()),
        }
    }

    /// Sizes of the batches received so far.
    pub fn sizes(&self) -> Vec<usize> {
        self.sizes.lock().unwrap().clone()
    }
}

impl<L: LogLikelihood> LogLikelihood for Lanes<L> {
    fn n_params(&self) -> usize {
        self.inner.n_params()
    }
    fn log_likelihood(&self, theta: &[f64]) -> Result<f64, LikelihoodError> {
        self.sizes.lock().unwrap().push(1);
        self.inner.log_likelihood(theta)
    }
    fn log_likelihood_batch(&self, points: &[f64], out: &mut [f64]) -> Result<(), LikelihoodError> {
        self.sizes.lock().unwrap().push(out.len());
        self.inner.log_likelihood_batch(points, out)
    }
    fn preferred_batch(&self) -> usize {
        self.lanes
    }
}

/// Unit Gaussian in `d` dimensions, prior U[-10, 10]^d: ln Z = -d ln 20 (the Gaussian mass
/// outside the box, 2 d Phi(-10) ~ 1e-22, is negligible).
pub fn gaussian(d: usize) -> (ParameterSet, FnLikelihood<impl Fn(&[f64]) -> f64>, f64) {
    let params = ParameterSet::iid(d, Prior::uniform(-10.0, 10.0).unwrap()).unwrap();
    let norm = -0.5 * d as f64 * (2.0 * PI).ln();
    let like = FnLikelihood::new(d, move |t: &[f64]| {
        norm - 0.5 * t.iter().map(|x| x * x).sum::<f64>()
    });
    (params, like, -(d as f64) * 20f64.ln())
}

/// Gaussian shells (Feroz et al. 2009 sec. 6.2): two rings of radius 2, width 0.1, centres
/// (+-3.5, 0), prior U[-6, 6]^2. ln Z = -1.746 (ANCHORS.md; numerical integration).
pub fn shells() -> (ParameterSet, FnLikelihood<impl Fn(&[f64]) -> f64>, f64) {
    let params = ParameterSet::iid(2, Prior::uniform(-6.0, 6.0).unwrap()).unwrap();
    let (r, w) = (2.0, 0.1);
    let norm = -0.5 * (2.0 * PI * w * w).ln();
    let shell = move |x: f64, y: f64, cx: f64| {
        let rr = ((x - cx).powi(2) + y * y).sqrt();
        norm - 0.5 * (rr - r).powi(2) / (w * w)
    };
    let like = FnLikelihood::new(2, move |t: &[f64]| {
        let a = shell(t[0], t[1], -3.5);
        let b = shell(t[0], t[1], 3.5);
        let m = a.max(b);
        m + ((a - m).exp() + (b - m).exp()).ln()
    });
    (params, like, -1.746)
}

/// Eggbox (Feroz et al. 2009 sec. 6.3): ln L = (2 + cos(x/2) cos(y/2))^5 on U[0, 10 pi]^2,
/// ln Z = 235.868 (ANCHORS.md; numerical integration).
pub fn eggbox() -> (ParameterSet, FnLikelihood<impl Fn(&[f64]) -> f64>, f64) {
    let params = ParameterSet::iid(2, Prior::uniform(0.0, 10.0 * PI).unwrap()).unwrap();
    let like = FnLikelihood::new(2, |t: &[f64]| {
        (2.0 + (t[0] / 2.0).cos() * (t[1] / 2.0).cos()).powi(5)
    });
    (params, like, 235.868)
}

/// A batched run must spend fewer than `factor` times the calls of the same run made one
/// candidate at a time (the batch adapts to the acceptance rate, and the queue keeps the
/// candidates a batch does not need).
pub fn assert_calls_near_one_at_a_time(batched: u64, one_at_a_time: u64, factor: f64) {
    assert!(
        (batched as f64) < factor * one_at_a_time as f64,
        "{batched} calls in batches, {one_at_a_time} one at a time (limit {factor}x)"
    );
}
