//! Linear growth factor, Carroll, Press & Turner (1992, ARA&A 30, 499) fit:
//! D(z) = g(z) / (g(0) (1+z)), g = 2.5 Om / (Om^(4/7) - OL + (1 + Om/2)(1 + OL/70)).

use super::cosmology::Cosmology;

/// CPT growth suppression g(z) relative to an Einstein-de Sitter universe.
fn cpt_g(c: &Cosmology, z: f64) -> f64 {
    let e2 = c.e_of_z(z).powi(2);
    let om = c.omega_m * (1.0 + z).powi(3) / e2;
    let ol = c.omega_lambda() / e2;
    2.5 * om / (om.powf(4.0 / 7.0) - ol + (1.0 + 0.5 * om) * (1.0 + ol / 70.0))
}

/// Linear growth factor normalised to D(0) = 1.
pub fn growth_factor(c: &Cosmology, z: f64) -> f64 {
    cpt_g(c, z) / (cpt_g(c, 0.0) * (1.0 + z))
}

/// d ln D / dz by a centred difference.
pub fn dln_growth_dz(c: &Cosmology, z: f64) -> f64 {
    let h = 1e-3 * (1.0 + z);
    (growth_factor(c, z + h).ln() - growth_factor(c, z - h).ln()) / (2.0 * h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matter_domination_gives_d_proportional_to_a() {
        let c = Cosmology::planck18();
        // At z >> 1 D(z)(1+z) is constant (EdS), ~ 1/g(0) ~ 1.27 for Omega_m ~ 0.31; radiation
        // (Omega_r (1+z) ~ 1% of matter at z = 40) bends it by a few 1e-3.
        let a = growth_factor(&c, 20.0) * 21.0;
        let b = growth_factor(&c, 40.0) * 41.0;
        assert!((a / b - 1.0).abs() < 5e-3, "{a} {b}");
        assert!(a > 1.2 && a < 1.35, "{a}");
        assert!((growth_factor(&c, 0.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn einstein_de_sitter_growth_is_exact() {
        let c = Cosmology {
            omega_m: 1.0 - 1e-9,
            omega_r: 0.0,
            ..Cosmology::planck18()
        };
        for z in [1.0, 10.0, 30.0] {
            assert!((growth_factor(&c, z) * (1.0 + z) - 1.0).abs() < 1e-6);
        }
    }

    #[test]
    fn growth_rate_matches_the_ode_solution() {
        // Integrate D'' + (2 + dlnH/dlna) D' = 1.5 Omega_m(a) D in ln a (primes d/dlna) from
        // the EdS growing mode at a = 1/101 and compare the ratio D(z=0)/D(z=9).
        let c = Cosmology {
            omega_r: 0.0,
            ..Cosmology::planck18()
        };
        let n = 20000;
        let (x0, x1) = ((1.0f64 / 101.0).ln(), 0.0);
        let h = (x1 - x0) / n as f64;
        let f = |x: f64, d: f64, dp: f64| {
            let z = (-x).exp() - 1.0;
            let e2 = c.e_of_z(z).powi(2);
            let om = c.omega_m * (1.0 + z).powi(3) / e2;
            let dlnh = -1.5 * om;
            (dp, 1.5 * om * d - (2.0 + dlnh) * dp)
        };
        let (mut d, mut dp) = (x0.exp(), x0.exp());
        let mut d9 = 0.0;
        for i in 0..n {
            let x = x0 + i as f64 * h;
            let (k1a, k1b) = f(x, d, dp);
            let (k2a, k2b) = f(x + h / 2.0, d + h / 2.0 * k1a, dp + h / 2.0 * k1b);
            let (k3a, k3b) = f(x + h / 2.0, d + h / 2.0 * k2a, dp + h / 2.0 * k2b);
            let (k4a, k4b) = f(x + h, d + h * k3a, dp + h * k3b);
            d += h / 6.0 * (k1a + 2.0 * k2a + 2.0 * k3a + k4a);
            dp += h / 6.0 * (k1b + 2.0 * k2b + 2.0 * k3b + k4b);
            if ((x + h) - (0.1f64).ln()).abs() < h / 2.0 {
                d9 = d;
            }
        }
        let ode = d / d9;
        let fit = 1.0 / growth_factor(&c, 9.0);
        // The CPT fit is good to ~1% (Carroll, Press & Turner 1992).
        assert!((fit / ode - 1.0).abs() < 0.01, "{fit} {ode}");
    }
}
