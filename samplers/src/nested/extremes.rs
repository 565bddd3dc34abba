//! The live points' lowest and highest likelihoods, kept in a segment tree so that each
//! iteration finds the dying point(s) and the largest ln L in O(log n) instead of scanning
//! every live point: with 256,000 live points (the warning's advice, repeated, for a 5-D
//! mixture), the scans took most of a run's time.

/// Minimum and maximum of a list of ln L values under point updates and swap-removals.
///
/// Ties are kept exactly: [`LiveExtremes::argmins`] lists every index holding the minimum in
/// ascending order, as a scan would, so runs are unchanged bit for bit.
#[derive(Debug, Clone)]
pub(crate) struct LiveExtremes {
    /// Number of values (leaves in use).
    n: usize,
    /// Leaves: a power of two at least `n`.
    size: usize,
    /// Node minima (`+inf` past `n`); node `k` has children `2k`, `2k + 1`, leaves at `size..`.
    lo: Vec<f64>,
    /// Node maxima (`-inf` past `n`).
    hi: Vec<f64>,
}

impl LiveExtremes {
    /// Builds the tree over `values` (no NaN: the evaluator stops a run on one).
    pub fn new(values: &[f64]) -> Self {
        let n = values.len();
        let size = n.max(1).next_power_of_two();
        let mut lo = vec![f64::INFINITY; 2 * size];
        let mut hi = vec![f64::NEG_INFINITY; 2 * size];
        lo[size..size + n].copy_from_slice(values);
        hi[size..size + n].copy_from_slice(values);
        for k in (1..size).rev() {
            lo[k] = lo[2 * k].min(lo[2 * k + 1]);
            hi[k] = hi[2 * k].max(hi[2 * k + 1]);
        }
        Self { n, size, lo, hi }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Smallest value (`+inf` when empty).
    pub fn min(&self) -> f64 {
        self.lo[1]
    }

    /// Largest value (`-inf` when empty).
    pub fn max(&self) -> f64 {
        self.hi[1]
    }

    /// Sets value `i` to `x`.
    pub fn set(&mut self, i: usize, x: f64) {
        assert!(i < self.n, "index {i} past {} values", self.n);
        self.put(i, x, x);
    }

    /// Removes value `i` as `Vec::swap_remove` does: the last value takes its place.
    pub fn swap_remove(&mut self, i: usize) {
        assert!(i < self.n, "index {i} past {} values", self.n);
        let last = self.n - 1;
        let x = self.lo[self.size + last];
        self.put(last, f64::INFINITY, f64::NEG_INFINITY);
        self.n = last;
        if i != last {
            self.put(i, x, x);
        }
    }

    /// Indices holding the minimum, ascending (empty when there are no values).
    pub fn argmins(&self) -> Vec<usize> {
        let mut out = Vec::new();
        if self.n == 0 {
            return out;
        }
        let m = self.min();
        // Depth first, left child first, into subtrees whose minimum is the minimum.
        let mut stack = vec![1usize];
        while let Some(k) = stack.pop() {
            if self.lo[k] != m {
                continue;
            }
            if k >= self.size {
                out.push(k - self.size);
            } else {
                stack.push(2 * k + 1);
                stack.push(2 * k);
            }
        }
        out
    }

    fn put(&mut self, i: usize, lo: f64, hi: f64) {
        let mut k = self.size + i;
        self.lo[k] = lo;
        self.hi[k] = hi;
        while k > 1 {
            k /= 2;
            self.lo[k] = self.lo[2 * k].min(self.lo[2 * k + 1]);
            self.hi[k] = self.hi[2 * k].max(self.hi[2 * k + 1]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// What the tree must agree with: a scan.
    fn scan(v: &[f64]) -> (f64, f64, Vec<usize>) {
        let min = v.iter().cloned().fold(f64::INFINITY, f64::min);
        let max = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let at = (0..v.len()).filter(|&i| v[i] == min).collect();
        (min, max, at)
    }

    #[test]
    fn agrees_with_a_scan_under_updates_removals_and_ties() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        for n0 in [1usize, 2, 3, 5, 64, 100, 1000] {
            // Few distinct values (and -inf, a plateau) so that ties are common.
            let draw = |rng: &mut Xoshiro256PlusPlus| match rng.random_range(0..6) {
                0 => f64::NEG_INFINITY,
                k => k as f64 - 3.0,
            };
            let mut v: Vec<f64> = (0..n0).map(|_| draw(&mut rng)).collect();
            let mut t = LiveExtremes::new(&v);
            for _ in 0..3 * n0 {
                let (min, max, at) = scan(&v);
                assert_eq!((t.min(), t.max(), t.argmins()), (min, max, at));
                assert_eq!(t.len(), v.len());
                let i = rng.random_range(0..v.len());
                if v.len() > 1 && rng.random_bool(0.3) {
                    v.swap_remove(i);
                    t.swap_remove(i);
                } else {
                    let x = draw(&mut rng);
                    v[i] = x;
                    t.set(i, x);
                }
            }
        }
    }

    #[test]
    fn empty_and_emptied() {
        let mut t = LiveExtremes::new(&[]);
        assert_eq!(
            (t.min(), t.max(), t.argmins()),
            (f64::INFINITY, f64::NEG_INFINITY, vec![])
        );
        t = LiveExtremes::new(&[2.5]);
        assert_eq!((t.min(), t.max(), t.argmins()), (2.5, 2.5, vec![0]));
        t.swap_remove(0);
        assert_eq!((t.len(), t.argmins()), (0, vec![]));
        assert_eq!((t.min(), t.max()), (f64::INFINITY, f64::NEG_INFINITY));
    }
}
