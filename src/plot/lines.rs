//! Line plots: a small builder over plotters.
//!
//! ```no_run
//! use spinflip::plot::lines::{LinePlot, Series};
//! let z: Vec<f64> = (0..100).map(|i| 5.0 + 0.45 * i as f64).collect();
//! let t: Vec<f64> = z.iter().map(|z| -100.0 * (-(z - 17.0f64).powi(2) / 8.0).exp()).collect();
//! LinePlot::new("global signal")
//!     .x_label("z")
//!     .y_label("T_21 [mK]")
//!     .series(Series::line("model", &z, &t))
//!     .save(std::path::Path::new("signal.png"))
//!     .unwrap();
//! ```

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::SpinflipError;

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Connected line.
    Line,
    /// Unconnected points.
    Points,
}

/// One data series.
#[derive(Debug, Clone)]
pub struct Series {
    label: String,
    x: Vec<f64>,
    y: Vec<f64>,
    mark: Mark,
    color: Option<RGBColor>,
    width: u32,
}

impl Series {
    /// A line through `(x, y)`.
    pub fn line(label: impl Into<String>, x: &[f64], y: &[f64]) -> Self {
        Series {
            label: label.into(),
            x: x.to_vec(),
            y: y.to_vec(),
            mark: Mark::Line,
            color: None,
            width: 2,
        }
    }

    /// Points at `(x, y)`.
    pub fn points(label: impl Into<String>, x: &[f64], y: &[f64]) -> Self {
        Series {
            mark: Mark::Points,
            ..Series::line(label, x, y)
        }
    }

    /// Set the colour (default: a palette by series index).
    pub fn color(mut self, c: RGBColor) -> Self {
        self.color = Some(c);
        self
    }

    /// Line width or point radius in pixels.
    pub fn width(mut self, w: u32) -> Self {
        self.width = w.max(1);
        self
    }
}

/// A single-panel plot.
#[derive(Debug, Clone)]
pub struct LinePlot {
    title: String,
    x_label: String,
    y_label: String,
    log_y: bool,
    size: (u32, u32),
    series: Vec<Series>,
}

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(127, 127, 127),
];

impl LinePlot {
    /// An empty plot titled `title` (800 x 500 pixels).
    pub fn new(title: impl Into<String>) -> Self {
        LinePlot {
            title: title.into(),
            x_label: String::new(),
            y_label: String::new(),
            log_y: false,
            size: (800, 500),
            series: Vec::new(),
        }
    }

    /// x-axis label.
    pub fn x_label(mut self, s: impl Into<String>) -> Self {
        self.x_label = s.into();
        self
    }

    /// y-axis label.
    pub fn y_label(mut self, s: impl Into<String>) -> Self {
        self.y_label = s.into();
        self
    }

    /// Logarithmic y axis (non-positive values are dropped).
    pub fn log_y(mut self, on: bool) -> Self {
        self.log_y = on;
        self
    }

    /// Image size in pixels (for [`LinePlot::save`]).
    pub fn size(mut self, w: u32, h: u32) -> Self {
        self.size = (w.max(100), h.max(100));
        self
    }

    /// Add a series.
    pub fn series(mut self, s: Series) -> Self {
        self.series.push(s);
        self
    }

    /// Write the plot as a PNG.
    pub fn save(&self, path: &Path) -> Result<(), SpinflipError> {
        save_grid(path, std::slice::from_ref(self), 1)
    }

    /// Finite points of series `s`, with the y transform applied.
    fn points(&self, s: &Series) -> Vec<(f64, f64)> {
        s.x.iter()
            .zip(&s.y)
            .filter(|(x, y)| x.is_finite() && y.is_finite() && (!self.log_y || **y > 0.0))
            .map(|(x, y)| (*x, if self.log_y { y.log10() } else { *y }))
            .collect()
    }

