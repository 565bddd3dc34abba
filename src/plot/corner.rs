//! Corner plots of weighted posterior samples: 1-D marginals on the diagonal, 2-D marginals
//! with their 68% and 95% highest-density regions below it, truths marked.

use super::ensure_font;
use crate::SpinflipError;
use plotters::coord::Shift;
use plotters::prelude::*;
use spinflip_samplers::WeightedSamples;
use std::path::Path;

const BINS: usize = 30;
const FILL_95: RGBColor = RGBColor(158, 202, 225);
const FILL_68: RGBColor = RGBColor(33, 113, 181);

/// What to draw.
#[derive(Debug, Clone, Default)]
pub struct CornerOptions {
    /// Plot log10 of these parameters (by index), e.g. the log-uniform ones.
    pub log10: Vec<bool>,
    /// True values to mark (NaN or missing entries are skipped).
    pub truth: Option<Vec<f64>>,
    /// Pixels per panel (default 220).
    pub panel_px: Option<u32>,
}

/// Weighted histogram of `x` on `[lo, hi]` into `n` bins.
fn hist1(x: &[f64], w: &[f64], lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let mut h = vec![0.0; n];
    let scale = n as f64 / (hi - lo);
    for (&v, &wi) in x.iter().zip(w) {
        if v >= lo && v <= hi {
            h[(((v - lo) * scale) as usize).min(n - 1)] += wi;
        }
    }
    h
}

/// Density thresholds enclosing `levels` of the mass of a histogram (highest-density regions).
fn hdr_thresholds(h: &[f64], levels: &[f64]) -> Vec<f64> {
    let mut sorted: Vec<f64> = h.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let total: f64 = sorted.iter().sum();
    levels
        .iter()
        .map(|&lev| {
            let mut cum = 0.0;
            for &v in &sorted {
                cum += v;
                if cum >= lev * total {
                    return v;
                }
            }
            0.0
        })
        .collect()
}

/// 3x3 box smoothing of a 2-D histogram, so that a few thousand samples give readable regions.
fn smooth(h: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            let mut s = 0.0;
            for di in -1i64..=1 {
                for dj in -1i64..=1 {
                    let (a, b) = (i as i64 + di, j as i64 + dj);
                    if a >= 0 && b >= 0 && (a as usize) < n && (b as usize) < n {
                        let wgt = if di == 0 && dj == 0 {
                            4.0
                        } else if di == 0 || dj == 0 {
                            2.0
                        } else {
                            1.0
                        };
                        s += wgt * h[a as usize * n + b as usize];
                    }
                }
            }
            out[i * n + j] = s;
        }
    }
    out
}

/// A transformed column: values, plotting range, axis label, truth.
type Col = (Vec<f64>, f64, f64, String, Option<f64>);

/// Columns of `s`, transformed, with their plotting ranges and labels.
fn columns(s: &WeightedSamples, opt: &CornerOptions) -> Vec<Col> {
    (0..s.n_params())
        .map(|j| {
            let log = opt.log10.get(j).copied().unwrap_or(false);
            let tr = |v: f64| if log { v.log10() } else { v };
            let col: Vec<f64> = s.column(j).into_iter().map(tr).collect();
            let finite: Vec<(f64, f64)> = col
                .iter()
                .zip(&s.weights)
                .filter(|(v, w)| v.is_finite() && **w > 0.0)
                .map(|(v, w)| (*v, *w))
                .collect();
            // Range: the central 99.8% of the posterior mass, padded.
            let mut sorted = finite.clone();
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
            let total: f64 = sorted.iter().map(|p| p.1).sum();
            let q = |p: f64| {
                let mut c = 0.0;
                for &(v, w) in &sorted {
                    c += w;
                    if c >= p * total {
                        return v;
                    }
                }
                sorted.last().map(|x| x.0).unwrap_or(0.0)
            };
            let (mut lo, mut hi) = (q(0.001), q(0.999));
            let truth = opt
                .truth
                .as_ref()
                .and_then(|t| t.get(j).copied())
                .map(tr)
                .filter(|t| t.is_finite());
            if let Some(t) = truth {
                lo = lo.min(t);
                hi = hi.max(t);
            }
            if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
                lo -= 0.5;
                hi += 0.5;
            }
            let pad = 0.05 * (hi - lo);
            let name = if log {
                format!("log10 {}", s.names[j])
            } else {
                s.names[j].clone()
            };
            (col, lo - pad, hi + pad, name, truth)
        })
        .collect()
}

/// Draw a corner plot of `s` into a PNG at `path`.
pub fn corner_plot(
    path: &Path,
    s: &WeightedSamples,
    opt: &CornerOptions,
) -> Result<(), SpinflipError> {
    let err = |r: String| SpinflipError::Plot {
        path: path.display().to_string(),
        reason: r,
    };
    s.validate().map_err(|e| err(e.to_string()))?;
    if s.is_empty() {
        return Err(err("no samples to plot".into()));
    }
    ensure_font();
    let d = s.n_params();
    let px = opt.panel_px.unwrap_or(220);
    let side = px * d as u32 + 40;
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|e| SpinflipError::io(parent, e))?;
        }
    }
    let root = BitMapBackend::new(path, (side, side)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let area = root.margin(10, 30, 30, 10);
    let panels = area.split_evenly((d, d));
    let cols = columns(s, opt);
    for i in 0..d {
        for j in 0..d {
            let panel = &panels[i * d + j];
            if j > i {
                continue;
            }
            let r = if i == j {
                draw_1d(panel, &cols[i], &s.weights, i == d - 1)
            } else {
                draw_2d(panel, &cols[j], &cols[i], &s.weights, i == d - 1, j == 0)
            };
            r.map_err(err)?;
        }
    }
    root.present().map_err(|e| err(e.to_string()))
}

