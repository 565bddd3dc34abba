//! Reionization: the ionized volume filling factor Q(z), the CMB optical depth, and the
//! ionizing efficiency zeta solved so that tau equals the input (21cmGEM takes tau, not zeta).
//!
//! dQ/dt = zeta f_IGM(Q) df_coll/dt - Q/t_rec (Madau, Haardt & Rees 1999), with
//! 1/t_rec = C alpha_B(T) n_H0 (1+z)^3 (1 + Y/(4X)), C = 3, T = 1e4 K.
//!
//! R_mfp enters through f_IGM, the fraction of ionizing photons that reach an ionization front
//! rather than being absorbed by Lyman-limit systems inside the ionized bubble. A source at a
//! uniformly random distance (0..R_b) from the bubble edge, photons with mean free path R_mfp:
//! f_IGM = (R_mfp/R_b)(1 - exp(-R_b/R_mfp)). The typical bubble radius grows with Q as in the
//! excursion-set bubble model (Furlanetto, Zaldarriaga & Hernquist 2004, the size where the bubble
//! distribution peaks): R_b = R_b0 (Q/(1-Q))^(1/3), R_b0 = 10 comoving Mpc. Small R_mfp slows
//! the end of reionization (a more extended history for the same tau).

use super::brent::{brent, BrentError};
use crate::cosmology::constants::{C_CM_S, SIGMA_T};
use crate::cosmology::Cosmology;
use spinflip_likelihoods::ModelError;

/// Clumping factor of ionized gas.
pub const CLUMPING: f64 = 3.0;
/// Temperature of ionized gas, K.
pub const T_IONIZED: f64 = 1e4;
/// Bubble radius at Q = 1/2, comoving Mpc.
pub const BUBBLE_RADIUS_HALF: f64 = 10.0;

/// Case-B recombination coefficient, cm^3/s (PHYSICS.md): 2.59e-13 (T/1e4)^-0.75.
pub fn alpha_b(t: f64) -> f64 {
    2.59e-13 * (t / 1e4).powf(-0.75)
}

/// Fraction of ionizing photons that reach the ionization front (see module docs).
pub fn igm_photon_fraction(q: f64, r_mfp: f64) -> f64 {
    if q <= 0.0 {
        return 1.0;
    }
    if q >= 1.0 {
        return 0.0;
    }
    let r_b = BUBBLE_RADIUS_HALF * (q / (1.0 - q)).cbrt();
    let x = r_b / r_mfp;
    if x < 1e-6 {
        1.0 - 0.5 * x
    } else {
        -(-x).exp_m1() / x
    }
}

/// [`igm_photon_fraction`] tabulated in Q for one R_mfp (linear interpolation; the root find
/// evaluates it ~10^4 times per call). f has a (1-Q)^(1/3) cusp at Q -> 1, so the last 1% in
/// Q gets its own fine table (error < 4e-4 for 0.01 <= Q <= 1).
#[derive(Debug, Clone)]
pub struct PhotonFractionTable {
    coarse: Vec<f64>,
    fine: Vec<f64>,
}

impl PhotonFractionTable {
    const N: usize = 512;
    const SPLIT: f64 = 0.99;

    /// Tabulate for mean free path `r_mfp` (Mpc).
    pub fn new(r_mfp: f64) -> Self {
        let n = Self::N as f64;
        Self {
            coarse: (0..=Self::N)
                .map(|i| igm_photon_fraction(Self::SPLIT * i as f64 / n, r_mfp))
                .collect(),
            fine: (0..=Self::N)
                .map(|i| {
                    igm_photon_fraction(Self::SPLIT + (1.0 - Self::SPLIT) * i as f64 / n, r_mfp)
                })
                .collect(),
        }
    }

    /// f_IGM(Q).
    pub fn eval(&self, q: f64) -> f64 {
        self.eval_with_slope(q).0
    }

    /// f_IGM(Q) and its slope dF/dQ on the interpolating segment.
    pub fn eval_with_slope(&self, q: f64) -> (f64, f64) {
        let (v, slope, _, _) = self.segment(q);
        (v, slope)
    }

