//! Time per global signal (one call of the physical simulator, one core).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use spinflip::global::{GlobalParams, GlobalSimulator};
use spinflip::likelihoods::ForwardModel;

fn bench(c: &mut Criterion) {
    let sim = GlobalSimulator::planck18();
    let theta = GlobalParams::fiducial().to_array();
    let mut out = vec![0.0; sim.n_outputs()];
    sim.predict(&theta, &mut out).expect("fiducial runs");
    c.bench_function("simulate_global", |b| {
        b.iter(|| sim.predict(black_box(&theta), &mut out).unwrap())
    });
    // A harder corner: strong X-rays, soft spectrum, early reionization.
    let hard = [0.3, 5.0, 300.0, 0.15, 1.0, 0.1, 10.0];
    c.bench_function("simulate_global_corner", |b| {
        b.iter(|| sim.predict(black_box(&hard), &mut out).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
