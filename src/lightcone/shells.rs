//! The shells around each cell from which X-rays and Ly-alpha photons arrive (21cmFAST's
//! R_ct loop): 40 annuli log-spaced in radius from the cell (R_0 = 0.62 cell) to 500 Mpc,
//! each seen at its retarded redshift. Everything here depends only on the cosmology and the
//! geometry, so it is built once and shared.

use super::filters::{annulus_window, VarianceQuadrature};
use super::geometry::{ComovingDistance, Layout};
use super::initial::CELL_RADIUS_FACTOR;
use crate::cosmology::growth::growth_factor;
use crate::cosmology::power::{top_hat_window, PowerSpectrum};
use crate::cosmology::Cosmology;
use crate::global::lyman_alpha::{nu_line, LymanAlphaTables, BETA, N_MAX};

/// Number of shells (21cmFAST's N_STEP_TS).
pub const N_SHELLS: usize = 40;
/// Outer scale of the shell radii, Mpc (21cmFAST's R_MAX_TS).
pub const R_MAX_SHELLS: f64 = 500.0;

/// One shell seen from one node.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShellAt {
    /// Retarded redshift of the shell's centre (mean of its edge redshifts).
    pub z: f64,
    /// Redshift width of the shell (between its edges).
    pub dz: f64,
    /// Redshift of its inner edge.
    pub z_inner: f64,
    /// Redshift of its outer edge.
    pub z_outer: f64,
    /// Linear growth factor at `z`.
    pub growth: f64,
    /// Stellar Ly-alpha weight: c rho_b0/(4 pi m_p) (1+z_node)^2 (1+z'') dz''
    /// sum_n f_rec(n) eps_b(nu''_n) over the lines whose horizon the shell is within (the
    /// fraction of the shell inside the horizon counts), cm^-2 s^-1 Hz^-1 sr^-1 per unit
    /// f_star per unit star formation rate per redshift (-dF/dz'').
    pub lya_weight: f64,
}

/// Shell radii, windows and per-node retarded redshifts.
#[derive(Debug, Clone)]
pub struct Shells {
    /// Outer radius of each shell, Mpc (the inner one is the previous shell's; 0 for the
    /// first, which is the cell itself).
    pub radius: Vec<f64>,
    /// How many shells fit in the box (outer radius <= box side) and get per-cell fields;
    /// the others contribute their mean.
    pub n_in_box: usize,
    /// z = 0 variance of the density as smoothed on the grid for each shell (the cell window
    /// times the annulus window).
    pub variance: Vec<f64>,
    /// Per node (index k) and shell (index j), `k * N_SHELLS + j`.
    pub at: Vec<ShellAt>,
}

