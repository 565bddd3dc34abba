//! Posterior-predictive plots: data with error bars, the truth, and the median and 68/95%
//! bands of the model signal over posterior draws.

use super::ensure_font;
use crate::SpinflipError;
use plotters::prelude::*;
use std::path::Path;

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
        let root = BitMapBackend::new(path, (1000, 620)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(self.title, ("sans-serif", 22))
            .margin(14)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))
            .map_err(|e| err(e.to_string()))?;
        chart
            .configure_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(|e| err(e.to_string()))?;
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
}
