//! Contour lines of a gridded density by marching squares: the segments where the value,
//! linear along each edge between cell centres, crosses a level.

use super::density::Grid2;

/// A line segment in data coordinates.
pub type Segment = [(f64, f64); 2];

/// The segments of the contour of `g` at `level` (cell centres are the lattice; the saddle
/// cases take the side of the four corners' mean).
pub fn contour_segments(g: &Grid2, level: f64) -> Vec<Segment> {
    let mut out = Vec::new();
    if g.nx < 2 || g.ny < 2 {
        return out;
    }
    let v = |i: usize, j: usize| g.values[i * g.ny + j];
    // Where the level crosses the edge from corner a to corner b (values va, vb).
    let cross = |a: (f64, f64), b: (f64, f64), va: f64, vb: f64| {
        let t = if vb != va {
            ((level - va) / (vb - va)).clamp(0.0, 1.0)
        } else {
            0.5
        };
        (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))
    };
    for i in 0..g.nx - 1 {
        for j in 0..g.ny - 1 {
            // Corners counter-clockwise from the lower left.
            let p = [
                g.centre(i, j),
                g.centre(i + 1, j),
                g.centre(i + 1, j + 1),
                g.centre(i, j + 1),
            ];
            let z = [v(i, j), v(i + 1, j), v(i + 1, j + 1), v(i, j + 1)];
            let above: Vec<bool> = z.iter().map(|&x| x >= level).collect();
            let case = above
                .iter()
                .enumerate()
                .fold(0u8, |c, (k, &a)| c | ((a as u8) << k));
            if case == 0 || case == 15 {
                continue;
            }
            // Edge k joins corner k and corner k + 1.
            let e = |k: usize| cross(p[k], p[(k + 1) % 4], z[k], z[(k + 1) % 4]);
            let crossed: Vec<usize> = (0..4).filter(|&k| above[k] != above[(k + 1) % 4]).collect();
            if crossed.len() == 2 {
                out.push([e(crossed[0]), e(crossed[1])]);
            } else {
                // A saddle: corners 0 and 2 on one side, 1 and 3 on the other. If the centre
                // sides with corner 0, the lines cut off corners 1 and 3; else 0 and 2.
                let centre_above = z.iter().sum::<f64>() / 4.0 >= level;
                if centre_above == above[0] {
                    out.push([e(0), e(1)]);
                    out.push([e(2), e(3)]);
                } else {
                    out.push([e(3), e(0)]);
                    out.push([e(1), e(2)]);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(n: usize, f: impl Fn(f64, f64) -> f64) -> Grid2 {
        let mut g = Grid2 {
            x: (-1.0, 1.0),
            y: (-1.0, 1.0),
            nx: n,
            ny: n,
            values: vec![0.0; n * n],
        };
        for i in 0..n {
            for j in 0..n {
                let (x, y) = g.centre(i, j);
                g.values[i * n + j] = f(x, y);
            }
        }
        g
    }

    #[test]
    fn a_plane_is_cut_exactly() {
        let g = grid(20, |x, y| x + 2.0 * y);
        let s = contour_segments(&g, 0.3);
        assert!(s.len() >= 10);
        for seg in &s {
            for (x, y) in seg {
                assert!((x + 2.0 * y - 0.3).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn a_cone_gives_a_closed_circle() {
        let g = grid(60, |x, y| -(x * x + y * y).sqrt());
        let s = contour_segments(&g, -0.5);
        let cell = 2.0 / 60.0;
        for (x, y) in s.iter().flatten() {
            assert!(((x * x + y * y).sqrt() - 0.5).abs() < cell, "{x} {y}");
        }
        // Closed: every end point is shared by exactly two segments.
        let key = |p: &(f64, f64)| ((p.0 * 1e9).round() as i64, (p.1 * 1e9).round() as i64);
        let mut ends: std::collections::HashMap<(i64, i64), usize> = Default::default();
        for p in s.iter().flatten() {
            *ends.entry(key(p)).or_default() += 1;
        }
        assert!(ends.values().all(|&c| c == 2), "open ends");
        // Its length is the circumference.
        let len: f64 = s
            .iter()
            .map(|[a, b]| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt())
            .sum();
        assert!((len / (std::f64::consts::PI) - 1.0).abs() < 0.02, "{len}");
    }
}
