//! Physics checks of the global 21-cm simulator: optical depth, no-source baseline against
//! RECFAST and an independent collisional-coupling calculation, parameter responses, the
//! whole prior box, and input validation.

use spinflip::cosmology::power::radius_to_mass;
use spinflip::cosmology::{Cosmology, CosmologyTables};
use spinflip::global::{
    parameter_design, GlobalHistories, GlobalParams, GlobalSimulator, Sampling,
};
use spinflip::likelihoods::{ForwardModel, ModelError};

fn sim() -> GlobalSimulator {
    GlobalSimulator::planck18()
}

fn run(theta: [f64; 7]) -> GlobalHistories {
    sim().histories(&theta).unwrap()
}

fn with(i: usize, v: f64) -> [f64; 7] {
    let mut t = GlobalParams::fiducial().to_array();
    t[i] = v;
    t
}

/// (z, dT_b) of the absorption trough.
fn trough(h: &GlobalHistories) -> (f64, f64) {
    let k = (0..h.z.len())
        .min_by(|&a, &b| h.dtb[a].total_cmp(&h.dtb[b]))
        .unwrap();
    (h.z[k], h.dtb[k])
}

#[test]
fn grid_is_451_ascending_redshifts() {
    let s = sim();
    let g = s.grid();
    assert_eq!(g.len(), 451);
    assert_eq!(s.n_outputs(), 451);
    assert_eq!(g[0], 5.0);
    assert_eq!(g[450], 50.0);
    assert!(g.windows(2).all(|w| ((w[1] - w[0]) - 0.1).abs() < 1e-9));
    assert_eq!(
        s.param_names(),
        ["f_star", "V_c", "f_X", "tau", "alpha_X", "nu_min", "R_mfp"]
    );
}

#[test]
fn sigma_8_is_reproduced_by_the_shared_tables() {
    let t = CosmologyTables::planck18();
    let c = Cosmology::planck18();
    let s = t.sigma.sigma(radius_to_mass(&c, 8.0 / c.h));
    assert!((s / 0.8102 - 1.0).abs() < 1e-3, "{s}");
}

#[test]
fn optical_depth_is_reproduced_within_one_percent() {
    let c = Cosmology::planck18();
    for theta in [
        GlobalParams::fiducial().to_array(),
        [1e-3, 60.0, 1e-3, 0.04, 1.5, 3.0, 10.0],
        [0.4, 5.0, 100.0, 0.2, 1.0, 0.1, 50.0],
        [0.02, 100.0, 1.0, 0.12, 1.2, 1.0, 25.0],
    ] {
        let h = run(theta);
        // Independent integral: fine trapezoid over the returned Q(z), linear interpolation.
        let (z, q) = (&h.reionization_z, &h.reionization_q);
        let qz = |zz: f64| {
            let x = zz / 0.1;
            let i = (x as usize).min(z.len() - 2);
            let t = x - i as f64;
            q[i] * (1.0 - t) + q[i + 1] * t
        };
        let tau = c.thomson_optical_depth(60.0, 60_000, qz);
        assert!(
            (tau / theta[3] - 1.0).abs() < 0.01,
            "theta {theta:?}: tau = {tau}, zeta = {}",
            h.zeta
        );
        // Q is a fraction and grows towards low z overall (it may dip while recombinations win).
        assert!(q.iter().all(|&x| (0.0..=1.0).contains(&x)));
        assert!(qz(5.0) > qz(20.0));
    }
}

/// kappa tables of PHYSICS.md (Zygelman 2005; Furlanetto & Furlanetto 2007), typed here again
/// so the check does not reuse the simulator's tables.
fn kappa(table: &[(f64, f64)], t: f64) -> f64 {
    if t <= table[0].0 {
        return table[0].1;
    }
    let last = table[table.len() - 1];
    if t >= last.0 {
        return last.1;
    }
    let i = table.iter().position(|p| p.0 > t).unwrap() - 1;
    let (t0, k0, t1, k1) = (table[i].0, table[i].1, table[i + 1].0, table[i + 1].1);
    let w = (t.ln() - t0.ln()) / (t1.ln() - t0.ln());
    (k0.ln() * (1.0 - w) + k1.ln() * w).exp()
}

