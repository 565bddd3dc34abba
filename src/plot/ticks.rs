//! Axis ticks: round values in a range, labels with only the decimals the values need, and
//! the choice of how many fit along an axis without their labels touching.

/// Steps between ticks: these times a power of ten.
const MANTISSAS: [f64; 4] = [1.0, 2.0, 2.5, 5.0];

/// Round tick values in `[lo, hi]`: multiples of the smallest step of the form
/// {1, 2, 2.5, 5} x 10^k that gives at most `max_n` of them. Returns the values and the step
/// (empty and 0 for an empty or non-finite range).
pub fn nice_ticks(lo: f64, hi: f64, max_n: usize) -> (Vec<f64>, f64) {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) || max_n == 0 {
        return (Vec::new(), 0.0);
    }
    let k0 = (span / max_n as f64).log10().floor() as i32 - 1;
    for k in k0..k0 + 4 {
        for m in MANTISSAS {
            let step = m * 10f64.powi(k);
            let ticks = multiples(lo, hi, step);
            if ticks.len() <= max_n {
                return (ticks, step);
            }
        }
    }
    (Vec::new(), 0.0)
}

/// The multiples of `step` in `[lo, hi]` (a hair of tolerance at the ends).
fn multiples(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let eps = 1e-9;
    let first = (lo / step - eps).ceil() as i64;
    let last = (hi / step + eps).floor() as i64;
    (first..=last).map(|t| t as f64 * step).collect()
}

/// The next smaller round step below `step` ({1, 2, 2.5, 5} x 10^k), e.g. 10 -> 5, 5 -> 2.5.
pub fn finer_step(step: f64) -> f64 {
    let k = step.log10().floor();
    let m = step / 10f64.powf(k);
    match MANTISSAS.iter().rposition(|&x| x < m - 1e-9) {
        Some(i) => MANTISSAS[i] * 10f64.powf(k),
        None => 5.0 * 10f64.powf(k - 1.0),
    }
}

/// Labels for tick values: the fewest decimals that write every value exactly (to a
/// millionth of the spacing) and keep the labels distinct; scientific notation for very
/// large or very small magnitudes. `-0` is written `0`.
pub fn tick_labels(values: &[f64]) -> Vec<String> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let biggest = finite.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let spacing = finite
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .filter(|d| *d > 0.0)
        .fold(f64::INFINITY, f64::min);
    // Exact to a millionth of the spacing, or to six significant digits of a lone value.
    let tol = if spacing.is_finite() {
        1e-6 * spacing
    } else {
        1e-6 * biggest.max(f64::MIN_POSITIVE)
    };
    let scientific = biggest >= 1e5 || (biggest > 0.0 && biggest < 1e-3);
    let write = |v: f64, d: usize| -> String {
        let s = if scientific {
            format!("{v:.d$e}")
        } else {
            format!("{v:.d$}")
        };
        no_negative_zero(s)
    };
    for d in 0..=15 {
        let labels: Vec<String> = values.iter().map(|&v| write(v, d)).collect();
        let exact = values
            .iter()
            .zip(&labels)
            .all(|(v, l)| !v.is_finite() || l.parse::<f64>().is_ok_and(|p| (p - v).abs() <= tol));
        let distinct = labels.windows(2).all(|w| w[0] != w[1]);
        if exact && distinct {
            return labels;
        }
    }
    values.iter().map(|&v| write(v, 15)).collect()
}

/// A label as drawn: with a minus sign, not a hyphen.
fn typeset(label: String) -> String {
    label.replace('-', "\u{2212}")
}

/// "-0", "-0.00", "-0e0" as their unsigned selves.
fn no_negative_zero(s: String) -> String {
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.' || c == 'e') => rest.to_string(),
        _ => s,
    }
}