fn draw_1d<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    c: &Col,
    w: &[f64],
    bottom: bool,
) -> Result<(), String> {
    let (x, lo, hi, name, truth) = c;
    let h = hist1(x, w, *lo, *hi, BINS);
    let hmax = h.iter().cloned().fold(0.0, f64::max).max(f64::MIN_POSITIVE);
    let mut chart = ChartBuilder::on(area)
        .x_label_area_size(if bottom { 35 } else { 0 })
        .y_label_area_size(0)
        .caption(name.as_str(), ("sans-serif", 13))
        .build_cartesian_2d(*lo..*hi, 0.0..1.1)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(4)
        .x_desc(if bottom { name.as_str() } else { "" })
        .label_style(("sans-serif", 11))
        .draw()
        .map_err(|e| e.to_string())?;
    let bw = (hi - lo) / BINS as f64;
    let steps: Vec<(f64, f64)> = h
        .iter()
        .enumerate()
        .flat_map(|(k, v)| {
            let x0 = lo + k as f64 * bw;
            [(x0, v / hmax), (x0 + bw, v / hmax)]
        })
        .collect();
    chart
        .draw_series(LineSeries::new(steps, FILL_68.stroke_width(2)))
        .map_err(|e| e.to_string())?;
    if let Some(t) = truth {
        chart
            .draw_series(LineSeries::new(
                vec![(*t, 0.0), (*t, 1.1)],
                RED.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn draw_2d<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    cx: &Col,
    cy: &Col,
    w: &[f64],
    bottom: bool,
    left: bool,
) -> Result<(), String> {
    let (x, xlo, xhi, xname, xt) = cx;
    let (y, ylo, yhi, yname, yt) = cy;
    let mut h = vec![0.0; BINS * BINS];
    let (sx, sy) = (BINS as f64 / (xhi - xlo), BINS as f64 / (yhi - ylo));
    for ((&a, &b), &wi) in x.iter().zip(y).zip(w) {
        if a >= *xlo && a <= *xhi && b >= *ylo && b <= *yhi {
            let (p, q) = (
                (((a - xlo) * sx) as usize).min(BINS - 1),
                (((b - ylo) * sy) as usize).min(BINS - 1),
            );
            h[p * BINS + q] += wi;
        }
    }
    let h = smooth(&h, BINS);
    let th = hdr_thresholds(&h, &[0.6827, 0.9545]);
    let mut chart = ChartBuilder::on(area)
        .x_label_area_size(if bottom { 35 } else { 0 })
        .y_label_area_size(if left { 45 } else { 0 })
        .build_cartesian_2d(*xlo..*xhi, *ylo..*yhi)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(4)
        .y_labels(4)
        .x_desc(if bottom { xname.as_str() } else { "" })
        .y_desc(if left { yname.as_str() } else { "" })
        .label_style(("sans-serif", 11))
        .draw()
        .map_err(|e| e.to_string())?;
    let (bx, by) = ((xhi - xlo) / BINS as f64, (yhi - ylo) / BINS as f64);
    let cells = (0..BINS * BINS).filter_map(|k| {
        let v = h[k];
        let color = if v >= th[0] && v > 0.0 {
            FILL_68
        } else if v >= th[1] && v > 0.0 {
            FILL_95
        } else {
            return None;
        };
        let (p, q) = (k / BINS, k % BINS);
        let (x0, y0) = (xlo + p as f64 * bx, ylo + q as f64 * by);
        Some(Rectangle::new(
            [(x0, y0), (x0 + bx, y0 + by)],
            color.filled(),
        ))
    });
    chart.draw_series(cells).map_err(|e| e.to_string())?;
    if let (Some(a), Some(b)) = (xt, yt) {
        chart
            .draw_series(std::iter::once(Cross::new(
                (*a, *b),
                6,
                RED.stroke_width(2),
            )))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hdr_thresholds_of_a_flat_histogram() {
        // 10 equal bins: 68% of the mass needs 7 bins, so the threshold is the common value.
        let h = vec![1.0; 10];
        assert_eq!(hdr_thresholds(&h, &[0.68]), vec![1.0]);
        let h2 = [5.0, 3.0, 1.0, 1.0];
        assert_eq!(hdr_thresholds(&h2, &[0.5, 0.8, 0.95]), vec![5.0, 3.0, 1.0]);
    }

    #[test]
    fn writes_a_png() {
        let n = 2000;
        let theta: Vec<f64> = (0..n)
            .flat_map(|i| {
                let a = ((i * 7919) % 1000) as f64 / 1000.0;
                let b = ((i * 104_729) % 997) as f64 / 997.0;
                [a, a + 0.3 * b, 10f64.powf(b)]
            })
            .collect();
        let s = WeightedSamples {
            names: vec!["a".into(), "b".into(), "c".into()],
            latex: vec!["a".into(), "b".into(), "c".into()],
            theta,
            weights: vec![1.0; n],
            log_likelihood: vec![0.0; n],
        };
        let p = std::env::temp_dir().join(format!("spinflip-corner-{}.png", std::process::id()));
        corner_plot(
            &p,
            &s,
            &CornerOptions {
                log10: vec![false, false, true],
                truth: Some(vec![0.5, 0.6, 3.0]),
                panel_px: Some(120),
            },
        )
        .unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        let _ = std::fs::remove_file(p);
    }
}
