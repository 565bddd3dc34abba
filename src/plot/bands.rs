//! Posterior-predictive plots: data with error bars, the truth, and the median and 68/95%
//! bands of the model signal over posterior draws; over frequency, with the redshift of the
//! 21-cm line on a second axis along the top.

use super::ensure_font;
use super::ticks::{fitted_ticks, warped_ticks};
use crate::SpinflipError;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::ops::Range;
use std::path::Path;

/// A linear f64 axis with ticks exactly where given (plotters' own key-point wrapper has
/// no label formatter to go with a custom one), and no minor grid.
struct Ticked {
    axis: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ticked {
    fn new(range: Range<f64>, ticks: &[(f64, String)]) -> Self {
        Ticked {
            axis: range.into(),
            ticks: ticks.iter().map(|t| t.0).collect(),
        }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;
    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.axis.map(value, limit)
    }
    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }
    fn range(&self) -> Range<f64> {
        self.axis.range()
    }
}

/// Rest frequency of the 21-cm line in MHz.
pub const NU_21CM_MHZ: f64 = 1420.405751;

/// The label of the tick nearest `v`.
fn label_of(ticks: &[(f64, String)], v: f64) -> String {
    ticks
        .iter()
        .min_by(|a, b| (a.0 - v).abs().total_cmp(&(b.0 - v).abs()))
        .map(|t| t.1.clone())
        .unwrap_or_default()
}

/// Width of `text` in pixels at `size`.
fn text_width(text: &str, size: f64) -> f64 {
    ("sans-serif", size)
        .into_font()
        .box_size(text)
        .map_or(0.6 * size * text.chars().count() as f64, |b| b.0 as f64)
}

/// Round redshift ticks on a frequency axis `[nu0, nu1]` MHz of `len_px` pixels, as
/// (frequency, redshift label) pairs: z = 1420.405751 / nu - 1.
pub fn redshift_ticks(nu0: f64, nu1: f64, len_px: f64, font: f64) -> Vec<(f64, String)> {
    if !(nu0 > 0.0 && nu1 > nu0) {
        return Vec::new();
    }
    let nu_of = |z: f64| NU_21CM_MHZ / (1.0 + z);
    let to_px = |z: f64| {
        let nu = nu_of(z);
        (nu >= nu0 && nu <= nu1).then(|| (nu - nu0) / (nu1 - nu0) * len_px)
    };
    let (z_lo, z_hi) = (NU_21CM_MHZ / nu1 - 1.0, NU_21CM_MHZ / nu0 - 1.0);
    warped_ticks(z_lo, z_hi, to_px, 24.0, |t| text_width(t, font))
        .into_iter()
        .map(|(z, l)| (nu_of(z), l))
        .collect()
}

/// Per-channel quantiles of many model curves.
#[derive(Debug, Clone)]
pub struct Bands {
    /// x of each channel.
    pub x: Vec<f64>,
    /// Median curve.
    pub median: Vec<f64>,
    /// 68% band: lower, upper.
    pub band68: (Vec<f64>, Vec<f64>),
    /// 95% band: lower, upper.
    pub band95: (Vec<f64>, Vec<f64>),
}

impl Bands {
    /// Quantile bands of `curves` (each of length `x.len()`).
    pub fn from_curves(x: &[f64], curves: &[Vec<f64>]) -> Self {
        let m = x.len();
        let q = |col: &mut Vec<f64>, p: f64| {
            let k = ((col.len() as f64 - 1.0) * p).round() as usize;
            col[k.min(col.len().saturating_sub(1))]
        };
        let mut out = Bands {
            x: x.to_vec(),
            median: vec![f64::NAN; m],
            band68: (vec![f64::NAN; m], vec![f64::NAN; m]),
            band95: (vec![f64::NAN; m], vec![f64::NAN; m]),
        };
        for i in 0..m {
            let mut col: Vec<f64> = curves
                .iter()
                .map(|c| c[i])
                .filter(|v| v.is_finite())
                .collect();
            if col.is_empty() {
                continue;
            }
            col.sort_by(f64::total_cmp);
            out.median[i] = q(&mut col, 0.5);
            out.band68.0[i] = q(&mut col, 0.158_655);
            out.band68.1[i] = q(&mut col, 0.841_345);
            out.band95.0[i] = q(&mut col, 0.022_75);
            out.band95.1[i] = q(&mut col, 0.977_25);
        }
        out
    }
}

/// Data points: x, y and optional 1-sigma errors.
pub type DataPoints<'a> = (&'a [f64], &'a [f64], Option<&'a [f64]>);

