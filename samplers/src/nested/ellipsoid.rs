//! Bounding ellipsoids of live points in the unit cube, and unions of them found by
//! recursive 2-means splitting (Feroz, Hobson & Bridges 2009, MNRAS 398, 1601, sec. 5).

#[cfg(test)]
use super::linalg::logaddexp;
use super::linalg::{cholesky_jitter, log_unit_ball_volume, mean_cov, mul_lower, solve_lower};
use crate::exact_f64;
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// The ellipsoid `{ c + L z : |z| <= 1 }` with `L` lower-triangular.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ellipsoid {
    d: usize,
    #[serde(with = "exact_f64::vec")]
    center: Vec<f64>,
    #[serde(with = "exact_f64::vec")]
    chol: Vec<f64>,
    #[serde(with = "exact_f64::scalar")]
    log_volume: f64,
    /// Log-volume of the tight fit, before enlargement and the volume floor.
    #[serde(with = "exact_f64::scalar")]
    log_volume_tight: f64,
}

impl Ellipsoid {
    /// The smallest ellipsoid with the shape of the points' covariance that holds the points
    /// `idx`, then scaled up by the volume factor `exp(log_enlarge)` and to at least
    /// `exp(log_volume_min)`.
    pub fn fit(
        points: &[f64],
        d: usize,
        idx: &[usize],
        log_enlarge: f64,
        log_volume_min: f64,
    ) -> Ellipsoid {
        let (center, cov) = mean_cov(points, d, idx);
        let mut chol = cholesky_jitter(&cov, d);
        let mut y = vec![0.0; d];
        let mut r2max: f64 = 0.0;
        for &i in idx {
            for (k, v) in y.iter_mut().enumerate() {
                *v = points[i * d + k] - center[k];
            }
            solve_lower(&chol, d, &mut y);
            r2max = r2max.max(y.iter().map(|v| v * v).sum());
        }
        if r2max > 0.0 {
            let s = r2max.sqrt();
            chol.iter_mut().for_each(|v| *v *= s);
        }
        let tight = log_volume_of(&chol, d);
        let mut e = Ellipsoid {
            d,
            log_volume: tight,
            log_volume_tight: tight,
            center,
            chol,
        };
        let target = (e.log_volume + log_enlarge).max(log_volume_min);
        e.scale_log_volume(target - e.log_volume);
        e
    }

    /// An ellipsoid for a cluster too small to have a covariance, holding its points and at
    /// least `exp(log_volume_min)`: the smaller of two candidates,
    /// - the shape and at least the volume of `like` (a sibling cluster's ellipsoid), moved to
    ///   the points' mean and grown until it holds them;
    /// - an axis-aligned ellipsoid with semi-axes `sqrt(d)` times the points' largest offset
    ///   from their mean per axis (which holds them all), each axis at least `like`'s extent
    ///   along it.
    ///
    /// The first alone fails when the few points lie across the sibling's thin direction: it
    /// grows as `r^d` (a 7-D fit once carried a child of e^3 cube volumes for a contour of
    /// e^-10.7, and the run fell back to drawing from the whole cube: 800k calls in 20
    /// iterations).
    pub fn fit_like(
        like: &Ellipsoid,
        points: &[f64],
        idx: &[usize],
        log_volume_min: f64,
    ) -> Ellipsoid {
        let d = like.d;
        let (center, _) = mean_cov(points, d, idx);
        let mut shaped = Ellipsoid {
            d,
            center: center.clone(),
            chol: like.chol.clone(),
            log_volume: like.log_volume,
            log_volume_tight: like.log_volume_tight,
        };
        let mut y = vec![0.0; d];
        let mut r2max: f64 = 0.0;
        for &i in idx {
            for (k, v) in y.iter_mut().enumerate() {
                *v = points[i * d + k] - shaped.center[k];
            }
            solve_lower(&shaped.chol, d, &mut y);
            r2max = r2max.max(y.iter().map(|v| v * v).sum());
        }
        if r2max > 1.0 {
            shaped.scale_log_volume(0.5 * d as f64 * r2max.ln());
        }

        // Axis-aligned: sum_k (x_k - c_k)^2 / a_k^2 <= d * (1 / d) = 1 for every point.
        let mut chol = vec![0.0; d * d];
        for k in 0..d {
            let spread = idx
                .iter()
                .map(|&i| (points[i * d + k] - center[k]).abs())
                .fold(0.0, f64::max);
            let extent = (0..d)
                .map(|j| like.chol[k * d + j].powi(2))
                .sum::<f64>()
                .sqrt();
            chol[k * d + k] = ((d as f64).sqrt() * spread).max(extent);
        }
        let tight = log_volume_of(&chol, d);
        let boxed = Ellipsoid {
            d,
            center,
            chol,
            log_volume: tight,
            log_volume_tight: tight,
        };
        let mut e = if boxed.log_volume < shaped.log_volume {
            boxed
        } else {
            shaped
        };
        if e.log_volume < log_volume_min {
            e.scale_log_volume(log_volume_min - e.log_volume);
        }
        e
    }

