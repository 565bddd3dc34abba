//! Smoothed marginal densities of weighted samples, for corner plots: a fine histogram
//! convolved with a Gaussian kernel whose width follows Scott's rule (as getdist smooths
//! its fine-binned histograms), and the levels of the highest-density regions.
//!
//! The 2-D kernel has the samples' correlation, so a narrow degeneracy stays narrow. The
//! edges of the grid are mirrors (the reflection method: each sample also counts at its
//! mirror images across the edges, whose kernels reach back in): a marginal drawn up to a
//! prior bound keeps its height there instead of falling off, and an edge in the far tail
//! has almost no mass to reflect.

/// Kish effective sample size of weights.
pub use crate::samplers::samples::kish_ess as effective_size;
use crate::samplers::samples::weighted_quantile;

/// Values on a regular grid of `nx` x `ny` cells over `x` x `y`, cell `(i, j)` at
/// `values[i * ny + j]` (`i` along x), each value belonging to the cell's centre.
#[derive(Debug, Clone)]
pub struct Grid2 {
    /// Range of x.
    pub x: (f64, f64),
    /// Range of y.
    pub y: (f64, f64),
    /// Cells along x.
    pub nx: usize,
    /// Cells along y.
    pub ny: usize,
    /// Cell values.
    pub values: Vec<f64>,
}

impl Grid2 {
    /// Width and height of a cell.
    pub fn cell(&self) -> (f64, f64) {
        (
            (self.x.1 - self.x.0) / self.nx as f64,
            (self.y.1 - self.y.0) / self.ny as f64,
        )
    }

    /// Centre of cell `(i, j)`.
    pub fn centre(&self, i: usize, j: usize) -> (f64, f64) {
        let (dx, dy) = self.cell();
        (
            self.x.0 + (i as f64 + 0.5) * dx,
            self.y.0 + (j as f64 + 0.5) * dy,
        )
    }

    /// The value at `(x, y)`, bilinear between cell centres (the edge cells' values out to
    /// the grid's edge, 0 outside it).
    pub fn value_at(&self, x: f64, y: f64) -> f64 {
        if !(x >= self.x.0 && x <= self.x.1 && y >= self.y.0 && y <= self.y.1) {
            return 0.0;
        }
        let (dx, dy) = self.cell();
        let fx = ((x - self.x.0) / dx - 0.5).clamp(0.0, (self.nx - 1) as f64);
        let fy = ((y - self.y.0) / dy - 0.5).clamp(0.0, (self.ny - 1) as f64);
        let (i, j) = (fx.floor() as usize, fy.floor() as usize);
        let (i1, j1) = ((i + 1).min(self.nx - 1), (j + 1).min(self.ny - 1));
        let (a, b) = (fx - i as f64, fy - j as f64);
        let v = |i: usize, j: usize| self.values[i * self.ny + j];
        (1.0 - a) * ((1.0 - b) * v(i, j) + b * v(i, j1))
            + a * ((1.0 - b) * v(i1, j) + b * v(i1, j1))
    }
}

/// Weighted mean and standard deviation.
fn mean_std(x: &[f64], w: &[f64]) -> (f64, f64) {
    let total: f64 = w.iter().sum();
    if total <= 0.0 {
        return (f64::NAN, 0.0);
    }
    let m = x.iter().zip(w).map(|(x, w)| x * w).sum::<f64>() / total;
    let v = x
        .iter()
        .zip(w)
        .map(|(x, w)| w * (x - m).powi(2))
        .sum::<f64>()
        / total;
    (m, v.max(0.0).sqrt())
}

/// A spread that a second mode or a long tail does not inflate: the smaller of the
/// standard deviation and the interquartile range over 1.349 (equal for a Gaussian).
pub fn robust_spread(x: &[f64], w: &[f64]) -> f64 {
    let (_, sd) = mean_std(x, w);
    let q = [0.25, 0.75].map(|p| weighted_quantile(x, w, p));
    let iqr = (q[1] - q[0]) / 1.349;
    if iqr > 0.0 {
        sd.min(iqr)
    } else {
        sd
    }
}