#[test]
fn without_sources_the_igm_follows_recfast_and_collisional_coupling() {
    let s = sim().without_sources();
    let h = s.histories(&GlobalParams::fiducial().to_array()).unwrap();
    let at = |z: f64| h.z.iter().position(|&x| (x - z).abs() < 1e-6).unwrap();
    // RECFAST (via 21cmFAST): T_K(20) = 9.032 K, x_e(20) = 1.9191e-4; T_K(35) = 25.635 K.
    let k20 = at(20.0);
    assert!(
        (h.t_k[k20] / 9.032 - 1.0).abs() < 0.02,
        "T_K(20) = {}",
        h.t_k[k20]
    );
    assert!(
        (h.x_e[k20] / 1.9191e-4 - 1.0).abs() < 0.03,
        "x_e(20) = {}",
        h.x_e[k20]
    );
    assert!((h.t_k[at(35.0)] / 25.635 - 1.0).abs() < 0.02);
    assert!(h.x_alpha.iter().all(|&x| x == 0.0));

    let hh = [
        (1.0, 1.38e-13),
        (2.0, 1.43e-13),
        (4.0, 2.71e-13),
        (6.0, 6.60e-13),
        (8.0, 1.47e-12),
        (10.0, 2.88e-12),
        (15.0, 9.10e-12),
        (20.0, 1.78e-11),
        (25.0, 2.73e-11),
        (30.0, 3.67e-11),
        (40.0, 5.38e-11),
        (50.0, 6.86e-11),
        (60.0, 8.14e-11),
        (70.0, 9.25e-11),
    ];
    let eh = [
        (1.0, 2.389e-10),
        (2.0, 3.371e-10),
        (5.0, 5.304e-10),
        (10.0, 7.459e-10),
        (20.0, 1.047e-9),
        (50.0, 1.629e-9),
        (100.0, 2.260e-9),
    ];
    let ph = [
        (1.0, 4.0e-10),
        (2.0, 4.5e-10),
        (5.0, 4.30e-10),
        (10.0, 3.69e-10),
        (20.0, 3.17e-10),
        (50.0, 3.047e-10),
        (100.0, 3.379e-10),
    ];
    let c = Cosmology::planck18();
    let nh0 = c.omega_b * 3.0 * (c.h * 3.2407e-18f64).powi(2)
        / (8.0 * std::f64::consts::PI * 6.674e-8)
        * (1.0 - c.y_he)
        / 1.6726e-24;
    for k in (0..h.z.len()).filter(|&k| h.z[k] >= 30.0) {
        let (z, t, xe) = (h.z[k], h.t_k[k], h.x_e[k]);
        let n_h = nh0 * (1.0 + z).powi(3);
        let t_cmb = 2.7255 * (1.0 + z);
        let xc = 0.0682 / (t_cmb * 2.85e-15)
            * (kappa(&hh, t) * (1.0 - xe) * n_h + (kappa(&eh, t) + kappa(&ph, t)) * xe * n_h);
        let ts = (1.0 + xc) / (1.0 / t_cmb + xc / t);
        let h2 = c.h * c.h;
        let dtb = 27.0
            * (1.0 - xe)
            * (c.omega_b * h2 / 0.023)
            * (0.15 / (c.omega_m * h2) * (1.0 + z) / 10.0).sqrt()
            * (1.0 - t_cmb / ts);
        assert!(
            (h.dtb[k] - dtb).abs() < 0.005 * dtb.abs() + 1e-3,
            "z = {z}: {} vs {dtb}",
            h.dtb[k]
        );
        // Weak collisional absorption: a few to a few tens of mK.
        assert!(dtb < 0.0 && dtb > -60.0, "z = {z}: {dtb}");
    }
}

