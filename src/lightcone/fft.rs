//! 3-D real FFTs of an N^3 box: real-to-complex along the last axis (`realfft`), complex
//! transforms along the other two (`rustfft`). Plans are made once per grid size and shared
//! between threads; each caller brings its own [`FftScratch`].
//!
//! Layout: a real box is C order `(x * n + y) * n + z`; its half-complex transform is
//! `(x * n + y) * (n/2 + 1) + kz`. Both directions are unnormalised (a forward and an
//! inverse transform multiply by n^3).

use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Plans for one grid size.
#[derive(Clone)]
pub struct Fft3 {
    n: usize,
    r2c: Arc<dyn RealToComplex<f32>>,
    c2r: Arc<dyn ComplexToReal<f32>>,
    fwd: Arc<dyn Fft<f32>>,
    inv: Arc<dyn Fft<f32>>,
}

impl std::fmt::Debug for Fft3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fft3 {{ n: {} }}", self.n)
    }
}

/// Work buffers for one thread.
#[derive(Debug, Clone)]
pub struct FftScratch {
    real: Vec<Complex32>,
    block: Vec<Complex32>,
    fft: Vec<Complex32>,
}

impl Fft3 {
    /// Plan transforms of an `n^3` box.
    pub fn new(n: usize) -> Self {
        let mut rp = RealFftPlanner::<f32>::new();
        let mut cp = FftPlanner::<f32>::new();
        Self {
            n,
            r2c: rp.plan_fft_forward(n),
            c2r: rp.plan_fft_inverse(n),
            fwd: cp.plan_fft_forward(n),
            inv: cp.plan_fft_inverse(n),
        }
    }

    /// Cells per side.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Length of the half-complex array, n^2 (n/2 + 1).
    pub fn complex_len(&self) -> usize {
        self.n * self.n * (self.n / 2 + 1)
    }

    /// Buffers sized for these plans.
    pub fn scratch(&self) -> FftScratch {
        let n = self.n;
        let h = n / 2 + 1;
        let len = self
            .r2c
            .get_scratch_len()
            .max(self.c2r.get_scratch_len())
            .max(self.fwd.get_inplace_scratch_len())
            .max(self.inv.get_inplace_scratch_len());
        FftScratch {
            real: vec![Complex32::default(); len],
            block: vec![Complex32::default(); n * h],
            fft: vec![Complex32::default(); len.max(1)],
        }
    }

    /// Forward transform of `input` (n^3 reals, used as work space and left undefined) into
    /// `output` (n^2 (n/2 + 1) complex values).
    pub fn forward(&self, input: &mut [f32], output: &mut [Complex32], s: &mut FftScratch) {
        let n = self.n;
        let h = n / 2 + 1;
        assert_eq!(input.len(), n * n * n, "real box length");
        assert_eq!(output.len(), self.complex_len(), "complex box length");
        for (line, out) in input.chunks_exact_mut(n).zip(output.chunks_exact_mut(h)) {
            self.r2c
                .process_with_scratch(line, out, &mut s.real)
                .expect("buffer lengths match the plan");
        }
        self.complex_axes(output, s, &self.fwd);
    }

    /// Inverse transform of `input` (half-complex, used as work space and left undefined)
    /// into `output` (n^3 reals). The input must be the transform of a real box (Hermitian).
    pub fn inverse(&self, input: &mut [Complex32], output: &mut [f32], s: &mut FftScratch) {
        let n = self.n;
        let h = n / 2 + 1;
        assert_eq!(output.len(), n * n * n, "real box length");
        assert_eq!(input.len(), self.complex_len(), "complex box length");
        self.complex_axes(input, s, &self.inv);
        for (line, out) in input.chunks_exact_mut(h).zip(output.chunks_exact_mut(n)) {
            // The kz = 0 and Nyquist coefficients of a real line are real; rounding leaves
            // ~1e-7 imaginary parts that realfft would refuse.
            line[0].im = 0.0;
            line[h - 1].im = 0.0;
            self.c2r
                .process_with_scratch(line, out, &mut s.real)
                .expect("buffer lengths match the plan");
        }
    }

    /// Inverse transform of a band-limited half-complex box: every mode with an integer
    /// frequency beyond `m` in magnitude along some axis must be zero (a sharp-k filter of
    /// cut k_c <= m 2 pi/L). Lines that are all zero are skipped, which makes large filter
    /// radii cheap; the result equals [`Fft3::inverse`]'s.
    pub fn inverse_band(
        &self,
        input: &mut [Complex32],
        output: &mut [f32],
        s: &mut FftScratch,
        m: usize,
    ) {
        let n = self.n;
        let h = n / 2 + 1;
        assert_eq!(output.len(), n * n * n, "real box length");
        assert_eq!(input.len(), self.complex_len(), "complex box length");
        self.complex_axes_band(input, s, &self.inv, m.min(n / 2));
        for (line, out) in input.chunks_exact_mut(h).zip(output.chunks_exact_mut(n)) {
            line[0].im = 0.0;
            line[h - 1].im = 0.0;
            self.c2r
                .process_with_scratch(line, out, &mut s.real)
                .expect("buffer lengths match the plan");
        }
    }