    /// f_IGM(Q), its slope, and the Q range of the linear segment holding `q`.
    fn segment(&self, q: f64) -> (f64, f64, f64, f64) {
        let (table, x, start, width) = if q < Self::SPLIT {
            (&self.coarse, q.max(0.0) / Self::SPLIT, 0.0, Self::SPLIT)
        } else {
            (
                &self.fine,
                ((q - Self::SPLIT) / (1.0 - Self::SPLIT)).min(1.0),
                Self::SPLIT,
                1.0 - Self::SPLIT,
            )
        };
        let n = Self::N as f64;
        let x = x * n;
        let i = (x as usize).min(Self::N - 1);
        let t = x - i as f64;
        let value = table[i] * (1.0 - t) + table[i + 1] * t;
        let lo = start + width * i as f64 / n;
        let hi = start + width * (i + 1) as f64 / n;
        (value, (table[i + 1] - table[i]) * n / width, lo, hi)
    }

    /// One backward-Euler step of dQ = s f_IGM(Q) - r Q from `q` (`s`: zeta times the
    /// step's growth of f_coll, `r`: the step's dt/t_rec): the root of
    /// Q'(1 + r) - s f_IGM(Q') = q in [0, 1].
    ///
    /// Fully implicit because f_IGM falls to 0 at Q = 1 with a (1-Q)^(1/3) cusp: with the
    /// sources explicit, Q overshoots to 1 where f_IGM = 0, recombinations pull it back, and
    /// the step alternates between ~0.94 and 1 after reionization (a saw-tooth of ~10 mK
    /// between neighbouring channels). The implicit step approaches the equilibrium
    /// monotonically. The left side is increasing in Q' (f_IGM is non-increasing), negative
    /// at 0 and >= r at 1, so the root exists and is unique: safeguarded Newton on the
    /// piecewise-linear table (exact once on the right segment).
    pub fn implicit_step(&self, q: f64, s: f64, r: f64) -> f64 {
        let (mut lo, mut hi) = (0.0f64, 1.0f64);
        // Newton from the previous Q. f_IGM is linear on each table segment, so a Newton step
        // that stays on the segment it started from is the root (one table look-up for most
        // steps); otherwise iterate, bisecting when Newton leaves the bracket.
        const TOL: f64 = 1e-13;
        let mut x = q.clamp(0.0, 1.0);
        for _ in 0..200 {
            let (f, df, seg_lo, seg_hi) = self.segment(x);
            let gx = x * (1.0 + r) - s * f - q;
            let dg = (1.0 + r) - s * df;
            if gx == 0.0 {
                return x;
            }
            if gx < 0.0 {
                lo = x;
            } else {
                hi = x;
            }
            let newton = x - gx / dg;
            if dg > 0.0 && newton >= lo && newton <= hi {
                if (newton >= seg_lo && newton <= seg_hi) || (newton - x).abs() <= TOL {
                    return newton.clamp(0.0, 1.0);
                }
                x = newton;
            } else {
                x = 0.5 * (lo + hi);
                if hi - lo <= TOL {
                    return x;
                }
            }
        }
        x.clamp(0.0, 1.0)
    }
}

/// Parameter-independent pieces of the reionization integral on the simulation's full grid
/// z_i = i dz, i = 0..n (ascending).
#[derive(Debug, Clone)]
pub struct ReionizationTables {
    /// Redshifts of the full grid (ascending, from 0).
    pub z: Vec<f64>,
    /// Delta t / t_rec over the step from z_i down to z_{i-1} (index i; entry 0 unused).
    pub rec_step: Vec<f64>,
    /// tau contribution of Q = 1 at node i (trapezoid weights, z >= 3); 0 below z = 3.
    pub tau_weight: Vec<f64>,
    /// tau from 0 < z < 3 (H and doubly-ionized He), independent of Q.
    pub tau_low: f64,
}

