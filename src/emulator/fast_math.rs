//! Branch-free `f32` exp, sigmoid and tanh that the compiler vectorises.
//!
//! exp: Cody-Waite range reduction `x = n ln2 + r`, |r| <= ln2/2, and the degree-6
//! minimax polynomial of Cephes `expf` (S. L. Moshier, Cephes Mathematical Library) for
//! e^r; 2^n is assembled in the exponent bits. The round-to-nearest uses the 1.5 * 2^23
//! trick so no libm call or SSE4.1 rounding is needed. tanh: Cephes' odd polynomial for
//! |x| < 0.625 (relative accuracy where tanh(x) ~ x), else 1 - 2 / (e^{2|x|} + 1).
//! Both branches are computed and one selected, so loops over slices stay vectorised.
//! Relative error is below 1e-6 over the ranges an LSTM meets (tested below).

/// 1.5 * 2^23: adding it rounds an f32 of magnitude < 2^22 to an integer.
const ROUND_MAGIC: f32 = 12_582_912.0;
const LOG2E: f32 = std::f32::consts::LOG2_E;
// ln 2 split so that n * LN2_HI is exact for |n| < 2^9.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

/// e^x for x in [-87, 88] (clamped outside, so the result stays finite and normal).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let t = x * LOG2E + ROUND_MAGIC;
    let n = t - ROUND_MAGIC;
    // The low mantissa bits of t hold n (two's complement offset by the magic's bits).
    let n_bits = t.to_bits().wrapping_sub(ROUND_MAGIC.to_bits());
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 5.000_000_1e-1;
    let er = p * r * r + r + 1.0;
    let scale = f32::from_bits(n_bits.wrapping_add(127) << 23);
    er * scale
}

/// The logistic function 1 / (1 + e^{-x}).
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// Hyperbolic tangent.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let ax = x.abs();
    let z = x * x;
    let mut p = -5.704_988_7e-3_f32;
    p = p * z + 2.063_908_9e-2;
    p = p * z - 5.373_971_6e-2;
    p = p * z + 1.333_144_2e-1;
    p = p * z - 3.333_328_2e-1;
    let small = p * z * x + x;
    let big = 1.0 - 2.0 / (exp(2.0 * ax) + 1.0);
    let big = if x < 0.0 { -big } else { big };
    if ax < 0.625 {
        small
    } else {
        big
    }
}

/// Sigmoid of every element, in place.
#[inline(always)]
pub fn sigmoid_slice(v: &mut [f32]) {
    for x in v.iter_mut() {
        *x = sigmoid(*x);
    }
}

/// tanh of every element, in place.
#[inline(always)]
pub fn tanh_slice(v: &mut [f32]) {
    for x in v.iter_mut() {
        *x = tanh(*x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(a: f64, b: f64, n: usize) -> impl Iterator<Item = f32> {
        (0..=n).map(move |i| (a + (b - a) * i as f64 / n as f64) as f32)
    }

    fn rel(a: f32, b: f64) -> f64 {
        ((f64::from(a) - b) / b).abs()
    }

    #[test]
    fn exp_relative_error_below_1e6() {
        let worst = grid(-87.0, 88.0, 200_000)
            .map(|x| rel(exp(x), f64::from(x).exp()))
            .fold(0.0, f64::max);
        assert!(worst < 1e-6, "worst relative error {worst}");
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(-1e4) > 0.0 && exp(1e4).is_finite());
    }

    #[test]
    fn sigmoid_relative_error_below_1e6() {
        let worst = grid(-80.0, 80.0, 200_000)
            .map(|x| rel(sigmoid(x), 1.0 / (1.0 + (-f64::from(x)).exp())))
            .fold(0.0, f64::max);
        assert!(worst < 1e-6, "worst relative error {worst}");
    }

    #[test]
    fn tanh_relative_error_below_1e6() {
        let worst = grid(-20.0, 20.0, 400_001)
            .filter(|x| *x != 0.0)
            .map(|x| rel(tanh(x), f64::from(x).tanh()))
            .fold(0.0, f64::max);
        assert!(worst < 1e-6, "worst relative error {worst}");
        // Tiny arguments keep full relative accuracy (tanh x ~ x).
        assert!(rel(tanh(1e-20), 1e-20) < 1e-6);
        assert_eq!(tanh(0.0), 0.0);
        assert_eq!(tanh(100.0), 1.0);
        assert_eq!(tanh(-100.0), -1.0);
    }
}
