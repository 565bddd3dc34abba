//! Box, grid and line of sight of a light-cone: node redshifts (where coeval boxes are
//! evolved), the light-cone's slices (one cell apart in comoving distance) and which two nodes
//! bracket each slice.

use crate::cosmology::Cosmology;
use spinflip_likelihoods::ModelError;

/// The user-facing geometry: what `--box-mpc`, `--cells`, `--z-min`, `--z-max` set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapGeometry {
    /// Comoving side of the box, Mpc.
    pub box_mpc: f64,
    /// Cells per side (the box has `cells^3` cells).
    pub cells: usize,
    /// Lowest redshift of the light-cone.
    pub z_min: f64,
    /// Highest redshift of the light-cone.
    pub z_max: f64,
}

impl Default for MapGeometry {
    /// 128 Mpc on 32 cells (4 Mpc), z = 6 to 30: the default.
    fn default() -> Self {
        Self {
            box_mpc: 128.0,
            cells: 32,
            z_min: 6.0,
            z_max: 30.0,
        }
    }
}

/// Highest node redshift: sources switch on below it and the IGM starts from RECFAST there
/// (21cmFAST's Z_HEAT_MAX).
pub const Z_HEAT_MAX: f64 = 35.0;
/// Ratio of (1 + z) between consecutive nodes (21cmFAST's ZPRIME_STEP_FACTOR).
pub const NODE_FACTOR: f64 = 1.02;
/// Smallest and largest cell counts accepted (even only, for the Nyquist plane).
pub const CELLS_RANGE: (usize, usize) = (4, 512);
/// Smallest cell size accepted, Mpc (below it the semi-numerical model has no meaning).
pub const MIN_CELL_MPC: f64 = 0.1;

impl MapGeometry {
    /// Cell size, Mpc.
    pub fn cell_mpc(&self) -> f64 {
        self.box_mpc / self.cells as f64
    }

    /// Check the geometry; errors say which value is wrong and what is allowed.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |field: &str, reason: String| ModelError::Invalid {
            field: field.into(),
            reason,
        };
        if self.cells == 0 {
            return Err(bad(
                "cells",
                "zero cells: the box needs at least 4 cells per side (--cells 32 is the default)"
                    .into(),
            ));
        }
        if self.cells < CELLS_RANGE.0 || self.cells > CELLS_RANGE.1 || !self.cells.is_multiple_of(2)
        {
            return Err(bad(
                "cells",
                format!(
                    "{} cells per side: use an even number between {} and {}",
                    self.cells, CELLS_RANGE.0, CELLS_RANGE.1
                ),
            ));
        }
        if !self.box_mpc.is_finite() || self.box_mpc <= 0.0 {
            return Err(bad(
                "box_mpc",
                format!("box side {} Mpc must be a positive number", self.box_mpc),
            ));
        }
        if self.cell_mpc() < MIN_CELL_MPC {
            return Err(bad(
                "box_mpc",
                format!(
                    "cell size {:.3} Mpc is below {MIN_CELL_MPC} Mpc: use a larger box or fewer cells",
                    self.cell_mpc()
                ),
            ));
        }
        if !self.z_min.is_finite() || !self.z_max.is_finite() {
            return Err(bad(
                "z range",
                format!("non-finite redshift range [{}, {}]", self.z_min, self.z_max),
            ));
        }
        if self.z_min <= 0.0 || self.z_min >= self.z_max {
            return Err(bad(
                "z range",
                format!(
                    "need 0 < z_min < z_max, got z_min = {}, z_max = {}",
                    self.z_min, self.z_max
                ),
            ));
        }
        if self.z_max > Z_HEAT_MAX {
            return Err(bad(
                "z_max",
                format!(
                    "z_max = {} is above the highest node redshift {Z_HEAT_MAX} (where the IGM \
                     starts from RECFAST); use z_max <= {Z_HEAT_MAX}",
                    self.z_max
                ),
            ));
        }
        Ok(())
    }
}

/// Comoving distance d(z) = (c/H0) int_0^z dz'/E(z') on a fine table, and its inverse.
#[derive(Debug, Clone)]
pub struct ComovingDistance {
    dz: f64,
    d: Vec<f64>,
}

impl ComovingDistance {
    /// Highest tabulated redshift (shells reach ~500 Mpc beyond z = 35, i.e. z ~ 50).
    pub const Z_TOP: f64 = 120.0;
    const DZ: f64 = 2e-3;

