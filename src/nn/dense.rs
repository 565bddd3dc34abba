//! Matrix products of the dense layers through the `gemm` crate (the one candle uses), and
//! the MSE loss.

/// A read-only strided matrix view: element `(r, c)` at `data[r * rs + c * cs]`.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a> {
    /// Values.
    pub data: &'a [f32],
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Row stride.
    pub rs: usize,
    /// Column stride.
    pub cs: usize,
}

impl<'a> MatRef<'a> {
    /// Row-major `rows x cols`.
    pub fn rows(data: &'a [f32], rows: usize, cols: usize) -> Self {
        MatRef {
            data,
            rows,
            cols,
            rs: cols,
            cs: 1,
        }
    }

    /// The transpose (no copy).
    pub fn t(self) -> Self {
        MatRef {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    fn check(&self) {
        if self.rows > 0 && self.cols > 0 {
            assert!((self.rows - 1) * self.rs + (self.cols - 1) * self.cs < self.data.len());
        }
    }
}

/// `dst (m x n, row stride dst_rs) = a (m x k) b (k x n)`, or `+=` when `accumulate`.
/// Single-threaded (callers split the work so the sums do not depend on the thread count).
pub fn matmul(dst: &mut [f32], dst_rs: usize, a: MatRef<'_>, b: MatRef<'_>, accumulate: bool) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(b.rows, k);
    a.check();
    b.check();
    if m == 0 || n == 0 {
        return;
    }
    assert!(dst_rs >= n && dst.len() >= (m - 1) * dst_rs + n);
    if k == 0 {
        if !accumulate {
            (0..m).for_each(|r| dst[r * dst_rs..r * dst_rs + n].fill(0.0));
        }
        return;
    }
    // SAFETY: every index the product touches was bounds-checked above.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs as isize,
            accumulate,
            a.data.as_ptr(),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr(),
            b.cs as isize,
            b.rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Mean squared error over all entries, and its gradient `2 (y - t) / len` into `dy`.
pub fn mse(y: &[f32], t: &[f32], dy: &mut [f32]) -> f64 {
    let n = y.len() as f64;
    let mut s = 0.0f64;
    for ((d, &a), &b) in dy.iter_mut().zip(y).zip(t) {
        let e = f64::from(a) - f64::from(b);
        s += e * e;
        *d = (2.0 * e / n) as f32;
    }
    s / n
}
