//! Assembling the light-cone: each slice (one cell apart in comoving distance) takes one
//! plane of the coeval boxes, interpolated linearly in comoving distance between the two
//! nodes that bracket it, the box wrapping periodically along the line of sight (21cmFAST's
//! rectilinear light-coner).

use super::geometry::Layout;

/// A light-cone of dT_b with its plane means.
#[derive(Debug, Clone, PartialEq)]
pub struct LightCone {
    /// Cells per side of a slice.
    pub cells: usize,
    /// Slices along the line of sight.
    pub n_los: usize,
    /// dT_b in mK, shape (cells, cells, n_los) in C order: `(x * cells + y) * n_los + i`,
    /// slice i from low to high redshift.
    pub t_b: Vec<f32>,
    /// Mean dT_b of each slice, mK.
    pub global_tb: Vec<f32>,
    /// Mean neutral fraction of each slice.
    pub global_xhi: Vec<f32>,
    /// Slice redshifts, ascending.
    pub redshifts: Vec<f64>,
}

impl LightCone {
    /// An empty (zero) light-cone for `layout`.
    pub fn new(layout: &Layout) -> Self {
        let n = layout.geometry.cells;
        let n_los = layout.n_los();
        Self {
            cells: n,
            n_los,
            t_b: vec![0.0; n * n * n_los],
            global_tb: vec![0.0; n_los],
            global_xhi: vec![0.0; n_los],
            redshifts: layout.los_redshifts(),
        }
    }

    /// The 2-D slice x = `x` (cells x n_los, C order: y then line of sight).
    pub fn plane_x(&self, x: usize) -> &[f32] {
        let m = self.cells * self.n_los;
        &self.t_b[x * m..(x + 1) * m]
    }

    /// Fill every slice bracketed by nodes `k - 1` (boxes `hi_tb`, `hi_xhi`) and `k`
    /// (`lo_tb`, `lo_xhi`); boxes are C-order n^3 with the line of sight last.
    pub fn fill_between(
        &mut self,
        layout: &Layout,
        k: usize,
        hi_tb: &[f32],
        hi_xhi: &[f32],
        lo_tb: &[f32],
        lo_xhi: &[f32],
    ) {
        let n = self.cells;
        let inv = 1.0 / (n * n) as f64;
        for (i, s) in layout.slices.iter().enumerate() {
            if s.node + 1 != k {
                continue;
            }
            let (wa, wb) = (1.0 - s.weight as f32, s.weight as f32);
            let (mut sum_tb, mut sum_x) = (0.0f64, 0.0f64);
            for xy in 0..n * n {
                let b = xy * n + s.plane;
                let tb = wa * hi_tb[b] + wb * lo_tb[b];
                let xh = wa * hi_xhi[b] + wb * lo_xhi[b];
                self.t_b[xy * self.n_los + i] = tb;
                sum_tb += tb as f64;
                sum_x += xh as f64;
            }
            self.global_tb[i] = (sum_tb * inv) as f32;
            self.global_xhi[i] = (sum_x * inv) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosmology::Cosmology;
    use crate::lightcone::geometry::{ComovingDistance, MapGeometry};

    #[test]
    fn slices_interpolate_between_their_nodes() {
        let c = Cosmology::planck18();
        let g = MapGeometry {
            box_mpc: 32.0,
            cells: 8,
            z_min: 7.0,
            z_max: 8.0,
        };
        let l = Layout::new(&g, &c, &ComovingDistance::new(&c)).unwrap();
        let mut lc = LightCone::new(&l);
        let n3 = 8 * 8 * 8;
        // Box value = node index, so a slice's value is its fractional node position.
        for k in 1..l.nodes.len() {
            let hi = vec![(k - 1) as f32; n3];
            let lo = vec![k as f32; n3];
            lc.fill_between(&l, k, &hi, &hi, &lo, &lo);
        }
        for (i, s) in l.slices.iter().enumerate() {
            let want = s.node as f32 + s.weight as f32;
            assert!((lc.global_tb[i] - want).abs() < 1e-5);
            assert!((lc.t_b[3 * l.n_los() + i] - want).abs() < 1e-5);
        }
    }
}
