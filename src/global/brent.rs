//! Brent's root finder (Brent 1973, "Algorithms for Minimization without Derivatives", ch. 4):
//! bisection safety with inverse quadratic / secant steps.

/// Why a root could not be found.
#[derive(Debug, Clone, PartialEq)]
pub enum BrentError {
    /// f(a) and f(b) have the same sign.
    NotBracketed {
        /// f at the lower end.
        fa: f64,
        /// f at the upper end.
        fb: f64,
    },
    /// The function returned NaN.
    NonFinite,
    /// No convergence within the iteration budget.
    MaxIterations,
}

/// A root of `f` in [a, b] to absolute tolerance `xtol` in x (or |f| <= `ftol`).
pub fn brent(
    mut f: impl FnMut(f64) -> f64,
    a: f64,
    b: f64,
    xtol: f64,
    ftol: f64,
    max_iter: usize,
) -> Result<f64, BrentError> {
    let (mut a, mut b) = (a, b);
    let (mut fa, mut fb) = (f(a), f(b));
    if !fa.is_finite() || !fb.is_finite() {
        return Err(BrentError::NonFinite);
    }
    if fa == 0.0 {
        return Ok(a);
    }
    if fb == 0.0 {
        return Ok(b);
    }
    if fa.signum() == fb.signum() {
        return Err(BrentError::NotBracketed { fa, fb });
    }
    let (mut c, mut fc) = (a, fa);
    let mut d = b - a;
    let mut e = d;
    for _ in 0..max_iter {
        if fb.signum() == fc.signum() {
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol = 2.0 * f64::EPSILON * b.abs() + 0.5 * xtol;
        let m = 0.5 * (c - b);
        if m.abs() <= tol || fb.abs() <= ftol {
            return Ok(b);
        }
        if e.abs() >= tol && fa.abs() > fb.abs() {
            let s = fb / fa;
            let (mut p, mut q);
            if a == c {
                p = 2.0 * m * s;
                q = 1.0 - s;
            } else {
                let qq = fa / fc;
                let r = fb / fc;
                p = s * (2.0 * m * qq * (qq - r) - (b - a) * (r - 1.0));
                q = (qq - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * m * q - (tol * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                d = m;
                e = m;
            }
        } else {
            d = m;
            e = m;
        }
        a = b;
        fa = fb;
        b += if d.abs() > tol { d } else { tol * m.signum() };
        fb = f(b);
        if !fb.is_finite() {
            return Err(BrentError::NonFinite);
        }
    }
    Err(BrentError::MaxIterations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_known_roots() {
        let r = brent(|x| x * x - 2.0, 0.0, 2.0, 1e-12, 0.0, 100).unwrap();
        assert!((r - 2f64.sqrt()).abs() < 1e-11);
        let r = brent(|x| x.cos() - x, 0.0, 1.0, 1e-12, 0.0, 100).unwrap();
        assert!((r - 0.739_085_133_215_160_6).abs() < 1e-11);
        // A steep, nearly flat function still converges (bisection fallback).
        let r = brent(|x: f64| (x - 0.3).powi(9), -1.0, 1.0, 1e-10, 0.0, 500).unwrap();
        assert!((r - 0.3).abs() < 1e-3);
    }

    #[test]
    fn reports_unbracketed_interval() {
        assert!(matches!(
            brent(|x| x * x + 1.0, -1.0, 1.0, 1e-9, 0.0, 50),
            Err(BrentError::NotBracketed { .. })
        ));
    }
}