    /// Draw into a plotters drawing area.
    pub fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        super::ensure_font();
        let pts: Vec<Vec<(f64, f64)>> = self.series.iter().map(|s| self.points(s)).collect();
        let all = pts.iter().flatten();
        let (mut x0, mut x1, mut y0, mut y1) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for (x, y) in all {
            x0 = x0.min(*x);
            x1 = x1.max(*x);
            y0 = y0.min(*y);
            y1 = y1.max(*y);
        }
        if !x0.is_finite() {
            (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
        }
        if x1 <= x0 {
            x1 = x0 + 1.0;
        }
        let pad = if y1 > y0 { 0.05 * (y1 - y0) } else { 0.5 };
        let (y0, y1) = (y0 - pad, y1 + pad);
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| e.to_string())?;
        let log = self.log_y;
        let fmt = move |v: &f64| {
            if log {
                format!("{:.1e}", 10f64.powf(*v))
            } else {
                tick_label(*v)
            }
        };
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .y_label_formatter(&fmt)
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, (s, p)) in self.series.iter().zip(pts).enumerate() {
            let color = s.color.unwrap_or(PALETTE[i % PALETTE.len()]);
            let style = color.stroke_width(s.width);
            let anno = match s.mark {
                Mark::Line => chart
                    .draw_series(LineSeries::new(p, style))
                    .map_err(|e| e.to_string())?,
                Mark::Points => chart
                    .draw_series(
                        p.into_iter()
                            .map(|(x, y)| Circle::new((x, y), s.width, color.filled())),
                    )
                    .map_err(|e| e.to_string())?,
            };
            if !s.label.is_empty() {
                anno.label(s.label.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            }
        }
        if self.series.iter().any(|s| !s.label.is_empty()) {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .label_font(("sans-serif", 14))
                .draw()
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// Several panels in one PNG, `cols` per row, each the size of the first plot.
pub fn save_grid(path: &Path, plots: &[LinePlot], cols: usize) -> Result<(), SpinflipError> {
    let err = |r: String| SpinflipError::Plot {
        path: path.display().to_string(),
        reason: r,
    };
    if plots.is_empty() {
        return Err(err("nothing to plot".into()));
    }
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|e| SpinflipError::io(parent, e))?;
        }
    }
    let cols = cols.clamp(1, plots.len());
    let rows = plots.len().div_ceil(cols);
    let (w, h) = plots[0].size;
    let root = BitMapBackend::new(path, (w * cols as u32, h * rows as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let panels = root.split_evenly((rows, cols));
    for (p, area) in plots.iter().zip(panels.iter()) {
        p.draw(area).map_err(err)?;
    }
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}

/// A predicted-vs-true scatter of one quantity with the 1:1 line (`label` names the points).
pub fn save_predicted_vs_true(
    path: &Path,
    title: String,
    name: &str,
    label: String,
    truth: &[f64],
    predicted: &[f64],
) -> Result<(), SpinflipError> {
    let lo = truth
        .iter()
        .chain(predicted)
        .cloned()
        .fold(f64::INFINITY, f64::min);
    let hi = truth
        .iter()
        .chain(predicted)
        .cloned()
        .fold(f64::NEG_INFINITY, f64::max);
    LinePlot::new(title)
        .x_label(format!("true {name}"))
        .y_label(format!("predicted {name}"))
        .size(700, 650)
        .series(Series::points(label, truth, predicted))
        .series(Series::line("1:1", &[lo, hi], &[lo, hi]))
        .save(path)
}

/// A tick value without float noise (0.6000000000000001 -> 0.6): six decimals trimmed, or
/// scientific notation for very small and very large magnitudes.
fn tick_label(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        return format!("{v:.2e}");
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tick_labels_drop_float_noise() {
        use super::tick_label;
        assert_eq!(tick_label(0.6000000000000001), "0.6");
        assert_eq!(tick_label(1.5999999999999999), "1.6");
        assert_eq!(tick_label(-0.0), "0");
        assert_eq!(tick_label(250.0), "250");
        assert_eq!(tick_label(2.5e-5), "2.50e-5");
    }
}