    /// Multiplies the volume by `exp(dlog)` keeping the shape.
    fn scale_log_volume(&mut self, dlog: f64) {
        let s = (dlog / self.d as f64).exp();
        self.chol.iter_mut().for_each(|v| *v *= s);
        self.log_volume += dlog;
    }

    /// Half-width along the unit vector `e`: `|L^T e|`.
    fn half_width(&self, e: &[f64]) -> f64 {
        let d = self.d;
        (0..d)
            .map(|j| {
                (j..d)
                    .map(|i| self.chol[i * d + j] * e[i])
                    .sum::<f64>()
                    .powi(2)
            })
            .sum::<f64>()
            .sqrt()
    }

    /// Whether the shadows of `self` and `other` on the line through their centres are
    /// disjoint, which proves the ellipsoids are.
    pub fn apart_from(&self, other: &Ellipsoid) -> bool {
        let mut e: Vec<f64> = other
            .center
            .iter()
            .zip(&self.center)
            .map(|(a, b)| a - b)
            .collect();
        let dist = e.iter().map(|v| v * v).sum::<f64>().sqrt();
        if dist == 0.0 {
            return false;
        }
        e.iter_mut().for_each(|v| *v /= dist);
        self.half_width(&e) + other.half_width(&e) < dist
    }

    /// Natural log of the volume.
    pub fn log_volume(&self) -> f64 {
        self.log_volume
    }

    /// Centre.
    pub fn center(&self) -> &[f64] {
        &self.center
    }

    /// Whether `x` lies inside; `scratch` has length `d`.
    pub fn contains(&self, x: &[f64], scratch: &mut [f64]) -> bool {
        self.radius2(x, scratch) <= 1.0
    }

    /// Squared radius of `x` in the ellipsoid's own metric (1 on its surface); `scratch` has
    /// length `d`.
    pub fn radius2(&self, x: &[f64], scratch: &mut [f64]) -> f64 {
        for (k, v) in scratch.iter_mut().enumerate() {
            *v = x[k] - self.center[k];
        }
        solve_lower(&self.chol, self.d, scratch);
        scratch.iter().map(|v| v * v).sum::<f64>()
    }

    /// A uniform draw inside; `scratch` has length `d`.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64], scratch: &mut [f64]) {
        sample_unit_ball(rng, scratch);
        mul_lower(&self.chol, self.d, scratch, out);
        for (o, c) in out.iter_mut().zip(&self.center) {
            *o += c;
        }
    }
}

fn log_volume_of(chol: &[f64], d: usize) -> f64 {
    log_unit_ball_volume(d) + (0..d).map(|i| chol[i * d + i].abs().ln()).sum::<f64>()
}

/// A uniform draw in the unit `d`-ball: a Gaussian direction with radius `u^(1/d)`.
pub fn sample_unit_ball<R: Rng + ?Sized>(rng: &mut R, z: &mut [f64]) {
    let d = z.len();
    let mut r2 = 0.0;
    while r2 == 0.0 {
        for v in z.iter_mut() {
            *v = rng.sample(StandardNormal);
        }
        r2 = z.iter().map(|v| v * v).sum();
    }
    let r = rng.random::<f64>().powf(1.0 / d as f64) / r2.sqrt();
    z.iter_mut().for_each(|v| *v *= r);
}

