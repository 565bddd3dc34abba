//! The four map parameters of Gillet et al. (2019) and the two fixed-by-default ones.

use spinflip_likelihoods::ModelError;

/// Number of varied map parameters.
pub const N_MAP_PARAMS: usize = 4;

/// Names, in the order of a parameter row (NPZ `params`, `--params` files).
pub const MAP_PARAM_NAMES: [&str; N_MAP_PARAMS] = ["zeta", "log10_Tvir", "log10_LX", "E0_keV"];

/// Prior box of Gillet et al. (2019): zeta, log10 T_vir (K), log10 L_X/SFR
/// (erg/s per Msun/yr, below 2 keV), E_0 (keV). Uniform in these variables.
pub const MAP_PARAM_RANGES: [(f64, f64); N_MAP_PARAMS] =
    [(10.0, 250.0), (4.0, 6.0), (38.0, 42.0), (0.1, 1.5)];

/// Values this far (relative) outside a range edge are clamped onto it (rounding in text files).
const EDGE_TOLERANCE: f64 = 1e-9;

/// One point of the map parameter space plus the two parameters Gillet et al. fixed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapParams {
    /// Ionizing efficiency zeta (ionizing photons reaching the IGM per collapsed baryon).
    pub zeta: f64,
    /// log10 of the minimum virial temperature of star-forming halos, K.
    pub log10_t_vir: f64,
    /// log10 of L_X/SFR in erg/s per (Msun/yr), emitted between E_0 and 2 keV
    /// (21cmFAST's convention).
    pub log10_l_x: f64,
    /// X-ray energy threshold E_0 in keV: softer photons are absorbed in the host galaxy.
    pub e0_kev: f64,
    /// Mean free path of ionizing photons in ionized regions (largest excursion-set radius),
    /// comoving Mpc. Fixed at 15 Mpc by default.
    pub r_mfp: f64,
    /// X-ray spectral energy index: L_nu proportional to nu^-alpha_X. Fixed at 1 by default.
    pub alpha_x: f64,
}

impl Default for MapParams {
    fn default() -> Self {
        Self::fiducial()
    }
}

impl MapParams {
    /// Default R_mfp, Mpc.
    pub const R_MFP_DEFAULT: f64 = 15.0;
    /// Default alpha_X.
    pub const ALPHA_X_DEFAULT: f64 = 1.0;
    /// Allowed R_mfp range, Mpc (below the cell size nothing is filtered; above a few hundred
    /// Mpc no box here holds the bubbles).
    pub const R_MFP_RANGE: (f64, f64) = (1.0, 500.0);
    /// Allowed alpha_X range.
    pub const ALPHA_X_RANGE: (f64, f64) = (-1.0, 3.0);

    /// The centre-ish point used by examples and benches: zeta = 30, T_vir = 10^4.7 K,
    /// L_X = 10^40.5, E_0 = 0.5 keV (21cmFAST v4's defaults for the last three).
    pub fn fiducial() -> Self {
        Self {
            zeta: 30.0,
            log10_t_vir: 4.69897,
            log10_l_x: 40.5,
            e0_kev: 0.5,
            r_mfp: Self::R_MFP_DEFAULT,
            alpha_x: Self::ALPHA_X_DEFAULT,
        }
    }

    /// Validate and build from a row (zeta, log10_Tvir, log10_LX, E0_keV) with the default
    /// R_mfp and alpha_X. Values outside the Gillet et al. box are an
    /// [`ModelError::OutOfRange`] naming the parameter.
    pub fn from_slice(theta: &[f64]) -> Result<Self, ModelError> {
        if theta.len() != N_MAP_PARAMS {
            return Err(ModelError::Dimension {
                what: format!("map parameters ({})", MAP_PARAM_NAMES.join(", ")),
                expected: N_MAP_PARAMS,
                got: theta.len(),
            });
        }
        let mut v = [0.0; N_MAP_PARAMS];
        for (i, (&x, &(lo, hi))) in theta.iter().zip(&MAP_PARAM_RANGES).enumerate() {
            v[i] = check(MAP_PARAM_NAMES[i], x, lo, hi)?;
        }
        Ok(Self {
            zeta: v[0],
            log10_t_vir: v[1],
            log10_l_x: v[2],
            e0_kev: v[3],
            r_mfp: Self::R_MFP_DEFAULT,
            alpha_x: Self::ALPHA_X_DEFAULT,
        })
    }

