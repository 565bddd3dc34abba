//! Warmup adaptation as Stan does it: dual averaging of the step size toward a target
//! acceptance statistic (Hoffman & Gelman 2014, alg. 5; Nesterov 2009), and the metric
//! estimated in doubling windows between an initial and a terminal buffer (Stan Reference
//! Manual, "HMC algorithm parameters").

use serde::{Deserialize, Serialize};

/// Dual averaging of `ln eps` toward `delta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DualAveraging {
    /// Target acceptance statistic.
    pub delta: f64,
    #[serde(with = "crate::exact_f64::scalar")]
    mu: f64,
    #[serde(with = "crate::exact_f64::scalar")]
    s_bar: f64,
    #[serde(with = "crate::exact_f64::scalar")]
    x_bar: f64,
    counter: u64,
}

/// Stan's constants.
const GAMMA: f64 = 0.05;
const T0: f64 = 10.0;
const KAPPA: f64 = 0.75;

impl DualAveraging {
    /// Start at step size `eps` (the iterates are pulled toward `10 eps`).
    pub fn new(delta: f64, eps: f64) -> Self {
        let mut d = DualAveraging {
            delta,
            mu: 0.0,
            s_bar: 0.0,
            x_bar: 0.0,
            counter: 0,
        };
        d.restart(eps);
        d
    }

    /// Restart from step size `eps` (after a metric update).
    pub fn restart(&mut self, eps: f64) {
        self.mu = (10.0 * eps).ln();
        self.s_bar = 0.0;
        self.x_bar = 0.0;
        self.counter = 0;
    }

    /// Learn from one transition's acceptance statistic; returns the next step size.
    pub fn update(&mut self, accept: f64) -> f64 {
        self.counter += 1;
        let t = self.counter as f64;
        let accept = if accept.is_finite() {
            accept.min(1.0)
        } else {
            0.0
        };
        let eta = 1.0 / (t + T0);
        self.s_bar = (1.0 - eta) * self.s_bar + eta * (self.delta - accept);
        let x = self.mu - self.s_bar * t.sqrt() / GAMMA;
        let w = t.powf(-KAPPA);
        self.x_bar = (1.0 - w) * self.x_bar + w * x;
        x.exp()
    }

    /// The averaged step size: the one to keep after warmup.
    pub fn final_step_size(&self) -> f64 {
        self.x_bar.exp()
    }
}

/// Where warmup iteration `i` sits in the adaptation schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// Warmup iterations.
    pub warmup: usize,
    /// Initial buffer (step size only).
    pub init_buffer: usize,
    /// Terminal buffer (step size only).
    pub term_buffer: usize,
    /// First metric window.
    pub base_window: usize,
}

impl Windows {
    /// Stan's schedule (75 / 25 doubling / 50) for `warmup` iterations, shrunk to
    /// 15% / rest / 10% when the warmup is too short for it.
    pub fn new(warmup: usize) -> Self {
        let (mut init, mut term, mut base) = (75, 50, 25);
        if init + term + base > warmup {
            init = warmup * 15 / 100;
            term = warmup / 10;
            base = warmup.saturating_sub(init + term);
        }
        Windows {
            warmup,
            init_buffer: init,
            term_buffer: term,
            base_window: base,
        }
    }

    /// The iterations (0-based) after which the metric is re-estimated: the ends of the
    /// doubling windows, the last one stretched to meet the terminal buffer.
    pub fn window_ends(&self) -> Vec<usize> {
        let mut ends = Vec::new();
        if self.base_window == 0 || self.warmup < 20 {
            return ends;
        }
        let last = self.warmup - self.term_buffer; // first iteration of the terminal buffer
        let mut start = self.init_buffer;
        let mut size = self.base_window;
        while start + size <= last {
            let mut end = start + size;
            // A next window that would not fit before the terminal buffer joins this one.
            if end + 2 * size > last {
                end = last;
            }
            ends.push(end - 1);
            start = end;
            size *= 2;
        }
        ends
    }

    /// Whether iteration `i` adds its draw to the metric estimate.
    pub fn in_window(&self, i: usize) -> bool {
        self.warmup >= 20
            && self.base_window > 0
            && i >= self.init_buffer
            && i < self.warmup - self.term_buffer
    }
}

/// Running mean and (co)variance of draws (Welford), for the metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welford {
    n: u64,
    #[serde(with = "crate::exact_f64::vec")]
    mean: Vec<f64>,
    /// Diagonal: sums of squared deviations; dense: the row-major co-moment matrix.
    #[serde(with = "crate::exact_f64::vec")]
    m2: Vec<f64>,
    dense: bool,
}