/// Scott's rule: a kernel width of `spread * n_eff^(-1/(dim + 4))`.
pub fn scott_factor(n_eff: f64, dim: usize) -> f64 {
    n_eff.max(1.0).powf(-1.0 / (dim as f64 + 4.0))
}

/// The finite samples (and their positive weights) of one or two columns.
fn finite_pairs(x: &[f64], y: Option<&[f64]>, w: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut out = (Vec::new(), Vec::new(), Vec::new());
    for (k, (&a, &wi)) in x.iter().zip(w).enumerate() {
        let b = y.map_or(0.0, |y| y[k]);
        if a.is_finite() && b.is_finite() && wi > 0.0 {
            out.0.push(a);
            out.1.push(b);
            out.2.push(wi);
        }
    }
    out
}

/// Reflect an index into `0..n` at the grid's edges (between cells, as a mirror at the
/// boundary of the first and last cell).
fn reflect(mut k: i64, n: i64) -> usize {
    loop {
        if k < 0 {
            k = -1 - k;
        } else if k >= n {
            k = 2 * n - 1 - k;
        } else {
            return k as usize;
        }
    }
}

/// Convolve a 1-D histogram with a Gaussian of `sigma` cells, reflecting at the ends
/// (total mass kept).
pub fn smooth_1d(h: &[f64], sigma: f64) -> Vec<f64> {
    let n = h.len();
    // A kernel much narrower than a cell (or none) leaves the histogram as it is.
    if n == 0 || sigma.is_nan() || sigma <= 1e-3 {
        return h.to_vec();
    }
    let r = ((4.0 * sigma).ceil() as usize).min(4 * n) as i64;
    let k: Vec<f64> = (-r..=r)
        .map(|o| (-0.5 * (o as f64 / sigma).powi(2)).exp())
        .collect();
    let norm: f64 = k.iter().sum();
    let mut out = vec![0.0; n];
    for (i, &v) in h.iter().enumerate() {
        if v == 0.0 {
            continue;
        }
        for (t, &kt) in k.iter().enumerate() {
            out[reflect(i as i64 + t as i64 - r, n as i64)] += v * kt / norm;
        }
    }
    out
}

/// Convolve a 2-D histogram with a Gaussian of covariance `[[sxx, sxy], [sxy, syy]]` (in
/// cells squared), with the grid's edges as mirrors (total mass kept up to the corners).
///
/// A cell near an edge also smooths from its mirror image beyond it, with the same kernel.
/// Folding the leaving part of each kernel back in instead would mirror the kernel's tilt:
/// a tilted ridge meeting an edge would grow wings along it.
pub fn smooth_2d(g: &Grid2, cov: [f64; 3]) -> Grid2 {
    let [sxx, sxy, syy] = cov;
    let det = sxx * syy - sxy * sxy;
    if !(sxx > 1e-6 && syy > 1e-6 && det > 1e-12) {
        return g.clone();
    }
    let (nx, ny) = (g.nx as i64, g.ny as i64);
    let rx = ((4.0 * sxx.sqrt()).ceil() as i64).min(2 * nx);
    let ry = ((4.0 * syy.sqrt()).ceil() as i64).min(2 * ny);
    // The kernel's taps out to 4 sigma (its Mahalanobis distance), as offsets and weights.
    let taps: Vec<(i64, i64, f64)> = (-rx..=rx)
        .flat_map(|a| (-ry..=ry).map(move |b| (a, b)))
        .filter_map(|(a, b)| {
            let (a_, b_) = (a as f64, b as f64);
            let m = (syy * a_ * a_ - 2.0 * sxy * a_ * b_ + sxx * b_ * b_) / det;
            (m <= 16.0).then(|| (a, b, (-0.5 * m).exp()))
        })
        .collect();
    let norm: f64 = taps.iter().map(|t| t.2).sum();
    let mut out = vec![0.0; g.values.len()];
    // A cell's images: itself and its mirrors across the near edges, where the kernel
    // reaches back into the grid from them.
    let images = |i: i64, n: i64, r: i64| {
        [i, -1 - i, 2 * n - 1 - i]
            .into_iter()
            .enumerate()
            .filter(move |&(k, p)| k == 0 || (p >= -r && p < n + r))
            .map(|(_, p)| p)
    };
    for i in 0..nx {
        for j in 0..ny {
            let v = g.values[(i * ny + j) as usize];
            if v == 0.0 {
                continue;
            }
            for p0 in images(i, nx, rx) {
                for q0 in images(j, ny, ry) {
                    for &(a, b, k) in &taps {
                        let (p, q) = (p0 + a, q0 + b);
                        if p >= 0 && p < nx && q >= 0 && q < ny {
                            out[(p * ny + q) as usize] += v * k / norm;
                        }
                    }
                }
            }
        }
    }
    Grid2 {
        values: out,
        ..g.clone()
    }
}

