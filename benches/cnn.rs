//! The map CNN on 32 x 787 slices with Gillet et al.'s architecture: inference per slice
//! (batch 1 and batched) and training throughput (forward + backward per batch of 32) of
//! the hand-written CPU path on one thread and on all threads, with candle's CPU path
//! beside it on a small count (its conv2d backward takes seconds per slice).
//! `spinflip::cnn::bench::bench_report` prints the same numbers against the FLOP bound.

use candle_core::{Device, Tensor};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use spinflip::cnn::{CnnConfig, CnnNetwork, CpuCnn, Mode, Padding};

fn bench(c: &mut Criterion) {
    for (tag, cfg) in [
        ("same", CnnConfig::gillet(32, 787)),
        (
            "valid",
            CnnConfig::gillet(32, 787).with_padding(Padding::Valid),
        ),
    ] {
        let px = cfg.height * cfg.width;
        let n = 32;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let batch: Vec<f32> = (0..n * px).map(|_| rng.random::<f32>() - 0.5).collect();
        let targets: Vec<f32> = (0..n * 4).map(|_| rng.random()).collect();
        let mut one = CpuCnn::new(&cfg).unwrap().with_threads(1).unwrap();
        let params = one.init(0);
        let buffers = one.buffers().to_vec();
        let mut all = CpuCnn::new(&cfg).unwrap();
        let mut grad = vec![0.0f32; params.len()];
        let mut out = vec![0.0f32; n * 4];

        let mut g = c.benchmark_group(format!("cnn_{tag}"));
        g.sample_size(10);
        g.throughput(Throughput::Elements(1));
        g.bench_function("predict_batch1_1thread", |b| {
            b.iter(|| one.predict(&params, &batch[..px], &mut out[..4]).unwrap())
        });
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function("predict_batch32_1thread", |b| {
            b.iter(|| one.predict(&params, &batch, &mut out).unwrap())
        });
        let mut step = 0u64;
        g.bench_function("train_batch32_1thread", |b| {
            b.iter(|| {
                step += 1;
                one.forward_backward(&params, &batch, &targets, step, &mut grad)
                    .unwrap()
            })
        });
        g.bench_function("train_batch32_all_threads", |b| {
            b.iter(|| {
                step += 1;
                all.forward_backward(&params, &batch, &targets, step, &mut grad)
                    .unwrap()
            })
        });
        let dev = Device::Cpu;
        let net = CnnNetwork::from_flat(&cfg, &params, &buffers, &dev).unwrap();
        let xb = Tensor::from_slice(&batch[..], (n, cfg.height, cfg.width), &dev).unwrap();
        g.bench_function("candle_predict_batch32", |b| {
            b.iter(|| net.forward_mode(&xb, Mode::Eval).unwrap())
        });
        // Two slices (batch norm needs two); seconds per iteration.
        let x2 = Tensor::from_slice(&batch[..2 * px], (2, cfg.height, cfg.width), &dev).unwrap();
        let t2 = Tensor::from_slice(&targets[..8], (2, 4), &dev).unwrap();
        g.throughput(Throughput::Elements(2));
        g.sample_size(10);
        g.measurement_time(std::time::Duration::from_secs(1));
        g.bench_function("candle_train_batch2", |b| {
            b.iter(|| {
                net.mse(&x2, &t2, Mode::Train { seed: 0 })
                    .unwrap()
                    .backward()
                    .unwrap()
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