    /// Tabulate for `c` (Simpson's rule per step; relative error ~1e-10).
    pub fn new(c: &Cosmology) -> Self {
        let n = (Self::Z_TOP / Self::DZ).round() as usize;
        let dh = c.hubble_distance_mpc();
        let f = |z: f64| dh / c.e_of_z(z);
        let mut d = Vec::with_capacity(n + 1);
        d.push(0.0);
        let mut acc = 0.0;
        for i in 0..n {
            let a = i as f64 * Self::DZ;
            let b = a + Self::DZ;
            acc += Self::DZ / 6.0 * (f(a) + 4.0 * f(0.5 * (a + b)) + f(b));
            d.push(acc);
        }
        Self { dz: Self::DZ, d }
    }

    /// Comoving distance to z, Mpc (z clamped to the table).
    pub fn distance(&self, z: f64) -> f64 {
        let x = (z / self.dz).clamp(0.0, (self.d.len() - 1) as f64);
        let i = (x as usize).min(self.d.len() - 2);
        let t = x - i as f64;
        self.d[i] * (1.0 - t) + self.d[i + 1] * t
    }

    /// Redshift at comoving distance `d` Mpc (clamped to the table).
    pub fn redshift(&self, d: f64) -> f64 {
        let n = self.d.len();
        if d <= 0.0 {
            return 0.0;
        }
        if d >= self.d[n - 1] {
            return Self::Z_TOP;
        }
        let i = self.d.partition_point(|&x| x <= d) - 1;
        let t = (d - self.d[i]) / (self.d[i + 1] - self.d[i]);
        (i as f64 + t) * self.dz
    }
}

/// Node redshifts: from [`Z_HEAT_MAX`] down by factors of [`NODE_FACTOR`] in (1 + z) until
/// the first one below `z_min` (so every light-cone slice is bracketed). Descending.
pub fn node_redshifts(z_min: f64) -> Vec<f64> {
    let mut z = vec![Z_HEAT_MAX];
    while *z.last().expect("non-empty") >= z_min {
        let next = (1.0 + z.last().expect("non-empty")) / NODE_FACTOR - 1.0;
        z.push(next);
    }
    z
}

/// One light-cone slice: where it is, and the two nodes it is interpolated between.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slice {
    /// Comoving distance from the observer, Mpc.
    pub distance: f64,
    /// Redshift.
    pub z: f64,
    /// Index of the higher-redshift node (the lower one is `node + 1`).
    pub node: usize,
    /// Weight of node `node + 1` (1 - weight for `node`), linear in comoving distance.
    pub weight: f64,
    /// Plane of the coeval boxes (index along the line-of-sight axis) this slice takes.
    pub plane: usize,
}

/// The derived geometry: nodes and slices.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The geometry it was made from.
    pub geometry: MapGeometry,
    /// Node redshifts, descending from [`Z_HEAT_MAX`].
    pub nodes: Vec<f64>,
    /// Comoving distance of each node, Mpc.
    pub node_distance: Vec<f64>,
    /// Slices from low to high redshift, one cell apart.
    pub slices: Vec<Slice>,
}

impl Layout {
    /// Nodes and slices for a validated geometry. The light-cone is as many whole cells deep
    /// as fit between d(z_min) and d(z_max), floor((d(z_max) - d(z_min))/cell), slice i at
    /// d(z_min) + i cell: 787 for the default (21cmFAST's light-coner, whose astropy Planck18
    /// includes massive neutrinos, also gives 787 for this range; its `arange` rule with this
    /// cosmology would give 789).
    pub fn new(
        g: &MapGeometry,
        c: &Cosmology,
        dist: &ComovingDistance,
    ) -> Result<Self, ModelError> {
        g.validate()?;
        c.validate()?;
        let nodes = node_redshifts(g.z_min);
        let node_distance: Vec<f64> = nodes.iter().map(|&z| dist.distance(z)).collect();
        let cell = g.cell_mpc();
        let (d0, d1) = (dist.distance(g.z_min), dist.distance(g.z_max));
        let n_los = (((d1 - d0) / cell) * (1.0 + 1e-12)).floor().max(1.0) as usize;
        let mut slices = Vec::with_capacity(n_los);
        for i in 0..n_los {
            let d = d0 + i as f64 * cell;
            let z = dist.redshift(d);
            // Nodes descend in z, so distances descend: find k with d_{k+1} <= d <= d_k.
            let k = node_distance
                .iter()
                .position(|&dn| dn < d)
                .unwrap_or(nodes.len())
                .saturating_sub(1)
                .min(nodes.len() - 2);
            let (da, db) = (node_distance[k], node_distance[k + 1]);
            let weight = ((da - d) / (da - db)).clamp(0.0, 1.0);
            slices.push(Slice {
                distance: d,
                z,
                node: k,
                weight,
                plane: i % g.cells,
            });
        }
        Ok(Self {
            geometry: *g,
            nodes,
            node_distance,
            slices,
        })
    }

