//! The Lyman-alpha background from stars, J_alpha(z) (Barkana & Loeb 2005; Pritchard &
//! Furlanetto 2006):
//! J_alpha(z) = (c/4pi) (1+z)^2 sum_{n=2}^{23} f_rec(n) int_z^{z_max(n)} dz'' eps(nu''_n, z'')/H(z''),
//! nu''_n = nu_n (1+z'')/(1+z), 1 + z_max(n) = (1+z)(1 - (n+1)^-2)/(1 - n^-2).
//!
//! Pop II SED (Barkana & Loeb 2005): 6520 photons per stellar baryon between Ly-alpha and
//! Ly-beta and 3170 between Ly-beta and the Lyman limit (9690 in total), each band a power law
//! nu^-0.9. With a power law the shell sum factorises: the source term is
//! |df_coll/dz''| (1+z'')^(1-beta) times a line- and z-dependent constant, so one cumulative
//! integral G(z) = int_z^inf |df/dz''| (1+z'')^(1-beta) dz'' per call serves every line:
//! each line takes G(z) - G(z_max(n)).

use crate::cosmology::constants::{C_CM_S, M_P, NU_ALPHA};
use crate::cosmology::Cosmology;

/// Highest Lyman-series level summed.
pub const N_MAX: usize = 23;
/// Photon-number SED slope: eps_b proportional to nu^-BETA.
pub const BETA: f64 = 0.9;
/// Photons per stellar baryon between Ly-alpha and Ly-beta (Pop II).
pub const N_ALPHA_BETA: f64 = 6520.0;
/// Photons per stellar baryon between Ly-beta and the Lyman limit (Pop II).
pub const N_BETA_LL: f64 = 3170.0;

/// Fraction of Lyman-n photons that cascade through Ly-alpha (Pritchard & Furlanetto 2006,
/// table 1; linear interpolation between the tabulated n).
pub fn f_rec(n: usize) -> f64 {
    const TABLE: [(usize, f64); 11] = [
        (2, 1.0),
        (3, 0.0),
        (4, 0.2609),
        (5, 0.3078),
        (6, 0.3259),
        (7, 0.3353),
        (8, 0.3410),
        (10, 0.3476),
        (15, 0.3543),
        (20, 0.3569),
        (30, 0.3590),
    ];
    for w in TABLE.windows(2) {
        let ((n0, f0), (n1, f1)) = (w[0], w[1]);
        if n >= n0 && n <= n1 {
            return f0 + (f1 - f0) * (n - n0) as f64 / (n1 - n0) as f64;
        }
    }
    0.0
}

/// Frequency of the Lyman-n line, Hz: nu_n = nu_alpha (1 - n^-2)/0.75.
pub fn nu_line(n: usize) -> f64 {
    NU_ALPHA * (1.0 - 1.0 / (n * n) as f64) / 0.75
}

/// Chuzhoy & Shapiro (2006)-type fit of the Ly-alpha scattering correction,
/// S_alpha = exp(-0.803 T_K^(-2/3) (1e-6 tau_GP)^(1/3)), with the Gunn-Peterson depth
/// tau_GP = 3 lambda_alpha^3 A_alpha n_HI / (8 pi H).
pub fn s_alpha(c: &Cosmology, z: f64, t_k: f64, x_hi: f64) -> f64 {
    let n_hi = x_hi.max(0.0) * c.n_h0() * (1.0 + z).powi(3);
    let tau_gp = 1.342_881e-7 * n_hi / c.hubble(z);
    (-0.803 * t_k.max(0.1).powf(-2.0 / 3.0) * (1e-6 * tau_gp).cbrt()).exp()
}