#[test]
fn fiducial_has_the_expected_shape() {
    let h = run(GlobalParams::fiducial().to_array());
    let (z, t) = trough(&h);
    assert!((12.0..=25.0).contains(&z), "trough at z = {z}");
    assert!((-250.0..=-50.0).contains(&t), "trough depth {t} mK");
    // Reionization ends by z ~ 5-10: the signal fades.
    assert!(h.dtb[0].abs() < 5.0, "dT_b(5) = {}", h.dtb[0]);
    // Weak absorption at z = 40-50.
    let k40 = 350;
    assert!(h.dtb[k40] < 0.0 && h.dtb[k40] > -40.0);
}

#[test]
fn more_x_rays_give_a_shallower_trough() {
    let depths: Vec<f64> = [0.01, 1.0, 100.0]
        .iter()
        .map(|&fx| trough(&run(with(2, fx))).1)
        .collect();
    assert!(depths[0] < depths[1] && depths[1] < depths[2], "{depths:?}");
}

#[test]
fn larger_vc_delays_the_trough() {
    let zs: Vec<f64> = [5.0, 16.5, 60.0]
        .iter()
        .map(|&v| trough(&run(with(1, v))).0)
        .collect();
    assert!(zs[0] > zs[1] && zs[1] > zs[2], "{zs:?}");
}

#[test]
fn larger_f_star_couples_earlier() {
    // Redshift where x_alpha first exceeds 1 (scanning down from z = 50).
    let z_couple = |fs: f64| {
        let h = run(with(0, fs));
        let k = (0..h.z.len()).rev().find(|&k| h.x_alpha[k] > 1.0).unwrap();
        h.z[k]
    };
    let (lo, mid, hi) = (z_couple(0.005), z_couple(0.05), z_couple(0.5));
    assert!(hi > mid && mid > lo, "{lo} {mid} {hi}");
}

#[test]
fn nu_min_matters() {
    // A hard spectrum (nu_min = 3 keV) deposits less heat than a soft one: deeper trough.
    let soft = trough(&run(with(5, 0.1))).1;
    let hard = trough(&run(with(5, 3.0))).1;
    assert!(hard < soft - 5.0, "soft {soft} hard {hard}");
}

#[test]
fn the_whole_prior_box_stays_within_bounds() {
    let s = sim();
    let pts = parameter_design(300, Sampling::LatinHypercube, 2024);
    let mut out = vec![0.0; 451];
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for p in &pts {
        s.predict(&p.to_array(), &mut out)
            .unwrap_or_else(|e| panic!("{p:?}: {e}"));
        for &v in &out {
            assert!(v.is_finite() && (-400.0..=50.0).contains(&v), "{p:?}: {v}");
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    // The design spans a wide range of signals (21cmGEM: -294..+35 mK).
    eprintln!("prior box: {lo:.1} .. {hi:.1} mK");
    assert!(lo < -150.0 && hi > 5.0, "{lo} {hi}");
}

#[test]
fn bad_parameters_are_clear_errors() {
    let s = sim();
    let mut out = vec![0.0; 451];
    let e = s.predict(&with(3, 0.5), &mut out).unwrap_err();
    assert!(matches!(e, ModelError::OutOfRange { ref name, .. } if name == "tau"));
    assert!(e.is_recoverable());
    let e = s.predict(&with(1, f64::NAN), &mut out).unwrap_err();
    assert!(matches!(e, ModelError::NonFinite { ref name, .. } if name == "V_c"));
    let e = s.predict(&with(0, 0.0), &mut out).unwrap_err();
    assert!(matches!(e, ModelError::OutOfRange { .. }));
    assert!(matches!(
        s.predict(&[0.1; 6], &mut out),
        Err(ModelError::Dimension { .. })
    ));
    assert!(matches!(
        s.predict(&GlobalParams::fiducial().to_array(), &mut out[..400]),
        Err(ModelError::Dimension { .. })
    ));
    // f_X = 0 is the 21cmGEM code for 1e-6.
    let a = s.histories(&with(2, 0.0)).unwrap();
    let b = s.histories(&with(2, 1e-6)).unwrap();
    assert_eq!(a.dtb, b.dtb);
}

#[test]
fn same_input_same_output_across_threads() {
    let s = sim();
    let theta = GlobalParams::fiducial().to_array();
    let a = s.histories(&theta).unwrap().dtb;
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || s.histories(&theta).unwrap().dtb)
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), a);
    }
}

