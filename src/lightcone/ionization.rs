//! Excursion-set reionisation (Furlanetto, Zaldarriaga & Hernquist 2004; Mesinger & Furlanetto
//! 2007; 21cmFAST's `IonisationBox.c` with a constant efficiency): a cell is ionised if, for
//! some filter radius R from R_mfp down to the cell, zeta f_coll(delta_R) >= 1 - x_e; an
//! un-ionised cell keeps the partial fraction x_HI = 1 - zeta f_coll(cell) - x_e.
//! f_coll is the conditional collapsed fraction rescaled, radius by radius, so its box mean
//! is the global Sheth-Tormen value.
//!
//! Because f_coll rises monotonically with the smoothed overdensity, "ionised at R" is a
//! threshold on delta_R: one root per (node, radius) and an integer compare per cell.

use super::filters::{CodedField, FILTER_RADIUS_FACTOR, TABLE_NODES};
use super::initial::CELL_RADIUS_FACTOR;
use super::sources::{Conditional, ThresholdAt};
use crate::cosmology::power::{radius_to_mass, SigmaTable};
use crate::cosmology::Cosmology;

/// 21cmFAST's global-ionisation floor below which a box is left neutral (HII_ROUND_ERR).
pub const MIN_GLOBAL_IONIZATION: f64 = 1e-5;
/// Floor on the box mean of f_coll in the normalisation (21cmFAST's FRACT_FLOAT_ERR).
const MIN_MEAN_FCOLL: f64 = 1e-7;

/// Filter shape of the excursion set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IonizationFilter {
    /// Sharp cut in k at k R = 1/0.413567 (21cmFAST's `const-zeta` template).
    SharpK,
    /// Real-space spherical top hat.
    TopHat,
}

/// The filter radii of one geometry: from the cell (R_0 = 0.62 cell, unfiltered) up by
/// factors of 1.1 to R_mfp (the last step shortened to land on it), as 21cmFAST's
/// `setup_radii`.
#[derive(Debug, Clone, PartialEq)]
pub struct IonizationRadii {
    /// Radii, Mpc, ascending; index 0 is the cell itself.
    pub radius: Vec<f64>,
    /// sigma^2(M_R) at z = 0 (top hat of mass 4/3 pi rho_m R^3, 21cmFAST's convention also for
    /// sharp-k filters).
    pub variance: Vec<f64>,
}

impl IonizationRadii {
    /// Radii for cell size `cell_mpc`, box `box_mpc` and mean free path `r_mfp`.
    pub fn new(c: &Cosmology, sigma: &SigmaTable, cell_mpc: f64, box_mpc: f64, r_mfp: f64) -> Self {
        let r_min = CELL_RADIUS_FACTOR * cell_mpc;
        let r_max = r_mfp.min(CELL_RADIUS_FACTOR * box_mpc).max(r_min);
        let mut radius = vec![r_min];
        loop {
            let r = r_min * FILTER_RADIUS_FACTOR.powi(radius.len() as i32);
            if r >= r_max - 1e-7 {
                if r_max > r_min {
                    radius.push(r_max);
                }
                break;
            }
            radius.push(r);
        }
        let variance = radius
            .iter()
            .map(|&r| sigma.sigma(radius_to_mass(c, r)).powi(2))
            .collect();
        Self { radius, variance }
    }
}

/// Ionisation thresholds of one node.
#[derive(Debug, Clone, Default)]
pub struct NodeIonization {
    /// Per filtered radius (index 1..), the smallest code that is ionised (65536: none).
    pub threshold: Vec<u32>,
    /// zeta times the normalised f_coll of the cell on the cell field's table nodes (partial
    /// ionisation), f32.
    pub cell_table: Vec<f32>,
    /// Whether anything can be ionised at all.
    pub active: bool,
}

/// Thresholds for node `t` with efficiency `zeta` and box-mean electron fraction `x_e_mean`.
/// `fields[0]` is the cell field, `fields[i]` the field filtered at `radii.radius[i]`.
pub fn node_thresholds(
    t: &ThresholdAt,
    zeta: f64,
    x_e_mean: f64,
    radii: &IonizationRadii,
    fields: &[CodedField],
    table: &mut Vec<f64>,
    out: &mut NodeIonization,
) {
    out.threshold.clear();
    out.cell_table.clear();
    out.active = zeta * t.f_st >= MIN_GLOBAL_IONIZATION;
    if !out.active {
        return;
    }
    let target = 1.0 - x_e_mean;
    for (i, f) in fields.iter().enumerate() {
        let cond = Conditional::new(t, radii.variance[i]);
        table.clear();
        table.extend((0..TABLE_NODES).map(|m| cond.f_coll(f.node_value(m))));
        let fix = t.f_st / f.mean_of(table).max(MIN_MEAN_FCOLL);
        if i == 0 {
            out.cell_table
                .extend(table.iter().map(|&x| (zeta * fix * x) as f32));
            out.threshold.push(65536);
            continue;
        }
        out.threshold
            .push(match cond.delta_for(target / (zeta * fix)) {
                None => 65536,
                Some(d) => f.threshold_code(d),
            });
    }
}

/// Neutral fraction of every cell: 0 where ionised at some radius, else
/// clamp(1 - zeta f_coll(cell) - x_e). `ionized` is a work buffer of the box's size.
pub fn neutral_fraction(
    node: &NodeIonization,
    fields: &[CodedField],
    x_e: &[f32],
    ionized: &mut [u8],
    x_hi: &mut [f32],
) {
    if !node.active {
        for (h, &x) in x_hi.iter_mut().zip(x_e) {
            *h = 1.0 - x;
        }
        return;
    }
    ionized.iter_mut().for_each(|f| *f = 0);
    for (f, &thr) in fields.iter().zip(&node.threshold).skip(1) {
        if thr > 65535 {
            continue;
        }
        let thr = thr as u16;
        for (flag, &code) in ionized.iter_mut().zip(&f.codes) {
            *flag |= (code >= thr) as u8;
        }
    }
    for (((h, &flag), &code), &x) in x_hi
        .iter_mut()
        .zip(ionized.iter())
        .zip(&fields[0].codes)
        .zip(x_e)
    {
        *h = if flag != 0 {
            0.0
        } else {
            (1.0 - super::filters::lerp(&node.cell_table, code) - x).clamp(0.0, 1.0)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosmology::CosmologyTables;

    #[test]
    fn radii_follow_21cmfast_setup() {
        let t = CosmologyTables::planck18();
        let r = IonizationRadii::new(&t.cosmology, &t.sigma, 4.0, 128.0, 15.0);
        assert!((r.radius[0] - 2.4814).abs() < 1e-3);
        assert_eq!(*r.radius.last().unwrap(), 15.0);
        // ln(15/2.48)/ln(1.1) = 18.9: 19 steps up from the cell, the last shortened to 15.
        assert_eq!(r.radius.len(), 20);
        for w in r.radius.windows(2) {
            assert!(w[1] > w[0] && w[1] / w[0] <= 1.1 + 1e-9);
        }
        for w in r.variance.windows(2) {
            assert!(w[1] < w[0]);
        }
        // R_mfp below the cell: only the cell.
        assert_eq!(
            IonizationRadii::new(&t.cosmology, &t.sigma, 4.0, 128.0, 1.0)
                .radius
                .len(),
            1
        );
    }
}
