//! Cost of one training mini-batch with the hand-written BPTT: loss and gradient of 128
//! signals, 2 x LSTM(32), 451 steps (the default training configuration).

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
    let freqs: Vec<f32> = (0..451).map(|t| t as f32 / 450.0).collect();
    let params: Vec<f32> = (0..b * 7).map(|_| rng.random()).collect();
    let targets: Vec<f32> = (0..b * 451).map(|_| rng.random()).collect();
    let mut g = c.benchmark_group("bptt");
    g.sample_size(10);
    g.bench_function("batch128_h32_t451", |bch| {
        bch.iter(|| loss_and_grad(&w, &freqs, &params, &targets).unwrap())
    });
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    g.bench_function("batch128_h32_t451_one_thread", |bch| {
        bch.iter(|| one.install(|| loss_and_grad(&w, &freqs, &params, &targets).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