impl ReionizationTables {
    /// Build for a grid of `n + 1` nodes with spacing `dz` starting at z = 0.
    pub fn new(c: &Cosmology, n: usize, dz: f64) -> Self {
        let z: Vec<f64> = (0..=n).map(|i| i as f64 * dz).collect();
        let nh = c.n_h0();
        let he_factor = 1.0 + c.y_he / (4.0 * (1.0 - c.y_he));
        let rec_step: Vec<f64> = z
            .iter()
            .enumerate()
            .map(|(i, &zi)| {
                if i == 0 {
                    return 0.0;
                }
                let zm = zi - 0.5 * dz;
                let rate = CLUMPING * alpha_b(T_IONIZED) * nh * (1.0 + zm).powi(3) * he_factor;
                rate * c.dt_dz(zm) * dz
            })
            .collect();
        // tau = sigma_T c int (1+z)^2/H n_e0 dz. Below z = 3 (He doubly ionized) integrate
        // finely; above, trapezoid weights on the grid nodes multiply Q.
        let pref = SIGMA_T * C_CM_S;
        let f = |zz: f64| (1.0 + zz).powi(2) / c.hubble(zz);
        let n_low = 3000;
        let h = 3.0 / n_low as f64;
        let mut s = 0.5 * (f(0.0) + f(3.0));
        for k in 1..n_low {
            s += f(k as f64 * h);
        }
        let tau_low = pref * (nh + 2.0 * c.n_he0()) * s * h;
        let mut tau_weight = vec![0.0; n + 1];
        let i3 = (3.0 / dz).round() as usize;
        for i in i3..=n {
            let end = i == i3 || i == n;
            tau_weight[i] = pref * (nh + c.n_he0()) * f(z[i]) * dz * if end { 0.5 } else { 1.0 };
        }
        Self {
            z,
            rec_step,
            tau_weight,
            tau_low,
        }
    }

    /// Integrate Q from the top of the grid down to z = 0 for efficiency `zeta`, given the
    /// collapsed fraction on the grid; writes Q into `q` and returns tau.
    pub fn evolve(&self, zeta: f64, r_mfp: f64, f_coll: &[f64], q: &mut [f64]) -> f64 {
        self.evolve_with(zeta, &PhotonFractionTable::new(r_mfp), f_coll, q)
    }

    fn evolve_with(
        &self,
        zeta: f64,
        f_igm: &PhotonFractionTable,
        f_coll: &[f64],
        q: &mut [f64],
    ) -> f64 {
        let n = self.z.len() - 1;
        q[n] = (zeta * f_coll[n]).min(1.0);
        let mut tau = self.tau_low + self.tau_weight[n] * q[n];
        for i in (1..=n).rev() {
            let df = (f_coll[i - 1] - f_coll[i]).max(0.0);
            q[i - 1] = f_igm.implicit_step(q[i], zeta * df, self.rec_step[i]);
            tau += self.tau_weight[i - 1] * q[i - 1];
        }
        tau
    }