/// A union of possibly overlapping ellipsoids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiEllipsoid {
    d: usize,
    ellipsoids: Vec<Ellipsoid>,
    /// Cumulative selection probabilities, proportional to volume.
    #[serde(with = "exact_f64::vec")]
    cumulative: Vec<f64>,
    #[serde(with = "exact_f64::scalar")]
    log_volume: f64,
}

/// Volume of the children, relative to the parent's, below which a split is always kept
/// (dynesty's `vol_dec`).
const SPLIT_VOLUME_FRACTION: f64 = 0.5;
/// A split is also kept when the parent is this many times larger than the prior volume its
/// points are expected to fill (MultiNest's `V(E) > 2 V(S)` rule, Feroz et al. 2009 sec. 5.2):
/// this is what separates modes laid out on a grid, which 2-means halves without any
/// immediate volume gain.
const OVERSIZE_FACTOR: f64 = 2.0;
/// ... times this per dimension: a covariance-shaped fit to a single convex mode overshoots
/// the mode's volume by a factor growing with dimension, and such a mode must not be split
/// (its pieces would cut it).
const OVERSIZE_PER_DIM: f64 = 1.5;

impl MultiEllipsoid {
    /// Fits ellipsoids to all `points` (row-major, `d` columns): one bounding ellipsoid, split
    /// recursively by 2-means while the split lowers the total volume enough.
    ///
    /// `log_x` is the current expected log prior volume of the region the points fill; no
    /// ellipsoid is let below its share of it (MultiNest's safeguard against ellipsoids that
    /// shrink faster than the contour). `log_enlarge` is the volume enlargement factor.
    pub fn fit(points: &[f64], d: usize, log_x: f64, log_enlarge: f64, split: bool) -> Self {
        let n = points.len() / d;
        let idx: Vec<usize> = (0..n).collect();
        let ctx = FitContext {
            points,
            d,
            n_total: n,
            log_x,
            log_enlarge,
        };
        let root = ctx.fit(&idx);
        let mut ellipsoids = Vec::new();
        if split {
            ctx.split(&idx, root.clone(), &mut ellipsoids);
            // The oversize rule keeps splits without an immediate volume gain, and a small
            // cluster's ill-conditioned covariance can give one child a huge volume (a 7-D
            // fit once held an ellipsoid 59 000 times the cube): never sample a decomposition
            // larger than the single bounding ellipsoid of all the points.
            let sum = ellipsoids
                .iter()
                .map(|e| e.log_volume)
                .fold(f64::NEG_INFINITY, super::linalg::logaddexp);
            if sum > root.log_volume {
                ellipsoids = vec![root];
            }
        } else {
            ellipsoids.push(root);
        }
        let lmax = ellipsoids
            .iter()
            .map(|e| e.log_volume)
            .fold(f64::NEG_INFINITY, f64::max);
        let vols: Vec<f64> = ellipsoids
            .iter()
            .map(|e| (e.log_volume - lmax).exp())
            .collect();
        let total: f64 = vols.iter().sum();
        let mut acc = 0.0;
        let cumulative = vols
            .iter()
            .map(|v| {
                acc += v / total;
                acc
            })
            .collect();
        MultiEllipsoid {
            d,
            ellipsoids,
            cumulative,
            log_volume: lmax + total.ln(),
        }
    }

    /// Log of the summed volumes (an upper bound on the union's volume).
    pub fn log_volume(&self) -> f64 {
        self.log_volume
    }

    /// The ellipsoids.
    pub fn ellipsoids(&self) -> &[Ellipsoid] {
        &self.ellipsoids
    }

    /// Groups of ellipsoids certainly apart from each other: two ellipsoids are apart when
    /// their shadows on the line joining their centres do not overlap (a separating plane
    /// exists), and groups are the connected parts of the "not apart" relation. Pieces of
    /// one curved mode overlap and count once; separated modes count each.
    pub fn separated_groups(&self) -> usize {
        let m = self.ellipsoids.len();
        let mut group: Vec<usize> = (0..m).collect();
        fn root(g: &mut [usize], mut i: usize) -> usize {
            while g[i] != i {
                g[i] = g[g[i]];
                i = g[i];
            }
            i
        }
        for i in 0..m {
            for j in i + 1..m {
                if !self.ellipsoids[i].apart_from(&self.ellipsoids[j]) {
                    let (a, b) = (root(&mut group, i), root(&mut group, j));
                    group[a] = b;
                }
            }
        }
        (0..m).filter(|&i| root(&mut group, i) == i).count()
    }