/// What goes on a posterior-predictive plot.
pub struct PredictivePlot<'a> {
    /// Title.
    pub title: &'a str,
    /// x-axis label.
    pub x_label: &'a str,
    /// y-axis label.
    pub y_label: &'a str,
    /// The model bands.
    pub bands: &'a Bands,
    /// Data: x, y, sigma (optional).
    pub data: Option<DataPoints<'a>>,
    /// The true signal, if known (same x as the bands).
    pub truth: Option<&'a [f64]>,
    /// x is frequency in MHz: add the 21-cm line's redshift along the top.
    pub redshift_axis: bool,
}

impl PredictivePlot<'_> {
    /// Render to a PNG.
    pub fn save(&self, path: &Path) -> Result<(), SpinflipError> {
        let err = |r: String| SpinflipError::Plot {
            path: path.display().to_string(),
            reason: r,
        };
        ensure_font();
        if let Some(parent) = path.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| SpinflipError::io(parent, e))?;
            }
        }
        let b = self.bands;
        let mut ys: Vec<f64> = b.band95.0.iter().chain(&b.band95.1).cloned().collect();
        let mut xs: Vec<f64> = b.x.clone();
        if let Some((x, y, _)) = self.data {
            ys.extend_from_slice(y);
            xs.extend_from_slice(x);
        }
        if let Some(t) = self.truth {
            ys.extend_from_slice(t);
        }
        let fin = |v: &Vec<f64>| {
            v.iter()
                .cloned()
                .filter(|x| x.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |a, x| {
                    (a.0.min(x), a.1.max(x))
                })
        };
        let (x0, x1) = fin(&xs);
        let (y0, y1) = fin(&ys);
        if !(x0.is_finite() && y0.is_finite() && x1 > x0) {
            return Err(err("nothing finite to plot".into()));
        }
        let pad = 0.05 * (y1 - y0).max(1e-9);
        let (y0, y1) = (y0 - pad, y1 + pad);
        let (width, height) = (1000u32, 620u32);
        let top_area = if self.redshift_axis { 50 } else { 0 };
        // The plotting area's size, for spacing the tick labels (margins, label areas and
        // the caption as set below).
        let (plot_w, plot_h) = (
            (width - 2 * 14 - 70) as f64,
            (height - 2 * 14 - 45 - top_area - 36) as f64,
        );
        let font = 14.0;
        // An index axis (summaries) gets no ticks between its integers.
        let max_x = if b.x.iter().all(|x| x.fract() == 0.0) {
            ((x1 - x0) as usize + 1).clamp(2, 10)
        } else {
            10
        };
        let xt = fitted_ticks(x0, x1, max_x, plot_w, 10.0, |t| text_width(t, font));
        let yt = fitted_ticks(y0, y1, 8, plot_h, 0.0, |_| font + 6.0);
        let zt = if self.redshift_axis {
            redshift_ticks(x0, x1, plot_w, font)
        } else {
            Vec::new()
        };
        let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let chart = ChartBuilder::on(&root)
            .caption(self.title, ("sans-serif", 22))
            .margin(14)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .top_x_label_area_size(top_area)
            .build_cartesian_2d(Ticked::new(x0..x1, &xt), Ticked::new(y0..y1, &yt))
            .map_err(|e| err(e.to_string()))?;
        let mut chart = chart.set_secondary_coord(Ticked::new(x0..x1, &zt), y0..y1);
        let (fx, fy, fz) = (
            |v: &f64| label_of(&xt, *v),
            |v: &f64| label_of(&yt, *v),
            |v: &f64| label_of(&zt, *v),
        );
        chart
            .configure_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .bold_line_style(BLACK.mix(0.12))
            .label_style(("sans-serif", font))
            .draw()
            .map_err(|e| err(e.to_string()))?;
        if self.redshift_axis {
            chart
                .configure_secondary_axes()
                .x_desc("redshift z of the 21-cm line")
                .x_label_formatter(&fz)
                .label_style(("sans-serif", font))
                .draw()
                .map_err(|e| err(e.to_string()))?;
        }
        let band = |lo: &[f64], hi: &[f64]| -> Vec<(f64, f64)> {
            let mut poly: Vec<(f64, f64)> =
                b.x.iter()
                    .zip(hi)
                    .filter(|(_, v)| v.is_finite())
                    .map(|(x, v)| (*x, *v))
                    .collect();
            poly.extend(
                b.x.iter()
                    .zip(lo)
                    .rev()
                    .filter(|(_, v)| v.is_finite())
                    .map(|(x, v)| (*x, *v)),
            );
            poly
        };
        let c95 = RGBColor(158, 202, 225);
        let c68 = RGBColor(66, 146, 198);
        chart
            .draw_series(std::iter::once(Polygon::new(
                band(&b.band95.0, &b.band95.1),
                c95.filled(),
            )))
            .map_err(|e| err(e.to_string()))?
            .label("95%")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], c95.filled()));
        chart
            .draw_series(std::iter::once(Polygon::new(
                band(&b.band68.0, &b.band68.1),
                c68.filled(),
            )))
            .map_err(|e| err(e.to_string()))?
            .label("68%")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], c68.filled()));
        if let Some((x, y, s)) = self.data {
            let grey = RGBColor(90, 90, 90);
            if let Some(s) = s {
                chart
                    .draw_series(x.iter().zip(y).zip(s).map(|((x, y), s)| {
                        PathElement::new(
                            vec![(*x, y - s), (*x, y + s)],
                            grey.mix(0.35).stroke_width(1),
                        )
                    }))
                    .map_err(|e| err(e.to_string()))?;
            }
            chart
                .draw_series(
                    x.iter()
                        .zip(y)
                        .map(|(x, y)| Circle::new((*x, *y), 2, grey.filled())),
                )
                .map_err(|e| err(e.to_string()))?
                .label("data")
                .legend(move |(x, y)| Circle::new((x + 10, y), 3, grey.filled()));
        }
        let med: Vec<(f64, f64)> =
            b.x.iter()
                .zip(&b.median)
                .filter(|(_, v)| v.is_finite())
                .map(|(x, v)| (*x, *v))
                .collect();
        chart
            .draw_series(LineSeries::new(med, BLUE.stroke_width(2)))
            .map_err(|e| err(e.to_string()))?
            .label("posterior median")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
        if let Some(t) = self.truth {
            let pts: Vec<(f64, f64)> = b.x.iter().zip(t).map(|(x, v)| (*x, *v)).collect();
            chart
                .draw_series(LineSeries::new(pts, RED.stroke_width(2)))
                .map_err(|e| err(e.to_string()))?
                .label("truth")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_bands_of_shifted_curves() {
        // 101 curves y = c, c = 0..100: the median is 50, the 68% band 16..84.
        let x = vec![0.0, 1.0];
        let curves: Vec<Vec<f64>> = (0..=100).map(|c| vec![c as f64; 2]).collect();
        let b = Bands::from_curves(&x, &curves);
        assert_eq!(b.median, vec![50.0, 50.0]);
        assert_eq!(b.band68.0[0], 16.0);
        assert_eq!(b.band68.1[0], 84.0);
        assert_eq!(b.band95.1[1], 98.0);
    }

    #[test]
    fn redshift_ticks_sit_at_their_frequencies() {
        super::super::ensure_font();
        let t = redshift_ticks(50.0, 200.0, 900.0, 14.0);
        // z from 6.1 to 27.4: round values, each at nu = 1420.4 / (1 + z).
        assert!(t.len() >= 4, "{t:?}");
        for (nu, l) in &t {
            let z: f64 = l.parse().unwrap();
            assert_eq!(z.fract(), 0.0);
            assert!((nu - NU_21CM_MHZ / (1.0 + z)).abs() < 1e-9);
            assert!((50.0..=200.0).contains(nu));
        }
        assert!(t.iter().any(|t| t.1 == "10") && t.iter().any(|t| t.1 == "20"));
        assert!(redshift_ticks(0.0, 100.0, 900.0, 14.0).is_empty());
    }

    #[test]
    fn writes_a_png_with_a_redshift_axis() {
        let x: Vec<f64> = (0..100).map(|i| 40.0 + 1.5 * i as f64).collect();
        let curves: Vec<Vec<f64>> = (0..50)
            .map(|k| {
                x.iter()
                    .map(|nu| -100.0 * (-((nu - 80.0) / (15.0 + 0.1 * k as f64)).powi(2)).exp())
                    .collect()
            })
            .collect();
        let bands = Bands::from_curves(&x, &curves);
        let p = std::env::temp_dir().join(format!("spinflip-bands-{}.png", std::process::id()));
        PredictivePlot {
            title: "t",
            x_label: "frequency [MHz]",
            y_label: "T [mK]",
            bands: &bands,
            data: None,
            truth: None,
            redshift_axis: true,
        }
        .save(&p)
        .unwrap();
        assert_eq!(&std::fs::read(&p).unwrap()[1..4], b"PNG");
        let _ = std::fs::remove_file(p);
    }
}
