//! Test problems with known evidences for the nested-sampling benchmark suite.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::f64::consts::PI;

/// A log-likelihood of the parameters.
pub type LogL = Box<dyn Fn(&[f64]) -> f64 + Send + Sync>;
/// Whether a point belongs to a part of the posterior (a mode).
pub type Membership = Box<dyn Fn(&[f64]) -> bool + Send + Sync>;

/// A problem: dimension, a uniform prior box `[lo, hi]^d`, a log-likelihood and its exact ln Z.
pub struct Problem {
    pub name: String,
    pub d: usize,
    pub lo: f64,
    pub hi: f64,
    pub log_z: f64,
    pub log_l: LogL,
    /// Parts of the posterior mass to check (name, mass, membership test), e.g. modes.
    pub parts: Vec<(String, f64, Membership)>,
    /// Mode centres and widths, where known (for tracing a run).
    pub centres: Vec<Vec<f64>>,
    pub widths: Vec<f64>,
    /// The problem as data (kind and numbers), for peers in other languages to rebuild it.
    pub spec: serde_json::Value,
}

fn logsumexp(v: &[f64]) -> f64 {
    let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// ln of the mass of N(mu, s^2) inside [lo, hi].
fn log_mass_1d(mu: f64, s: f64, lo: f64, hi: f64) -> f64 {
    let phi = |x: f64| 0.5 * statrs::function::erf::erfc(-x / std::f64::consts::SQRT_2);
    (phi((hi - mu) / s) - phi((lo - mu) / s)).ln()
}

/// A mixture of isotropic Gaussians `sum_k w_k N(c_k, s_k^2 I)` in `U[-6, 6]^d`, with the
/// heaviest mode the narrowest: the class on which bounds that follow the live points lose
/// the heavy mode when no live point sits in it. Centres are drawn with `layout_seed`,
/// at least 3 units apart and 2 units inside the box.
pub fn mixture(d: usize, weights: &[f64], widths: &[f64], layout_seed: u64) -> Problem {
    let (lo, hi) = (-6.0f64, 6.0f64);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(layout_seed);
    let mut centres: Vec<Vec<f64>> = Vec::new();
    while centres.len() < weights.len() {
        let c: Vec<f64> = (0..d).map(|_| rng.random_range(-4.0..4.0)).collect();
        let far = centres.iter().all(|o| {
            o.iter()
                .zip(&c)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>()
                .sqrt()
                >= 3.0
        });
        if far {
            centres.push(c);
        }
    }
    let wsum: f64 = weights.iter().sum();
    let log_w: Vec<f64> = weights.iter().map(|w| (w / wsum).ln()).collect();
    let log_prior = -(d as f64) * (hi - lo).ln();
    let terms: Vec<f64> = (0..weights.len())
        .map(|k| {
            log_w[k]
                + centres[k]
                    .iter()
                    .map(|&c| log_mass_1d(c, widths[k], lo, hi))
                    .sum::<f64>()
        })
        .collect();
    let log_z = logsumexp(&terms) + log_prior;
    let (c2, s2, lw2) = (centres.clone(), widths.to_vec(), log_w.clone());
    let log_l = move |t: &[f64]| {
        let v: Vec<f64> = (0..c2.len())
            .map(|k| {
                let r2: f64 = t.iter().zip(&c2[k]).map(|(x, c)| (x - c).powi(2)).sum();
                lw2[k]
                    - 0.5 * r2 / (s2[k] * s2[k])
                    - 0.5 * d as f64 * (2.0 * PI * s2[k] * s2[k]).ln()
            })
            .collect();
        logsumexp(&v)
    };
    let zt = logsumexp(&terms);
    let parts = (0..weights.len())
        .map(|k| {
            let (c, s) = (centres[k].clone(), widths[k]);
            let f: Membership = Box::new(move |t: &[f64]| {
                t.iter()
                    .zip(&c)
                    .map(|(x, c)| (x - c).powi(2))
                    .sum::<f64>()
                    .sqrt()
                    < 6.0 * s * (d as f64).sqrt()
            });
            (
                format!("mode {k} (w {}, s {})", weights[k], widths[k]),
                (terms[k] - zt).exp(),
                f,
            )
        })
        .collect();
    Problem {
        name: format!("mixture{d}d/{layout_seed}"),
        d,
        lo,
        hi,
        log_z,
        log_l: Box::new(log_l),
        parts,
        spec: serde_json::json!({
            "kind": "mixture", "d": d, "lo": lo, "hi": hi, "log_z": log_z,
            "weights": weights, "widths": widths, "centres": centres,
        }),
        centres,
        widths: widths.to_vec(),
    }
}

/// Unit-variance Gaussian with correlation `rho` between all pairs, in a box `n_sigma` (at
/// least 8) standard deviations of its widest direction wide each side (truncation below
/// 1e-14): ln Z = -d ln(2 L).
pub fn correlated_gaussian(d: usize, rho: f64, n_sigma: f64) -> Problem {
    // Covariance (1 - rho) I + rho 11^T: inverse and log-determinant in closed form.
    let a = 1.0 - rho;
    let b = rho;
    let log_det = (d as f64 - 1.0) * a.ln() + (a + d as f64 * b).ln();
    let inv_diag = 1.0 / a;
    let inv_off = -b / (a * (a + d as f64 * b));
    let norm = -0.5 * d as f64 * (2.0 * PI).ln() - 0.5 * log_det;
    let half = n_sigma * (a + d as f64 * b).sqrt();
    let log_l = move |t: &[f64]| {
        let s: f64 = t.iter().sum();
        let q: f64 = t.iter().map(|x| x * x).sum();
        norm - 0.5 * (inv_diag * q + inv_off * s * s)
    };
    Problem {
        name: if n_sigma == 8.0 {
            format!("gauss{d}d/rho{rho}")
        } else {
            format!("gauss{d}d/rho{rho}/box{n_sigma}")
        },
        d,
        lo: -half,
        hi: half,
        log_z: -(d as f64) * (2.0 * half).ln(),
        log_l: Box::new(log_l),
        parts: Vec::new(),
        centres: Vec::new(),
        widths: Vec::new(),
        spec: serde_json::json!({
            "kind": "correlated_gaussian", "d": d, "rho": rho, "lo": -half, "hi": half,
            "log_z": -(d as f64) * (2.0 * half).ln(),
        }),
    }
}

/// A product of `d` independent heavy-tailed densities in U[-10, 10]^d, where the contours
/// are far from ellipsoids: `student` (Student's t with 2 degrees of freedom, density
/// `(2 + x^2)^(-3/2)`, mass 10 / sqrt(102) in [-10, 10]) or Laplace (`exp(-|x|) / 2`, mass
/// 1 - e^-10). Closed-form ln Z.
pub fn heavy_tails(d: usize, student: bool) -> Problem {
    let (name, kind, mass) = if student {
        ("student", "student2", 10.0 / 102f64.sqrt())
    } else {
        ("laplace", "laplace", -(-10f64).exp_m1())
    };
    let log_z = d as f64 * (mass / 20.0).ln();
    let log_l = move |t: &[f64]| -> f64 {
        if student {
            t.iter().map(|x| -1.5 * (2.0 + x * x).ln()).sum()
        } else {
            t.iter().map(|x| -x.abs() - 2f64.ln()).sum()
        }
    };
    Problem {
        name: format!("{name}{d}d"),
        d,
        lo: -10.0,
        hi: 10.0,
        log_z,
        log_l: Box::new(log_l),
        parts: Vec::new(),
        centres: Vec::new(),
        widths: Vec::new(),
        spec: serde_json::json!({ "kind": kind, "d": d, "lo": -10.0, "hi": 10.0, "log_z": log_z }),
    }
}

/// Composite Simpson rule for `f` over `[a, b]` with `n` (even) intervals.
fn simpson(f: impl Fn(f64) -> f64, a: f64, b: f64, n: usize) -> f64 {
    let h = (b - a) / n as f64;
    let mut s = f(a) + f(b);
    for i in 1..n {
        s += f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

/// Gaussian shells (Feroz, Hobson & Bridges 2009 sec. 6.2): two rings of radius 2, width 0.1,
/// centres (+-3.5, 0), prior U[-6, 6]^2. The reference ln Z by 2-D Simpson quadrature of one
/// ring over the box (the other is its mirror image), 25 nodes per ring width.
pub fn shells() -> Problem {
    let (r, w, lo, hi) = (2.0f64, 0.1f64, -6.0f64, 6.0f64);
    let norm = -0.5 * (2.0 * PI * w * w).ln();
    let shell = move |x: f64, y: f64, cx: f64| {
        let rr = ((x - cx).powi(2) + y * y).sqrt();
        norm - 0.5 * (rr - r).powi(2) / (w * w)
    };
    let n = 3000;
    let one = simpson(
        |x| simpson(|y| shell(x, y, -3.5).exp(), lo, hi, n),
        lo,
        hi,
        n,
    );
    let log_z = (2.0 * one).ln() - 2.0 * (hi - lo).ln();
    Problem {
        name: "shells2d".into(),
        d: 2,
        lo,
        hi,
        log_z,
        log_l: Box::new(move |t: &[f64]| {
            let (a, b) = (shell(t[0], t[1], -3.5), shell(t[0], t[1], 3.5));
            logsumexp(&[a, b])
        }),
        parts: Vec::new(),
        centres: Vec::new(),
        widths: Vec::new(),
        spec: serde_json::json!({"kind": "shells", "d": 2, "lo": lo, "hi": hi, "log_z": log_z}),
    }
}

/// Eggbox (Feroz, Hobson & Bridges 2009 sec. 6.3): ln L = (2 + cos(x/2) cos(y/2))^5 on
/// U[0, 10 pi]^2, 18 modes. Reference ln Z by 2-D Simpson quadrature (ANCHORS.md: 235.868).
pub fn eggbox() -> Problem {
    let (lo, hi) = (0.0f64, 10.0 * PI);
    let log_l = |x: f64, y: f64| (2.0 + (x / 2.0).cos() * (y / 2.0).cos()).powi(5);
    // Scaled by the peak, e^243, to stay finite.
    let n = 4000;
    let z = simpson(
        |x| simpson(|y| (log_l(x, y) - 243.0).exp(), lo, hi, n),
        lo,
        hi,
        n,
    );
    let log_z = z.ln() + 243.0 - 2.0 * (hi - lo).ln();
    Problem {
        name: "eggbox2d".into(),
        d: 2,
        lo,
        hi,
        log_z,
        log_l: Box::new(move |t: &[f64]| log_l(t[0], t[1])),
        parts: Vec::new(),
        centres: Vec::new(),
        widths: Vec::new(),
        spec: serde_json::json!({"kind": "eggbox", "d": 2, "lo": lo, "hi": hi, "log_z": log_z}),
    }
}

/// ln of the standard log-gamma density with shape 1, `y - e^y`, at `(x - loc) / scale`.
fn log_gamma_pdf(x: f64, loc: f64, scale: f64) -> f64 {
    let y = (x - loc) / scale;
    y - y.exp() - scale.ln()
}

/// Its distribution function, `1 - exp(-e^y)`.
fn log_gamma_cdf(x: f64, loc: f64, scale: f64) -> f64 {
    -(-((x - loc) / scale).exp()).exp_m1()
}

fn log_normal_pdf(x: f64, mu: f64, s: f64) -> f64 {
    -0.5 * ((x - mu) / s).powi(2) - 0.5 * (2.0 * PI * s * s).ln()
}

/// LogGamma (Beaujean & Caldwell 2013; dynesty's and UltraNest's test): on U[0, 1]^d,
/// coordinate 1 an equal mixture of log-gamma densities (shape 1, scale 1/30) at 1/3 and 2/3,
/// coordinate 2 an equal mixture of normals (sigma 1/30) at 1/3 and 2/3, coordinates 3 to
/// d/2 + 1 log-gamma at 2/3, the rest normal at 2/3: 4 modes, skewed. ln Z exact: the
/// product of each density's mass inside [0, 1] (~1).
pub fn log_gamma(d: usize) -> Problem {
    assert!(d >= 2);
    let (a, b, s) = (1.0 / 3.0, 2.0 / 3.0, 1.0 / 30.0);
    let lg_mass = |loc: f64| log_gamma_cdf(1.0, loc, s) - log_gamma_cdf(0.0, loc, s);
    let mut log_z = (0.5 * (lg_mass(a) + lg_mass(b))).ln();
    log_z += (0.5 * (log_mass_1d(a, s, 0.0, 1.0).exp() + log_mass_1d(b, s, 0.0, 1.0).exp())).ln();
    for i in 2..d {
        log_z += if i < d / 2 + 1 {
            lg_mass(b).ln()
        } else {
            log_mass_1d(b, s, 0.0, 1.0)
        };
    }
    let half = 0.5f64.ln();
    let log_l = move |t: &[f64]| {
        let mut l = logsumexp(&[
            half + log_gamma_pdf(t[0], a, s),
            half + log_gamma_pdf(t[0], b, s),
        ]);
        l += logsumexp(&[
            half + log_normal_pdf(t[1], a, s),
            half + log_normal_pdf(t[1], b, s),
        ]);
        for (i, &x) in t.iter().enumerate().skip(2) {
            l += if i < d / 2 + 1 {
                log_gamma_pdf(x, b, s)
            } else {
                log_normal_pdf(x, b, s)
            };
        }
        l
    };
    Problem {
        name: format!("loggamma{d}d"),
        d,
        lo: 0.0,
        hi: 1.0,
        log_z,
        log_l: Box::new(log_l),
        parts: Vec::new(),
        centres: Vec::new(),
        widths: Vec::new(),
        spec: serde_json::json!({"kind": "loggamma", "d": d, "lo": 0.0, "hi": 1.0, "log_z": log_z}),
    }
}

/// Rosenbrock's valley, ln L = -((1 - x)^2 + 100 (y - x^2)^2), on U[-5, 5]^2: a thin curved
/// ridge cut by the box. Reference ln Z by quadrature: the y integral in closed form (erf),
/// the x integral by Simpson's rule on 200 000 intervals.
pub fn rosenbrock() -> Problem {
    let (lo, hi) = (-5.0f64, 5.0f64);
    let erf = statrs::function::erf::erf;
    let inner = |x: f64| {
        let m = x * x;
        (-(1.0 - x).powi(2)).exp() * PI.sqrt() / 10.0
            * 0.5
            * (erf(10.0 * (hi - m)) - erf(10.0 * (lo - m)))
    };
    let log_z = simpson(inner, lo, hi, 200_000).ln() - 2.0 * (hi - lo).ln();
    Problem {
        name: "rosenbrock2d".into(),
        d: 2,
        lo,
        hi,
        log_z,
        log_l: Box::new(|t: &[f64]| -((1.0 - t[0]).powi(2) + 100.0 * (t[1] - t[0] * t[0]).powi(2))),
        parts: Vec::new(),
        centres: Vec::new(),
        widths: Vec::new(),
        spec: serde_json::json!({"kind": "rosenbrock", "d": 2, "lo": lo, "hi": hi, "log_z": log_z}),
    }
}
