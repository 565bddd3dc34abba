//! A lower-triangular transport map fitted to warmup draws, as a nonlinear preconditioner
//! for Hamiltonian Monte Carlo (after Parno & Marzouk 2018, "Transport map accelerated
//! Markov chain Monte Carlo", SIAM/ASA JUQ 6, 645).
//!
//! A curved ridge (a banana) has no linear metric that fits it: the step size must suit its
//! narrowest width and a trajectory must follow its whole length. The map
//!
//! `xi_{o_k} = m_k(xi_{o_0}, ..., xi_{o_{k-1}}) + s_k z_k`,  `y = c + sigma * xi`,
//!
//! (coordinates standardised to `xi`, taken in the order `o`) carries a standard normal `z`
//! to draws shaped like the posterior: each conditional mean `m_k` is a polynomial of the
//! coordinates before it, fitted by least squares, and `s_k` is the residual scatter. NUTS
//! then runs in `z`, where the ridge is nearly straight and of unit width. The map is a
//! bijection with a constant Jacobian (`prod sigma_i s_k`), so the sampled density is exact
//! whatever the fit's quality; a poor fit costs efficiency, not correctness.
//!
//! Each `m_k` holds a constant, the linear terms, products `psi_j psi_l` and cubes `psi_j^3`
//! of `psi(xi)`, which is `xi` within 3 standard deviations of the draws and bends to a
//! bound beyond (so that far from the draws the map grows only linearly), and steps
//! `tanh(xi_j / w)` (the S that a line in physical units becomes through a bounded prior's
//! logit). The scatter `s_k` may vary along the ridge: `ln s_k` is linear in the `psi_j`
//! (fitted to the squared residuals), and the map's Jacobian then varies with it. With few draws only the
//! linear terms are fitted (a dense metric: the map is then the Cholesky factor of the
//! draws' covariance); with fewer still, none (a diagonal metric). The order puts last the
//! coordinate best predicted by the others, and so on backwards.

use crate::nested::linalg::{cholesky_jitter, solve_cholesky};
use serde::{Deserialize, Serialize};

/// Where the nonlinear terms stop following the coordinate (in standard deviations of the
/// draws): nearly every warmup draw lies within it.
const SOFT: f64 = 3.0;

/// Widths (in standard deviations) of the steps `tanh(xi / w)` among the features: a
/// coordinate that is a line in physical units but logit-transformed by its bounded prior
/// traces an S, which polynomials follow poorly.
const STEPS: [f64; 2] = [1.0, 2.0];

/// Draws per fitted coefficient below which the nonlinear terms are left out.
const DRAWS_PER_COEF: usize = 5;

/// Ridge penalty on the non-constant coefficients, relative to the number of draws: keeps
/// the least-squares systems well posed when features are nearly collinear.
const RIDGE: f64 = 1e-3;

/// `psi(x)` and `psi'(x)`: `x` within `SOFT`, then bending smoothly (continuous first
/// derivative) to at most `SOFT + 1`.
fn soft(x: f64) -> (f64, f64) {
    if x.abs() <= SOFT {
        (x, 1.0)
    } else {
        let t = (x.abs() - SOFT).tanh();
        ((SOFT + t).copysign(x), 1.0 - t * t)
    }
}

/// How rich the conditional means are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MapDegree {
    /// `m_k = 0`: each coordinate scaled on its own (a diagonal metric).
    Diagonal,
    /// Linear `m_k` (a dense metric).
    Linear,
    /// Linear plus softened products and cubes.
    Nonlinear,
}

impl MapDegree {
    /// Number of coefficients of `m_k` with `k` coordinates before it.
    pub fn n_coef(self, k: usize) -> usize {
        match self {
            MapDegree::Diagonal => 0,
            MapDegree::Linear => 1 + k,
            MapDegree::Nonlinear => 1 + (2 + STEPS.len()) * k + k * (k + 1) / 2,
        }
    }
}