/// The smoothed 1-D density of weighted samples `x` at the centres of `n` cells over
/// `[lo, hi]` (mass per cell; samples outside the range are left out).
pub fn density_1d(x: &[f64], w: &[f64], lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let (x, _, w) = finite_pairs(x, None, w);
    let mut h = vec![0.0; n];
    if n == 0 || !(hi - lo).is_finite() || hi <= lo {
        return h;
    }
    let scale = n as f64 / (hi - lo);
    for (&v, &wi) in x.iter().zip(&w) {
        if v >= lo && v <= hi {
            h[(((v - lo) * scale) as usize).min(n - 1)] += wi;
        }
    }
    let h_width = robust_spread(&x, &w) * scott_factor(effective_size(&w), 1);
    smooth_1d(&h, h_width * scale)
}

/// The smoothed 2-D density of weighted samples `(x, y)` on an `n` x `n` grid over
/// `xr` x `yr` (mass per cell). The kernel's covariance is Scott's factor squared times the
/// samples' covariance, with each spread made robust ([`robust_spread`]) and their
/// correlation kept.
pub fn density_2d(
    x: &[f64],
    y: &[f64],
    w: &[f64],
    xr: (f64, f64),
    yr: (f64, f64),
    n: usize,
) -> Grid2 {
    let (x, y, w) = finite_pairs(x, Some(y), w);
    let mut g = Grid2 {
        x: xr,
        y: yr,
        nx: n,
        ny: n,
        values: vec![0.0; n * n],
    };
    if n == 0 || !(xr.1 > xr.0 && yr.1 > yr.0) {
        return g;
    }
    let (sx, sy) = (n as f64 / (xr.1 - xr.0), n as f64 / (yr.1 - yr.0));
    for ((&a, &b), &wi) in x.iter().zip(&y).zip(&w) {
        if a >= xr.0 && a <= xr.1 && b >= yr.0 && b <= yr.1 {
            let (p, q) = (
                (((a - xr.0) * sx) as usize).min(n - 1),
                (((b - yr.0) * sy) as usize).min(n - 1),
            );
            g.values[p * n + q] += wi;
        }
    }
    let ((mx, sdx), (my, sdy)) = (mean_std(&x, &w), mean_std(&y, &w));
    let total: f64 = w.iter().sum();
    let rho = if sdx > 0.0 && sdy > 0.0 {
        let c = x
            .iter()
            .zip(&y)
            .zip(&w)
            .map(|((a, b), wi)| wi * (a - mx) * (b - my))
            .sum::<f64>()
            / total;
        (c / (sdx * sdy)).clamp(-0.999, 0.999)
    } else {
        0.0
    };
    let f = scott_factor(effective_size(&w), 2);
    let (hx, hy) = (
        robust_spread(&x, &w) * f * sx,
        robust_spread(&y, &w) * f * sy,
    );
    smooth_2d(&g, [hx * hx, rho * hx * hy, hy * hy])
}

