//! What the C ABI adds per call: `spinflip_*` exports (called through their Rust symbols, the
//! same code C and ctypes reach) against the direct Rust calls on a `Problem` built from the
//! same configuration (examples/python/simulator_3d.toml: 7 parameters, 3 free).
//!
//! The prior calls cost nanoseconds, so their difference is the boundary's overhead (panic
//! guard, pointer and length checks, finiteness scan); the log-likelihood pair uses the
//! simulator (~0.5 ms), where the same overhead is below the timing noise.

use std::ffi::CString;
use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use spinflip::capi::{
    spinflip_likelihood_free, spinflip_likelihood_from_config, spinflip_log_likelihood,
    spinflip_log_prior, spinflip_prior_transform, SpinflipLikelihood, SpinflipStatus,
};
use spinflip::config::RunConfig;
use spinflip::problem::Problem;
use spinflip::samplers::LogLikelihood;

fn bench(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/python/simulator_3d.toml");
    let problem = Problem::from_config(&RunConfig::load(&path).unwrap()).unwrap();
    let c_path = CString::new(path.to_str().unwrap()).unwrap();
    let mut h: *mut SpinflipLikelihood = std::ptr::null_mut();
    assert_eq!(
        spinflip_likelihood_from_config(c_path.as_ptr(), &mut h),
        SpinflipStatus::SpinflipOk
    );
    let (n, n_free) = (problem.params.n_params(), problem.params.n_free());
    let cube = vec![0.5; n_free];
    let mut theta = vec![0.0; n];
    problem.params.prior_transform(&cube, &mut theta).unwrap();

    let mut g = c.benchmark_group("capi_overhead");
    g.bench_function("log_prior/rust", |b| {
        b.iter(|| problem.params.log_prior(black_box(&theta)).unwrap())
    });
    g.bench_function("log_prior/c", |b| {
        let mut out = 0.0;
        b.iter(|| {
            let s = spinflip_log_prior(h, black_box(theta.as_ptr()), n, &mut out);
            debug_assert_eq!(s, SpinflipStatus::SpinflipOk);
            black_box(out)
        })
    });
    let mut t = vec![0.0; n];
    g.bench_function("prior_transform/rust", |b| {
        b.iter(|| {
            problem
                .params
                .prior_transform(black_box(&cube), &mut t)
                .unwrap()
        })
    });
    g.bench_function("prior_transform/c", |b| {
        b.iter(|| spinflip_prior_transform(h, black_box(cube.as_ptr()), n_free, t.as_mut_ptr(), n))
    });
    g.sample_size(20);
    g.bench_function("log_likelihood_simulator/rust", |b| {
        b.iter(|| problem.log_likelihood(black_box(&theta)).unwrap())
    });
    g.bench_function("log_likelihood_simulator/c", |b| {
        let mut out = 0.0;
        b.iter(|| {
            spinflip_log_likelihood(h, black_box(theta.as_ptr()), n, &mut out);
            black_box(out)
        })
    });
    g.finish();
    assert_eq!(spinflip_likelihood_free(h), SpinflipStatus::SpinflipOk);
}

criterion_group!(benches, bench);
criterion_main!(benches);