    /// A uniform draw inside one ellipsoid picked with probability proportional to its volume.
    fn draw_by_volume<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64], scratch: &mut [f64]) {
        let u: f64 = rng.random();
        let k = self
            .cumulative
            .iter()
            .position(|&c| u < c)
            .unwrap_or(self.ellipsoids.len() - 1);
        self.ellipsoids[k].sample(rng, out, scratch);
    }

    /// How many ellipsoids hold `x` (at least 1, for a point drawn from one of them).
    fn holding(&self, x: &[f64], scratch: &mut [f64]) -> usize {
        self.ellipsoids
            .iter()
            .filter(|e| e.contains(x, scratch))
            .count()
            .max(1)
    }

    /// Log of the volume of the union intersected with the unit cube, the region
    /// [`sample`](Self::sample) draws from, estimated from `draws` random points as `sample`
    /// would make them: from the cube when the summed volume exceeds it (the fraction inside
    /// any ellipsoid), else from the ellipsoids by volume (the summed volume times the mean
    /// of 1/(ellipsoids holding the point) over points inside the cube). `-inf` when no draw
    /// counted.
    pub fn log_volume_in_cube<R: Rng + ?Sized>(&self, rng: &mut R, draws: usize) -> f64 {
        let d = self.d;
        let (mut out, mut scratch) = (vec![0.0; d], vec![0.0; d]);
        let mut hits = 0.0;
        for _ in 0..draws {
            if self.log_volume > 0.0 {
                out.iter_mut().for_each(|x| *x = rng.random());
                if self
                    .ellipsoids
                    .iter()
                    .any(|e| e.contains(&out, &mut scratch))
                {
                    hits += 1.0;
                }
                continue;
            }
            self.draw_by_volume(rng, &mut out, &mut scratch);
            if out.iter().all(|&x| (0.0..1.0).contains(&x)) {
                hits += 1.0 / self.holding(&out, &mut scratch) as f64;
            }
        }
        let frac = (hits / draws.max(1) as f64).ln();
        if self.log_volume > 0.0 {
            frac
        } else {
            self.log_volume + frac
        }
    }

    /// A uniform draw from the union intersected with the unit cube: pick an ellipsoid with
    /// probability proportional to its volume, draw inside it, and keep the point with
    /// probability 1/(number of ellipsoids containing it). `scratch` has length `d`.
    ///
    /// When the summed volume exceeds the cube's, draws from the cube kept if inside any
    /// ellipsoid give the same distribution with fewer wasted draws: their acceptance is
    /// V(union & cube), against V(union & cube) / V(sum) for draws from the ellipsoids. (A
    /// 7-D fit once carried one ellipsoid 59 000 times the cube's volume: ~10^4 draws per
    /// point, most of a run's time.)
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64], scratch: &mut [f64]) {
        if self.log_volume > 0.0 {
            loop {
                out.iter_mut().for_each(|x| *x = rng.random());
                if self.ellipsoids.iter().any(|e| e.contains(out, scratch)) {
                    return;
                }
            }
        }
        loop {
            self.draw_by_volume(rng, out, scratch);
            if out.iter().any(|&x| !(0.0..1.0).contains(&x)) {
                continue;
            }
            if self.ellipsoids.len() == 1 {
                return;
            }
            let q = self.holding(out, scratch);
            if q == 1 || rng.random::<f64>() * (q as f64) < 1.0 {
                return;
            }
        }
    }
}

struct FitContext<'a> {
    points: &'a [f64],
    d: usize,
    n_total: usize,
    log_x: f64,
    log_enlarge: f64,
}