/// Parameter-independent geometry of the line sum on the simulation's full grid.
#[derive(Debug, Clone)]
pub struct LymanAlphaTables {
    dz: f64,
    /// (1 + z_mid)^(1-beta) for each step (i-1, i), index i.
    step_weight: Vec<f64>,
    /// Per line n = 2..=N_MAX: f_rec(n) eps_b normalisation nu_n^-beta, i.e. the Pop II
    /// photon SED (photons per stellar baryon per Hz) of the band line n is fed from, times
    /// its recycling fraction, at nu = nu_n; a source seen at nu''_n = nu_n (1+z'')/(1+z)
    /// contributes `line_coeff[n - 2] * ((1+z'')/(1+z))^-BETA`.
    pub line_coeff: Vec<f64>,
    /// Per line: (1+z_max)/(1+z).
    line_ratio: Vec<f64>,
    /// c rho_b0 / (4 pi m_p): stellar baryons per comoving cm^3 per unit f_star df.
    prefactor: f64,
    /// Per grid node: prefactor (1+z)^(2+beta).
    node_factor: Vec<f64>,
    /// Per grid node and line: (index, weight) of z_max(n) on the grid (index beyond the
    /// grid: the horizon is above the top, G = 0 there).
    horizon: Vec<(usize, f64)>,
}

impl LymanAlphaTables {
    /// Build for the grid z_i = i dz, i = 0..=n.
    pub fn new(c: &Cosmology, n: usize, dz: f64) -> Self {
        let step_weight = (0..=n)
            .map(|i| {
                if i == 0 {
                    0.0
                } else {
                    (1.0 + (i as f64 - 0.5) * dz).powf(1.0 - BETA)
                }
            })
            .collect();
        let band = |a: f64, b: f64| (b.powf(1.0 - BETA) - a.powf(1.0 - BETA)) / (1.0 - BETA);
        let (nu_b, nu_ll) = (nu_line(3), NU_ALPHA / 0.75);
        let c1 = N_ALPHA_BETA / band(NU_ALPHA, nu_b);
        let c2 = N_BETA_LL / band(nu_b, nu_ll);
        let mut line_coeff = Vec::new();
        let mut line_ratio = Vec::new();
        for nl in 2..=N_MAX {
            let norm = if nl == 2 { c1 } else { c2 };
            line_coeff.push(f_rec(nl) * norm * nu_line(nl).powf(-BETA));
            line_ratio.push(nu_line(nl + 1) / nu_line(nl));
        }
        let prefactor = C_CM_S * c.rho_b0() / (4.0 * std::f64::consts::PI * M_P);
        let node_factor = (0..=n)
            .map(|i| prefactor * (1.0 + i as f64 * dz).powf(2.0 + BETA))
            .collect();
        let mut horizon = Vec::with_capacity((n + 1) * line_ratio.len());
        for i in 0..=n {
            for ratio in &line_ratio {
                let x = ((1.0 + i as f64 * dz) * ratio - 1.0) / dz;
                let m = x as usize;
                horizon.push((m, x - m as f64));
            }
        }
        Self {
            dz,
            step_weight,
            line_coeff,
            line_ratio,
            prefactor,
            node_factor,
            horizon,
        }
    }

    /// Cumulative source integral G on the grid (G at the top node = 0), from the collapsed
    /// fraction on the grid.
    pub fn cumulative(&self, f_coll: &[f64], g: &mut [f64]) {
        let n = f_coll.len() - 1;
        g[n] = 0.0;
        for i in (1..=n).rev() {
            g[i - 1] = g[i] + (f_coll[i - 1] - f_coll[i]).max(0.0) * self.step_weight[i];
        }
    }

    fn interp(&self, g: &[f64], z: f64) -> f64 {
        let x = z / self.dz;
        let n = g.len() - 1;
        if x >= n as f64 {
            return 0.0;
        }
        let i = x as usize;
        let t = x - i as f64;
        g[i] * (1.0 - t) + g[i + 1] * t
    }

