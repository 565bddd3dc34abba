//! Timing of the map CNN against its FLOP bound, for `spinflip bench cnn` and the README.
//!
//! The bound of a pass is its multiply-adds x 2 FLOP over the practical peak of one core,
//! measured here as the rate of a single-threaded 512^3 f32 GEMM of the `gemm` crate (on
//! this project's AMD EPYC Zen 4 the theoretical peak is 32 FLOP per cycle: two 256-bit FMA
//! pipes, which a 512-bit FMA occupies together).

use std::fmt::Write as _;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::config::CnnConfig;
use super::cpu::CpuCnn;
use super::kernels::dense::{matmul, MatRef};
use super::network::{CnnNetwork, Mode};
use crate::SpinflipError;

/// What [`bench_report`] measures.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Architecture to time.
    pub config: CnnConfig,
    /// Slices per training batch.
    pub batch: usize,
    /// Seconds to spend on each timing (at least one call each).
    pub budget_s: f64,
    /// Also time candle's CPU forward + backward (slow: seconds per slice).
    pub candle: bool,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            config: CnnConfig::gillet(32, 787),
            batch: 32,
            budget_s: 2.0,
            candle: false,
        }
    }
}

/// Measured numbers (seconds per slice unless named otherwise).
#[derive(Debug, Clone, Default)]
pub struct BenchNumbers {
    /// Single-threaded GEMM rate, FLOP/s (the practical peak).
    pub peak_flops: f64,
    /// Forward + backward per slice, one thread.
    pub train_1t: f64,
    /// Forward + backward per slice, all threads.
    pub train_all: f64,
    /// Threads of `train_all`.
    pub threads: usize,
    /// Inference per slice at batch 1, one thread.
    pub predict_b1: f64,
    /// Inference per slice in batches of `batch`, one thread.
    pub predict_batched: f64,
    /// candle CPU forward + backward per slice (if measured).
    pub candle_train: Option<f64>,
    /// candle CPU inference per slice in batches (if measured).
    pub candle_predict: Option<f64>,
    /// Forward multiply-adds per slice.
    pub forward_macs: usize,
    /// Forward + backward multiply-adds per slice.
    pub train_macs: usize,
}

/// Best time per call of `f` over repeated runs within `budget` seconds.
fn time_best(budget: f64, mut f: impl FnMut()) -> f64 {
    f();
    let start = Instant::now();
    let mut best = f64::INFINITY;
    loop {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
        if start.elapsed().as_secs_f64() > budget {
            return best;
        }
    }
}

/// Single-threaded f32 GEMM rate (FLOP/s) of a 512^3 product: the practical peak.
pub fn gemm_peak(budget: f64) -> f64 {
    let n = 512;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
    let a: Vec<f32> = (0..n * n).map(|_| rng.random()).collect();
    let mut c = vec![0.0f32; n * n];
    let t = time_best(budget, || {
        matmul(
            &mut c,
            n,
            MatRef::rows(&a, n, n),
            MatRef::rows(&a, n, n),
            false,
        )
    });
    2.0 * (n * n * n) as f64 / t
}