    /// Number of line-of-sight cells.
    pub fn n_los(&self) -> usize {
        self.slices.len()
    }

    /// Redshifts of the slices, ascending.
    pub fn los_redshifts(&self) -> Vec<f64> {
        self.slices.iter().map(|s| s.z).collect()
    }

    /// The first node whose box a slice needs (all nodes from here on are needed).
    pub fn first_needed_node(&self) -> usize {
        self.slices.iter().map(|s| s.node).min().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_follow_21cmfast_spacing() {
        let z = node_redshifts(6.0);
        assert_eq!(z[0], 35.0);
        for w in z.windows(2) {
            assert!(((1.0 + w[0]) / (1.0 + w[1]) - NODE_FACTOR).abs() < 1e-12);
        }
        assert!(*z.last().unwrap() < 6.0 && z[z.len() - 2] >= 6.0);
        // (1 + 35) / 1.02^83 = 6.95 is the first node below 6: 84 nodes.
        assert_eq!(z.len(), 84);
    }

    #[test]
    fn comoving_distance_against_a_direct_integral() {
        let c = Cosmology::planck18();
        let d = ComovingDistance::new(&c);
        // Midpoint rule with 1e6 steps to z = 10.
        let n = 1_000_000;
        let h = 10.0 / n as f64;
        let direct: f64 = (0..n)
            .map(|i| c.hubble_distance_mpc() / c.e_of_z((i as f64 + 0.5) * h) * h)
            .sum();
        assert!((d.distance(10.0) / direct - 1.0).abs() < 1e-7);
        // An independent quadrature (Python, 2e5 midpoints) of the same cosmology: 9652.0 Mpc.
        assert!(
            (d.distance(10.0) - 9652.0).abs() < 0.5,
            "{}",
            d.distance(10.0)
        );
        for z in [0.5, 6.0, 29.9, 47.0] {
            assert!((d.redshift(d.distance(z)) - z).abs() < 1e-9);
        }
    }

    #[test]
    fn default_light_cone_has_the_21cmfast_length() {
        let c = Cosmology::planck18();
        let l = Layout::new(&MapGeometry::default(), &c, &ComovingDistance::new(&c)).unwrap();
        // The issue: 787 cells for z = 6-30 at 4 Mpc (21cmFAST's rectilinear light-coner).
        assert_eq!(l.n_los(), 787);
        assert!((l.slices[0].z - 6.0).abs() < 1e-9);
        let top = l.slices.last().unwrap().z;
        assert!(top <= 30.0 && top > 29.8, "{top}");
        for s in &l.slices {
            assert!(l.nodes[s.node] >= s.z - 1e-9 && l.nodes[s.node + 1] <= s.z + 1e-9);
            assert!((0.0..=1.0).contains(&s.weight));
        }
    }

    #[test]
    fn bad_geometry_is_an_error_not_a_panic() {
        let c = Cosmology::planck18();
        let dist = ComovingDistance::new(&c);
        let base = MapGeometry::default();
        for (g, field) in [
            (MapGeometry { cells: 0, ..base }, "cells"),
            (MapGeometry { cells: 31, ..base }, "cells"),
            (
                MapGeometry {
                    box_mpc: -1.0,
                    ..base
                },
                "box_mpc",
            ),
            (
                MapGeometry {
                    z_max: 40.0,
                    ..base
                },
                "z_max",
            ),
            (
                MapGeometry {
                    z_min: 31.0,
                    ..base
                },
                "z range",
            ),
            (MapGeometry { z_min: 0.0, ..base }, "z range"),
            (
                MapGeometry {
                    z_min: f64::NAN,
                    ..base
                },
                "z range",
            ),
        ] {
            match Layout::new(&g, &c, &dist) {
                Err(ModelError::Invalid { field: f, reason }) => {
                    assert_eq!(f, field, "{reason}");
                    assert!(!reason.is_empty());
                }
                other => panic!("{g:?}: {other:?}"),
            }
        }
    }
}
