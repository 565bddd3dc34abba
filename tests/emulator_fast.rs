//! The fast CPU path against the candle network and against a hand computation.

mod common;

use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use spinflip::emulator::fast::Isa;
use spinflip::emulator::network::LstmNetwork;
use spinflip::emulator::weights::LayerWeights;
use spinflip::emulator::{FastLstm, LstmConfig, LstmWeights};

fn random_inputs(n: usize, d: usize, t: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let p = (0..n * d).map(|_| rng.random_range(0.0..1.0)).collect();
    let f = (0..t).map(|i| i as f32 / (t - 1) as f32).collect();
    (p, f)
}

fn candle_forward(w: &LstmWeights, p: &[f32], f: &[f32]) -> Vec<f32> {
    let c = w.config;
    let net = LstmNetwork::from_weights(w, &Device::Cpu).unwrap();
    let n = p.len() / c.n_params;
    let pt = Tensor::from_slice(p, (n, c.n_params), &Device::Cpu).unwrap();
    let ft = Tensor::from_slice(f, c.n_steps, &Device::Cpu).unwrap();
    net.forward(&pt, &ft)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// max |a - b| / max |b|.
fn rel_diff(a: &[f32], b: &[f32]) -> f64 {
    let scale = b.iter().fold(0f64, |m, x| m.max(f64::from(x.abs())));
    let d = a
        .iter()
        .zip(b)
        .fold(0f64, |m, (x, y)| m.max(f64::from((x - y).abs())));
    d / scale
}

/// Random weights scaled up so gates saturate sometimes and outputs are O(1).
fn weights(c: LstmConfig, seed: u64, scale: f32) -> LstmWeights {
    let mut w = LstmWeights::random(c, seed);
    for l in &mut w.layers {
        l.w_ih
            .iter_mut()
            .chain(l.w_hh.iter_mut())
            .for_each(|x| *x *= scale);
    }
    w
}

#[test]
fn fast_matches_candle_on_random_weights_every_isa_and_batch() {
    for (hidden, layers, outputs_per_step) in [
        (32, 2, 1),
        (8, 1, 1),
        (13, 3, 1),
        (64, 2, 11),
        (16, 1, 3),
        (24, 2, 2),
    ] {
        let c = LstmConfig {
            n_params: 7,
            hidden,
            layers,
            n_steps: 60 / outputs_per_step.min(6),
            outputs_per_step,
        };
        let w = weights(c, hidden as u64, 2.0);
        // 37 = two groups of 16, a group of 8 padded lanes... exercises every lane path.
        let (p, f) = random_inputs(37, 7, c.n_steps, 5);
        let t = c.n_outputs();
        let reference = candle_forward(&w, &p, &f);
        let mut fast = FastLstm::new(&w, f.clone()).unwrap();
        for isa in [Isa::Generic, Isa::Avx2, Isa::Avx512, Isa::Neon] {
            if fast.set_isa(isa).is_err() {
                continue;
            }
            let mut batch = vec![0f32; reference.len()];
            fast.forward_batch(&p, &mut batch).unwrap();
            let mut par = vec![0f32; reference.len()];
            fast.forward_batch_par(&p, &mut par).unwrap();
            assert_eq!(par, batch, "parallel and serial batches agree exactly");
            same_numbers_whatever_the_split(&fast, &p, &batch, t);
            let r = rel_diff(&batch, &reference);
            assert!(
                r < 1e-5,
                "{hidden}x{layers} {isa:?} batch: relative difference {r}"
            );
            let mut single = vec![0f32; t];
            for i in [0, 20, 36] {
                fast.forward(&p[i * 7..(i + 1) * 7], &mut single).unwrap();
                let r = rel_diff(&single, &reference[i * t..(i + 1) * t]);
                assert!(r < 1e-5, "{hidden}x{layers} {isa:?} single {i}: {r}");
            }
        }
    }
}

/// A signal's numbers do not depend on how its batch is split over threads or groups
/// (batches of 9 and 17 leave one signal alone in a block of 8 or a group of 16), so the
/// same seed gives the same chains on a machine with any number of cores.
fn same_numbers_whatever_the_split(fast: &FastLstm, p: &[f32], batch: &[f32], t: usize) {
    for n in [2, 9, 17, 33] {
        for threads in 1..=5 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut par = vec![0f32; n * t];
            pool.install(|| fast.forward_batch_par(&p[..n * 7], &mut par).unwrap());
            assert_eq!(par, batch[..n * t], "{n} signals on {threads} threads");
        }
    }
    // Two signals at a time (other lanes, other group width) give the same numbers too.
    let mut two = vec![0f32; 2 * t];
    for i in [0, 16, 36] {
        let pair = [&p[i * 7..(i + 1) * 7], &p[7..14]].concat();
        fast.forward_batch(&pair, &mut two).unwrap();
        assert_eq!(two[..t], batch[i * t..(i + 1) * t], "signal {i} in a pair");
    }
}

