//! The global-signal likelihood against hand computations.

use spinflip_likelihoods::spectrum::freq_of_z;
use spinflip_likelihoods::*;
use spinflip_samplers::LogLikelihood;
use std::f64::consts::PI;

/// A Gaussian trough of depth `a` at redshift `z0` (width 2), valid for a in [-300, 0].
struct Trough {
    z: Vec<f64>,
}

impl ForwardModel for Trough {
    fn param_names(&self) -> Vec<String> {
        vec!["a".into(), "z0".into()]
    }
    fn grid(&self) -> &[f64] {
        &self.z
    }
    fn predict(&self, th: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
        self.check_shapes(th.len(), out.len())?;
        if !(-300.0..=0.0).contains(&th[0]) {
            return Err(ModelError::OutOfRange {
                name: "a".into(),
                value: th[0],
                min: -300.0,
                max: 0.0,
            });
        }
        for (o, z) in out.iter_mut().zip(&self.z) {
            *o = th[0] * (-0.5 * ((z - th[1]) / 2.0).powi(2)).exp();
        }
        Ok(())
    }
}

fn grid() -> Vec<f64> {
    (0..=40).map(|i| 10.0 + 0.5 * i as f64).collect()
}

#[test]
fn log_likelihood_matches_a_hand_computation() {
    let model = Trough { z: grid() };
    let truth = [-100.0, 17.0];
    let noise = Noise::white(10.0, 41).unwrap();
    let data = mock_spectrum(&model, &truth, &noise, 7).unwrap();
    let like =
        GlobalSignalLikelihood::new(Trough { z: grid() }, data.clone(), noise, None).unwrap();
    let theta = [-90.0, 16.5];
    let mut pred = vec![0.0; 41];
    model.predict(&theta, &mut pred).unwrap();
    let chi2: f64 = pred
        .iter()
        .zip(&data.temp_mk)
        .map(|(p, d)| ((d - p) / 10.0).powi(2))
        .sum();
    let exact = -0.5 * chi2 - 41.0 * 10f64.ln() - 20.5 * (2.0 * PI).ln();
    assert!((like.log_likelihood(&theta).unwrap() - exact).abs() < 1e-9);
}

#[test]
fn batch_equals_single_and_rejects_out_of_range_points() {
    let model = Trough { z: grid() };
    let noise = Noise::white(5.0, 41).unwrap();
    let data = mock_spectrum(&model, &[-50.0, 15.0], &noise, 1).unwrap();
    let like = GlobalSignalLikelihood::new(model, data, noise, None).unwrap();
    let pts = [-40.0, 14.0, 10.0, 15.0, -60.0, 16.0];
    let mut out = [0.0; 3];
    like.log_likelihood_batch(&pts, &mut out).unwrap();
    assert_eq!(out[1], f64::NEG_INFINITY);
    assert!(like
        .log_likelihood(&pts[2..4])
        .unwrap_err()
        .is_recoverable());
    assert!((out[0] - like.log_likelihood(&pts[0..2]).unwrap()).abs() < 1e-12);
    assert!((out[2] - like.log_likelihood(&pts[4..6]).unwrap()).abs() < 1e-12);
    // wrong lengths are fatal
    assert!(!like.log_likelihood(&[1.0]).unwrap_err().is_recoverable());
    assert!(like.log_likelihood_batch(&pts[..5], &mut out).is_err());
}

#[test]
fn band_cut_and_foreground() {
    let z = grid();
    let model = Trough { z: z.clone() };
    let fg = LogPolyForeground::new(1, 80.0).unwrap();
    let truth = [-100.0, 17.0, 3.0, -2.5];
    // Data: signal + foreground, noiseless, then a band cut to 70..110 MHz.
    let mut sig = vec![0.0; z.len()];
    model.predict(&truth[..2], &mut sig).unwrap();
    let freq: Vec<f64> = z.iter().map(|&z| freq_of_z(z)).collect();
    fg.add_to(&truth[2..], &freq, &mut sig);
    let full = Spectrum::new(freq, sig, None).unwrap();
    let data = full.band(70.0, 110.0).unwrap();
    assert!(data.len() < full.len() && data.len() > 5);
    let n = data.len();
    let like =
        GlobalSignalLikelihood::new(model, data, Noise::white(1.0, n).unwrap(), Some(fg)).unwrap();
    assert_eq!(like.param_names(), ["a", "z0", "fg_a0", "fg_a1"]);
    let at_truth = like.log_likelihood(&truth).unwrap();
    let norm = -(n as f64) * 0.5 * (2.0 * PI).ln();
    assert!(
        (at_truth - norm).abs() < 1e-6,
        "noiseless data: chi^2 = 0 at the truth"
    );
    assert!(like.log_likelihood(&[-100.0, 17.0, 3.0, -2.4]).unwrap() < at_truth - 10.0);
}

#[test]
fn mismatched_data_are_clear_errors() {
    let model = Trough { z: grid() };
    // The grid covers z = 10..30, i.e. 45.8..129.1 MHz: 200 MHz is outside it.
    let off = Spectrum::new(vec![100.0, 200.0], vec![0.0, 0.0], None).unwrap();
    let e = GlobalSignalLikelihood::new(
        Trough { z: grid() },
        off,
        Noise::white(1.0, 2).unwrap(),
        None,
    )
    .err()
    .unwrap();
    assert!(
        e.to_string().contains("data row 2 (of 2")
            && e.to_string().contains("outside the model's range 45.8"),
        "{e}"
    );
    let data = mock_spectrum(&model, &[-10.0, 15.0], &Noise::white(1.0, 41).unwrap(), 0).unwrap();
    let e = GlobalSignalLikelihood::new(model, data, Noise::white(1.0, 40).unwrap(), None)
        .err()
        .unwrap();
    assert!(e.to_string().contains("noise"), "{e}");
}