/// Ticks along an axis of `len_px` pixels showing `[lo, hi]`, with labels that neither
/// overlap each other nor reach more than `slack_px` past the axis' ends, `measure` giving
/// a label's extent along the axis in pixels. The finest round step whose ticks, less those
/// whose label would stick out at an end, number at most `max_n` and fit; at least two
/// where any two fit, else the one that does.
pub fn fitted_ticks(
    lo: f64,
    hi: f64,
    max_n: usize,
    len_px: f64,
    slack_px: f64,
    measure: impl Fn(&str) -> f64,
) -> Vec<(f64, String)> {
    const GAP_PX: f64 = 8.0;
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return Vec::new();
    }
    let px = |v: f64| (v - lo) / span * len_px;
    let mut single: Vec<(f64, String)> = Vec::new();
    let k0 = (span / (max_n as f64 + 2.0)).log10().floor() as i32 - 1;
    for k in k0..k0 + 5 {
        for m in MANTISSAS {
            let values = multiples(lo, hi, m * 10f64.powi(k));
            // Two more than wanted may lose their end ticks to the edges.
            if values.len() > max_n + 2 {
                continue;
            }
            let labels = tick_labels(&values).into_iter().map(typeset);
            let kept: Vec<(f64, String, f64)> = values
                .into_iter()
                .zip(labels)
                .map(|(v, l)| {
                    let w = measure(&l);
                    (v, l, w)
                })
                .filter(|(v, _, w)| {
                    px(*v) - w / 2.0 >= -slack_px && px(*v) + w / 2.0 <= len_px + slack_px
                })
                .collect();
            if kept.len() > max_n {
                continue;
            }
            let apart = kept
                .windows(2)
                .all(|p| px(p[1].0) - px(p[0].0) >= (p[0].2 + p[1].2) / 2.0 + GAP_PX);
            if apart && kept.len() >= 2 {
                return kept.into_iter().map(|(v, l, _)| (v, l)).collect();
            }
            if kept.len() == 1 && single.is_empty() {
                single = kept.into_iter().map(|(v, l, _)| (v, l)).collect();
            }
        }
    }
    single
}

