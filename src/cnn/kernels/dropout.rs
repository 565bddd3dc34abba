//! Seeded dropout masks: the same `(seed, sample)` gives the same mask on every path (the
//! CPU trainer and the candle network), whatever the thread count or batch split.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// SplitMix64 finaliser (Steele, Lea & Flood 2014): decorrelates nearby `(seed, sample)`.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Inverted dropout mask for sample `sample` of a batch: each entry is `0` with probability
/// `rate` and `1 / (1 - rate)` otherwise, so the expected activation is unchanged and
/// evaluation needs no rescaling. Callers vary `seed` between batches (e.g. with the step).
pub fn mask(seed: u64, sample: u64, rate: f32, out: &mut [f32]) {
    if rate <= 0.0 {
        out.iter_mut().for_each(|m| *m = 1.0);
        return;
    }
    let keep = 1.0 / (1.0 - rate);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix(seed ^ mix(sample)));
    for m in out.iter_mut() {
        *m = if rng.random::<f32>() < rate {
            0.0
        } else {
            keep
        };
    }
}
