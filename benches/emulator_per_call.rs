//! Per-call cost of the emulator's fast CPU path (default architecture, 451 steps, random
//! weights: the cost does not depend on the weights) at batch 1, 16, 256 and 4096.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use spinflip::emulator::{FastLstm, LstmConfig, LstmWeights};

fn bench(c: &mut Criterion) {
    let cfg = LstmConfig::new(7, 451);
    let freqs = (0..cfg.n_steps)
        .map(|i| i as f32 / (cfg.n_steps - 1) as f32)
        .collect();
    let fast = FastLstm::new(&LstmWeights::random(cfg, 1), freqs).unwrap();
    let mut g = c.benchmark_group("emulator_per_call");
    g.sample_size(20);
    for n in [1usize, 16, 256, 4096] {
        let params: Vec<f32> = (0..n * 7)
            .map(|i| ((i * 37) % 101) as f32 / 100.0)
            .collect();
        let mut out = vec![0f32; n * cfg.n_outputs()];
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            if n == 1 {
                b.iter(|| {
                    fast.forward(black_box(&params), black_box(&mut out))
                        .unwrap()
                })
            } else {
                b.iter(|| {
                    fast.forward_batch(black_box(&params), black_box(&mut out))
                        .unwrap()
                })
            }
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
