//! Physical constants (cgs) and unit conversions used by the simulators.

/// Speed of light, cm/s.
pub const C_CM_S: f64 = 2.997_924_58e10;
/// Boltzmann constant, erg/K.
pub const K_B: f64 = 1.380_649e-16;
/// Planck constant, erg s.
pub const H_PLANCK: f64 = 6.626_070_15e-27;
/// Proton mass, g.
pub const M_P: f64 = 1.672_621_92e-24;
/// Gravitational constant, cm^3 g^-1 s^-2.
pub const G_NEWTON: f64 = 6.674_30e-8;
/// One megaparsec in cm.
pub const MPC_CM: f64 = 3.085_677_581e24;
/// Solar mass, g.
pub const MSUN_G: f64 = 1.988_47e33;
/// Julian year, s.
pub const YEAR_S: f64 = 3.155_76e7;
/// One electron volt in erg.
pub const EV_ERG: f64 = 1.602_176_634e-12;
/// 100 km/s/Mpc in s^-1 (H0 = h * this).
pub const H100_S: f64 = 3.240_779_29e-18;
/// Thomson cross section, cm^2.
pub const SIGMA_T: f64 = 6.6524e-25;
/// T* = h nu_21 / k_B, K.
pub const T_STAR: f64 = 0.0682;
/// Einstein A coefficient of the 21-cm line, s^-1.
pub const A_10: f64 = 2.85e-15;
/// 21-cm rest frequency, MHz.
pub const NU_21_MHZ: f64 = 1_420.405_751;
/// Lyman-alpha frequency, Hz.
pub const NU_ALPHA: f64 = 2.466_067_27e15;
/// Hydrogen ionization energy, eV.
pub const E_HI_EV: f64 = 13.6;
/// Spherical-collapse linear threshold.
pub const DELTA_C: f64 = 1.686;
