//! Sampler time per likelihood call with a trivial likelihood (target: < 5 us per call).
//! Reported per call: criterion's time per run divided by the run's calls (printed once).
//! The last case tapers from 32,000 live points, as the separated-modes warning advises
//! (`n_live_start = 32000, taper = 12` at 500 live points): many live points must not make
//! each iteration cost more (the live points' extreme ln L are kept in a tree, not scanned).

use criterion::{criterion_group, criterion_main, Criterion};
use spinflip_samplers::nested::{Method, NestedSampler, NestedSettings};
use spinflip_samplers::{FnLikelihood, ParameterSet, Prior};
use std::time::Instant;

fn overhead(c: &mut Criterion) {
    let mut group = c.benchmark_group("sampler_overhead");
    group.sample_size(10);
    for (d, method, n_live, n_live_start) in [
        (2, Method::Rejection, 500, None),
        (5, Method::Rejection, 500, None),
        (20, Method::Slice, 100, None),
        (20, Method::Auto, 100, None),
        (5, Method::Rejection, 500, Some(32_000)),
    ] {
        let params = ParameterSet::iid(d, Prior::uniform(-10.0, 10.0).unwrap()).unwrap();
        // A trivial (cheap) Gaussian: the run time is all sampler overhead.
        let like = FnLikelihood::new(d, |t: &[f64]| -0.5 * t.iter().map(|x| x * x).sum::<f64>());
        let settings = NestedSettings {
            n_live,
            method,
            n_live_start,
            taper: n_live_start.map_or(NestedSettings::default().taper, |_| 12.0),
            seed: 1,
            ..Default::default()
        };
        let sampler = NestedSampler::new(&params, &like, settings).unwrap();
        let t = Instant::now();
        let r = sampler.run().unwrap();
        let start = n_live_start.map_or(String::new(), |n| format!(" from {n}"));
        eprintln!(
            "{d}-D {method:?}, n_live {n_live}{start}: {} calls, {:.3} us per call",
            r.n_calls,
            t.elapsed().as_secs_f64() * 1e6 / r.n_calls as f64
        );
        let name = match n_live_start {
            None => format!("gaussian_{d}d_{method:?}_per_run"),
            Some(n) => format!("gaussian_{d}d_{method:?}_from_{n}_live_per_run"),
        };
        group.bench_function(name, |b| b.iter(|| sampler.run().unwrap().n_calls));
    }
    group.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
