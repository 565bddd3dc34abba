//! One C handle driven by 8 threads x 100,000 calls gives exactly the serial results: the
//! handle is shared read-only, and nothing in a call depends on another thread's calls.

use spinflip::capi::{
    spinflip_likelihood_free, spinflip_likelihood_from_config, spinflip_log_likelihood,
    spinflip_n_dims, spinflip_n_params, spinflip_prior_transform, SpinflipLikelihood,
    SpinflipStatus,
};
use std::ffi::CString;

/// A raw handle that may cross threads (the ABI documents handles as thread-safe).
#[derive(Clone, Copy)]
struct Shared(*const SpinflipLikelihood);
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

const THREADS: usize = 8;
const CALLS: usize = 100_000;
/// Distinct points, visited by every thread in its own order.
const POINTS: usize = 1_000;

#[test]
fn eight_threads_of_100k_calls_on_one_handle_give_the_serial_results() {
    let dir = std::env::temp_dir().join(format!("spinflip-capi-threads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("run.toml");
    // The shipped emulator (~0.1 ms per call): 800k calls take about a minute of CPU.
    std::fs::write(
        &cfg,
        "[output]\nroot = 'unused'\n[model]\nkind = 'emulator'\n\
         [data.mock]\nmodel = 'simulator'\nnoise = 25.0\nseed = 3\n",
    )
    .unwrap();
    let path = CString::new(cfg.to_str().unwrap()).unwrap();
    let mut h: *mut SpinflipLikelihood = std::ptr::null_mut();
    assert_eq!(
        spinflip_likelihood_from_config(path.as_ptr(), &mut h),
        SpinflipStatus::SpinflipOk
    );
    let (mut nd, mut np) = (0usize, 0usize);
    assert_eq!(spinflip_n_dims(h, &mut nd), SpinflipStatus::SpinflipOk);
    assert_eq!(spinflip_n_params(h, &mut np), SpinflipStatus::SpinflipOk);

    // Points from a fixed low-discrepancy walk of the unit cube (no RNG to share).
    let mut pts = vec![0.0; POINTS * np];
    for k in 0..POINTS {
        let cube: Vec<f64> = (0..nd)
            .map(|i| ((k as f64 + 0.5) * (0.618_033_988_75 + 0.1 * i as f64)).fract())
            .collect();
        assert_eq!(
            spinflip_prior_transform(h, cube.as_ptr(), nd, pts[k * np..].as_mut_ptr(), np),
            SpinflipStatus::SpinflipOk
        );
    }
    let serial: Vec<f64> = (0..POINTS)
        .map(|k| {
            let mut v = 0.0;
            let st = spinflip_log_likelihood(h, pts[k * np..].as_ptr(), np, &mut v);
            assert!(matches!(
                st,
                SpinflipStatus::SpinflipOk | SpinflipStatus::SpinflipRejected
            ));
            v
        })
        .collect();

    let shared = Shared(h);
    let mismatches: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (pts, serial) = (&pts, &serial);
                s.spawn(move || {
                    let h = shared;
                    let mut bad = 0;
                    for c in 0..CALLS {
                        // Each thread walks the points with its own stride.
                        let k = (c * (2 * t + 1) + t) % POINTS;
                        let mut v = 0.0;
                        spinflip_log_likelihood(h.0, pts[k * np..].as_ptr(), np, &mut v);
                        if v.to_bits() != serial[k].to_bits() {
                            bad += 1;
                        }
                    }
                    bad
                })
            })
            .collect();
        handles.into_iter().map(|j| j.join().unwrap()).sum()
    });
    assert_eq!(
        mismatches,
        0,
        "{mismatches} of {} concurrent calls differ from the serial value",
        THREADS * CALLS
    );
    assert_eq!(spinflip_likelihood_free(h), SpinflipStatus::SpinflipOk);
    let _ = std::fs::remove_dir_all(&dir);
}