    /// Check every field (the four against the Gillet et al. box, R_mfp and alpha_X against
    /// their wider ranges).
    pub fn validate(&self) -> Result<(), ModelError> {
        Self::from_slice(&self.to_array())?;
        check(
            "R_mfp",
            self.r_mfp,
            Self::R_MFP_RANGE.0,
            Self::R_MFP_RANGE.1,
        )?;
        check(
            "alpha_X",
            self.alpha_x,
            Self::ALPHA_X_RANGE.0,
            Self::ALPHA_X_RANGE.1,
        )?;
        Ok(())
    }

    /// The four varied parameters in [`MAP_PARAM_NAMES`] order.
    pub fn to_array(&self) -> [f64; N_MAP_PARAMS] {
        [self.zeta, self.log10_t_vir, self.log10_l_x, self.e0_kev]
    }

    /// The point at unit-cube coordinates `u` (uniform in each of the four variables).
    pub fn from_unit_cube(u: &[f64; N_MAP_PARAMS]) -> Self {
        let mut v = [0.0; N_MAP_PARAMS];
        for (i, (&ui, &(lo, hi))) in u.iter().zip(&MAP_PARAM_RANGES).enumerate() {
            v[i] = lo + ui.clamp(0.0, 1.0) * (hi - lo);
        }
        Self {
            zeta: v[0],
            log10_t_vir: v[1],
            log10_l_x: v[2],
            e0_kev: v[3],
            r_mfp: Self::R_MFP_DEFAULT,
            alpha_x: Self::ALPHA_X_DEFAULT,
        }
    }

    /// Minimum virial temperature, K.
    pub fn t_vir(&self) -> f64 {
        10f64.powf(self.log10_t_vir)
    }

    /// L_X/SFR in erg/s per (Msun/yr), E_0 to 2 keV.
    pub fn l_x(&self) -> f64 {
        10f64.powf(self.log10_l_x)
    }
}

fn check(name: &str, x: f64, lo: f64, hi: f64) -> Result<f64, ModelError> {
    if !x.is_finite() {
        return Err(ModelError::NonFinite {
            name: name.into(),
            value: x,
        });
    }
    let tol = EDGE_TOLERANCE * (hi - lo).abs().max(1.0);
    if x < lo - tol || x > hi + tol {
        return Err(ModelError::OutOfRange {
            name: name.into(),
            value: x,
            min: lo,
            max: hi,
        });
    }
    Ok(x.clamp(lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_range_errors() {
        let p = MapParams::from_slice(&[100.0, 5.0, 40.0, 1.0]).unwrap();
        assert_eq!(p.to_array(), [100.0, 5.0, 40.0, 1.0]);
        assert_eq!(p.r_mfp, 15.0);
        assert_eq!(p.alpha_x, 1.0);
        match MapParams::from_slice(&[300.0, 5.0, 40.0, 1.0]) {
            Err(ModelError::OutOfRange { name, .. }) => assert_eq!(name, "zeta"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            MapParams::from_slice(&[100.0, f64::NAN, 40.0, 1.0]),
            Err(ModelError::NonFinite { .. })
        ));
        assert!(matches!(
            MapParams::from_slice(&[100.0, 5.0, 40.0]),
            Err(ModelError::Dimension { .. })
        ));
        // Rounding just outside an edge is accepted and clamped.
        let q = MapParams::from_slice(&[250.0 + 1e-10, 4.0, 38.0, 0.1]).unwrap();
        assert_eq!(q.zeta, 250.0);
        let bad = MapParams {
            r_mfp: 0.0,
            ..MapParams::fiducial()
        };
        assert!(bad.validate().is_err());
        assert!(MapParams::fiducial().validate().is_ok());
    }

    #[test]
    fn unit_cube_corners_are_the_box_corners() {
        let lo = MapParams::from_unit_cube(&[0.0; 4]).to_array();
        let hi = MapParams::from_unit_cube(&[1.0; 4]).to_array();
        for i in 0..N_MAP_PARAMS {
            assert_eq!(lo[i], MAP_PARAM_RANGES[i].0);
            assert_eq!(hi[i], MAP_PARAM_RANGES[i].1);
        }
    }
}
