//! Independent seeds for the items of a run (light-cone `i` of a set, mock `i` of a
//! calibration): each depends only on the run's seed, the item's index and a salt that
//! separates the streams one item uses, so a run split into shards gives the same numbers.

/// SplitMix64 of `seed` and `index`: the stream of light-cone `index` (and of any other
/// per-item stream, e.g. calibration mocks).
pub fn mix(seed: u64, index: u64, salt: u64) -> u64 {
    let mut z =
        seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
