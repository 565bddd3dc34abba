//! Physics checks of the light-cone simulator on small boxes (64 Mpc, 16 cells of 4 Mpc,
//! z = 6-30); each test states what it checks and why its tolerance means something.

use spinflip::cosmology::power::PowerSpectrum;
use spinflip::cosmology::Cosmology;
use spinflip::lightcone::fft::Fft3;
use spinflip::lightcone::initial::{gaussian_density, grid_power, measure_power};
use spinflip::lightcone::spin::{cell_spin_temperature, NodeConstants, ThermalTables};
use spinflip::lightcone::summaries::neutral_fraction_crossing;
use spinflip::lightcone::{MapGeometry, MapOutput, MapParams, MapSimulator};
use spinflip::likelihoods::ModelError;
use std::sync::OnceLock;

fn small() -> &'static MapSimulator {
    static SIM: OnceLock<MapSimulator> = OnceLock::new();
    SIM.get_or_init(|| {
        MapSimulator::planck18(MapGeometry {
            box_mpc: 64.0,
            cells: 16,
            z_min: 6.0,
            z_max: 30.0,
        })
        .expect("valid geometry")
    })
}

fn run(zeta: f64, log_tvir: f64, log_lx: f64, e0: f64, seed: u64) -> MapOutput {
    small()
        .simulate(
            &MapParams::from_slice(&[zeta, log_tvir, log_lx, e0]).unwrap(),
            seed,
        )
        .unwrap()
}

/// Box-mean neutral fraction at the node closest to z.
fn x_hi_at(o: &MapOutput, z: f64) -> f64 {
    o.nodes
        .iter()
        .min_by(|a, b| (a.z - z).abs().total_cmp(&(b.z - z).abs()))
        .unwrap()
        .x_hi_mean
}

#[test]
fn initial_conditions_have_the_input_power_within_sample_variance() {
    // Each independent complex mode's |delta_k|^2 is exponential (mean P, standard deviation
    // P), so a bin of N independent modes (conjugates counted once) measured over S seeds
    // has a relative standard error 1/sqrt(N S). Every bin must lie within 4 of those.
    let (n, l) = (32, 128.0);
    let fft = Fft3::new(n);
    let mut s = fft.scratch();
    let p = PowerSpectrum::new(&Cosmology::planck18());
    let expected = grid_power(n, l, &p);
    let amp: Vec<f32> = expected
        .iter()
        .map(|&x| (x / l.powi(3)).sqrt() as f32)
        .collect();
    let edges: Vec<f64> = (0..=12).map(|i| 0.045 * 1.25f64.powi(i)).collect();
    // The expectation per bin: the mean of P_grid over the same modes.
    let mut e_sum = [0.0; 12];
    let mut e_cnt = [0usize; 12];
    let kk = spinflip::lightcone::initial::mode_wavenumbers(n, l);
    let h = n / 2 + 1;
    for (m, (&k, &pe)) in kk.iter().zip(&expected).enumerate() {
        let w = if m % h == 0 || m % h == n / 2 { 1 } else { 2 };
        let b = edges.partition_point(|&e| e <= k as f64);
        if (1..=12).contains(&b) && k > 0.0 {
            e_sum[b - 1] += pe * w as f64;
            e_cnt[b - 1] += w;
        }
    }
    let seeds = 4;
    let mut meas = [0.0; 12];
    let mut delta = vec![0.0f32; n * n * n];
    for seed in 0..seeds {
        gaussian_density(seed, &amp, &fft, &mut s, &mut delta);
        for (b, (_, pm, c)) in measure_power(&delta, l, &fft, &mut s, &edges)
            .into_iter()
            .enumerate()
        {
            assert_eq!(c, e_cnt[b]);
            meas[b] += pm / seeds as f64;
        }
    }
    for b in 0..12 {
        let want = e_sum[b] / e_cnt[b] as f64;
        let n_ind = (e_cnt[b] as f64 / 2.0) * seeds as f64;
        let z = (meas[b] / want - 1.0) * n_ind.sqrt();
        assert!(
            z.abs() < 4.0,
            "bin {b}: measured {} expected {want} ({z:.2} sigma)",
            meas[b]
        );
    }
}