impl FitContext<'_> {
    /// The cluster's share of the prior volume: no ellipsoid is let below it.
    fn log_min(&self, idx: &[usize]) -> f64 {
        self.log_x + (idx.len() as f64 / self.n_total as f64).ln()
    }

    fn fit(&self, idx: &[usize]) -> Ellipsoid {
        let k = idx.len() as f64;
        let log_min = self.log_min(idx);
        // A covariance from few points misjudges the shape: enlarge the axes by
        // 1 + sqrt(2 / k) more, so small clusters do not cut off their mode.
        let small = self.d as f64 * (2.0 / k).sqrt().ln_1p();
        // The floor is the cluster's expected volume, which its contour exceeds about half
        // the time: a bound needs the same margin above it as above the tight fit. Without
        // it a narrow mode holding few live points lost volume faster than its contour and
        // came out underweighted (3-D mixture, restart: 11 of 100 layouts off by more than
        // 3 errors; with it 1 of 100, same calls; samplers/README.md).
        let log_enlarge = self.log_enlarge + small;
        Ellipsoid::fit(self.points, self.d, idx, log_enlarge, log_min + log_enlarge)
    }

    fn split(&self, idx: &[usize], parent: Ellipsoid, out: &mut Vec<Ellipsoid>) {
        let min_points = self.d + 1;
        if idx.len() < 2 * min_points {
            out.push(parent);
            return;
        }
        let (a, b) = two_means(self.points, self.d, idx);
        if a.is_empty() || b.is_empty() || (a.len() < min_points && b.len() < min_points) {
            out.push(parent);
            return;
        }
        // A handful of points left in a mode (too few for a covariance) borrows the shape
        // of its sibling; lumping it with the sibling would give an ellipsoid spanning both
        // modes and the empty space between.
        let (ea, eb) = if a.len() < min_points {
            let eb = self.fit(&b);
            (
                Ellipsoid::fit_like(&eb, self.points, &a, self.log_min(&a)),
                eb,
            )
        } else if b.len() < min_points {
            let ea = self.fit(&a);
            (
                ea.clone(),
                Ellipsoid::fit_like(&ea, self.points, &b, self.log_min(&b)),
            )
        } else {
            (self.fit(&a), self.fit(&b))
        };
        let children = super::linalg::logaddexp(ea.log_volume, eb.log_volume);
        let expected = self.log_x + (idx.len() as f64 / self.n_total as f64).ln();
        let keep = children < parent.log_volume + SPLIT_VOLUME_FRACTION.ln()
            || parent.log_volume_tight
                > expected + OVERSIZE_FACTOR.ln() + self.d as f64 * OVERSIZE_PER_DIM.ln();
        if keep {
            for (c, e) in [(a, ea), (b, eb)] {
                if c.len() < min_points {
                    out.push(e);
                } else {
                    self.split(&c, e, out);
                }
            }
        } else {
            out.push(parent);
        }
    }
}

/// Lloyd iterations of 2-means; a partition good enough to judge a split is reached long
/// before exact convergence on unimodal clouds, where Lloyd's algorithm crawls.
const MAX_LLOYD_ITERATIONS: usize = 25;

