//! FNV-1a 64-bit hashes that fingerprint training data and weight files.

/// FNV-1a hasher (Fowler, Noll, Vo); not cryptographic, only a fingerprint.
#[derive(Debug, Clone, Copy)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    /// Feed bytes.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self
    }

    /// Feed `f64`s (little-endian bytes) preceded by their count.
    pub fn f64s(&mut self, v: &[f64]) -> &mut Self {
        self.bytes(&(v.len() as u64).to_le_bytes());
        for x in v {
            self.bytes(&x.to_le_bytes());
        }
        self
    }

    /// The hash as 16 hex digits.
    pub fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_values() {
        // Published FNV-1a 64 test vectors (draft-eastlake-fnv).
        assert_eq!(Fnv1a::default().hex(), "cbf29ce484222325");
        assert_eq!(Fnv1a::default().bytes(b"a").hex(), "af63dc4c8601ec8c");
        assert_eq!(Fnv1a::default().bytes(b"foobar").hex(), "85944171f73967e8");
    }
}
