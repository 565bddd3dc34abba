//! Corner plots of weighted posterior samples: smoothed 1-D marginals on the diagonal,
//! smoothed 2-D marginals with their 68% and 95% highest-density regions below it, truths
//! marked, a legend in the empty upper corner.
//!
//! Densities come from [`super::density`] (a fine histogram smoothed by a Gaussian kernel
//! of Scott's width), region edges from [`super::contour`], axis labels from the
//! parameters' LaTeX ([`super::latex`]) and ticks from [`super::ticks`]. The panels are laid
//! out by hand, with every label in the margins, so that all panels of a column share their
//! x axis pixel for pixel.

use super::contour::contour_segments;
use super::density::{density_1d, density_2d, hpd_levels, Grid2};
use super::ensure_font;
use super::latex::{latex_to_unicode, log10_label};
use super::ticks::fitted_ticks;
use crate::SpinflipError;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use spinflip_samplers::WeightedSamples;
use std::path::Path;

/// Cells of the 1-D density over a panel.
const BINS_1D: usize = 120;
/// Cells per side of the 2-D density over a panel.
const BINS_2D: usize = 80;
/// The probability masses of the drawn regions.
const LEVELS: [f64; 2] = [0.6827, 0.9545];
const FILL_68: RGBColor = RGBColor(66, 146, 198);
const FILL_95: RGBColor = RGBColor(180, 212, 234);
const LINE: RGBColor = RGBColor(8, 48, 107);
const TRUTH: RGBColor = RGBColor(215, 25, 28);
/// Pixels between neighbouring panels.
const GAP: u32 = 10;
/// Length of the tick marks.
const TICK: i32 = 4;
// Even font sizes only: plotters' ab_glyph text puts each glyph at half the font size
// rounded toward zero, so at odd sizes a decimal point sits a pixel too high.
const TICK_FONT: u32 = 12;
const LABEL_FONT: u32 = 14;

/// What to draw.
#[derive(Debug, Clone, Default)]
pub struct CornerOptions {
    /// Plot log10 of these parameters (by index), e.g. the log-uniform ones.
    pub log10: Vec<bool>,
    /// True values to mark (NaN or missing entries are skipped).
    pub truth: Option<Vec<f64>>,
    /// Prior support `(min, max)` of each parameter, untransformed (infinite where open;
    /// missing entries are open): the plotted range stops there, so the densities, which
    /// reflect at the range's ends, keep their height at a bound.
    pub bounds: Vec<(f64, f64)>,
    /// Pixels per panel (default 220).
    pub panel_px: Option<u32>,
}

/// One parameter as plotted: transformed values, range, label, truth and ticks.
struct Column {
    values: Vec<f64>,
    lo: f64,
    hi: f64,
    label: String,
    truth: Option<f64>,
    ticks: Vec<(f64, String)>,
}

/// Weighted quantile `q` of `(value, weight)` pairs sorted by value.
fn quantile(sorted: &[(f64, f64)], total: f64, q: f64) -> f64 {
    let mut c = 0.0;
    for &(v, w) in sorted {
        c += w;
        if c >= q * total {
            return v;
        }
    }
    sorted.last().map_or(0.0, |x| x.0)
}

/// Width in pixels of `text` at `size`.
fn text_width(text: &str, size: u32) -> f64 {
    ("sans-serif", size as f64)
        .into_font()
        .box_size(text)
        .map_or(0.6 * size as f64 * text.chars().count() as f64, |b| {
            b.0 as f64
        })
}

/// The label of parameter `j`: its LaTeX as text (its name when it has none).
fn label(s: &WeightedSamples, j: usize, log: bool) -> String {
    let l = match s.latex.get(j).map(|l| l.trim()) {
        Some(l) if !l.is_empty() => latex_to_unicode(l),
        _ => s.names[j].clone(),
    };
    if log {
        log10_label(&l)
    } else {
        l
    }
}