#[test]
fn the_model_preferred_batch_reaches_the_samplers() {
    // A model that evaluates in groups of 16 says so; the likelihood passes it on, through
    // Box and Arc as well; models that say nothing prefer 1.
    struct Grouped(Trough);
    impl ForwardModel for Grouped {
        fn param_names(&self) -> Vec<String> {
            self.0.param_names()
        }
        fn grid(&self) -> &[f64] {
            self.0.grid()
        }
        fn predict(&self, th: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
            self.0.predict(th, out)
        }
        fn preferred_batch(&self) -> usize {
            16
        }
    }
    let noise = Noise::white(10.0, 41).unwrap();
    let data = mock_spectrum(&Trough { z: grid() }, &[-100.0, 17.0], &noise, 7).unwrap();
    let like = |m: Box<dyn ForwardModel>| {
        GlobalSignalLikelihood::new(m, data.clone(), noise.clone(), None).unwrap()
    };
    assert_eq!(like(Box::new(Trough { z: grid() })).preferred_batch(), 1);
    assert_eq!(
        like(Box::new(Grouped(Trough { z: grid() }))).preferred_batch(),
        16
    );
    let shared: std::sync::Arc<dyn ForwardModel> =
        std::sync::Arc::new(Grouped(Trough { z: grid() }));
    assert_eq!(shared.preferred_batch(), 16);
    let arced = GlobalSignalLikelihood::new(shared, data.clone(), noise.clone(), None).unwrap();
    assert_eq!(arced.preferred_batch(), 16);
    assert_eq!(spinflip_samplers::Parallel(&arced).preferred_batch(), 16);
}

/// Data evenly spaced in frequency (as a telescope's channels) between the model's redshift
/// channels: the model is interpolated onto them. For the trough on a dz = 0.1 grid the cubic
/// Lagrange remainder, max|f| * (9/16) h^4 / 24 with f ~ 3|a|/sigma_nu^4
/// (sigma_nu ~ 8.8 MHz at z = 17, h <= 1.2 MHz), is below 1e-3 mK; the test allows 1e-2 mK.
/// Taking the nearest channel instead would be off by over 1 mK, so the test can tell.
#[test]
fn data_between_model_channels_get_the_interpolated_model() {
    let z: Vec<f64> = (0..=200).map(|i| 10.0 + 0.1 * i as f64).collect();
    let model = Trough { z: z.clone() };
    let theta = [-100.0, 17.0];
    let freq: Vec<f64> = (0..=140).map(|i| 50.0 + 0.5 * i as f64).collect();
    let exact: Vec<f64> = freq
        .iter()
        .map(|&f| {
            let zf = spectrum::z_of_freq(f);
            theta[0] * (-0.5 * ((zf - theta[1]) / 2.0).powi(2)).exp()
        })
        .collect();
    let n = freq.len();
    let data = Spectrum::new(freq.clone(), exact.clone(), None).unwrap();
    let like =
        GlobalSignalLikelihood::new(model, data, Noise::white(1.0, n).unwrap(), None).unwrap();
    let pred = like.predict_data(&theta).unwrap();
    let worst = pred
        .iter()
        .zip(&exact)
        .map(|(p, e)| (p - e).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-2, "interpolation error {worst} mK");
    // The nearest model channel alone is far off: the interpolation is doing the work.
    let mut grid_out = vec![0.0; z.len()];
    Trough { z: z.clone() }
        .predict(&theta, &mut grid_out)
        .unwrap();
    let model_freq: Vec<f64> = z.iter().map(|&z| freq_of_z(z)).collect();
    let nearest = freq
        .iter()
        .zip(&exact)
        .map(|(f, e)| {
            let j = (0..z.len())
                .min_by(|&a, &b| {
                    (model_freq[a] - f)
                        .abs()
                        .total_cmp(&(model_freq[b] - f).abs())
                })
                .unwrap();
            (grid_out[j] - e).abs()
        })
        .fold(0.0, f64::max);
    assert!(nearest > 1.0, "nearest-channel error {nearest} mK");
    // chi^2 at the truth is the interpolation error only.
    let norm = -(n as f64) * 0.5 * (2.0 * PI).ln();
    assert!((like.log_likelihood(&theta).unwrap() - norm).abs() < 1e-3);
}

/// Data on the model's own channels use them exactly: the same numbers as a selection.
#[test]
fn data_on_model_channels_use_them_exactly() {
    let z = grid();
    let freq: Vec<f64> = z.iter().map(|&z| freq_of_z(z)).collect();
    let taps = global_signal::channel_taps(&freq, &[freq[3], freq[17], freq[40]]).unwrap();
    assert_eq!(taps, vec![vec![(3, 1.0)], vec![(17, 1.0)], vec![(40, 1.0)]]);
    // Between channels: four taps whose weights sum to 1 (constants are reproduced).
    let taps = global_signal::channel_taps(&freq, &[0.5 * (freq[10] + freq[11])]).unwrap();
    assert_eq!(taps[0].len(), 4);
    assert!((taps[0].iter().map(|t| t.1).sum::<f64>() - 1.0).abs() < 1e-12);
}