/// The density levels whose highest-density regions hold the fractions `masses` of the
/// total (e.g. 0.6827 and 0.9545): the value of the cell at which the cumulative mass of
/// the cells sorted from the densest first reaches each fraction.
pub fn hpd_levels(values: &[f64], masses: &[f64]) -> Vec<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| *v > 0.0).collect();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let total: f64 = sorted.iter().sum();
    masses
        .iter()
        .map(|&m| {
            let mut cum = 0.0;
            for &v in &sorted {
                cum += v;
                if cum >= m * total {
                    return v;
                }
            }
            sorted.last().copied().unwrap_or(0.0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};

    /// `n` draws of a 2-D Gaussian with unit variances and correlation `rho`.
    fn gaussian_2d(n: usize, rho: f64, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let a: f64 = StandardNormal.sample(&mut rng);
                let b: f64 = StandardNormal.sample(&mut rng);
                (a, rho * a + (1.0 - rho * rho).sqrt() * b)
            })
            .unzip()
    }

    /// The fraction of the samples where the smoothed density is at least each HPD level.
    fn enclosed_2d(n: usize, rho: f64, seed: u64) -> Vec<f64> {
        let (x, y) = gaussian_2d(n, rho, seed);
        let w = vec![1.0; n];
        let g = density_2d(&x, &y, &w, (-4.5, 4.5), (-4.5, 4.5), 80);
        hpd_levels(&g.values, &[0.6827, 0.9545])
            .iter()
            .map(|&l| {
                let inside = x.iter().zip(&y).filter(|(a, b)| g.value_at(**a, **b) >= l);
                inside.count() as f64 / n as f64
            })
            .collect()
    }

    #[test]
    fn gaussian_hpd_contours_enclose_their_mass() {
        // Many samples: Scott's kernel is narrow and the regions hold 68% and 95%.
        let f = enclosed_2d(20_000, 0.6, 1);
        assert!((f[0] - 0.6827).abs() < 0.025, "{f:?}");
        assert!((f[1] - 0.9545).abs() < 0.015, "{f:?}");
        // As many as a nested-sampling run has (ESS ~ 1000): the kernel widens a little.
        let f = enclosed_2d(1_000, 0.0, 2);
        assert!((f[0] - 0.6827).abs() < 0.05, "{f:?}");
        assert!((f[1] - 0.9545).abs() < 0.03, "{f:?}");
    }

    #[test]
    fn gaussian_hpd_interval_in_1d() {
        let (x, _) = gaussian_2d(20_000, 0.0, 3);
        let w = vec![1.0; x.len()];
        let (lo, hi, n) = (-4.5, 4.5, 120);
        let d = density_1d(&x, &w, lo, hi, n);
        let l = hpd_levels(&d, &[0.6827])[0];
        let cell = |v: f64| (((v - lo) / (hi - lo) * n as f64) as usize).min(n - 1);
        let inside = x.iter().filter(|v| d[cell(**v)] >= l).count() as f64 / x.len() as f64;
        assert!((inside - 0.6827).abs() < 0.025, "{inside}");
        // The peak is at 0 and the mass is all there.
        let peak = d
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        assert!((peak as f64 - 59.5).abs() <= 3.0, "{peak}");
        assert!((d.iter().sum::<f64>() - x.len() as f64).abs() < 1e-6 * x.len() as f64);
    }

    #[test]
    fn a_narrow_degeneracy_stays_narrow() {
        // rho = 0.99: the 68% region is an ellipse of area pi * 2.30 * sqrt(1 - rho^2); a
        // kernel without the correlation would make it about twice as large.
        let (x, y) = gaussian_2d(5_000, 0.99, 4);
        let w = vec![1.0; x.len()];
        let g = density_2d(&x, &y, &w, (-4.5, 4.5), (-4.5, 4.5), 100);
        let l = hpd_levels(&g.values, &[0.6827])[0];
        let (dx, dy) = g.cell();
        let area = g.values.iter().filter(|v| **v >= l).count() as f64 * dx * dy;
        let want = std::f64::consts::PI * 2.2958 * (1.0f64 - 0.99 * 0.99).sqrt();
        assert!((area / want - 1.0).abs() < 0.3, "{area} vs {want}");
    }

    #[test]
    fn reflection_keeps_a_flat_density_flat_to_its_edges() {
        // Uniform on [0, 1], drawn up to the bounds: the smoothed edge cells keep the height.
        let x: Vec<f64> = (0..10_000).map(|i| (i as f64 + 0.5) / 10_000.0).collect();
        let w = vec![1.0; x.len()];
        let d = density_1d(&x, &w, 0.0, 1.0, 50);
        let mean = d.iter().sum::<f64>() / 50.0;
        assert!((d[0] / mean - 1.0).abs() < 0.02 && (d[49] / mean - 1.0).abs() < 0.02);
        assert!((d.iter().sum::<f64>() - 10_000.0).abs() < 1e-6);
        // 2-D: the same on the unit square.
        let y: Vec<f64> = (0..10_000)
            .map(|i| ((i * 7919) % 10_000) as f64 / 1e4)
            .collect();
        let g = density_2d(&x, &y, &w, (0.0, 1.0), (0.0, 1.0), 40);
        let mean = g.values.iter().sum::<f64>() / 1600.0;
        assert!(
            (g.values[0] / mean - 1.0).abs() < 0.1,
            "{}",
            g.values[0] / mean
        );
        // Exact along the edges; at the corners, to the kernel's small correlation.
        let total = g.values.iter().sum::<f64>();
        assert!((total / 10_000.0 - 1.0).abs() < 1e-4, "{total}");
    }

    #[test]
    fn a_ridge_meeting_an_edge_grows_no_wings_along_it() {
        // y = x + noise of 0.05, cut at y >= 0, drawn on [-1, 1] x [0, 1]: near the edge,
        // 0.15 to the left of the ridge (3 of its widths), the density is 0.4% of the
        // ridge's. Kernels folded back at the edge (mirroring their tilt) put 2% there.
        let (a, b) = gaussian_2d(40_000, 0.0, 5);
        let (x, y): (Vec<f64>, Vec<f64>) = a
            .iter()
            .zip(&b)
            .map(|(a, b)| (0.5 * a, 0.5 * a + 0.05 * b))
            .filter(|p| p.1 >= 0.0)
            .unzip();
        let w = vec![1.0; x.len()];
        let g = density_2d(&x, &y, &w, (-1.0, 1.0), (0.0, 1.0), 80);
        let ridge = g.value_at(0.02, 0.02);
        let aside = g.value_at(-0.15, 0.02);
        assert!(aside < 0.01 * ridge, "{aside} vs {ridge}");
        // The mass in the range stays (the ridge leaves through the corners, a little).
        let inside = x.iter().filter(|v| v.abs() <= 1.0).count() as f64;
        let total = g.values.iter().sum::<f64>();
        assert!((total / inside - 1.0).abs() < 0.01, "{total} vs {inside}");
    }

    #[test]
    fn bilinear_values_and_levels() {
        let g = Grid2 {
            x: (0.0, 2.0),
            y: (0.0, 2.0),
            nx: 2,
            ny: 2,
            values: vec![0.0, 1.0, 2.0, 3.0],
        };
        assert_eq!(g.value_at(0.5, 0.5), 0.0);
        assert_eq!(g.value_at(1.0, 1.0), 1.5);
        assert_eq!(g.value_at(1.5, 0.5), 2.0);
        assert_eq!(g.value_at(3.0, 1.0), 0.0);
        assert_eq!(
            hpd_levels(&[5.0, 3.0, 1.0, 1.0], &[0.5, 0.8, 0.95]),
            [5.0, 3.0, 1.0]
        );
        assert_eq!(hpd_levels(&[1.0; 10], &[0.68]), [1.0]);
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        // One sample, a constant column, no samples.
        let g = density_2d(&[1.0], &[2.0], &[1.0], (0.0, 2.0), (1.0, 3.0), 20);
        assert_eq!(g.values.iter().sum::<f64>(), 1.0);
        let d = density_1d(&[1.0; 5], &[1.0; 5], 0.5, 1.5, 10);
        assert_eq!(d.iter().sum::<f64>(), 5.0);
        assert!(density_1d(&[], &[], 0.0, 1.0, 10).iter().all(|v| *v == 0.0));
        assert!(hpd_levels(&[0.0; 4], &[0.68]) == [0.0]);
    }
}