    /// Complex transforms along y then x (or x then y: they commute) of a half-complex box.
    fn complex_axes(&self, data: &mut [Complex32], s: &mut FftScratch, fft: &Arc<dyn Fft<f32>>) {
        self.complex_axes_band(data, s, fft, self.n / 2);
    }

    /// [`Self::complex_axes`] skipping the planes and columns beyond frequency `m`, which are
    /// zero before and after.
    fn complex_axes_band(
        &self,
        data: &mut [Complex32],
        s: &mut FftScratch,
        fft: &Arc<dyn Fft<f32>>,
        m: usize,
    ) {
        let n = self.n;
        let h = n / 2 + 1;
        let hz = (m + 1).min(h);
        let block = &mut s.block[..hz * n];
        // Along y: for each x, gather the kz columns of length n into a block.
        for x in 0..n {
            if signed_frequency(x, n).unsigned_abs() as usize > m {
                continue;
            }
            let plane = &mut data[x * n * h..(x + 1) * n * h];
            for y in 0..n {
                for kz in 0..hz {
                    block[kz * n + y] = plane[y * h + kz];
                }
            }
            fft.process_with_scratch(block, &mut s.fft);
            for y in 0..n {
                for kz in 0..hz {
                    plane[y * h + kz] = block[kz * n + y];
                }
            }
        }
        // Along x: for each y, gather the kz columns of length n.
        for y in 0..n {
            for x in 0..n {
                let row = (x * n + y) * h;
                for kz in 0..hz {
                    block[kz * n + x] = data[row + kz];
                }
            }
            fft.process_with_scratch(block, &mut s.fft);
            for x in 0..n {
                let row = (x * n + y) * h;
                for kz in 0..hz {
                    data[row + kz] = block[kz * n + x];
                }
            }
        }
    }
}

/// Signed integer frequency of index `i` on an axis of length `n` (0, 1, ..., n/2, -n/2+1, ..., -1).
pub fn signed_frequency(i: usize, n: usize) -> i64 {
    if i <= n / 2 {
        i as i64
    } else {
        i as i64 - n as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_a_single_mode() {
        let n = 8;
        let f = Fft3::new(n);
        let mut s = f.scratch();
        let orig: Vec<f32> = (0..n * n * n)
            .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
            .collect();
        let mut a = orig.clone();
        let mut k = vec![Complex32::default(); f.complex_len()];
        f.forward(&mut a, &mut k, &mut s);
        let mut back = vec![0.0f32; n * n * n];
        f.inverse(&mut k, &mut back, &mut s);
        let norm = (n * n * n) as f32;
        for (x, y) in orig.iter().zip(&back) {
            assert!((x - y / norm).abs() < 1e-5);
        }
        // cos(2 pi (x + 2 y + 3 z)/n) has weight n^3/2 at (1, 2, 3) and its mirror.
        let mut c = vec![0.0f32; n * n * n];
        for x in 0..n {
            for y in 0..n {
                for z in 0..n {
                    let ph = 2.0 * std::f32::consts::PI * (x + 2 * y + 3 * z) as f32 / n as f32;
                    c[(x * n + y) * n + z] = ph.cos();
                }
            }
        }
        f.forward(&mut c, &mut k, &mut s);
        let h = n / 2 + 1;
        let peak = k[(n + 2) * h + 3];
        assert!((peak.re - norm / 2.0).abs() < 1e-3 && peak.im.abs() < 1e-3);
        let total: f32 = k.iter().map(|z| z.norm()).sum();
        assert!((total - norm / 2.0).abs() < 1e-2, "{total}");
        assert_eq!(signed_frequency(5, 8), -3);
        // A band-limited field: inverse_band equals the full inverse.
        let mut full = vec![0.0f32; n * n * n];
        let mut band = vec![0.0f32; n * n * n];
        let m = 2;
        let mut kb: Vec<Complex32> = (0..f.complex_len())
            .map(|i| {
                let (x, y, z) = (i / (n * h), (i / h) % n, i % h);
                let ok = signed_frequency(x, n).abs() <= m
                    && signed_frequency(y, n).abs() <= m
                    && z as i64 <= m;
                if ok {
                    Complex32::new((i % 7) as f32, (i % 5) as f32 - 2.0)
                } else {
                    Complex32::default()
                }
            })
            .collect();
        // Make it the transform of a real field first.
        let mut real = vec![0.0f32; n * n * n];
        let mut w = kb.clone();
        f.inverse(&mut w, &mut real, &mut s);
        f.forward(&mut real, &mut kb, &mut s);
        let mut w = kb.clone();
        f.inverse(&mut w, &mut full, &mut s);
        let mut w = kb.clone();
        f.inverse_band(&mut w, &mut band, &mut s, m as usize);
        for (a, b) in full.iter().zip(&band) {
            assert!((a - b).abs() < 1e-2 * (1.0 + a.abs()), "{a} {b}");
        }
        assert_eq!(signed_frequency(4, 8), 4);
    }
}
