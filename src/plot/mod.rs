//! PNG plots with plotters (bitmap backend, the DejaVu Sans font shipped in `assets/`).
//!
//! [`lines::LinePlot`] draws one panel of line or point series; [`lines::save_grid`] puts
//! several panels in one PNG; [`corner::corner_plot`] draws posterior corner plots;
//! [`bands::PredictivePlot`] draws posterior-predictive signal bands. Below them:
//! [`latex`] turns parameters' LaTeX into label text, [`ticks`] picks and writes axis
//! ticks, [`density`] smooths weighted samples into densities and [`contour`] traces
//! their levels.

pub mod bands;
pub mod contour;
pub mod corner;
pub mod density;
pub mod latex;
pub mod lines;
pub mod ticks;

use std::sync::Once;

/// The font every plot uses, compiled in so plotting needs no system fonts.
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Register the shipped font as "sans-serif" (once per process).
pub(crate) fn ensure_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is compiled in and known to be valid; a failure would only leave
        // plots without text, so it is not fatal.
        let _ =
            plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, FONT);
    });
}