/// The features of `m_k` at the first `k` ordered coordinates `x` (written into `f`).
fn features(degree: MapDegree, x: &[f64], f: &mut Vec<f64>) {
    f.clear();
    if degree == MapDegree::Diagonal {
        return;
    }
    f.push(1.0);
    f.extend_from_slice(x);
    if degree == MapDegree::Nonlinear {
        let psi: Vec<f64> = x.iter().map(|&v| soft(v).0).collect();
        for j in 0..x.len() {
            for l in j..x.len() {
                f.push(psi[j] * psi[l]);
            }
        }
        f.extend(psi.iter().map(|p| p * p * p));
        for &w in &STEPS {
            f.extend(x.iter().map(|&v| (v / w).tanh()));
        }
    }
}

/// A fitted lower-triangular map `z -> y` (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransportMap {
    /// Centre `c` of the standardisation.
    #[serde(with = "crate::exact_f64::vec")]
    center: Vec<f64>,
    /// Scales `sigma` of the standardisation.
    #[serde(with = "crate::exact_f64::vec")]
    sigma: Vec<f64>,
    /// `order[k]`: the coordinate placed `k`-th.
    order: Vec<usize>,
    /// `inputs[k]`: the coordinates placed before position `k`, in increasing index order
    /// (the order of `m_k`'s arguments).
    inputs: Vec<Vec<usize>>,
    /// Richness of the conditional means.
    degree: MapDegree,
    /// Coefficients of `m_k`, position by position.
    coef: Vec<Vec<f64>>,
    /// `ln s_k = g_k[0] + sum_j g_k[1 + j] psi(input j)`: the residual scatter, constant
    /// (one coefficient) or varying along the ridge (nonlinear maps).
    log_scale: Vec<Vec<f64>>,
}

/// Ridge least squares of `t` on the rows of `f` (`n x p`, row-major); the constant (first
/// column) is not penalised. Returns the coefficients and the residual variance.
fn regress(f: &[f64], t: &[f64], p: usize) -> (Vec<f64>, f64) {
    regress_weighted(f, t, p, None)
}

/// [`regress`] with a weight per row.
fn regress_weighted(f: &[f64], t: &[f64], p: usize, w: Option<&[f64]>) -> (Vec<f64>, f64) {
    let n = t.len();
    if p == 0 {
        let var = t.iter().map(|v| v * v).sum::<f64>() / n.max(1) as f64;
        return (Vec::new(), var);
    }
    let mut a = vec![0.0; p * p];
    let mut b = vec![0.0; p];
    for (r, (row, &ti)) in f.chunks_exact(p).zip(t).enumerate() {
        let wr = w.map_or(1.0, |w| w[r]);
        for i in 0..p {
            b[i] += wr * row[i] * ti;
            for j in 0..=i {
                a[i * p + j] += wr * row[i] * row[j];
            }
        }
    }
    for i in 0..p {
        for j in 0..i {
            a[j * p + i] = a[i * p + j];
        }
        if i > 0 {
            a[i * p + i] += RIDGE * n as f64;
        }
    }
    let l = cholesky_jitter(&a, p);
    let mut c = b;
    solve_cholesky(&l, p, &mut c);
    let rss: f64 = f
        .chunks_exact(p)
        .zip(t)
        .map(|(row, &ti)| {
            let r = ti - row.iter().zip(&c).map(|(x, y)| x * y).sum::<f64>();
            r * r
        })
        .sum();
    let dof = n.saturating_sub(p).max(1) as f64;
    (c, rss / dof)
}

/// A coordinate's regression on the remaining ones, while the order is chosen.
struct Candidate {
    /// Its place among the remaining coordinates.
    at: usize,
    coef: Vec<f64>,
    /// Residual variance.
    var: f64,
    /// Features (row-major) and the coordinate's values.
    rows: Vec<f64>,
    target: Vec<f64>,
}

/// `ln s` at the softened inputs `psi`.
fn log_scale_at(g: &[f64], psi: &[f64]) -> f64 {
    g[0] + g[1..].iter().zip(psi).map(|(a, b)| a * b).sum::<f64>()
}

/// Largest change of `ln s` across the draws: the scatter varies at most tenfold, so that a
/// noisy fit cannot pinch the map.
const MAX_LOG_SCALE_RANGE: f64 = std::f64::consts::LN_10;