/// Round ticks of a quantity `t` drawn on an axis where it is not linear (a redshift axis
/// over frequency): `to_px` gives the pixel of a value of `t` (`None` off the axis). Coarse
/// round values come first, finer ones (three levels of 1, 2, 5 x 10^k steps) are added
/// where their labels keep at least `min_gap_px` from every label already placed, so the
/// ticks spread evenly over the pixels. Returns `(t, label)` sorted by `t`.
pub fn warped_ticks(
    t_lo: f64,
    t_hi: f64,
    to_px: impl Fn(f64) -> Option<f64>,
    min_gap_px: f64,
    measure: impl Fn(&str) -> f64,
) -> Vec<(f64, String)> {
    let (lo, hi) = (t_lo.min(t_hi), t_lo.max(t_hi));
    let (_, coarse) = nice_ticks(lo, hi, 3);
    if coarse <= 0.0 {
        return Vec::new();
    }
    // 2.5 x 10^k steps would put labels such as 7.5 among integers: skip them.
    let finer = |s: f64| {
        let f = finer_step(s);
        let m = f / 10f64.powf(f.log10().floor());
        if (m - 2.5).abs() < 1e-9 {
            finer_step(f)
        } else {
            f
        }
    };
    let steps = [
        coarse,
        finer(coarse),
        finer(finer(coarse)),
        finer(finer(finer(coarse))),
    ];
    let mut placed: Vec<(f64, f64, f64)> = Vec::new(); // t, pixel, label width
    for step in steps {
        for t in multiples(lo, hi, step) {
            let Some(p) = to_px(t) else { continue };
            if placed.iter().any(|q| (q.0 - t).abs() < 1e-9 * step) {
                continue;
            }
            let w = measure(&tick_labels(&[t])[0]);
            let clear = placed
                .iter()
                .all(|q| (q.1 - p).abs() >= (q.2 + w) / 2.0 + min_gap_px);
            if clear {
                placed.push((t, p, w));
            }
        }
    }
    placed.sort_by(|a, b| a.0.total_cmp(&b.0));
    let values: Vec<f64> = placed.iter().map(|q| q.0).collect();
    values
        .iter()
        .copied()
        .zip(tick_labels(&values).into_iter().map(typeset))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks_are_round_and_few() {
        let (t, s) = nice_ticks(0.0312, 0.0815, 4);
        assert_eq!(
            (tick_labels(&t), s),
            (vec!["0.04".into(), "0.06".into(), "0.08".into()], 0.02)
        );
        let (t, s) = nice_ticks(-1.62, 2.07, 4);
        assert_eq!(
            (tick_labels(&t), s),
            (vec!["-1".into(), "0".into(), "1".into(), "2".into()], 1.0)
        );
        let (t, _) = nice_ticks(1.0, 1.5, 3);
        assert_eq!(tick_labels(&t), ["1.0", "1.2", "1.4"]);
        assert!(nice_ticks(1.0, 1.0, 4).0.is_empty());
        assert!(nice_ticks(0.0, f64::NAN, 4).0.is_empty());
    }

    #[test]
    fn labels_have_the_decimals_the_spacing_needs() {
        assert_eq!(tick_labels(&[0.0, 2.5, 5.0]), ["0.0", "2.5", "5.0"]);
        assert_eq!(tick_labels(&[20.0, 40.0]), ["20", "40"]);
        assert_eq!(tick_labels(&[0.1 + 0.2, 0.4]), ["0.3", "0.4"]);
        assert_eq!(tick_labels(&[-0.0, 1.0]), ["0", "1"]);
        assert_eq!(tick_labels(&[-0.1 * 1e-17, 0.5]), ["0.0", "0.5"]);
        assert_eq!(tick_labels(&[1e-4, 2e-4]), ["1e-4", "2e-4"]);
        assert_eq!(tick_labels(&[2.5e5, 5e5]), ["2.5e5", "5.0e5"]);
        assert_eq!(tick_labels(&[4.55, 4.6, 4.65]), ["4.55", "4.60", "4.65"]);
    }

    #[test]
    fn labels_are_distinct_for_many_ranges() {
        // Ranges of every scale and offset: the labels of nice ticks never repeat.
        for e in -6..7 {
            for off in [0.0, 0.37, -12.3, 1000.0] {
                for frac in [0.013, 0.27, 1.0, 3.3] {
                    let lo = off * 10f64.powi(e);
                    let hi = lo + frac * 10f64.powi(e);
                    let (t, _) = nice_ticks(lo, hi, 4);
                    let l = tick_labels(&t);
                    let mut u = l.clone();
                    u.dedup();
                    assert_eq!(u.len(), l.len(), "{lo}..{hi}: {l:?}");
                    assert!(t.len() <= 4);
                }
            }
        }
    }

    #[test]
    fn finer_steps() {
        assert_eq!(finer_step(10.0), 5.0);
        assert_eq!(finer_step(5.0), 2.5);
        assert_eq!(finer_step(2.5), 2.0);
        assert!((finer_step(0.1) - 0.05).abs() < 1e-15);
    }

    /// 7 px a character at the size the corner plot uses.
    fn width(s: &str) -> f64 {
        7.0 * s.chars().count() as f64
    }

    #[test]
    fn fitted_labels_never_overlap_or_stick_out() {
        for (lo, hi, len) in [
            (0.0312, 0.0815, 200.0),
            (-1.62, 2.07, 200.0),
            (1.03, 1.48, 60.0),
            (40.1, 40.87, 120.0),
            (1.2345e-4, 1.2391e-4, 200.0),
        ] {
            let t = fitted_ticks(lo, hi, 4, len, 4.0, width);
            assert!(!t.is_empty() && t.len() <= 4, "{lo}..{hi}: {t:?}");
            let px = |v: f64| (v - lo) / (hi - lo) * len;
            for (v, l) in &t {
                assert!(px(*v) - width(l) / 2.0 >= -4.0 && px(*v) + width(l) / 2.0 <= len + 4.0);
            }
            for p in t.windows(2) {
                let need = (width(&p[0].1) + width(&p[1].1)) / 2.0;
                assert!(px(p[1].0) - px(p[0].0) >= need, "{lo}..{hi}: {t:?}");
            }
        }
        // Minus signs, not hyphens.
        assert_eq!(
            fitted_ticks(-1.2, 0.2, 4, 200.0, 4.0, width)[0].1,
            "\u{2212}1.0"
        );
        // A roomy axis gets more than two.
        assert!(fitted_ticks(0.0, 1.0, 4, 400.0, 0.0, width).len() >= 3);
    }

    #[test]
    fn redshift_ticks_over_frequency_are_round_and_apart() {
        // 28..236 MHz over 900 px, z = 1420.4/nu - 1.
        let (nu0, nu1, len) = (28.0, 236.0, 900.0);
        let to_px = |z: f64| {
            let nu = 1420.405751 / (1.0 + z);
            (nu0..=nu1)
                .contains(&nu)
                .then(|| (nu - nu0) / (nu1 - nu0) * len)
        };
        let z_hi = 1420.405751 / nu0 - 1.0;
        let z_lo = 1420.405751 / nu1 - 1.0;
        let t = warped_ticks(z_lo, z_hi, to_px, 20.0, width);
        assert!(t.len() >= 4 && t.len() <= 12, "{t:?}");
        for (z, l) in &t {
            assert_eq!(z.fract(), 0.0);
            assert_eq!(l.parse::<f64>().unwrap(), *z);
        }
        let px: Vec<f64> = t.iter().map(|(z, _)| to_px(*z).unwrap()).collect();
        for p in px.windows(2) {
            assert!((p[1] - p[0]).abs() >= 20.0 + 14.0, "{t:?}");
        }
        assert!(t.iter().any(|(z, _)| *z == 10.0) && t.iter().any(|(z, _)| *z == 20.0));
    }
}