#[test]
fn box_mean_neutral_fraction_follows_the_global_expectation() {
    // The excursion set with its mean normalised to the Sheth-Tormen f_coll should ionise
    // Q = zeta F_ST of the volume. It is known to lose photons (bubbles overlap and partial
    // ionisation is capped: Choudhury & Paranjape 2018 find 10-20% at the midpoint), so the
    // box's ionised fraction is held to within 25% of zeta F_ST while 0.2 < zeta F_ST < 0.8,
    // and must never exceed it by more than 5% (the excursion set cannot make photons).
    let o = run(30.0, 4.7, 40.0, 0.5, 3);
    let mut checked = 0;
    for s in &o.nodes {
        let q_exp = 30.0 * s.f_coll;
        if !(0.2..0.8).contains(&q_exp) {
            continue;
        }
        let q_box = 1.0 - s.x_hi_mean / (1.0 - s.x_e_mean);
        assert!(
            (q_box / q_exp - 1.0).abs() < 0.25 && q_box < 1.05 * q_exp,
            "z = {:.2}: box {q_box:.3}, global {q_exp:.3}",
            s.z
        );
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} nodes in the midpoint range");
}

#[test]
fn efficient_sources_finish_reionisation_and_weak_ones_do_not_start() {
    // zeta = 250 with the fiducial T_vir: zeta F_ST(z = 6) ~ 11, the box must be fully ionised
    // (x_HI < 1%). zeta = 10: zeta F_ST(z = 12) = 0.016, the box stays > 95% neutral.
    let strong = run(250.0, 4.7, 40.0, 0.5, 4);
    assert!(x_hi_at(&strong, 6.0) < 0.01, "{}", x_hi_at(&strong, 6.0));
    let weak = run(10.0, 4.7, 40.0, 0.5, 4);
    assert!(x_hi_at(&weak, 12.0) > 0.95, "{}", x_hi_at(&weak, 12.0));
}

#[test]
fn higher_virial_temperature_reionises_later() {
    // M_min grows as T_vir^1.5: 10x in T_vir makes the sources ~30x rarer, delaying the
    // midpoint by well over one unit of redshift (the global F_ST(z) = const contour moves by
    // ~2.5 in z between 10^4.3 and 10^5.3 K at z ~ 8).
    let z = |t: f64| {
        neutral_fraction_crossing(&run(60.0, t, 40.0, 0.5, 5).light_cone, 0.5)
            .expect("midpoint inside the light-cone")
    };
    let (early, late) = (z(4.3), z(5.3));
    assert!(early > late + 1.0, "{early} vs {late}");
}

#[test]
fn stronger_x_rays_heat_earlier_and_make_a_shallower_trough() {
    // L_X/SFR 1e42 vs 1e38: the gas outside bubbles must pass T_cmb at a higher redshift, and
    // the absorption trough must be at least 100 mK shallower (without heating it reaches
    // ~-240 mK, with 1e42 the gas is heated before Ly-alpha coupling saturates).
    let weak = run(30.0, 4.7, 38.0, 0.5, 6);
    let strong = run(30.0, 4.7, 42.0, 0.5, 6);
    let crossing = |o: &MapOutput| {
        o.nodes
            .iter()
            .find(|s| s.t_k_mean > 2.7255 * (1.0 + s.z))
            .map(|s| s.z)
            .unwrap_or(0.0)
    };
    assert!(crossing(&strong) > crossing(&weak) + 2.0);
    let trough = |o: &MapOutput| {
        o.light_cone
            .global_tb
            .iter()
            .cloned()
            .fold(f32::MAX, f32::min)
    };
    assert!(
        trough(&strong) > trough(&weak) + 100.0,
        "{} {}",
        trough(&strong),
        trough(&weak)
    );
}

#[test]
fn softer_x_rays_make_more_small_scale_temperature_structure() {
    // E_0 = 0.1 keV: soft photons are absorbed within a few Mpc of their sources, so heating
    // follows the clustered sources; E_0 = 1.5 keV photons travel ~100 Mpc and heat evenly.
    // Compared at the first node where the mean T_K has risen 30% above its minimum (the same
    // stage of heating), the cell-to-cell scatter relative to the mean must be several times
    // larger for soft X-rays.
    let rel = |o: &MapOutput| {
        let t_min = o.nodes.iter().map(|s| s.t_k_mean).fold(f64::MAX, f64::min);
        let i_min = o.nodes.iter().position(|s| s.t_k_mean == t_min).unwrap();
        let s = o.nodes[i_min..]
            .iter()
            .find(|s| s.t_k_mean > 1.3 * t_min)
            .expect("heating starts");
        (s.t_k_std / s.t_k_mean, s.z)
    };
    let (soft, zs) = rel(&run(30.0, 4.7, 40.0, 0.1, 7));
    let (hard, zh) = rel(&run(30.0, 4.7, 40.0, 1.5, 7));
    assert!(
        zs > 10.0 && zh > 8.0,
        "heating stage reached at z {zs}, {zh}"
    );
    assert!(soft > 3.0 * hard, "soft {soft:.3} vs hard {hard:.3}");
}

