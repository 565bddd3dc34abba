//! Bit-exact serde for floats in checkpoints: JSON has no infinities (births at `-inf`) and
//! a decimal round trip must not move a resumed run by one ulp.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `#[serde(with = "exact_f64::vec")]` for `Vec<f64>`.
pub mod vec {
    use super::*;

    /// Serialise as the IEEE-754 bit patterns.
    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        v.iter()
            .map(|x| x.to_bits())
            .collect::<Vec<u64>>()
            .serialize(s)
    }

    /// Deserialise from bit patterns.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<u64>::deserialize(d)?
            .into_iter()
            .map(f64::from_bits)
            .collect())
    }
}

/// `#[serde(with = "exact_f64::scalar")]` for `f64`.
pub mod scalar {
    use super::*;

    /// Serialise as the IEEE-754 bit pattern.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        v.to_bits().serialize(s)
    }

    /// Deserialise from a bit pattern.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(f64::from_bits(u64::deserialize(d)?))
    }
}