/// Measure everything of [`BenchNumbers`].
pub fn measure(opts: &BenchOptions) -> Result<BenchNumbers, SpinflipError> {
    let c = &opts.config;
    c.validate()?;
    let n = opts.batch.max(2);
    let px = c.height * c.width;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let batch: Vec<f32> = (0..n * px).map(|_| rng.random::<f32>() - 0.5).collect();
    let targets: Vec<f32> = (0..n * c.n_outputs).map(|_| rng.random()).collect();
    let mut out = vec![0.0f32; n * c.n_outputs];
    let mut nums = BenchNumbers {
        peak_flops: gemm_peak(opts.budget_s.min(1.0)),
        forward_macs: c.forward_macs(),
        train_macs: c.train_macs(),
        ..Default::default()
    };
    let mut one = CpuCnn::new(c)?.with_threads(1)?;
    let params = one.init(0);
    let mut grad = vec![0.0f32; params.len()];
    let mut step = 0u64;
    nums.train_1t = time_best(opts.budget_s, || {
        step += 1;
        let _ = one.forward_backward(&params, &batch, &targets, step, &mut grad);
    }) / n as f64;
    nums.predict_batched = time_best(opts.budget_s, || {
        let _ = one.predict(&params, &batch, &mut out);
    }) / n as f64;
    let mut o1 = vec![0.0f32; c.n_outputs];
    nums.predict_b1 = time_best(opts.budget_s, || {
        let _ = one.predict(&params, &batch[..px], &mut o1);
    });
    let mut all = CpuCnn::new(c)?;
    nums.threads = all.threads();
    nums.train_all = time_best(opts.budget_s, || {
        step += 1;
        let _ = all.forward_backward(&params, &batch, &targets, step, &mut grad);
    }) / n as f64;
    if opts.candle {
        let dev = candle_core::Device::Cpu;
        let buffers = one.buffers().to_vec();
        let net = CnnNetwork::from_flat(c, &params, &buffers, &dev)?;
        // Two slices (batch norm needs two); one timed run: it takes seconds.
        let x = candle_core::Tensor::from_slice(&batch[..2 * px], (2, c.height, c.width), &dev)?;
        let t =
            candle_core::Tensor::from_slice(&targets[..2 * c.n_outputs], (2, c.n_outputs), &dev)?;
        let start = Instant::now();
        let loss = net.mse(&x, &t, Mode::Train { seed: 0 })?;
        loss.backward()?;
        nums.candle_train = Some(start.elapsed().as_secs_f64() / 2.0);
        let xb = candle_core::Tensor::from_slice(&batch[..], (n, c.height, c.width), &dev)?;
        nums.candle_predict = Some(
            time_best(opts.budget_s, || {
                let _ = net.forward_mode(&xb, Mode::Eval);
            }) / n as f64,
        );
    }
    Ok(nums)
}

/// A plain-text report of [`measure`]: milliseconds per slice, slices per second, and the
/// ratio of each time to its FLOP bound.
pub fn bench_report(opts: &BenchOptions) -> Result<String, SpinflipError> {
    let m = measure(opts)?;
    let c = &opts.config;
    let bound = |macs: usize| 2.0 * macs as f64 / m.peak_flops;
    let (bt, bf) = (bound(m.train_macs), bound(m.forward_macs));
    let mut s = String::new();
    let pad: Vec<String> = c
        .conv
        .iter()
        .map(|k| {
            format!(
                "{}@{}x{} {:?} pool {}",
                k.filters, k.kernel[0], k.kernel[1], k.padding, k.pool
            )
        })
        .collect();
    let _ = writeln!(
        s,
        "map CNN on {} x {} slices: conv {}",
        c.height,
        c.width,
        pad.join(", ")
    );
    let _ = writeln!(
        s,
        "multiply-adds per slice: forward {:.1} M, forward + backward {:.1} M",
        m.forward_macs as f64 / 1e6,
        m.train_macs as f64 / 1e6
    );
    let _ = writeln!(
        s,
        "practical peak (1-thread 512^3 f32 GEMM): {:.1} GFLOP/s -> bounds {:.2} ms (fwd+bwd), {:.2} ms (fwd)",
        m.peak_flops / 1e9,
        bt * 1e3,
        bf * 1e3
    );
    let mut row = |what: &str, t: f64, b: f64| {
        let _ = writeln!(
            s,
            "{what:<44} {:>9.3} ms/slice {:>9.1} slices/s {:>6.2} x bound",
            t * 1e3,
            1.0 / t,
            t / b
        );
    };
    row("train fwd+bwd, hand-written, 1 thread", m.train_1t, bt);
    row(
        &format!("train fwd+bwd, hand-written, {} threads", m.threads),
        m.train_all,
        bt / m.threads as f64,
    );
    row(
        "inference, hand-written, 1 thread, batch 1",
        m.predict_b1,
        bf,
    );
    row(
        &format!("inference, hand-written, 1 thread, batch {}", opts.batch),
        m.predict_batched,
        bf,
    );
    if let (Some(t), Some(p)) = (m.candle_train, m.candle_predict) {
        row("train fwd+bwd, candle CPU, all threads, batch 2", t, bt);
        row(
            &format!("inference, candle CPU, all threads, batch {}", opts.batch),
            p,
            bf,
        );
    }
    Ok(s)
}