#[test]
fn same_seed_same_light_cone_bit_for_bit() {
    let a = run(50.0, 4.5, 40.0, 0.5, 11);
    let b = run(50.0, 4.5, 40.0, 0.5, 11);
    assert_eq!(a.light_cone, b.light_cone);
    // On another thread too.
    let c = std::thread::spawn(|| run(50.0, 4.5, 40.0, 0.5, 11))
        .join()
        .unwrap();
    assert_eq!(a.light_cone, c.light_cone);
    let d = run(50.0, 4.5, 40.0, 0.5, 12);
    assert_ne!(a.light_cone.t_b, d.light_cone.t_b);
}

#[test]
fn brightness_prefactor_and_spin_temperature_by_hand() {
    let c = Cosmology::planck18();
    // 27 mK (Omega_b h^2/0.023) sqrt(0.15/(Omega_m h^2) (1+z)/10) at z = 9 with
    // Omega_b h^2 = 0.04897 * 0.6766^2 = 0.022418 and Omega_m h^2 = 0.141751:
    // 27 * 0.974687 * sqrt(1.058194) = 27.0717 mK.
    let now = NodeConstants::new(&c, 9.0);
    assert!((now.t_b_pref - 27.0717).abs() < 1e-3, "{}", now.t_b_pref);
    // T_S at z = 15, T_K = 100 K, x_e = 0, mean density, no Ly-alpha:
    // x_c = T*/(T_cmb A_10) n_H kappa_HH(100 K) with n_H = 1.896e-7 * 16^3 cm^-3,
    // kappa_HH(100 K) = 1.19e-10 cm^3/s, T_cmb = 43.608 K:
    // x_c = 0.0682/(43.608 * 2.85e-15) * 7.768e-4 * 1.19e-10 = 0.05077,
    // T_S = (1 + x_c)/(1/T_cmb + x_c/T_K) = 1.05077/(0.022932 + 0.00050768) = 44.83 K.
    let t = ThermalTables::default();
    let now = NodeConstants::new(&c, 15.0);
    let n_h = c.n_h0() * 16f64.powi(3);
    let x_c = 0.0682 / (43.608 * 2.85e-15) * n_h * 1.19e-10;
    let ts_hand = (1.0 + x_c) / (1.0 / 43.608 + x_c / 100.0);
    let ts = cell_spin_temperature(&t, &now, 100.0, 0.0, 1.0, 0.0, 0.0, 0.0) as f64;
    assert!((ts / ts_hand - 1.0).abs() < 2e-3, "{ts} vs {ts_hand}");
    // Limits: saturated coupling gives T_K; a denser cell couples more strongly (x_c grows
    // with n_H), pulling T_S towards T_K.
    let sat = cell_spin_temperature(&t, &now, 100.0, 0.0, 1.0, 1e6, 0.0, 0.0);
    assert!((sat - 100.0).abs() < 0.05, "{sat}");
    let dense = cell_spin_temperature(&t, &now, 100.0, 0.0, 3.0, 0.0, 0.0, 0.0) as f64;
    assert!(dense > ts + 1.0);
}

#[test]
fn bad_input_is_a_clear_error() {
    let sim = small();
    match sim.simulate(
        &MapParams {
            zeta: 5.0,
            ..MapParams::fiducial()
        },
        0,
    ) {
        Err(ModelError::OutOfRange { name, min, max, .. }) => {
            assert_eq!(name, "zeta");
            assert_eq!((min, max), (10.0, 250.0));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        sim.simulate(
            &MapParams {
                e0_kev: f64::NAN,
                ..MapParams::fiducial()
            },
            0
        ),
        Err(ModelError::NonFinite { .. })
    ));
    for g in [
        MapGeometry {
            cells: 0,
            ..MapGeometry::default()
        },
        MapGeometry {
            z_min: 20.0,
            z_max: 40.0,
            ..MapGeometry::default()
        },
        MapGeometry {
            box_mpc: f64::INFINITY,
            ..MapGeometry::default()
        },
    ] {
        let e = MapSimulator::planck18(g).unwrap_err();
        assert!(matches!(e, ModelError::Invalid { .. }), "{e}");
        assert!(!e.to_string().is_empty());
    }
}
