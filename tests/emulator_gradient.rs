//! Gradients through the emulator: the LSTM's reverse-mode input gradient against candle's
//! autograd and against finite differences, and the global-signal likelihood's gradient with
//! the shipped emulator against finite differences of the likelihood.

use candle_core::{Device, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use spinflip::emulator::bptt::InputGradient;
use spinflip::emulator::network::LstmNetwork;
use spinflip::emulator::{default_emulator_path, GlobalEmulator, LstmConfig, LstmWeights};
use spinflip::global::GlobalSimulator;
use spinflip::likelihoods::{mock_spectrum, ForwardModel, GlobalSignalLikelihood, Noise};
use spinflip::samplers::{GradLogLikelihood, LogLikelihood};

fn setup(seed: u64) -> (LstmWeights, Vec<f32>, Vec<f32>, Vec<f64>) {
    let c = LstmConfig {
        n_params: 7,
        hidden: 16,
        layers: 2,
        n_steps: 9,
        outputs_per_step: 3,
    };
    let w = LstmWeights::random(c, seed);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed + 1);
    let p: Vec<f32> = (0..7).map(|_| rng.random_range(0.0..1.0)).collect();
    let f: Vec<f32> = (0..9).map(|i| i as f32 / 8.0).collect();
    let v: Vec<f64> = (0..27).map(|_| rng.random_range(-1.0..1.0)).collect();
    (w, p, f, v)
}

/// d(v . seq)/dp by candle autograd.
fn candle_vjp(w: &LstmWeights, p: &[f32], f: &[f32], v: &[f64]) -> Vec<f32> {
    let dev = Device::Cpu;
    let net = LstmNetwork::from_weights(w, &dev).unwrap();
    let x = Var::from_slice(p, (1, 7), &dev).unwrap();
    let ft = Tensor::from_slice(f, 9, &dev).unwrap();
    let seq = net.forward(x.as_tensor(), &ft).unwrap();
    let v32: Vec<f32> = v.iter().map(|&x| x as f32).collect();
    let vt = Tensor::from_slice(&v32, (1, 27), &dev).unwrap();
    let s = (seq * vt).unwrap().sum_all().unwrap();
    let g = s.backward().unwrap();
    g.get(x.as_tensor())
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

#[test]
fn input_gradient_matches_candle_autograd() {
    for seed in [1, 2, 3] {
        let (w, p, f, v) = setup(seed);
        let ig = InputGradient::new(&w, &f).unwrap();
        let mut seq = vec![0.0; 27];
        let g = ig.vjp(&p, &mut seq, |_| v.clone()).unwrap();
        let want = candle_vjp(&w, &p, &f, &v);
        let scale = want.iter().fold(0f32, |m, x| m.max(x.abs()));
        for (a, b) in g.iter().zip(&want) {
            // Both in f32; summation orders differ: 1e-4 of the largest component.
            assert!(
                (a - f64::from(*b)).abs() < 1e-4 * f64::from(scale),
                "{g:?} vs {want:?}"
            );
        }
    }
}

#[test]
fn input_gradient_matches_finite_differences_in_f64() {
    let (w, p, f, v) = setup(4);
    let ig = InputGradient::new_f64(&w, &f).unwrap();
    let value = |p: &[f32]| -> f64 {
        let mut seq = vec![0.0; 27];
        ig.vjp(p, &mut seq, |_| vec![0.0; 27]).unwrap();
        seq.iter().zip(&v).map(|(a, b)| a * b).sum()
    };
    let mut seq = vec![0.0; 27];
    let g = ig.vjp(&p, &mut seq, |_| v.clone()).unwrap();
    // The inputs are f32, so difference in steps exact in f32: h = 2^-10, 5-point stencil
    // (truncation ~h^4 f^(5) ~ 1e-12).
    let h = 1.0 / 1024.0;
    for j in 0..7 {
        let at = |k: f32| {
            let mut q = p.clone();
            q[j] += k * h;
            value(&q)
        };
        let fd = (8.0 * (at(1.0) - at(-1.0)) - (at(2.0) - at(-2.0))) / (12.0 * f64::from(h));
        assert!(
            (g[j] - fd).abs() < 1e-6 * fd.abs().max(1e-3),
            "{j}: {} vs {fd}",
            g[j]
        );
    }
}

#[test]
fn shipped_emulator_likelihood_gradient_matches_finite_differences() {
    let emu = GlobalEmulator::load(&default_emulator_path()).unwrap();
    let sim = GlobalSimulator::planck18();
    let noise = Noise::white(25.0, sim.n_outputs()).unwrap();
    let truth = [0.05, 16.5, 1.0, 0.055, 1.3, 0.5, 30.0];
    let data = mock_spectrum(&sim, &truth, &noise, 1).unwrap();
    let like = GlobalSignalLikelihood::new(emu.clone(), data.clone(), noise, None).unwrap();
    let theta = [0.08, 20.0, 3.0, 0.06, 1.2, 0.8, 25.0];
    let mut g = [0.0; 7];
    let v = like.log_likelihood_and_gradient(&theta, &mut g).unwrap();
    // The value is the likelihood's own to f32 rounding of the network (~1e-6 of chi^2).
    let direct = like.log_likelihood(&theta).unwrap();
    assert!((v - direct).abs() < 1e-6 * direct.abs(), "{v} vs {direct}");
    // Finite differences of ln L through the f32 network, 5-point stencil with steps of
    // 1% of each value: the network's rounding (~1e-7 of the signal) limits them to ~1e-3.
    for j in 0..7 {
        let h = 0.01 * theta[j];
        let at = |k: f64| {
            let mut t = theta;
            t[j] += k * h;
            like.log_likelihood(&t).unwrap()
        };
        let fd = (8.0 * (at(1.0) - at(-1.0)) - (at(2.0) - at(-2.0))) / (12.0 * h);
        assert!(
            (g[j] - fd).abs() < 2e-3 * fd.abs().max(1.0),
            "{j}: {} vs {fd}",
            g[j]
        );
    }
}
