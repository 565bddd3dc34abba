//! Sampler time per likelihood call with a trivial likelihood (target: < 5 us per call).
//! Reported per call: criterion's time per run divided by the run's calls (printed once).

use criterion::{criterion_group, criterion_main, Criterion};
use spinflip_samplers::nested::{Method, NestedSampler, NestedSettings};
use spinflip_samplers::{FnLikelihood, ParameterSet, Prior};
use std::time::Instant;

fn overhead(c: &mut Criterion) {
    let mut group = c.benchmark_group("sampler_overhead");
    group.sample_size(10);
    for (d, method, n_live) in [
        (2, Method::Rejection, 500),
        (5, Method::Rejection, 500),
        (20, Method::Slice, 100),
        (20, Method::Auto, 100),
    ] {
        let params = ParameterSet::iid(d, Prior::uniform(-10.0, 10.0).unwrap()).unwrap();
        // A trivial (cheap) Gaussian: the run time is all sampler overhead.
        let like = FnLikelihood::new(d, |t: &[f64]| -0.5 * t.iter().map(|x| x * x).sum::<f64>());
        let settings = NestedSettings {
            n_live,
            method,
            seed: 1,
            ..Default::default()
        };
        let sampler = NestedSampler::new(&params, &like, settings).unwrap();
        let t = Instant::now();
        let r = sampler.run().unwrap();
        eprintln!(
            "{d}-D {method:?}, n_live {n_live}: {} calls, {:.3} us per call",
            r.n_calls,
            t.elapsed().as_secs_f64() * 1e6 / r.n_calls as f64
        );
        group.bench_function(format!("gaussian_{d}d_{method:?}_per_run"), |b| {
            b.iter(|| sampler.run().unwrap().n_calls)
        });
    }
    group.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