    /// Solve for the zeta whose history gives optical depth `tau` (Brent in ln zeta), leaving
    /// that history in `q`. Returns zeta.
    pub fn solve_zeta(
        &self,
        tau: f64,
        r_mfp: f64,
        f_coll: &[f64],
        q: &mut [f64],
    ) -> Result<f64, ModelError> {
        let (lo, hi) = (1e-4f64.ln(), 1e14f64.ln());
        let f_igm = PhotonFractionTable::new(r_mfp);
        let mut g = |ln_zeta: f64| self.evolve_with(ln_zeta.exp(), &f_igm, f_coll, q) / tau - 1.0;
        // Bracket within one decade, walking out from a typical zeta (tau(ln zeta) saturates at
        // both ends, where Brent would fall back to slow bisection), then refine.
        let step = 10f64.ln();
        let mut a = 20f64.ln();
        let mut ga = g(a);
        let mut b = a;
        let mut gb = ga;
        while gb.signum() == ga.signum() {
            a = b;
            ga = gb;
            b = if ga < 0.0 { a + step } else { a - step };
            if b < lo || b > hi {
                return Err(ModelError::Failed(format!(
                    "no ionizing efficiency in [1e-4, 1e14] gives tau = {tau} \
                     (tau reaches {:.4} at zeta = {:.3e})",
                    (ga + 1.0) * tau,
                    a.exp()
                )));
            }
            gb = g(b);
        }
        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
        // tau to 1e-5 relative: far inside the 1% the model promises.
        let result = brent(g, lo, hi, 1e-6, 1e-5, 200);
        let ln_zeta = match result {
            Ok(x) => x,
            Err(BrentError::NotBracketed { .. }) => {
                return Err(ModelError::Failed(format!(
                    "zeta root find lost its bracket for tau = {tau}"
                )))
            }
            Err(e) => return Err(ModelError::Failed(format!("zeta root find: {e:?}"))),
        };
        let zeta = ln_zeta.exp();
        self.evolve_with(zeta, &f_igm, f_coll, q);
        Ok(zeta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implicit_step_solves_its_equation() {
        let t = PhotonFractionTable::new(20.0);
        // No sources: pure recombination damping.
        assert!((t.implicit_step(1.0, 0.0, 0.25) - 0.8).abs() < 1e-15);
        for &(q, s, r) in &[
            (0.0, 1e-3, 0.01),
            (0.3, 0.2, 0.05),
            (0.97, 5.0, 0.06),
            (1.0, 50.0, 0.06),
            (0.999_999, 1e4, 1e-3),
        ] {
            let x = t.implicit_step(q, s, r);
            let (f, slope) = t.eval_with_slope(x);
            let res = x * (1.0 + r) - s * f - q;
            assert!((0.0..1.0).contains(&x), "{x}");
            // The residual over its derivative is the error in Q' (the cusp makes the slope
            // ~1e4 s near Q = 1, so the residual itself cannot reach rounding level).
            let dx = res / ((1.0 + r) - s * slope);
            assert!(dx.abs() < 1e-13, "q {q} s {s} r {r}: x {x}, error {dx}");
        }
        // From Q = 1 with strong sources the step stays just below 1 (f_IGM(1) = 0), it does
        // not drop by the recombination factor as the explicit step did.
        let x = t.implicit_step(1.0, 50.0, 0.06);
        assert!(x > 0.99 && x < 1.0, "{x}");
    }

    #[test]
    fn photon_fraction_limits() {
        assert_eq!(igm_photon_fraction(0.0, 30.0), 1.0);
        assert_eq!(igm_photon_fraction(1.0, 30.0), 0.0);
        // Bubbles much smaller than the mean free path lose nothing.
        assert!(igm_photon_fraction(1e-6, 50.0) > 0.99);
        // Shorter mean free path -> fewer photons reach the front.
        assert!(igm_photon_fraction(0.5, 10.0) < igm_photon_fraction(0.5, 50.0));
    }

    #[test]
    fn photon_fraction_table_matches_the_function() {
        let t = PhotonFractionTable::new(20.0);
        for k in 0..=9900 {
            let q = 0.01 + k as f64 * 1e-4;
            assert!(
                (t.eval(q) - igm_photon_fraction(q, 20.0)).abs() < 4e-3,
                "{q}"
            );
        }
        // Within 1e-4 of Q = 1 the cusp costs accuracy, but f -> 0 there anyway.
        assert!((t.eval(0.9995) - igm_photon_fraction(0.9995, 20.0)).abs() < 1e-2);
        assert_eq!(t.eval(1.0), 0.0);
    }

    #[test]
    fn tau_weights_reproduce_instantaneous_reionization() {
        let c = Cosmology::planck18();
        let t = ReionizationTables::new(&c, 600, 0.1);
        let tau: f64 = t.tau_low
            + t.z
                .iter()
                .zip(&t.tau_weight)
                .map(|(&z, &w)| if z <= 7.65 { w } else { 0.0 })
                .sum::<f64>();
        let exact = c.thomson_optical_depth(60.0, 20000, |z| if z <= 7.65 { 1.0 } else { 0.0 });
        assert!((tau / exact - 1.0).abs() < 5e-3, "{tau} {exact}");
    }
}