/// The shape of a scatter varying along the ridge: `ln r^2` of the mean's residuals
/// regressed on the softened inputs (`E ln chi^2_1 = -1.2704`; Harvey 1976's two-step
/// estimator of multiplicative heteroscedasticity), `k` inputs per row of `psi`.
fn fit_log_scale(rows: &[f64], t: &[f64], c: &[f64], p: usize, psi: &[f64], k: usize) -> Vec<f64> {
    let r2: Vec<f64> = rows
        .chunks_exact(p)
        .zip(t)
        .map(|(row, &ti)| {
            let r = ti - row.iter().zip(c).map(|(a, b)| a * b).sum::<f64>();
            r * r
        })
        .collect();
    let floor = 1e-3 * r2.iter().sum::<f64>() / r2.len() as f64 + f64::MIN_POSITIVE;
    let target: Vec<f64> = r2
        .iter()
        .map(|v| 0.5 * ((v + floor).ln() + 1.2704))
        .collect();
    let feats: Vec<f64> = psi
        .chunks_exact(k)
        .flat_map(|q| std::iter::once(1.0).chain(q.iter().copied()))
        .collect();
    let (mut g, _) = regress(&feats, &target, k + 1);
    let lin: Vec<f64> = psi
        .chunks_exact(k)
        .map(|q| log_scale_at(&g, q) - g[0])
        .collect();
    let (lo, hi) = lin
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if hi - lo > MAX_LOG_SCALE_RANGE {
        let f = MAX_LOG_SCALE_RANGE / (hi - lo);
        g[1..].iter_mut().for_each(|v| *v *= f);
    }
    g
}

impl TransportMap {
    /// The identity map in `dim` dimensions.
    pub fn identity(dim: usize) -> Self {
        TransportMap {
            center: vec![0.0; dim],
            sigma: vec![1.0; dim],
            order: (0..dim).collect(),
            inputs: (0..dim).map(|k| (0..k).collect()).collect(),
            degree: MapDegree::Diagonal,
            coef: vec![Vec::new(); dim],
            log_scale: vec![vec![0.0]; dim],
        }
    }

    /// The linear map of a Gaussian with `mean` and covariance `cov` (row-major): `y = mean
    /// + L z` with `L` the Cholesky factor of `cov` (jittered if it is nearly singular).
    pub fn gaussian(mean: &[f64], cov: &[f64]) -> Self {
        let d = mean.len();
        let sigma: Vec<f64> = (0..d).map(|i| cov[i * d + i].max(1e-300).sqrt()).collect();
        let corr: Vec<f64> = (0..d * d)
            .map(|ij| cov[ij] / (sigma[ij / d] * sigma[ij % d]))
            .collect();
        let l = cholesky_jitter(&corr, d);
        // xi_k = sum_{j<k} L_kj z_j + L_kk z_k, with z_{<k} = L_{<k}^-1 xi_{<k}: the
        // coefficients on xi_{<k} solve L_{<k}^T b = L_{k,<k}.
        let mut coef = Vec::with_capacity(d);
        let mut log_scale = Vec::with_capacity(d);
        for k in 0..d {
            let mut b: Vec<f64> = (0..k).map(|j| l[k * d + j]).collect();
            for i in (0..k).rev() {
                let s = b[i] - (i + 1..k).map(|m| l[m * d + i] * b[m]).sum::<f64>();
                b[i] = s / l[i * d + i];
            }
            coef.push(std::iter::once(0.0).chain(b).collect());
            log_scale.push(vec![l[k * d + k].ln()]);
        }
        TransportMap {
            center: mean.to_vec(),
            sigma,
            order: (0..d).collect(),
            inputs: (0..d).map(|k| (0..k).collect()).collect(),
            degree: MapDegree::Linear,
            coef,
            log_scale,
        }
    }

