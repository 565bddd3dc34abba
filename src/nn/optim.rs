//! Optimisers over flat `f32` parameter buffers, whose state can be saved and restored so a
//! resumed run continues exactly: Adam / AdamW (Kingma & Ba 2015; decoupled weight decay,
//! Loshchilov & Hutter 2019) and RMSprop (Tieleman & Hinton 2012, as Keras, which Gillet et
//! al. 2019 trained with).
//!
//! Any network whose parameters and gradients live in one flat buffer (the hand-written
//! LSTM and CNN kernels, or a candle model flattened) trains with these.

use serde::{Deserialize, Serialize};

/// Which update rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam, with decoupled weight decay when `weight_decay > 0` (AdamW).
    #[default]
    Adam,
    /// RMSprop: a running mean of squared gradients scales each step.
    Rmsprop,
}

/// Hyper-parameters of an optimiser.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OptimizerConfig {
    /// Update rule.
    pub kind: OptimizerKind,
    /// Learning rate (the schedule changes it between epochs).
    pub lr: f64,
    /// Adam: first-moment decay.
    pub beta1: f64,
    /// Adam: second-moment decay; RMSprop: decay of the squared-gradient mean (Keras' rho).
    pub beta2: f64,
    /// Denominator guard.
    pub eps: f64,
    /// Decoupled weight decay (0: none).
    pub weight_decay: f64,
}

impl OptimizerConfig {
    /// Adam with the usual constants (beta = 0.9, 0.999, eps = 1e-8).
    pub fn adam(lr: f64) -> Self {
        OptimizerConfig {
            kind: OptimizerKind::Adam,
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }

    /// The usual constants of `kind` ([`Self::adam`] or [`Self::rmsprop`]).
    pub fn of_kind(kind: OptimizerKind, lr: f64) -> Self {
        match kind {
            OptimizerKind::Adam => Self::adam(lr),
            OptimizerKind::Rmsprop => Self::rmsprop(lr),
        }
    }

    /// RMSprop with Keras' constants (rho = 0.9, eps = 1e-7).
    pub fn rmsprop(lr: f64) -> Self {
        OptimizerConfig {
            kind: OptimizerKind::Rmsprop,
            lr,
            beta1: 0.0,
            beta2: 0.9,
            eps: 1e-7,
            weight_decay: 0.0,
        }
    }
}

/// An optimiser and its state over `n` parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Optimizer {
    /// Hyper-parameters (the learning rate changes with the schedule).
    pub config: OptimizerConfig,
    /// Steps taken.
    pub step: u64,
    /// First moments (Adam); unused by RMSprop.
    m: Vec<f32>,
    /// Second moments (Adam) or the squared-gradient mean (RMSprop).
    v: Vec<f32>,
}

impl Optimizer {
    /// Fresh state for `n` parameters.
    pub fn new(config: OptimizerConfig, n: usize) -> Self {
        Optimizer {
            config,
            step: 0,
            m: vec![0.0; n],
            v: vec![0.0; n],
        }
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.v.len()
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.v.is_empty()
    }

    /// The moment buffers `(m, v)`, in parameter order (for checkpoints).
    pub fn moments(&self) -> (&[f32], &[f32]) {
        (&self.m, &self.v)
    }

    /// Restore the moments and the step count from a checkpoint.
    pub fn restore(&mut self, m: Vec<f32>, v: Vec<f32>, step: u64) -> Result<(), String> {
        if m.len() != self.len() || v.len() != self.len() {
            return Err(format!(
                "optimiser state has {} and {} values for {} parameters",
                m.len(),
                v.len(),
                self.len()
            ));
        }
        self.m = m;
        self.v = v;
        self.step = step;
        Ok(())
    }