impl Shells {
    /// Build for a layout (its nodes) and grid.
    pub fn new(
        c: &Cosmology,
        power: &PowerSpectrum,
        dist: &ComovingDistance,
        layout: &Layout,
    ) -> Self {
        let g = &layout.geometry;
        let r0 = CELL_RADIUS_FACTOR * g.cell_mpc();
        let factor = (R_MAX_SHELLS / r0).powf(1.0 / N_SHELLS as f64);
        let radius: Vec<f64> = (0..N_SHELLS).map(|j| r0 * factor.powi(j as i32)).collect();
        let n_in_box = radius.iter().filter(|&&r| r <= g.box_mpc).count();
        let quad = VarianceQuadrature::new(power);
        let variance = (0..N_SHELLS)
            .map(|j| {
                let inner = if j == 0 { 0.0 } else { radius[j - 1] };
                let outer = radius[j];
                quad.variance(|k| {
                    let cell = top_hat_window(k * r0);
                    if j == 0 {
                        cell
                    } else {
                        cell * annulus_window(k, inner, outer)
                    }
                })
            })
            .collect();
        let lya = LymanAlphaTables::new(c, 1, 0.1);
        let pref = crate::cosmology::constants::C_CM_S * c.rho_b0()
            / (4.0 * std::f64::consts::PI * crate::cosmology::constants::M_P);
        let mut at = Vec::with_capacity(layout.nodes.len() * N_SHELLS);
        for (&zn, &dn) in layout.nodes.iter().zip(&layout.node_distance) {
            let mut z_prev = zn;
            for &r in &radius {
                let z_edge = dist.redshift(dn + r);
                let z = 0.5 * (z_prev + z_edge);
                let ratio = (1.0 + z) / (1.0 + zn);
                // Lyman-n photons seen at Ly-alpha were emitted below nu_{n+1}: the shell
                // counts for line n up to 1 + z_max = (1 + z_node) nu_{n+1}/nu_n.
                let mut lines = 0.0;
                for (i, coef) in lya.line_coeff.iter().enumerate() {
                    let n = i + 2;
                    debug_assert!(n <= N_MAX);
                    let z_max = (1.0 + zn) * nu_line(n + 1) / nu_line(n) - 1.0;
                    let frac = ((z_max - z_prev) / (z_edge - z_prev)).clamp(0.0, 1.0);
                    lines += coef * frac;
                }
                let lya_weight = pref
                    * (1.0 + zn).powi(2)
                    * (1.0 + z)
                    * (z_edge - z_prev)
                    * lines
                    * ratio.powf(-BETA);
                at.push(ShellAt {
                    z,
                    dz: z_edge - z_prev,
                    z_inner: z_prev,
                    z_outer: z_edge,
                    growth: growth_factor(c, z),
                    lya_weight,
                });
                z_prev = z_edge;
            }
        }
        Self {
            radius,
            n_in_box,
            variance,
            at,
        }
    }

    /// Inner radius of shell `j`.
    pub fn inner(&self, j: usize) -> f64 {
        if j == 0 {
            0.0
        } else {
            self.radius[j - 1]
        }
    }

    /// The shells of node `k`.
    pub fn of_node(&self, k: usize) -> &[ShellAt] {
        &self.at[k * N_SHELLS..(k + 1) * N_SHELLS]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lightcone::geometry::MapGeometry;

    #[test]
    fn radii_redshifts_and_horizons() {
        let c = Cosmology::planck18();
        let p = PowerSpectrum::new(&c);
        let d = ComovingDistance::new(&c);
        let l = Layout::new(&MapGeometry::default(), &c, &d).unwrap();
        let s = Shells::new(&c, &p, &d, &l);
        assert!((s.radius[0] - 0.6203505 * 4.0).abs() < 1e-5);
        assert!(s.radius[N_SHELLS - 1] < R_MAX_SHELLS && s.radius[N_SHELLS - 1] > 400.0);
        // 128 Mpc box: shells up to R = 128 Mpc get fields (30 of 40).
        assert_eq!(s.n_in_box, 30);
        for k in [0, 40, 83] {
            let sh = s.of_node(k);
            let dn = l.node_distance[k];
            // The outer edge of the last shell is 438 Mpc further out.
            let far = d.distance(sh[N_SHELLS - 1].z_outer) - dn;
            assert!((far - s.radius[N_SHELLS - 1]).abs() < 1e-3);
            for w in sh.windows(2) {
                assert!(w[1].z > w[0].z && w[1].z_inner == w[0].z_outer);
            }
            // Ly-alpha (n = 2) reaches to (1+z) 32/27: shells beyond the Ly-beta horizon of
            // every line contribute nothing; the nearest shells see all 22 lines.
            let zmax = (1.0 + l.nodes[k]) * 32.0 / 27.0 - 1.0;
            for x in sh {
                if x.z_inner > zmax {
                    assert_eq!(x.lya_weight, 0.0);
                }
            }
            assert!(sh[0].lya_weight > 0.0);
        }
        // Shell variances fall with radius.
        for w in s.variance.windows(2) {
            assert!(w[1] < w[0]);
        }
    }
}
