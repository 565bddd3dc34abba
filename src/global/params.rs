//! The seven 21cmGEM astrophysical parameters: names, LaTeX, prior ranges, validation.

use spinflip_likelihoods::ModelError;

/// Number of parameters.
pub const N_PARAMS: usize = 7;

/// Parameter names, in the order `theta` takes them (as in the 21cmGEM data set).
pub const PARAM_NAMES: [&str; N_PARAMS] =
    ["f_star", "V_c", "f_X", "tau", "alpha_X", "nu_min", "R_mfp"];

/// LaTeX labels.
pub const PARAM_LATEX: [&str; N_PARAMS] = [
    r"f_\star",
    r"V_c\,[\mathrm{km\,s^{-1}}]",
    r"f_X",
    r"\tau",
    r"\alpha_X",
    r"\nu_\mathrm{min}\,[\mathrm{keV}]",
    r"R_\mathrm{mfp}\,[\mathrm{Mpc}]",
];

/// Prior ranges [min, max] (21cmGEM; Cohen et al. 2020).
pub const PARAM_RANGES: [(f64, f64); N_PARAMS] = [
    (1e-4, 0.5),
    (4.2, 100.0),
    (1e-6, 1e3),
    (0.04, 0.2),
    (1.0, 1.5),
    (0.1, 3.0),
    (10.0, 50.0),
];

/// Whether the 21cmGEM prior is log-uniform (f_star, V_c, f_X) rather than uniform.
pub const PARAM_LOG: [bool; N_PARAMS] = [true, true, true, false, false, false, false];

/// Values within this relative distance outside a range edge are clamped onto it (rounding
/// in files written with fewer digits).
const EDGE_TOLERANCE: f64 = 1e-9;

/// One point of the 21cmGEM parameter space.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlobalParams {
    /// Star formation efficiency.
    pub f_star: f64,
    /// Minimum circular velocity of star-forming halos, km/s.
    pub v_c: f64,
    /// X-ray efficiency: L_X/SFR = 3e40 f_X erg/s/(Msun/yr) in 0.2-95 keV.
    pub f_x: f64,
    /// CMB optical depth.
    pub tau: f64,
    /// X-ray SED slope (L_nu proportional to nu^-alpha_X).
    pub alpha_x: f64,
    /// Low-energy cutoff of the X-ray SED, keV.
    pub nu_min: f64,
    /// Mean free path of ionizing photons, comoving Mpc.
    pub r_mfp: f64,
}

impl GlobalParams {
    /// The fiducial point used by the example and tests: f_star = 0.05, V_c = 16.5 km/s
    /// (atomic cooling), f_X = 1, tau = 0.055 (Planck 2018), alpha_X = 1.3, nu_min = 0.5 keV,
    /// R_mfp = 30 Mpc.
    pub fn fiducial() -> Self {
        Self {
            f_star: 0.05,
            v_c: 16.5,
            f_x: 1.0,
            tau: 0.055,
            alpha_x: 1.3,
            nu_min: 0.5,
            r_mfp: 30.0,
        }
    }

    /// Validate and build from `theta` in [`PARAM_NAMES`] order. f_X = 0 is read as 1e-6
    /// (the 21cmGEM convention).
    pub fn from_slice(theta: &[f64]) -> Result<Self, ModelError> {
        if theta.len() != N_PARAMS {
            return Err(ModelError::Dimension {
                what: "21cmGEM parameters".into(),
                expected: N_PARAMS,
                got: theta.len(),
            });
        }
        let mut v = [0.0; N_PARAMS];
        for (i, (&x, &(min, max))) in theta.iter().zip(&PARAM_RANGES).enumerate() {
            if !x.is_finite() {
                return Err(ModelError::NonFinite {
                    name: PARAM_NAMES[i].into(),
                    value: x,
                });
            }
            let x = if i == 2 && x == 0.0 { min } else { x };
            let tol = EDGE_TOLERANCE * max.abs();
            if x < min - tol || x > max + tol {
                return Err(ModelError::OutOfRange {
                    name: PARAM_NAMES[i].into(),
                    value: x,
                    min,
                    max,
                });
            }
            v[i] = x.clamp(min, max);
        }
        Ok(Self {
            f_star: v[0],
            v_c: v[1],
            f_x: v[2],
            tau: v[3],
            alpha_x: v[4],
            nu_min: v[5],
            r_mfp: v[6],
        })
    }

    /// The values in [`PARAM_NAMES`] order.
    pub fn to_array(&self) -> [f64; N_PARAMS] {
        [
            self.f_star,
            self.v_c,
            self.f_x,
            self.tau,
            self.alpha_x,
            self.nu_min,
            self.r_mfp,
        ]
    }

    /// Map a point of the unit cube to the 21cmGEM prior box (log-uniform where
    /// [`PARAM_LOG`] says so).
    pub fn from_unit_cube(u: &[f64; N_PARAMS]) -> Self {
        let mut v = [0.0; N_PARAMS];
        for i in 0..N_PARAMS {
            let (lo, hi) = PARAM_RANGES[i];
            let t = u[i].clamp(0.0, 1.0);
            v[i] = if PARAM_LOG[i] {
                (lo.ln() + t * (hi.ln() - lo.ln())).exp()
            } else {
                lo + t * (hi - lo)
            }
            .clamp(lo, hi);
        }
        Self::from_slice(&v).expect("unit cube maps inside the box")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let p = GlobalParams::fiducial();
        assert_eq!(GlobalParams::from_slice(&p.to_array()).unwrap(), p);
        let mut t = p.to_array();
        t[2] = 0.0;
        assert_eq!(GlobalParams::from_slice(&t).unwrap().f_x, 1e-6);
        t[3] = 0.3;
        assert!(matches!(
            GlobalParams::from_slice(&t),
            Err(ModelError::OutOfRange { ref name, .. }) if name == "tau"
        ));
        t[3] = f64::NAN;
        assert!(matches!(
            GlobalParams::from_slice(&t),
            Err(ModelError::NonFinite { .. })
        ));
        assert!(matches!(
            GlobalParams::from_slice(&t[..6]),
            Err(ModelError::Dimension { .. })
        ));
    }

    #[test]
    fn unit_cube_corners_are_the_box_corners() {
        let lo = GlobalParams::from_unit_cube(&[0.0; N_PARAMS]).to_array();
        let hi = GlobalParams::from_unit_cube(&[1.0; N_PARAMS]).to_array();
        for i in 0..N_PARAMS {
            assert!((lo[i] / PARAM_RANGES[i].0 - 1.0).abs() < 1e-12);
            assert!((hi[i] / PARAM_RANGES[i].1 - 1.0).abs() < 1e-12);
        }
        // Log-uniform: the cube's middle is the geometric mean.
        let mid = GlobalParams::from_unit_cube(&[0.5; N_PARAMS]);
        assert!((mid.f_x / (1e-6f64 * 1e3).sqrt() - 1.0).abs() < 1e-9);
    }
}