    /// One update of `params` from `grads` (same layout).
    ///
    /// The Adam arithmetic is done in `f32` in exactly the order of candle tensor operations
    /// (`m = m b1 + g (1 - b1)`, ..., `theta = theta (1 - lr wd) - lr mhat / (sqrt(vhat) + eps)`,
    /// every constant rounded to `f32` first), so candle-trained and hand-trained runs give
    /// the same bits and their checkpoints resume each other.
    pub fn update(&mut self, params: &mut [f32], grads: &[f32]) -> Result<(), String> {
        if params.len() != self.len() || grads.len() != self.len() {
            return Err(format!(
                "{} parameters and {} gradients for an optimiser of {}",
                params.len(),
                grads.len(),
                self.len()
            ));
        }
        self.step += 1;
        let c = self.config;
        match c.kind {
            OptimizerKind::Adam => {
                let t = i32::try_from(self.step).unwrap_or(i32::MAX);
                let c1 = (1.0 / (1.0 - c.beta1.powi(t))) as f32;
                let c2 = (1.0 / (1.0 - c.beta2.powi(t))) as f32;
                let (b1, nb1) = (c.beta1 as f32, (1.0 - c.beta1) as f32);
                let (b2, nb2) = (c.beta2 as f32, (1.0 - c.beta2) as f32);
                let (eps, lr) = (c.eps as f32, c.lr as f32);
                let decay = (c.weight_decay > 0.0).then_some((1.0 - c.lr * c.weight_decay) as f32);
                for (((p, g), m), v) in params
                    .iter_mut()
                    .zip(grads)
                    .zip(&mut self.m)
                    .zip(&mut self.v)
                {
                    *m = *m * b1 + *g * nb1;
                    *v = *v * b2 + (*g * *g) * nb2;
                    let upd = (*m * c1) / ((*v * c2).sqrt() + eps);
                    let theta = match decay {
                        Some(d) => *p * d,
                        None => *p,
                    };
                    *p = theta - upd * lr;
                }
            }
            OptimizerKind::Rmsprop => {
                let (rho, nrho) = (c.beta2 as f32, (1.0 - c.beta2) as f32);
                let (eps, lr) = (c.eps as f32, c.lr as f32);
                let decay = (c.weight_decay > 0.0).then_some((1.0 - c.lr * c.weight_decay) as f32);
                for ((p, g), v) in params.iter_mut().zip(grads).zip(&mut self.v) {
                    *v = *v * rho + (*g * *g) * nrho;
                    let theta = match decay {
                        Some(d) => *p * d,
                        None => *p,
                    };
                    *p = theta - lr * *g / (v.sqrt() + eps);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Minimise sum (x - c)^2 from x = 0: both rules reach c.
    fn converges(config: OptimizerConfig, steps: usize) -> Vec<f32> {
        let c = [1.0f32, -2.0, 0.5];
        let mut x = vec![0.0f32; 3];
        let mut opt = Optimizer::new(config, 3);
        for _ in 0..steps {
            let g: Vec<f32> = x.iter().zip(c).map(|(x, c)| 2.0 * (x - c)).collect();
            opt.update(&mut x, &g).unwrap();
        }
        x.iter().zip(c).map(|(x, c)| (x - c).abs()).collect()
    }

    #[test]
    fn both_rules_minimise_a_quadratic() {
        assert!(converges(OptimizerConfig::adam(0.05), 2000)
            .iter()
            .all(|&e| e < 1e-3));
        assert!(converges(OptimizerConfig::rmsprop(0.01), 2000)
            .iter()
            .all(|&e| e < 2e-2));
    }

    #[test]
    fn the_first_adam_step_has_the_size_of_the_learning_rate() {
        // After one step mhat = g and vhat = g^2, so the step is lr g/(|g| + eps) ~ lr.
        let mut x = vec![0.0f32, 0.0];
        let mut opt = Optimizer::new(OptimizerConfig::adam(0.1), 2);
        opt.update(&mut x, &[3.0, -0.5]).unwrap();
        assert!(
            (x[0] + 0.1).abs() < 1e-6 && (x[1] - 0.1).abs() < 1e-6,
            "{x:?}"
        );
        assert!(opt.update(&mut x, &[1.0]).is_err());
        let (m, v) = opt.moments();
        let (m, v) = (m.to_vec(), v.to_vec());
        let mut other = Optimizer::new(OptimizerConfig::adam(0.1), 2);
        other.restore(m, v, opt.step).unwrap();
        assert_eq!(other, opt);
    }
}
