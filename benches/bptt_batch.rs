//! Cost of one training mini-batch with the hand-written BPTT: loss and gradient of 128
//! signals of 451 channels with the default architecture (2 x LSTM(64), 41 steps of 11
//! channels).

use criterion::{criterion_group, criterion_main, Criterion};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use spinflip::emulator::bptt::loss_and_grad;
use spinflip::emulator::{LstmConfig, LstmWeights};

fn bench(c: &mut Criterion) {
    let cfg = LstmConfig::new(7, 451);
    let w = LstmWeights::random(cfg, 1);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
    let b = 128;
    let t = cfg.n_steps;
    let freqs: Vec<f32> = (0..t).map(|i| i as f32 / (t - 1) as f32).collect();
    let params: Vec<f32> = (0..b * 7).map(|_| rng.random()).collect();
    let targets: Vec<f32> = (0..b * 451).map(|_| rng.random()).collect();
    let mut g = c.benchmark_group("bptt");
    g.sample_size(10);
    g.bench_function("batch128_default", |bch| {
        bch.iter(|| loss_and_grad(&w, &freqs, &params, &targets).unwrap())
    });
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    g.bench_function("batch128_default_one_thread", |bch| {
        bch.iter(|| one.install(|| loss_and_grad(&w, &freqs, &params, &targets).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