/// Columns of `s`, transformed, with their plotting ranges, labels and ticks for panels of
/// `side` pixels.
fn columns(s: &WeightedSamples, opt: &CornerOptions, side: u32) -> Vec<Column> {
    (0..s.n_params())
        .map(|j| {
            let log = opt.log10.get(j).copied().unwrap_or(false);
            let tr = |v: f64| if log { v.log10() } else { v };
            let values: Vec<f64> = s.column(j).into_iter().map(tr).collect();
            let mut sorted: Vec<(f64, f64)> = values
                .iter()
                .zip(&s.weights)
                .filter(|(v, w)| v.is_finite() && **w > 0.0)
                .map(|(v, w)| (*v, *w))
                .collect();
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
            let total: f64 = sorted.iter().map(|p| p.1).sum();
            // Range: the central 99.8% of the posterior mass and the truth, padded, but not
            // past the prior's bounds.
            let (mut lo, mut hi) = (
                quantile(&sorted, total, 0.001),
                quantile(&sorted, total, 0.999),
            );
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
                let half = if lo != 0.0 { 0.05 * lo.abs() } else { 0.5 };
                lo -= half;
                hi += half;
            }
            let pad = 0.05 * (hi - lo);
            let (b_lo, b_hi) = opt
                .bounds
                .get(j)
                .map(|&(a, b)| (tr(a), tr(b)))
                .unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
            let (mut lo, mut hi) = (lo - pad, hi + pad);
            if b_lo.is_finite() && b_lo > lo && b_lo < hi {
                lo = b_lo;
            }
            if b_hi.is_finite() && b_hi < hi && b_hi > lo {
                hi = b_hi;
            }
            let ticks = fitted_ticks(lo, hi, 4, side as f64, GAP as f64 / 2.0, |t| {
                text_width(t, TICK_FONT)
            });
            Column {
                values,
                lo,
                hi,
                label: label(s, j, log),
                truth,
                ticks,
            }
        })
        .collect()
}

/// The largest even font size up to `LABEL_FONT` at which `text` fits in `px` pixels.
fn label_font(text: &str, px: f64) -> u32 {
    let mut size = LABEL_FONT;
    while size > 8 && text_width(text, size) > px {
        size -= 2;
    }
    size
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
    let px = opt.panel_px.unwrap_or(220).max(60);
    let side = px - GAP;
    let cols = columns(s, opt, side);

    // Margins: the left one holds the widest y tick label and the rotated axis label.
    let tick_h = TICK_FONT as i32 + 2;
    let label_h = LABEL_FONT as i32 + 4;
    let widest_y = cols
        .iter()
        .skip(1)
        .flat_map(|c| c.ticks.iter().map(|t| text_width(&t.1, TICK_FONT)))
        .fold(0.0f64, f64::max);
    let left = if d > 1 {
        widest_y.ceil() as i32 + TICK + 8 + label_h + 8
    } else {
        16
    };
    let (top, right) = (label_h + 8, 16);
    let bottom = TICK + 4 + tick_h + 6 + label_h + 8;
    let grid = (d as u32 * px - GAP) as i32;
    let size = ((left + grid + right) as u32, (top + grid + bottom) as u32);
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|e| SpinflipError::io(parent, e))?;
        }
    }
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let origin = |i: usize, j: usize| (left + (j as u32 * px) as i32, top + (i as u32 * px) as i32);
    for i in 0..d {
        for j in 0..=i {
            let (x0, y0) = origin(i, j);
            let panel = root.clone().shrink((x0, y0), (side, side));
            let r = if i == j {
                draw_1d(&panel, &cols[i], &s.weights)
            } else {
                draw_2d(&panel, &cols[j], &cols[i], &s.weights)
            };
            r.map_err(err)?;
        }
    }
    axes(&root, &cols, origin, side as i32, tick_h, label_h, left).map_err(err)?;
    if d > 1 {
        let any_truth = cols.iter().any(|c| c.truth.is_some());
        let (x0, y0) = origin(0, d - 1);
        legend(&root, (x0 + side as i32, y0), any_truth).map_err(err)?;
    }
    root.present().map_err(|e| err(e.to_string()))
}