impl Welford {
    /// Empty accumulator for `dim` dimensions.
    pub fn new(dim: usize, dense: bool) -> Self {
        Welford {
            n: 0,
            mean: vec![0.0; dim],
            m2: vec![0.0; if dense { dim * dim } else { dim }],
            dense,
        }
    }

    /// Add a draw.
    pub fn add(&mut self, x: &[f64]) {
        self.n += 1;
        let n = self.n as f64;
        let d = self.mean.len();
        let delta: Vec<f64> = x.iter().zip(&self.mean).map(|(a, m)| a - m).collect();
        for (m, dl) in self.mean.iter_mut().zip(&delta) {
            *m += dl / n;
        }
        if self.dense {
            for i in 0..d {
                for j in 0..d {
                    self.m2[i * d + j] += delta[i] * (x[j] - self.mean[j]);
                }
            }
        } else {
            for i in 0..d {
                self.m2[i] += delta[i] * (x[i] - self.mean[i]);
            }
        }
    }

    /// The regularised estimate Stan uses, `(n/(n+5)) C + 1e-3 (5/(n+5)) I`, which shrinks a
    /// short window's estimate toward a small multiple of the identity.
    pub fn regularised(&self) -> Vec<f64> {
        let n = self.n as f64;
        let d = self.mean.len();
        let (a, b) = (n / (n + 5.0), 1e-3 * 5.0 / (n + 5.0));
        let var = |v: f64| if n > 1.0 { v / (n - 1.0) } else { 0.0 };
        if self.dense {
            let mut c: Vec<f64> = self.m2.iter().map(|&v| a * var(v)).collect();
            for i in 0..d {
                c[i * d + i] += b;
            }
            c
        } else {
            self.m2.iter().map(|&v| a * var(v) + b).collect()
        }
    }

    /// Draws added.
    pub fn count(&self) -> u64 {
        self.n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stan_schedule_for_1000_warmup_iterations() {
        // Stan: windows [75, 100), [100, 150), [150, 250), [250, 450), [450, 950).
        let w = Windows::new(1000);
        assert_eq!(w.window_ends(), vec![99, 149, 249, 449, 949]);
        assert!(!w.in_window(74) && w.in_window(75) && w.in_window(949) && !w.in_window(950));
        let short = Windows::new(100);
        assert_eq!(
            (short.init_buffer, short.term_buffer, short.base_window),
            (15, 10, 75)
        );
        assert_eq!(short.window_ends(), vec![89]);
        assert!(Windows::new(10).window_ends().is_empty());
    }

    #[test]
    fn dual_averaging_finds_the_step_size_of_a_known_acceptance_curve() {
        // accept(eps) = exp(-eps^2): the target 0.8 is reached at eps = sqrt(-ln 0.8).
        let mut da = DualAveraging::new(0.8, 1.0);
        let mut eps: f64 = 1.0;
        for _ in 0..2000 {
            eps = da.update((-eps * eps).exp());
        }
        let want = (-(0.8f64).ln()).sqrt();
        assert!(
            (da.final_step_size() / want - 1.0).abs() < 0.02,
            "{}",
            da.final_step_size()
        );
        assert!(eps > 0.0);
    }

    #[test]
    fn welford_matches_the_two_pass_covariance() {
        let xs = [[1.0, 2.0], [2.0, 1.0], [4.0, 5.0], [-1.0, 0.5]];
        let mut w = Welford::new(2, true);
        xs.iter().for_each(|x| w.add(x));
        let n = 4.0;
        let m: Vec<f64> = (0..2)
            .map(|j| xs.iter().map(|x| x[j]).sum::<f64>() / n)
            .collect();
        let c01 = xs
            .iter()
            .map(|x| (x[0] - m[0]) * (x[1] - m[1]))
            .sum::<f64>()
            / (n - 1.0);
        let reg = w.regularised();
        assert!((reg[1] - n / (n + 5.0) * c01).abs() < 1e-12);
        let mut d = Welford::new(2, false);
        xs.iter().for_each(|x| d.add(x));
        let v0 = xs.iter().map(|x| (x[0] - m[0]).powi(2)).sum::<f64>() / (n - 1.0);
        assert!((d.regularised()[0] - (n / (n + 5.0) * v0 + 1e-3 * 5.0 / (n + 5.0))).abs() < 1e-12);
    }
}