    /// Fits the map to `draws` (row-major, `n x dim`), with the richest degree the number of
    /// draws supports (at most `max_degree`).
    pub fn fit(draws: &[f64], dim: usize, max_degree: MapDegree) -> Self {
        let n = draws.len() / dim.max(1);
        if n < 3 || dim == 0 {
            return TransportMap::identity(dim);
        }
        let nf = n as f64;
        // Stan's regularisation of a window's variance toward a small constant.
        let shrink = |var: f64| nf / (nf + 5.0) * var + 1e-3 * 5.0 / (nf + 5.0);
        let mut center = vec![0.0; dim];
        let mut sigma = vec![0.0; dim];
        for i in 0..dim {
            let col = draws.iter().skip(i).step_by(dim);
            let m = col.clone().sum::<f64>() / n as f64;
            let v = col.map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1) as f64;
            center[i] = m;
            sigma[i] = shrink(v).sqrt();
        }
        let xi: Vec<f64> = draws
            .chunks_exact(dim)
            .flat_map(|r| {
                r.iter()
                    .zip(center.iter().zip(&sigma))
                    .map(|(x, (c, s))| (x - c) / s)
                    .collect::<Vec<_>>()
            })
            .collect();
        let enough = |deg: MapDegree| n >= DRAWS_PER_COEF * deg.n_coef(dim - 1);
        let degree = [MapDegree::Nonlinear, MapDegree::Linear]
            .into_iter()
            .filter(|&d| d <= max_degree)
            .find(|&d| enough(d))
            .unwrap_or(MapDegree::Diagonal);

