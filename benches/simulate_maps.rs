//! Time per light-cone of the map simulator at the default geometry (128 Mpc, 32^3 cells,
//! z = 6-30, 787 slices), one thread, fiducial parameters.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use spinflip::lightcone::{MapGeometry, MapParams, MapSimulator};

fn bench(c: &mut Criterion) {
    let sim = MapSimulator::planck18(MapGeometry::default()).expect("default geometry");
    let p = MapParams::fiducial();
    let mut g = c.benchmark_group("simulate_maps");
    g.sample_size(20);
    let mut seed = 0u64;
    g.bench_function("light_cone_32", |b| {
        b.iter(|| {
            seed += 1;
            sim.simulate(black_box(&p), seed).unwrap()
        })
    });
    // Strong, soft X-rays and early sources: every shell is active at every node.
    let hard = MapParams::from_slice(&[80.0, 4.0, 42.0, 0.1]).unwrap();
    g.bench_function("light_cone_32_early_sources", |b| {
        b.iter(|| {
            seed += 1;
            sim.simulate(black_box(&hard), seed).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
