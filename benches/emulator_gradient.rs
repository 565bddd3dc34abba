//! Cost of the global-signal likelihood's gradient through the shipped emulator against its
//! value alone, one point at a time (what NUTS and the MAP optimiser call): the target is
//! value + gradient <= 3x value.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use spinflip::emulator::{default_emulator_path, GlobalEmulator};
use spinflip::global::GlobalSimulator;
use spinflip::likelihoods::{mock_spectrum, ForwardModel, GlobalSignalLikelihood, Noise};
use spinflip::samplers::{GradLogLikelihood, LogLikelihood};

fn bench(c: &mut Criterion) {
    let emu = GlobalEmulator::load(&default_emulator_path()).unwrap();
    let sim = GlobalSimulator::planck18();
    let noise = Noise::white(25.0, sim.n_outputs()).unwrap();
    let truth = [0.05, 16.5, 1.0, 0.055, 1.3, 0.5, 30.0];
    let data = mock_spectrum(&sim, &truth, &noise, 1).unwrap();
    let like = GlobalSignalLikelihood::new(emu, data, noise, None).unwrap();
    let theta = [0.08, 20.0, 3.0, 0.06, 1.2, 0.8, 25.0];
    let mut g = c.benchmark_group("emulator_likelihood");
    g.sample_size(30);
    g.bench_function("value", |b| {
        b.iter(|| like.log_likelihood(black_box(&theta)).unwrap())
    });
    let mut grad = [0.0; 7];
    g.bench_function("value_and_gradient", |b| {
        b.iter(|| {
            like.log_likelihood_and_gradient(black_box(&theta), black_box(&mut grad))
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
