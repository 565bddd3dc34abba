//! Measured machine peaks for the speed report of `spinflip bench emulator`: the rate of a
//! plain FMA loop and of the vectorised sigmoid, compiled for the same instruction sets as
//! the fast path.

use std::hint::black_box;
use std::time::Instant;

use super::fast::Isa;
use super::fast_math::sigmoid_slice;

/// Independent accumulator rows, enough to hide FMA latency.
const CHAINS: usize = 12;
/// Lanes per row.
const W: usize = 16;

#[inline(always)]
fn fma_loop<const FMA: bool>(iters: usize, a: f32, b: f32) -> f32 {
    let mut acc = [[1.0f32; W]; CHAINS];
    for _ in 0..iters {
        for row in acc.iter_mut() {
            for x in row.iter_mut() {
                *x = if FMA { x.mul_add(a, b) } else { *x * a + b };
            }
        }
    }
    acc.iter().flatten().sum()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn fma_avx512(iters: usize, a: f32, b: f32) -> f32 {
    use std::arch::x86_64::*;
    let (av, bv) = (_mm512_set1_ps(a), _mm512_set1_ps(b));
    let mut acc = [_mm512_set1_ps(1.0); CHAINS];
    for _ in 0..iters {
        for x in acc.iter_mut() {
            *x = _mm512_fmadd_ps(*x, av, bv);
        }
    }
    acc.iter().map(|v| _mm512_reduce_add_ps(*v)).sum()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn fma_avx2(iters: usize, a: f32, b: f32) -> f32 {
    fma_loop::<true>(iters, a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn sig_avx512(v: &mut [f32]) {
    super::fast_avx512::sigmoid_slice(v)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn sig_avx2(v: &mut [f32]) {
    sigmoid_slice(v)
}

fn run_fma(isa: Isa, iters: usize) -> f32 {
    let (a, b) = (black_box(0.999_9f32), black_box(1e-4f32));
    match isa {
        // SAFETY: callers pass an instruction set from `Isa::detect`/`supported`.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { fma_avx512(iters, a, b) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { fma_avx2(iters, a, b) },
        // aarch64's baseline has vector FMA.
        #[cfg(target_arch = "aarch64")]
        Isa::Neon => fma_loop::<true>(iters, a, b),
        _ => fma_loop::<false>(iters, a, b),
    }
}

fn run_sig(isa: Isa, v: &mut [f32]) {
    match isa {
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { sig_avx512(v) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { sig_avx2(v) },
        _ => sigmoid_slice(v),
    }
}

/// Multiply-adds per second of a register-resident FMA loop on one core (best of 5).
pub fn peak_macs_per_second(isa: Isa) -> f64 {
    let iters = 2_000_000;
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        black_box(run_fma(isa, black_box(iters)));
        best = best.min(t.elapsed().as_secs_f64());
    }
    let lanes = if isa == Isa::Avx512 { 16 } else { W };
    (iters * CHAINS * lanes) as f64 / best
}

/// Sigmoid evaluations per second over an L1-resident array on one core (best of 5).
pub fn sigmoid_per_second(isa: Isa) -> f64 {
    let mut v: Vec<f32> = (0..4096).map(|i| (i as f32 - 2048.0) / 256.0).collect();
    let reps = 2000;
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..reps {
            // Branch-free code: the cost does not depend on the values.
            run_sig(isa, black_box(&mut v));
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    (reps * v.len()) as f64 / best
}