/// Frames, ticks, tick labels, axis labels and the captions over the diagonal.
fn axes<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    cols: &[Column],
    origin: impl Fn(usize, usize) -> (i32, i32),
    side: i32,
    tick_h: i32,
    label_h: i32,
    left: i32,
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let d = cols.len();
    let tick_style = TextStyle::from(("sans-serif", TICK_FONT as f64).into_font());
    let at = |c: &Column, v: f64| (v - c.lo) / (c.hi - c.lo) * side as f64;
    for i in 0..d {
        for j in 0..=i {
            let (x0, y0) = origin(i, j);
            root.draw(&Rectangle::new(
                [(x0, y0), (x0 + side - 1, y0 + side - 1)],
                BLACK.stroke_width(1),
            ))
            .map_err(e)?;
            let bottom = y0 + side - 1;
            for (v, text) in &cols[j].ticks {
                let x = x0 + at(&cols[j], *v).round() as i32;
                root.draw(&PathElement::new(
                    vec![(x, bottom), (x, bottom - TICK)],
                    BLACK,
                ))
                .map_err(e)?;
                if i == d - 1 {
                    let style = tick_style.pos(Pos::new(HPos::Center, VPos::Top));
                    root.draw(&Text::new(text.clone(), (x, bottom + TICK + 4), style))
                        .map_err(e)?;
                }
            }
            if i == j {
                continue;
            }
            for (v, text) in &cols[i].ticks {
                let y = y0 + side - 1 - at(&cols[i], *v).round() as i32;
                root.draw(&PathElement::new(vec![(x0, y), (x0 + TICK, y)], BLACK))
                    .map_err(e)?;
                if j == 0 {
                    let style = tick_style.pos(Pos::new(HPos::Right, VPos::Center));
                    root.draw(&Text::new(text.clone(), (x0 - TICK - 4, y + 2), style))
                        .map_err(e)?;
                }
            }
        }
    }
    for (k, c) in cols.iter().enumerate() {
        let font = label_font(&c.label, side as f64);
        let style = TextStyle::from(("sans-serif", font as f64).into_font());
        // Under the bottom row, over the diagonal, and (rotated) left of the rows below the
        // first.
        let (x0, y0) = origin(d - 1, k);
        let below = y0 + side + TICK + 4 + tick_h + 6;
        let centre = x0 + side / 2;
        root.draw(&Text::new(
            c.label.clone(),
            (centre, below),
            style.pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(e)?;
        let (x0, y0) = origin(k, k);
        root.draw(&Text::new(
            c.label.clone(),
            (x0 + side / 2, y0 - 6),
            style.pos(Pos::new(HPos::Center, VPos::Bottom)),
        ))
        .map_err(e)?;
        if k > 0 {
            let (_, y0) = origin(k, 0);
            let rotated = style
                .transform(FontTransform::Rotate270)
                .pos(Pos::new(HPos::Center, VPos::Center));
            let x = 8 + label_h / 2;
            debug_assert!(x < left);
            root.draw(&Text::new(c.label.clone(), (x, y0 + side / 2), rotated))
                .map_err(e)?;
        }
    }
    Ok(())
}

/// The legend, its upper right corner at `corner`.
fn legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    corner: (i32, i32),
    truth: bool,
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let mut entries = vec!["68% credible region", "95% credible region"];
    if truth {
        entries.push("true value");
    }
    let (sw, row, pad) = (26, 22, 8);
    let text_w = entries
        .iter()
        .map(|t| text_width(t, LABEL_FONT))
        .fold(0.0f64, f64::max)
        .ceil() as i32;
    let (w, h) = (
        pad + sw + 8 + text_w + pad,
        pad + row * entries.len() as i32 + pad - 6,
    );
    let (x0, y0) = (corner.0 - w, corner.1);
    root.draw(&Rectangle::new(
        [(x0, y0), (x0 + w, y0 + h)],
        RGBColor(160, 160, 160).stroke_width(1),
    ))
    .map_err(e)?;
    let style = TextStyle::from(("sans-serif", LABEL_FONT as f64).into_font())
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (k, text) in entries.iter().enumerate() {
        let y = y0 + pad + row * k as i32 + 7;
        let (a, b) = ((x0 + pad, y - 7), (x0 + pad + sw, y + 7));
        match k {
            0 | 1 => {
                let fill = if k == 0 { FILL_68 } else { FILL_95 };
                root.draw(&Rectangle::new([a, b], fill.filled()))
                    .map_err(e)?;
                root.draw(&Rectangle::new([a, b], LINE.stroke_width(1)))
                    .map_err(e)?;
            }
            _ => {
                root.draw(&Cross::new(
                    (x0 + pad + sw / 2, y),
                    5,
                    TRUTH.stroke_width(2),
                ))
                .map_err(e)?;
            }
        }
        root.draw(&Text::new(*text, (x0 + pad + sw + 8, y + 2), style.clone()))
            .map_err(e)?;
    }
    Ok(())
}