/// Deterministic 2-means (Lloyd's iterations) started from a far-apart pair of points.
fn two_means(points: &[f64], d: usize, idx: &[usize]) -> (Vec<usize>, Vec<usize>) {
    // The cluster's rows gathered once, so that every pass reads memory in order.
    let mut rows = Vec::with_capacity(idx.len() * d);
    for &i in idx {
        rows.extend_from_slice(&points[i * d..(i + 1) * d]);
    }
    let n = idx.len();
    let row = |k: usize| &rows[k * d..(k + 1) * d];
    let dist2 = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>();
    let mut mean = vec![0.0; d];
    for x in rows.chunks_exact(d) {
        mean.iter_mut().zip(x).for_each(|(m, x)| *m += x);
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    // The farthest row from `from` (the last of equals, as `Iterator::max_by`).
    let far = |from: &[f64]| {
        (0..n)
            .map(|k| (k, dist2(row(k), from)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .expect("non-empty cluster")
            .0
    };
    let p = far(&mean);
    let q = far(row(p));
    let mut centers = [row(p).to_vec(), row(q).to_vec()];
    let mut label = vec![0u8; n];
    let mut sums = [vec![0.0; d], vec![0.0; d]];
    for iter in 0..MAX_LLOYD_ITERATIONS {
        // Labels in one pass, sums in another: two tight loops beat one (measured).
        let mut changed = false;
        for (l, x) in label.iter_mut().zip(rows.chunks_exact(d)) {
            let new = u8::from(dist2(x, &centers[1]) < dist2(x, &centers[0]));
            changed |= new != *l;
            *l = new;
        }
        let mut counts = [0usize; 2];
        sums.iter_mut()
            .for_each(|s| s.iter_mut().for_each(|v| *v = 0.0));
        for (&l, x) in label.iter().zip(rows.chunks_exact(d)) {
            counts[l as usize] += 1;
            sums[l as usize]
                .iter_mut()
                .zip(x)
                .for_each(|(s, v)| *s += v);
        }
        if !changed && iter > 0 {
            break;
        }
        for c in 0..2 {
            if counts[c] > 0 {
                for (m, s) in centers[c].iter_mut().zip(&sums[c]) {
                    *m = s / counts[c] as f64;
                }
            }
        }
    }
    let mut a = Vec::new();
    let mut b = Vec::new();
    for (&i, &l) in idx.iter().zip(&label) {
        if l == 0 {
            a.push(i)
        } else {
            b.push(i)
        }
    }
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn separated_groups_count_modes_not_pieces() {
        // Three clouds in 2-D: two touching along x (one mode cut in two pieces) and one far.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let mut pts = Vec::new();
        for (cx, cy, n) in [(0.2, 0.5, 60), (0.3, 0.5, 60), (0.8, 0.8, 60)] {
            for _ in 0..n {
                pts.push(cx + 0.04 * (rng.random::<f64>() - 0.5));
                pts.push(cy + 0.04 * (rng.random::<f64>() - 0.5));
            }
        }
        let fit = |idx: &[usize]| Ellipsoid::fit(&pts, 2, idx, 0.0, f64::NEG_INFINITY);
        let (a, b, c) = (
            fit(&(0..60).collect::<Vec<_>>()),
            fit(&(60..120).collect::<Vec<_>>()),
            fit(&(120..180).collect::<Vec<_>>()),
        );
        // Centres 0.1 apart, semi-axes ~0.024 each: the tight fits are apart.
        assert!(a.apart_from(&c) && b.apart_from(&c));
        let wide = |e: &Ellipsoid| {
            let mut e = e.clone();
            e.scale_log_volume(2.0 * 3f64.ln()); // three times the semi-axes
            e
        };
        // Tripled (~0.071 each), the first two overlap along the line between them: one group.
        let m = MultiEllipsoid {
            d: 2,
            ellipsoids: vec![wide(&a), wide(&b), wide(&c)],
            cumulative: vec![1.0 / 3.0, 2.0 / 3.0, 1.0],
            log_volume: 0.0,
        };
        assert!(!wide(&a).apart_from(&wide(&b)));
        assert_eq!(m.separated_groups(), 2);
        let m = MultiEllipsoid {
            d: 2,
            ellipsoids: vec![a.clone(), c.clone()],
            cumulative: vec![0.5, 1.0],
            log_volume: 0.0,
        };
        assert_eq!(m.separated_groups(), 2);
        let m = MultiEllipsoid {
            d: 2,
            ellipsoids: vec![a],
            cumulative: vec![1.0],
            log_volume: 0.0,
        };
        assert_eq!(m.separated_groups(), 1);
    }

    #[test]
    fn fitted_ellipsoid_holds_its_points_and_has_the_right_volume() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        // 2000 points uniform in a disc of radius 0.2 at (0.5, 0.5): the fit's area -> pi 0.04
        let mut pts = Vec::new();
        let mut z = [0.0; 2];
        for _ in 0..2000 {
            sample_unit_ball(&mut rng, &mut z);
            pts.extend([0.5 + 0.2 * z[0], 0.5 + 0.2 * z[1]]);
        }
        let idx: Vec<usize> = (0..2000).collect();
        let e = Ellipsoid::fit(&pts, 2, &idx, 0.0, f64::NEG_INFINITY);
        let mut s = [0.0; 2];
        assert!(idx
            .iter()
            .all(|&i| e.contains(&pts[2 * i..2 * i + 2], &mut s)));
        let exact = (std::f64::consts::PI * 0.04f64).ln();
        assert!((e.log_volume() - exact).abs() < 0.05, "{}", e.log_volume());
    }

    #[test]
    fn identical_points_give_a_finite_bound() {
        let pts = vec![0.3; 2 * 50];
        let m = MultiEllipsoid::fit(&pts, 2, -5.0, 0.0, true);
        assert_eq!(m.ellipsoids().len(), 1);
        // the volume floor keeps it at its share of X, with the small-cluster margin of
        // 50 points in 2-D: axes 1 + sqrt(2 / 50) = 1.2 times longer
        let want = -5.0 + 2.0 * 1.2f64.ln();
        assert!((m.log_volume() - want).abs() < 1e-9, "{}", m.log_volume());
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let (mut x, mut s) = ([0.0; 2], [0.0; 2]);
        m.sample(&mut rng, &mut x, &mut s);
        assert!(x.iter().all(|v| v.is_finite() && (0.0..1.0).contains(v)));
    }

    #[test]
    fn two_separated_blobs_are_split_and_sampled_uniformly() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let mut pts = Vec::new();
        let mut z = [0.0; 2];
        for i in 0..400 {
            sample_unit_ball(&mut rng, &mut z);
            let cx = if i % 2 == 0 { 0.2 } else { 0.8 };
            pts.extend([cx + 0.1 * z[0], 0.5 + 0.1 * z[1]]);
        }
        // two discs of radius 0.1: total area 2 pi 0.01 = ln(0.0628)
        let m = MultiEllipsoid::fit(&pts, 2, (0.0628f64).ln(), 0.0, true);
        assert_eq!(m.ellipsoids().len(), 2);
        let mut x = [0.0; 2];
        let mut s = [0.0; 2];
        let mut left = 0;
        for _ in 0..4000 {
            m.sample(&mut rng, &mut x, &mut s);
            left += usize::from(x[0] < 0.5);
        }
        // equal areas: binomial(4000, 1/2) has sd 32
        assert!((left as i64 - 2000).abs() < 150, "{left}");
    }

    #[test]
    fn decomposition_is_never_larger_than_one_ellipsoid() {
        // Box-like clouds in 7-D: covariance-shaped ellipsoids fit boxes badly, so the
        // oversize rule splits them; the result must still not exceed the single fit.
        for seed in 0..6 {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let d = 7;
            let pts: Vec<f64> = (0..200 * d)
                .map(|i| 0.1 + 0.3 * rng.random::<f64>() * if i % d == 0 { 2.0 } else { 1.0 })
                .collect();
            let log_x = (2.0 * 0.3f64.powi(7)).ln();
            let split = MultiEllipsoid::fit(&pts, d, log_x, 1.25f64.ln(), true);
            let single = MultiEllipsoid::fit(&pts, d, log_x, 1.25f64.ln(), false);
            assert!(
                split.log_volume() <= single.log_volume() + 1e-12,
                "seed {seed}: {} ellipsoids, ln V {} > {}",
                split.ellipsoids().len(),
                split.log_volume(),
                single.log_volume()
            );
        }
    }

    #[test]
    fn few_points_across_a_thin_sibling_cost_one_axis_not_d() {
        // The sibling: a 7-D slab, long in x0 (0.3) and thin (0.003) in the other axes. Five
        // points spread 0.05 along x1 only, across the thin direction: the sibling's shape
        // grown to hold them would be (0.05 / 0.003)^7 ~ 4e8 times the sibling; one stretched
        // axis is (sqrt(7) 0.05) / 0.003 ~ 44 times.
        let d = 7;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let mut pts = Vec::new();
        for _ in 0..100 {
            let mut z = vec![0.0; d];
            sample_unit_ball(&mut rng, &mut z);
            for (k, v) in z.iter().enumerate() {
                pts.push(0.5 + v * if k == 0 { 0.3 } else { 0.003 });
            }
        }
        for j in 0..5 {
            for k in 0..d {
                pts.push(
                    0.5 + if k == 1 {
                        0.025 * (j as f64 - 2.0)
                    } else {
                        0.0
                    },
                );
            }
        }
        let sibling: Vec<usize> = (0..100).collect();
        let few: Vec<usize> = (100..105).collect();
        let like = Ellipsoid::fit(&pts, d, &sibling, 0.0, f64::NEG_INFINITY);
        let e = Ellipsoid::fit_like(&like, &pts, &few, f64::NEG_INFINITY);
        let mut s = vec![0.0; d];
        assert!(few
            .iter()
            .all(|&i| e.contains(&pts[i * d..(i + 1) * d], &mut s)));
        let one_axis = like.log_volume() + ((7f64).sqrt() * 0.05 / 0.003).ln();
        assert!(
            e.log_volume() < one_axis + 0.5,
            "ln V {} vs sibling {} (one stretched axis: {one_axis})",
            e.log_volume(),
            like.log_volume()
        );
    }

    #[test]
    fn bound_larger_than_the_cube_samples_the_cube_uniformly() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(8);
        let pts: Vec<f64> = (0..800).map(|_| rng.random()).collect();
        // Enlarged 50 times: the ellipse holds the whole square many times over.
        let m = MultiEllipsoid::fit(&pts, 2, 0.0, 50f64.ln(), false);
        assert!(m.log_volume() > 1.0, "{}", m.log_volume());
        let (mut x, mut s) = ([0.0; 2], [0.0; 2]);
        let mut quadrant = 0;
        for _ in 0..4000 {
            m.sample(&mut rng, &mut x, &mut s);
            assert!(x.iter().all(|v| (0.0..1.0).contains(v)));
            quadrant += usize::from(x[0] < 0.5 && x[1] < 0.5);
        }
        // binomial(4000, 1/4) has sd 27
        assert!((quadrant as i64 - 1000).abs() < 130, "{quadrant}");
    }

    #[test]
    fn volume_in_the_cube_counts_what_sampling_draws_from() {
        let disc = |cx: f64, r: f64| {
            let chol = vec![r, 0.0, 0.0, r];
            let log_volume = log_volume_of(&chol, 2);
            Ellipsoid {
                d: 2,
                center: vec![cx, 0.5],
                chol,
                log_volume,
                log_volume_tight: log_volume,
            }
        };
        let (inside, on_edge) = (disc(0.5, 0.1), disc(0.0, 0.1));
        let union = |es: Vec<Ellipsoid>| {
            let n = es.len();
            let lv = es
                .iter()
                .map(|e| e.log_volume())
                .fold(f64::NEG_INFINITY, logaddexp);
            MultiEllipsoid {
                d: 2,
                cumulative: (1..=n).map(|k| k as f64 / n as f64).collect(),
                ellipsoids: es,
                log_volume: lv,
            }
        };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        // Wholly inside: every draw counts, exactly its volume.
        let m = union(vec![inside.clone()]);
        assert_eq!(m.log_volume_in_cube(&mut rng, 200), inside.log_volume());
        // The same ellipsoid twice: the union is one of them (every draw is held twice).
        let m = union(vec![inside.clone(), inside.clone()]);
        assert!((m.log_volume_in_cube(&mut rng, 200) - inside.log_volume()).abs() < 1e-12);
        // Centred on the cube's face: half of it (binomial(4000, 1/2): 1.6% relative sd).
        let m = union(vec![on_edge.clone()]);
        let half = on_edge.log_volume() - 2f64.ln();
        assert!((m.log_volume_in_cube(&mut rng, 4000) - half).abs() < 0.06);
        // Larger than the cube (pi / 4 > 1 would need radius > 0.56; here the sum of two
        // copies exceeds it): the share of the cube inside, pi / 4 for the inscribed disc.
        let m = union(vec![disc(0.5, 0.5), disc(0.5, 0.5)]);
        assert!(m.log_volume() > 0.0);
        let want = (std::f64::consts::PI / 4.0).ln();
        assert!((m.log_volume_in_cube(&mut rng, 4000) - want).abs() < 0.06);
    }
}
