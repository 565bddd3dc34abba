//! Throughput of the ensemble sampler and cost of its autocorrelation-time estimate.

use criterion::{criterion_group, criterion_main, Criterion};
use spinflip_samplers::diagnostics::ensemble_autocorr_time;
use spinflip_samplers::mcmc::{EnsembleSampler, EnsembleSettings, Stop};
use spinflip_samplers::{FnLikelihood, ParameterSet, Prior};
use std::hint::black_box;

fn gauss5(t: &[f64]) -> f64 {
    -0.5 * t
        .iter()
        .enumerate()
        .map(|(i, x)| x * x / (1.0 + i as f64))
        .sum::<f64>()
}

fn bench_run(c: &mut Criterion) {
    let params = ParameterSet::iid(5, Prior::uniform(-20.0, 20.0).unwrap()).unwrap();
    let like = FnLikelihood::new(5, gauss5);
    c.bench_function("ensemble 5-D gaussian, 32 walkers x 1000 steps", |b| {
        b.iter(|| {
            let s = EnsembleSettings {
                n_walkers: 32,
                stop: Stop::Steps(1000),
                seed: 1,
                progress: false,
                ..Default::default()
            };
            black_box(
                EnsembleSampler::new(&params, &like, s)
                    .unwrap()
                    .run()
                    .unwrap(),
            )
        })
    });
    let s = EnsembleSettings {
        n_walkers: 32,
        stop: Stop::Steps(10_000),
        seed: 1,
        progress: false,
        ..Default::default()
    };
    let r = EnsembleSampler::new(&params, &like, s)
        .unwrap()
        .run()
        .unwrap();
    c.bench_function(
        "autocorrelation time, 10000 steps x 32 walkers x 5 dims",
        |b| b.iter(|| black_box(ensemble_autocorr_time(&r.chain, 10_000, 32, 5, 5.0).unwrap())),
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench_run
}
criterion_main!(benches);