        // Backwards greedy order: the coordinate best predicted by the remaining ones last.
        let mut remaining: Vec<usize> = (0..dim).collect();
        let mut order = vec![0; dim];
        let mut coef = vec![Vec::new(); dim];
        let mut log_scale = vec![vec![0.0]; dim];
        let mut f = Vec::new();
        for pos in (0..dim).rev() {
            let p = degree.n_coef(pos);
            let mut best: Option<Candidate> = None;
            for (ri, &i) in remaining.iter().enumerate() {
                let others: Vec<usize> = remaining.iter().copied().filter(|&j| j != i).collect();
                let mut rows = Vec::with_capacity(n * p);
                let mut t = Vec::with_capacity(n);
                let mut x = vec![0.0; others.len()];
                for r in xi.chunks_exact(dim) {
                    for (v, &j) in x.iter_mut().zip(&others) {
                        *v = r[j];
                    }
                    features(degree, &x, &mut f);
                    rows.extend_from_slice(&f);
                    t.push(r[i]);
                }
                let (c, var) = regress(&rows, &t, p);
                if best.as_ref().is_none_or(|b| var < b.var) {
                    best = Some(Candidate {
                        at: ri,
                        coef: c,
                        var,
                        rows,
                        target: t,
                    });
                }
                // Without coupling terms every choice is the same: take the first.
                if degree == MapDegree::Diagonal {
                    break;
                }
            }
            let Candidate {
                at: ri,
                coef: mut c,
                var,
                rows,
                target: t,
            } = best.expect("at least one coordinate remains");
            let i = remaining.remove(ri);
            order[pos] = i;
            log_scale[pos] = vec![0.5 * shrink(var).ln()];
            if degree == MapDegree::Nonlinear && pos > 0 {
                let others: Vec<usize> = remaining.clone();
                let psi: Vec<f64> = xi
                    .chunks_exact(dim)
                    .flat_map(|r| others.iter().map(|&j| soft(r[j]).0).collect::<Vec<_>>())
                    .collect();
                let g = fit_log_scale(&rows, &t, &c, p, &psi, pos);
                // Refit the mean weighted by 1 / s^2, then the scale's level to unit residuals.
                let w: Vec<f64> = psi
                    .chunks_exact(pos)
                    .map(|q| (-2.0 * log_scale_at(&g, q)).exp())
                    .collect();
                c = regress_weighted(&rows, &t, p, Some(&w)).0;
                let wr2 = rows
                    .chunks_exact(p)
                    .zip(&t)
                    .zip(&w)
                    .map(|((row, &ti), &wi)| {
                        let r = ti - row.iter().zip(&c).map(|(a, b)| a * b).sum::<f64>();
                        wi * r * r
                    })
                    .sum::<f64>()
                    / n.saturating_sub(p).max(1) as f64;
                let mut g = g;
                g[0] += 0.5 * wr2.ln();
                log_scale[pos] = g;
            }
            coef[pos] = c;
        }
        // The greedy pass regressed each coordinate on the others in increasing index order.
        let inputs = (0..dim)
            .map(|k| {
                let mut before = order[..k].to_vec();
                before.sort_unstable();
                before
            })
            .collect();
        TransportMap {
            center,
            sigma,
            order,
            inputs,
            degree,
            coef,
            log_scale,
        }
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        self.center.len()
    }

    /// The degree fitted.
    pub fn degree(&self) -> MapDegree {
        self.degree
    }

    /// The order of the coordinates (the best predicted last).
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// `ln s_k` at the standardised coordinates `xi` (its inputs are those placed before `k`).
    fn log_scale_of(&self, k: usize, prev: &[f64]) -> f64 {
        let g = &self.log_scale[k];
        if g.len() == 1 {
            return g[0];
        }
        g[0] + g[1..]
            .iter()
            .zip(prev)
            .map(|(a, &x)| a * soft(x).0)
            .sum::<f64>()
    }

    /// The conditional mean `m_k` and scatter `s_k` of position `k` given the coordinates
    /// placed before it in `xi` (`prev` and `f` are scratch).
    fn conditional(
        &self,
        k: usize,
        xi: &[f64],
        prev: &mut Vec<f64>,
        f: &mut Vec<f64>,
    ) -> (f64, f64) {
        self.gather(k, xi, prev);
        features(self.degree, prev, f);
        let m: f64 = f.iter().zip(&self.coef[k]).map(|(a, b)| a * b).sum();
        (m, self.log_scale_of(k, prev).exp())
    }

    /// `y = T(z)`.
    pub fn forward(&self, z: &[f64], y: &mut [f64]) {
        let d = self.dim();
        let mut xi = vec![0.0; d];
        let mut prev = Vec::with_capacity(d);
        let mut f = Vec::new();
        for k in 0..d {
            let (m, s) = self.conditional(k, &xi, &mut prev, &mut f);
            xi[self.order[k]] = m + s * z[k];
        }
        for i in 0..d {
            y[i] = self.center[i] + self.sigma[i] * xi[i];
        }
    }

    /// `z = T^-1(y)`.
    pub fn inverse(&self, y: &[f64], z: &mut [f64]) {
        let d = self.dim();
        let xi: Vec<f64> = (0..d)
            .map(|i| (y[i] - self.center[i]) / self.sigma[i])
            .collect();
        let mut prev = Vec::with_capacity(d);
        let mut f = Vec::new();
        for k in 0..d {
            let (m, s) = self.conditional(k, &xi, &mut prev, &mut f);
            z[k] = (xi[self.order[k]] - m) / s;
        }
    }

    /// `ln |det dy/dz|` at `y = T(z)`.
    pub fn log_det(&self, y: &[f64]) -> f64 {
        let d = self.dim();
        let xi: Vec<f64> = (0..d)
            .map(|i| (y[i] - self.center[i]) / self.sigma[i])
            .collect();
        let mut prev = Vec::with_capacity(d);
        let mut ld: f64 = self.sigma.iter().map(|s| s.ln()).sum();
        for k in 0..d {
            self.gather(k, &xi, &mut prev);
            ld += self.log_scale_of(k, &prev);
        }
        ld
    }

    /// The gradient in `z` of `F(z) = f(T(z)) + ln |det dy/dz|`, where `grad_y` is the
    /// gradient of `f` at `y = T(z)`: one backward pass through the triangular
    /// construction. Returns `ln |det dy/dz|`, the density's change of variables.
    pub fn pullback(&self, y: &[f64], grad_y: &[f64], grad_z: &mut [f64]) -> f64 {
        let d = self.dim();
        let xi: Vec<f64> = (0..d)
            .map(|i| (y[i] - self.center[i]) / self.sigma[i])
            .collect();
        // Adjoints of xi: from f, and from the log-determinant's sum of ln s_k.
        let mut a: Vec<f64> = (0..d).map(|i| grad_y[i] * self.sigma[i]).collect();
        let mut ld: f64 = self.sigma.iter().map(|s| s.ln()).sum();
        let mut prev = Vec::with_capacity(d);
        let mut f = Vec::new();
        // Per position: s_k, z_k, and d ln s_k / d input (for the backward pass).
        let mut s_k = vec![0.0; d];
        let mut z_k = vec![0.0; d];
        for k in 0..d {
            self.gather(k, &xi, &mut prev);
            features(self.degree, &prev, &mut f);
            let m: f64 = f.iter().zip(&self.coef[k]).map(|(a, b)| a * b).sum();
            let ls = self.log_scale_of(k, &prev);
            ld += ls;
            s_k[k] = ls.exp();
            z_k[k] = (xi[self.order[k]] - m) / s_k[k];
            let g = &self.log_scale[k];
            if g.len() > 1 {
                for ((&j, &x), b) in self.inputs[k].iter().zip(&prev).zip(&g[1..]) {
                    a[j] += b * soft(x).1;
                }
            }
        }
        for k in (0..d).rev() {
            let ak = a[self.order[k]];
            grad_z[k] = s_k[k] * ak;
            if self.degree == MapDegree::Diagonal || ak == 0.0 {
                continue;
            }
            self.gather(k, &xi, &mut prev);
            let c = &self.coef[k];
            // d xi_{o_k} / d prev_j = d m_k / d prev_j + z_k s_k d ln s_k / d prev_j.
            let mut dm: Vec<f64> = c[1..=k].to_vec();
            if self.degree == MapDegree::Nonlinear {
                let ps: Vec<(f64, f64)> = prev.iter().map(|&v| soft(v)).collect();
                let mut idx = 1 + k;
                for j in 0..k {
                    for l in j..k {
                        let w = c[idx];
                        idx += 1;
                        if j == l {
                            dm[j] += w * 2.0 * ps[j].0 * ps[j].1;
                        } else {
                            dm[j] += w * ps[l].0 * ps[j].1;
                            dm[l] += w * ps[j].0 * ps[l].1;
                        }
                    }
                }
                for j in 0..k {
                    dm[j] += c[idx + j] * 3.0 * ps[j].0 * ps[j].0 * ps[j].1;
                }
                idx += k;
                for &w in &STEPS {
                    for j in 0..k {
                        let t = (prev[j] / w).tanh();
                        dm[j] += c[idx + j] * (1.0 - t * t) / w;
                    }
                    idx += k;
                }
                let g = &self.log_scale[k];
                if g.len() > 1 {
                    for j in 0..k {
                        dm[j] += z_k[k] * s_k[k] * g[1 + j] * ps[j].1;
                    }
                }
            }
            for (&j, g) in self.inputs[k].iter().zip(&dm) {
                a[j] += ak * g;
            }
        }
        ld
    }

    /// The standardised inputs of position `k`.
    fn gather(&self, k: usize, xi: &[f64], out: &mut Vec<f64>) {
        out.clear();
        out.extend(self.inputs[k].iter().map(|&j| xi[j]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_distr::StandardNormal;
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Draws of a 3-D banana: y0 ~ N(1, 2^2), y1 | y0 ~ N(0.5 y0^2, (0.1 e^{0.3 (y0 - 1)/2})^2)
    /// (a ridge whose width varies 2.5x over +-1.5 sd), y2 ~ N(0, 3^2), as the columns
    /// (y2, y1, y0) so that the order has to be found.
    fn banana(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut out = Vec::with_capacity(3 * n);
        for _ in 0..n {
            let g: [f64; 3] = [
                rng.sample(StandardNormal),
                rng.sample(StandardNormal),
                rng.sample(StandardNormal),
            ];
            let y0 = 1.0 + 2.0 * g[0];
            let y1 = 0.5 * y0 * y0 + 0.1 * (0.3 * g[0]).exp() * g[1];
            out.extend([3.0 * g[2], y1, y0]);
        }
        out
    }

    #[test]
    fn forward_and_inverse_are_each_others_inverse() {
        let map = TransportMap::fit(&banana(2000, 1), 3, MapDegree::Nonlinear);
        assert_eq!(map.degree(), MapDegree::Nonlinear);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
        for _ in 0..100 {
            let z: Vec<f64> = (0..3)
                .map(|_| 3.0 * rng.sample::<f64, _>(StandardNormal))
                .collect();
            let (mut y, mut back) = (vec![0.0; 3], vec![0.0; 3]);
            map.forward(&z, &mut y);
            map.inverse(&y, &mut back);
            for (a, b) in z.iter().zip(&back) {
                assert!((a - b).abs() < 1e-9 * (1.0 + a.abs()), "{z:?} -> {back:?}");
            }
        }
    }

    #[test]
    fn pullback_is_the_gradient_through_the_map() {
        // f(y) = sum_i w_i sin(y_i) + y0 y1; compare the pullback with central differences of
        // f(T(z)) + ln|det dy/dz| (step 1e-5: truncation ~1e-10, rounding ~1e-11 relative).
        let map = TransportMap::fit(&banana(2000, 3), 3, MapDegree::Nonlinear);
        let w = [0.7, -1.3, 0.4];
        let f = |y: &[f64]| -> f64 {
            y.iter().zip(&w).map(|(v, w)| w * v.sin()).sum::<f64>() + y[0] * y[1]
        };
        let grad = |y: &[f64]| -> Vec<f64> {
            let mut g: Vec<f64> = y.iter().zip(&w).map(|(v, w)| w * v.cos()).collect();
            g[0] += y[1];
            g[1] += y[0];
            g
        };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
        for _ in 0..20 {
            let z: Vec<f64> = (0..3)
                .map(|_| 2.0 * rng.sample::<f64, _>(StandardNormal))
                .collect();
            let mut y = vec![0.0; 3];
            map.forward(&z, &mut y);
            let mut gz = vec![0.0; 3];
            let ld = map.pullback(&y, &grad(&y), &mut gz);
            assert!((ld - map.log_det(&y)).abs() < 1e-12);
            for k in 0..3 {
                let h = 1e-5;
                let (mut zp, mut zm) = (z.clone(), z.clone());
                zp[k] += h;
                zm[k] -= h;
                let (mut yp, mut ym) = (vec![0.0; 3], vec![0.0; 3]);
                map.forward(&zp, &mut yp);
                map.forward(&zm, &mut ym);
                let fd = (f(&yp) + map.log_det(&yp) - f(&ym) - map.log_det(&ym)) / (2.0 * h);
                assert!(
                    (gz[k] - fd).abs() < 1e-6 * (1.0 + fd.abs()),
                    "{k}: {} vs {fd}",
                    gz[k]
                );
            }
        }
    }

    #[test]
    fn a_banana_is_straightened_to_a_unit_gaussian() {
        // The map of 2000 banana draws must find that y1 is the predictable coordinate (last),
        // and carry fresh draws to z with unit variances: the ridge's width 0.1 against its
        // spread sd(y1) = sqrt(2 (0.5 4)^2 + ...) ~ 3 is a 30x narrowing undone. A linear map
        // leaves the ridge's curvature in: z of y1 then spreads ~10x wider than unit.
        let map = TransportMap::fit(&banana(2000, 5), 3, MapDegree::Nonlinear);
        assert_eq!(map.order()[2], 1, "order {:?}", map.order());
        let lin = TransportMap::fit(&banana(2000, 5), 3, MapDegree::Linear);
        let fresh = banana(4000, 6);
        // Robust spread (median |z| / 0.6745): beyond 3 sd of the draws the map bends to
        // linear on purpose, so the rare far draws are not straightened.
        let spread_of = |m: &TransportMap| -> Vec<f64> {
            let mut cols = vec![Vec::new(); 3];
            let mut z = [0.0; 3];
            for r in fresh.chunks_exact(3) {
                m.inverse(r, &mut z);
                for k in 0..3 {
                    cols[k].push(z[k].abs());
                }
            }
            cols.iter_mut()
                .map(|c| {
                    c.sort_by(f64::total_cmp);
                    c[c.len() / 2] / 0.6745
                })
                .collect()
        };
        let v = spread_of(&map);
        // Unit spread to 15% (sampling error of a median of 4000: ~2%).
        for (k, x) in v.iter().enumerate() {
            assert!(
                (0.85..1.15).contains(x),
                "nonlinear z{k} spread {x} ({v:?})"
            );
        }
        let (sl, sn) = (lin.log_scale[2][0], map.log_scale[2][0]);
        assert!(sl > sn + 10f64.ln(), "ln s: linear {sl}, nonlinear {sn}");
        // The width's variation is found: ln s rises with y0 (its input), slope 0.3 per sd
        // of g0 = 0.3 per unit of standardised y0, to 30%.
        let inputs = &map.inputs[2];
        let j = inputs
            .iter()
            .position(|&i| i == 2)
            .expect("y0 is an input of y1");
        let slope = map.log_scale[2][1 + j];
        assert!(
            (slope - 0.3).abs() < 0.09,
            "slope of ln s {slope}: {:?}",
            map.log_scale[2]
        );
    }

    #[test]
    fn the_gaussian_map_carries_unit_normals_to_the_covariance() {
        // y = m + J z with J J^T = C exactly (J by differences of the linear map).
        let m = [1.0, -2.0, 0.5];
        let c = [4.0, 1.2, -0.6, 1.2, 1.0, 0.3, -0.6, 0.3, 0.5];
        let map = TransportMap::gaussian(&m, &c);
        let mut y0 = vec![0.0; 3];
        map.forward(&[0.0; 3], &mut y0);
        let mut j = [[0.0; 3]; 3];
        for k in 0..3 {
            let mut z = [0.0; 3];
            z[k] = 1.0;
            let mut y = vec![0.0; 3];
            map.forward(&z, &mut y);
            for i in 0..3 {
                j[i][k] = y[i] - y0[i];
            }
        }
        for a in 0..3 {
            assert!((y0[a] - m[a]).abs() < 1e-12);
            for b in 0..3 {
                let jj: f64 = (0..3).map(|k| j[a][k] * j[b][k]).sum();
                assert!((jj - c[a * 3 + b]).abs() < 1e-12, "[{a}][{b}] {jj}");
            }
        }
    }

    #[test]
    fn few_draws_give_a_linear_or_diagonal_map_whose_jacobian_is_the_covariance_factor() {
        // 30 draws: too few for 5 x the 1 + 4*2 + 3 = 12 nonlinear coefficients, enough for
        // 5 x the 3 linear ones. A linear triangular map's dy/dz times its transpose is the regression's
        // covariance: the draws' covariance (up to the ridge and Stan's shrinkage, ~1e-3).
        let draws = banana(30, 7);
        let map = TransportMap::fit(&draws, 3, MapDegree::Nonlinear);
        assert_eq!(map.degree(), MapDegree::Linear);
        let few = TransportMap::fit(&draws[..3 * 8], 3, MapDegree::Nonlinear);
        assert_eq!(few.degree(), MapDegree::Diagonal);
        // Jacobian columns by differences (exact for a linear map).
        let mut j = [[0.0; 3]; 3];
        let (mut y0, mut y1) = (vec![0.0; 3], vec![0.0; 3]);
        map.forward(&[0.0; 3], &mut y0);
        for k in 0..3 {
            let mut z = [0.0; 3];
            z[k] = 1.0;
            map.forward(&z, &mut y1);
            for i in 0..3 {
                j[i][k] = y1[i] - y0[i];
            }
        }
        let n = 30.0;
        let col = |i: usize| {
            draws
                .iter()
                .skip(i)
                .step_by(3)
                .copied()
                .collect::<Vec<f64>>()
        };
        for a in 0..3 {
            for b in 0..3 {
                let (ca, cb) = (col(a), col(b));
                let (ma, mb) = (ca.iter().sum::<f64>() / n, cb.iter().sum::<f64>() / n);
                let c = ca
                    .iter()
                    .zip(&cb)
                    .map(|(x, y)| (x - ma) * (y - mb))
                    .sum::<f64>()
                    / (n - 1.0);
                let jj: f64 = (0..3).map(|k| j[a][k] * j[b][k]).sum();
                let scale = (col(a).iter().map(|x| (x - ma).powi(2)).sum::<f64>() / (n - 1.0))
                    .sqrt()
                    * (col(b).iter().map(|x| (x - mb).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
                // Shrinkage n/(n+5) and n-p residual degrees of freedom: within 15%.
                assert!((jj - c).abs() < 0.15 * scale, "cov[{a}][{b}] {jj} vs {c}");
            }
        }
    }
}
