//! Time to fit NUTS's transport map (`metric = "transport"`) to pooled warmup draws, by
//! dimension: the fit is a greedy order search of least-squares regressions on O(d^2)
//! features, so its cost grows steeply with d while the draws support the nonlinear degree.
//! Draws: a banana in the first two coordinates, Gaussian in the rest.

use criterion::{criterion_group, criterion_main, Criterion};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use spinflip_samplers::hmc::transport::{MapDegree, TransportMap};

fn draws(n: usize, d: usize) -> Vec<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let mut out = Vec::with_capacity(n * d);
    for _ in 0..n {
        let z: Vec<f64> = (0..d).map(|_| StandardNormal.sample(&mut rng)).collect();
        out.push(z[0]);
        out.push(z[1] + 0.5 * z[0] * z[0]);
        out.extend_from_slice(&z[2..]);
    }
    out
}

fn fit(c: &mut Criterion) {
    let mut group = c.benchmark_group("transport_fit");
    group.sample_size(10);
    // 2000 draws: the last Stan window of 4 chains (500 iterations each).
    for d in [7, 14, 20] {
        let x = draws(2000, d);
        let map = TransportMap::fit(&x, d, MapDegree::Nonlinear);
        eprintln!("{d}-D, 2000 draws: degree {:?}", map.degree());
        group.bench_function(format!("fit_{d}d_2000_draws"), |b| {
            b.iter(|| TransportMap::fit(&x, d, MapDegree::Nonlinear).dim())
        });
    }
    group.finish();
}

criterion_group!(benches, fit);
criterion_main!(benches);