#[test]
fn one_unit_lstm_matches_hand_computation() {
    // 1 parameter, 1 unit, 1 layer, 2 steps. Gate rows [i, f, o, g]; inputs (p, nu).
    let c = LstmConfig {
        n_params: 1,
        hidden: 1,
        layers: 1,
        n_steps: 2,
        outputs_per_step: 1,
    };
    let w_ih = [0.5f32, -0.3, 0.2, 0.7, -0.4, 0.1, 0.9, 0.6];
    let w_hh = [0.3f32, -0.2, 0.5, 0.8];
    let bias = [0.1f32, 1.0, -0.1, 0.05];
    let w = LstmWeights {
        config: c,
        layers: vec![LayerWeights {
            w_ih: w_ih.to_vec(),
            w_hh: w_hh.to_vec(),
            bias: bias.to_vec(),
        }],
        head_w: vec![1.5],
        head_b: vec![-0.25],
    };
    let (p, nus) = (0.8f64, [0.0f64, 1.0]);
    // The textbook LSTM (Hochreiter & Schmidhuber 1997 with forget gate) in f64.
    let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
    let (mut h, mut cell) = (0.0f64, 0.0f64);
    let mut expected = Vec::new();
    for nu in nus {
        let pre = |r: usize| {
            f64::from(w_ih[2 * r]) * p
                + f64::from(w_ih[2 * r + 1]) * nu
                + f64::from(w_hh[r]) * h
                + f64::from(bias[r])
        };
        let (i, f, o, g) = (sig(pre(0)), sig(pre(1)), sig(pre(2)), pre(3).tanh());
        cell = f * cell + i * g;
        h = o * cell.tanh();
        expected.push((1.5 * h - 0.25) as f32);
    }
    let freqs: Vec<f32> = nus.iter().map(|x| *x as f32).collect();
    let fast = FastLstm::new(&w, freqs.clone()).unwrap();
    let mut out = [0f32; 2];
    fast.forward(&[p as f32], &mut out).unwrap();
    assert!(rel_diff(&out, &expected) < 1e-6, "{out:?} vs {expected:?}");
    let cand = candle_forward(&w, &[p as f32], &freqs);
    assert!(
        rel_diff(&cand, &expected) < 1e-6,
        "{cand:?} vs {expected:?}"
    );
}

#[test]
fn counts_match_the_architecture() {
    let c = LstmConfig {
        n_params: 7,
        hidden: 32,
        layers: 2,
        n_steps: 451,
        outputs_per_step: 1,
    };
    // Per step: layer 0 4h(1 + h) (frequency column + recurrent), layer 1 4h(2h), head h.
    let per_step = 4 * 32 * 33 + 4 * 32 * 64 + 32;
    assert_eq!(c.macs_per_signal(), per_step * 451 + 4 * 32 * 7);
    assert_eq!(c.transcendentals_per_signal(), 5 * 32 * 2 * 451);
    // 41 steps of 11 channels: the head does 11 h per step, the gates a ninth as often.
    let c = LstmConfig {
        n_steps: 41,
        outputs_per_step: 11,
        hidden: 64,
        ..c
    };
    let per_step = 4 * 64 * 65 + 4 * 64 * 128 + 64 * 11;
    assert_eq!(c.macs_per_signal(), per_step * 41 + 4 * 64 * 7);
    assert_eq!(c.n_outputs(), 451);
    assert_eq!(
        c.n_weights(),
        4 * 64 * (8 + 64) + 4 * 64 + 4 * 64 * 128 + 4 * 64 + 11 * 65
    );
}

#[test]
fn wrong_lengths_are_errors_not_panics() {
    let c = LstmConfig {
        n_params: 7,
        hidden: 16,
        layers: 2,
        n_steps: 3,
        outputs_per_step: 2,
    };
    let fast = FastLstm::new(&LstmWeights::random(c, 2), vec![0.0, 0.5, 1.0]).unwrap();
    let mut out = vec![0f32; 6];
    let e = fast.forward(&[0.5; 6], &mut out).unwrap_err().to_string();
    assert!(e.contains("7 parameters"), "{e}");
    assert!(fast.forward(&[0.5; 7], &mut out[..5]).is_err());
    let mut two = vec![0f32; 12];
    assert!(fast.forward_batch(&[0.5; 15], &mut two).is_err());
    assert!(fast.forward_batch_par(&[0.5; 14], &mut two[..11]).is_err());
    fast.forward_batch(&[0.5; 14], &mut two).unwrap();
}