fn draw_1d<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    c: &Column,
    w: &[f64],
) -> Result<(), String> {
    let dens = density_1d(&c.values, w, c.lo, c.hi, BINS_1D);
    let top = dens
        .iter()
        .copied()
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let mut chart = ChartBuilder::on(area)
        .build_cartesian_2d(c.lo..c.hi, 0.0..1.08)
        .map_err(|e| e.to_string())?;
    let cell = (c.hi - c.lo) / BINS_1D as f64;
    // The curve runs to the range's ends, where the edge cells' values hold.
    let mut pts: Vec<(f64, f64)> = vec![(c.lo, dens[0] / top)];
    pts.extend(
        dens.iter()
            .enumerate()
            .map(|(k, v)| (c.lo + (k as f64 + 0.5) * cell, v / top)),
    );
    pts.push((c.hi, dens[BINS_1D - 1] / top));
    chart
        .draw_series(LineSeries::new(pts, LINE.stroke_width(2)))
        .map_err(|e| e.to_string())?;
    if let Some(t) = c.truth {
        chart
            .draw_series(LineSeries::new(
                vec![(t, 0.0), (t, 1.08)],
                TRUTH.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn draw_2d<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    cx: &Column,
    cy: &Column,
    w: &[f64],
) -> Result<(), String> {
    let g: Grid2 = density_2d(
        &cx.values,
        &cy.values,
        w,
        (cx.lo, cx.hi),
        (cy.lo, cy.hi),
        BINS_2D,
    );
    let levels = hpd_levels(&g.values, &LEVELS);
    // The regions, pixel by pixel from the bilinear density (smooth edges at any size).
    let (pw, ph) = area.dim_in_pixel();
    for py in 0..ph {
        let y = cy.hi - (py as f64 + 0.5) / ph as f64 * (cy.hi - cy.lo);
        for px in 0..pw {
            let x = cx.lo + (px as f64 + 0.5) / pw as f64 * (cx.hi - cx.lo);
            let v = g.value_at(x, y);
            let fill = if v <= 0.0 {
                continue;
            } else if v >= levels[0] {
                FILL_68
            } else if v >= levels[1] {
                FILL_95
            } else {
                continue;
            };
            area.draw_pixel((px as i32, py as i32), &fill)
                .map_err(|e| e.to_string())?;
        }
    }
    let mut chart = ChartBuilder::on(area)
        .build_cartesian_2d(cx.lo..cx.hi, cy.lo..cy.hi)
        .map_err(|e| e.to_string())?;
    for &level in &levels {
        if level <= 0.0 {
            continue;
        }
        let segs = contour_segments(&g, level);
        chart
            .draw_series(
                segs.into_iter()
                    .map(|s| PathElement::new(vec![s[0], s[1]], LINE.stroke_width(1))),
            )
            .map_err(|e| e.to_string())?;
    }
    if let (Some(a), Some(b)) = (cx.truth, cy.truth) {
        chart
            .draw_series(std::iter::once(Cross::new(
                (a, b),
                5,
                TRUTH.stroke_width(2),
            )))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(n: usize) -> WeightedSamples {
        let theta: Vec<f64> = (0..n)
            .flat_map(|i| {
                let a = ((i * 7919) % 1000) as f64 / 1000.0;
                let b = ((i * 104_729) % 997) as f64 / 997.0;
                [a, a + 0.3 * b, 10f64.powf(b)]
            })
            .collect();
        WeightedSamples {
            names: vec!["a".into(), "b".into(), "c".into()],
            latex: vec![
                r"\alpha".into(),
                r"V_c\,[\mathrm{km\,s^{-1}}]".into(),
                "".into(),
            ],
            theta,
            weights: vec![1.0; n],
            log_likelihood: vec![0.0; n],
        }
    }

    #[test]
    fn writes_a_png() {
        let p = std::env::temp_dir().join(format!("spinflip-corner-{}.png", std::process::id()));
        corner_plot(
            &p,
            &samples(2000),
            &CornerOptions {
                log10: vec![false, false, true],
                truth: Some(vec![0.5, 0.6, 3.0]),
                bounds: vec![(0.0, 1.0), (f64::NEG_INFINITY, f64::INFINITY), (1.0, 10.0)],
                panel_px: Some(120),
            },
        )
        .unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn one_sample_or_one_parameter_still_draws() {
        let dir = std::env::temp_dir();
        let p = dir.join(format!("spinflip-corner-one-{}.png", std::process::id()));
        corner_plot(&p, &samples(1), &CornerOptions::default()).unwrap();
        let mut s = samples(500);
        s.theta = s.theta.chunks(3).map(|r| r[0]).collect();
        s.names.truncate(1);
        s.latex.truncate(1);
        corner_plot(&p, &s, &CornerOptions::default()).unwrap();
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn labels_come_from_latex_with_log_prefixes() {
        let s = samples(10);
        assert_eq!(label(&s, 0, false), "α");
        assert_eq!(label(&s, 1, true), "log₁₀ Vc\u{2009}[km\u{2009}s⁻¹]");
        // No LaTeX: the name.
        assert_eq!(label(&s, 2, true), "log₁₀ c");
    }

    #[test]
    fn ranges_stop_at_prior_bounds_and_ticks_are_few() {
        let s = samples(2000);
        let opt = CornerOptions {
            log10: vec![false, false, true],
            bounds: vec![(0.0, 1.0), (f64::NEG_INFINITY, f64::INFINITY), (1.0, 10.0)],
            ..Default::default()
        };
        let c = columns(&s, &opt, 210);
        assert_eq!((c[0].lo, c[0].hi), (0.0, 1.0));
        assert_eq!((c[2].lo, c[2].hi), (0.0, 1.0));
        assert!(c[1].lo < 0.0 && c[1].hi > 1.3);
        for col in &c {
            assert!((2..=4).contains(&col.ticks.len()), "{:?}", col.ticks);
        }
    }
}
