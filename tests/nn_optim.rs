//! The flat-buffer Adam of `spinflip::nn` against the same update written in candle tensor
//! operations (the optimiser the LSTM trainer used before the shared training module):
//! bit-identical over many steps, with and without weight decay, so candle-trained and
//! hand-trained runs and their checkpoints are interchangeable.

use candle_core::{Device, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use spinflip::nn::{Optimizer, OptimizerConfig};

/// Adam(W) in candle ops, step by step as the reference.
struct CandleAdam {
    var: Var,
    m: Tensor,
    v: Tensor,
    step: i32,
    cfg: OptimizerConfig,
}

impl CandleAdam {
    fn step(&mut self, g: &Tensor) {
        self.step += 1;
        let p = self.cfg;
        let c1 = 1.0 / (1.0 - p.beta1.powi(self.step));
        let c2 = 1.0 / (1.0 - p.beta2.powi(self.step));
        self.m = ((&self.m * p.beta1).unwrap() + (g * (1.0 - p.beta1)).unwrap()).unwrap();
        self.v =
            ((&self.v * p.beta2).unwrap() + (g.sqr().unwrap() * (1.0 - p.beta2)).unwrap()).unwrap();
        let mhat = (&self.m * c1).unwrap();
        let vhat = (&self.v * c2).unwrap();
        let upd = (mhat / (vhat.sqrt().unwrap() + p.eps).unwrap()).unwrap();
        let theta = self.var.as_tensor();
        let decayed = if p.weight_decay > 0.0 {
            (theta * (1.0 - p.lr * p.weight_decay)).unwrap()
        } else {
            theta.clone()
        };
        self.var
            .set(&(decayed - (upd * p.lr).unwrap()).unwrap())
            .unwrap();
    }
}

fn compare(cfg: OptimizerConfig) {
    let n = 257;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
    let start: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    let zeros = Tensor::zeros(n, candle_core::DType::F32, &Device::Cpu).unwrap();
    let mut reference = CandleAdam {
        var: Var::from_slice(&start, n, &Device::Cpu).unwrap(),
        m: zeros.clone(),
        v: zeros,
        step: 0,
        cfg,
    };
    let mut flat = start.clone();
    let mut opt = Optimizer::new(cfg, n);
    for _ in 0..50 {
        // Gradients over several decades, signs mixed, some exactly zero.
        let g: Vec<f32> = (0..n)
            .map(|i| {
                if i % 17 == 0 {
                    0.0
                } else {
                    rng.random_range(-1.0f32..1.0) * 10f32.powi(rng.random_range(-6..3))
                }
            })
            .collect();
        reference.step(&Tensor::from_slice(&g, n, &Device::Cpu).unwrap());
        opt.update(&mut flat, &g).unwrap();
    }
    let want: Vec<f32> = reference.var.as_tensor().to_vec1().unwrap();
    for (i, (a, b)) in flat.iter().zip(&want).enumerate() {
        assert_eq!(
            a.to_bits(),
            b.to_bits(),
            "parameter {i}: {a} vs {b} ({cfg:?})"
        );
    }
    let (m, v) = opt.moments();
    assert_eq!(m, reference.m.to_vec1::<f32>().unwrap().as_slice());
    assert_eq!(v, reference.v.to_vec1::<f32>().unwrap().as_slice());
}

#[test]
fn flat_adam_is_bit_identical_to_candle_ops() {
    compare(OptimizerConfig::adam(1e-3));
    compare(OptimizerConfig {
        weight_decay: 1e-2,
        ..OptimizerConfig::adam(3e-4)
    });
}