#[test]
fn tables_are_built_once_and_shared() {
    use spinflip::global::GlobalTables;
    use std::sync::Arc;
    assert!(Arc::ptr_eq(
        &GlobalTables::planck18(),
        &GlobalTables::planck18()
    ));
    assert!(Arc::ptr_eq(
        &CosmologyTables::planck18(),
        &GlobalTables::planck18().cosmology
    ));
}

#[test]
fn another_cosmology_changes_the_signal() {
    // Tables are per cosmology: a higher sigma_8 forms halos earlier -> earlier trough.
    let c = Cosmology {
        sigma_8: 0.9,
        ..Cosmology::planck18()
    };
    let s = GlobalSimulator::new(c).unwrap();
    let theta = GlobalParams::fiducial().to_array();
    let z_hi = trough(&s.histories(&theta).unwrap()).0;
    let z_lo = trough(&run(theta)).0;
    assert!(z_hi > z_lo, "{z_hi} {z_lo}");
    let bad = Cosmology {
        omega_b: -0.1,
        ..Cosmology::planck18()
    };
    assert!(GlobalSimulator::new(bad).is_err());
}

#[test]
fn batch_prediction_matches_single_calls_and_flags_bad_points() {
    let s = sim();
    let mut thetas = GlobalParams::fiducial().to_array().to_vec();
    thetas.extend_from_slice(&with(3, 0.9)); // tau out of range: recoverable
    thetas.extend_from_slice(&with(2, 100.0));
    let mut out = vec![0.0; 3 * 451];
    let mut ok = vec![false; 3];
    s.predict_batch(&thetas, &mut out, &mut ok).unwrap();
    assert_eq!(ok, [true, false, true]);
    let mut one = vec![0.0; 451];
    s.predict(&with(2, 100.0), &mut one).unwrap();
    assert_eq!(&out[2 * 451..], &one[..]);
    assert!(s.predict_batch(&thetas[..10], &mut out, &mut ok).is_err());
}

/// Regression: with the sources explicit in the Q step, f_IGM(Q = 1) = 0 made Q alternate
/// between ~0.94 and 1 after reionization, a saw-tooth of ~13 mK between neighbouring
/// channels for this (cold, late-heating) point of the prior. The implicit step must give a
/// Q that only grows once reionization is under way, and a signal without alternation.
#[test]
fn end_of_reionization_has_no_saw_tooth() {
    let theta = [0.338, 97.0, 2.09e-5, 0.0765, 1.383, 0.551, 41.8];
    let h = run(theta);
    // Output grid ascending in z: Q must not increase with z (decrease in time) once above 1%.
    let q = &h.q;
    for k in 0..q.len() - 1 {
        if q[k + 1] > 0.01 {
            assert!(
                q[k] >= q[k + 1] - 1e-9,
                "Q rises with z at z = {}: {} -> {}",
                h.z[k],
                q[k + 1],
                q[k]
            );
        }
    }
    // The signal changes direction a handful of times (trough, emission peak), not every channel.
    let d: Vec<f64> = h.dtb.windows(2).map(|w| w[1] - w[0]).collect();
    let flips = d
        .windows(2)
        .filter(|w| w[0] * w[1] < 0.0 && w[0].abs().min(w[1].abs()) > 1e-3)
        .count();
    assert!(flips <= 6, "{flips} changes of direction");
    let worst = h
        .dtb
        .windows(3)
        .map(|w| (w[0] - 2.0 * w[1] + w[2]).abs())
        .fold(0.0, f64::max);
    assert!(worst < 20.0, "second difference {worst} mK");
}