    /// Stellar J_alpha at grid node `i` (z = i dz) given G and f_star: the per-call fast path
    /// with the line horizons' grid positions precomputed.
    pub fn j_alpha_node(&self, g: &[f64], i: usize, f_star: f64) -> f64 {
        let n = g.len() - 1;
        let nl = self.line_coeff.len();
        let gz = g[i];
        let mut s = 0.0;
        for (coef, &(m, t)) in self
            .line_coeff
            .iter()
            .zip(&self.horizon[i * nl..(i + 1) * nl])
        {
            let gm = if m >= n {
                0.0
            } else {
                g[m] * (1.0 - t) + g[m + 1] * t
            };
            s += coef * (gz - gm);
        }
        self.node_factor[i] * f_star * s
    }

    /// Stellar J_alpha (cm^-2 s^-1 Hz^-1 sr^-1) at redshift z given G and f_star.
    pub fn j_alpha(&self, g: &[f64], z: f64, f_star: f64) -> f64 {
        let gz = self.interp(g, z);
        let mut s = 0.0;
        for (coef, ratio) in self.line_coeff.iter().zip(&self.line_ratio) {
            let z_max = (1.0 + z) * ratio - 1.0;
            s += coef * (gz - self.interp(g, z_max));
        }
        self.prefactor * f_star * (1.0 + z).powf(2.0 + BETA) * s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_horizons_and_recycling() {
        assert_eq!(f_rec(2), 1.0);
        assert_eq!(f_rec(3), 0.0);
        assert!((f_rec(9) - 0.5 * (0.3410 + 0.3476)).abs() < 1e-12);
        // Ly-alpha horizon: 1 + z_max = (1+z) 32/27.
        assert!((nu_line(3) / nu_line(2) - 32.0 / 27.0).abs() < 1e-12);
    }

    #[test]
    fn factorised_sum_matches_direct_shell_sum() {
        // Direct evaluation of the shell integral for a smooth toy f_coll(z) = exp(-z/3)/10.
        let c = Cosmology::planck18();
        let (n, dz) = (600, 0.1);
        let t = LymanAlphaTables::new(&c, n, dz);
        let f: Vec<f64> = (0..=n)
            .map(|i| (-(i as f64 * dz) / 3.0).exp() / 10.0)
            .collect();
        let mut g = vec![0.0; n + 1];
        t.cumulative(&f, &mut g);
        let z = 15.0;
        let j = t.j_alpha(&g, z, 0.1);
        let jn = t.j_alpha_node(&g, 150, 0.1);
        assert!((jn / j - 1.0).abs() < 1e-9, "{jn} {j}");
        // Direct: sum over lines of int dz'' |df/dz''| (1+z'') eps_b(nu_n (1+z'')/(1+z)).
        let band = |a: f64, b: f64| (b.powf(0.1) - a.powf(0.1)) / 0.1;
        let c1 = N_ALPHA_BETA / band(NU_ALPHA, nu_line(3));
        let c2 = N_BETA_LL / band(nu_line(3), NU_ALPHA / 0.75);
        let mut s = 0.0;
        for nl in 2..=N_MAX {
            let zmax = (1.0 + z) * nu_line(nl + 1) / nu_line(nl) - 1.0;
            let m = 20000;
            let h = (zmax - z) / m as f64;
            for k in 0..m {
                let zz = z + (k as f64 + 0.5) * h;
                let dfdz = (-zz / 3.0).exp() / 30.0;
                let nu = nu_line(nl) * (1.0 + zz) / (1.0 + z);
                let eps = if nl == 2 { c1 } else { c2 } * nu.powf(-BETA);
                s += f_rec(nl) * dfdz * (1.0 + zz) * eps * h;
            }
        }
        let direct =
            C_CM_S * c.rho_b0() / (4.0 * std::f64::consts::PI * M_P) * 0.1 * (1.0 + z).powi(2) * s;
        assert!((j / direct - 1.0).abs() < 2e-3, "{j} {direct}");
    }

    #[test]
    fn s_alpha_is_below_one_and_rises_with_temperature() {
        let c = Cosmology::planck18();
        let cold = s_alpha(&c, 15.0, 5.0, 1.0);
        let warm = s_alpha(&c, 15.0, 500.0, 1.0);
        assert!(cold < warm && warm < 1.0 && cold > 0.5, "{cold} {warm}");
    }
}
