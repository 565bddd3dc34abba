//! A log-polynomial foreground, fitted together with the 21-cm signal.
//!
//! log10(T_fg / K) = sum_{i=0}^{N} a_i [log10(nu / nu_0)]^i, the smooth form used for
//! global-signal foregrounds (e.g. Bernardi et al. 2016, Bowman et al. 2018 variants).

use crate::error::ModelError;
use serde::{Deserialize, Serialize};

/// Log-polynomial foreground of a given order around a reference frequency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogPolyForeground {
    /// Polynomial order N (N + 1 coefficients `fg_a0..fg_aN`).
    pub order: usize,
    /// Reference frequency nu_0 in MHz.
    pub nu0_mhz: f64,
}

impl LogPolyForeground {
    /// A foreground of `order` (0..=7) about `nu0_mhz`.
    pub fn new(order: usize, nu0_mhz: f64) -> Result<Self, ModelError> {
        if order > 7 {
            return Err(ModelError::Invalid {
                field: "foreground.order".into(),
                reason: format!("order {order} is too high for a smooth foreground; use 0..=7"),
            });
        }
        if !(nu0_mhz.is_finite() && nu0_mhz > 0.0) {
            return Err(ModelError::Invalid {
                field: "foreground.nu0".into(),
                reason: format!("reference frequency must be > 0 MHz, got {nu0_mhz}"),
            });
        }
        Ok(LogPolyForeground { order, nu0_mhz })
    }

    /// Number of coefficients.
    pub fn n_params(&self) -> usize {
        self.order + 1
    }

    /// Parameter names `fg_a0..fg_aN`.
    pub fn param_names(&self) -> Vec<String> {
        (0..self.n_params()).map(|i| format!("fg_a{i}")).collect()
    }

    /// LaTeX labels.
    pub fn param_latex(&self) -> Vec<String> {
        (0..self.n_params()).map(|i| format!("a_{{{i}}}")).collect()
    }

    /// Foreground temperature in mK at each frequency, added into `out`.
    pub fn add_to(&self, coeffs: &[f64], freq_mhz: &[f64], out: &mut [f64]) {
        for (o, &nu) in out.iter_mut().zip(freq_mhz) {
            let x = (nu / self.nu0_mhz).log10();
            // Horner's rule in x.
            let p = coeffs.iter().rev().fold(0.0, |acc, &a| acc * x + a);
            *o += 1e3 * 10f64.powf(p);
        }
    }
}

impl LogPolyForeground {
    /// `sum_i w_i dT_i/da_k` for every coefficient `a_k` into `grad`:
    /// `dT_i/da_k = T_i ln 10 [log10(nu_i/nu_0)]^k`.
    pub fn vjp(&self, coeffs: &[f64], freq_mhz: &[f64], w: &[f64], grad: &mut [f64]) {
        grad.iter_mut().for_each(|g| *g = 0.0);
        for (&nu, &wi) in freq_mhz.iter().zip(w) {
            let x = (nu / self.nu0_mhz).log10();
            let p = coeffs.iter().rev().fold(0.0, |acc, &a| acc * x + a);
            let t = 1e3 * 10f64.powf(p) * std::f64::consts::LN_10 * wi;
            let mut xk = 1.0;
            for g in grad.iter_mut() {
                *g += t * xk;
                xk *= x;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_law_is_a_first_order_log_polynomial() {
        // T = 2000 K (nu/75)^-2.5  <=>  a0 = log10(2000), a1 = -2.5
        let fg = LogPolyForeground::new(1, 75.0).unwrap();
        let nus = [50.0, 75.0, 100.0];
        let mut out = [0.0; 3];
        fg.add_to(&[2000f64.log10(), -2.5], &nus, &mut out);
        for (o, nu) in out.iter().zip(nus) {
            let exact = 2000.0 * 1e3 * (nu / 75.0f64).powf(-2.5);
            assert!((o / exact - 1.0).abs() < 1e-12);
        }
        assert!(LogPolyForeground::new(9, 75.0).is_err());
    }
}
