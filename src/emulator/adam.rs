//! Adam with decoupled weight decay (AdamW; Loshchilov & Hutter 2019) whose state can be
//! saved and restored, so training resumes exactly where a checkpoint left it
//! (`candle_nn::AdamW` keeps its moments private).

use candle_core::{backprop::GradStore, Tensor, Var};

use crate::SpinflipError;

/// Adam hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamParams {
    /// Learning rate.
    pub lr: f64,
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Denominator guard.
    pub eps: f64,
    /// Decoupled weight decay (0 = plain Adam).
    pub weight_decay: f64,
}

impl Default for AdamParams {
    fn default() -> Self {
        AdamParams {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

/// The optimiser and its state.
#[derive(Debug)]
pub struct Adam {
    vars: Vec<Var>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    /// Steps taken.
    pub step: u64,
    /// Hyper-parameters (the learning rate changes with the schedule).
    pub params: AdamParams,
}

impl Adam {
    /// Fresh state for `vars`.
    pub fn new(vars: Vec<Var>, params: AdamParams) -> Result<Self, SpinflipError> {
        let m = vars
            .iter()
            .map(|v| v.as_tensor().zeros_like())
            .collect::<Result<Vec<_>, _>>()?;
        let v = m.clone();
        Ok(Adam {
            vars,
            m,
            v,
            step: 0,
            params,
        })
    }

    /// One update from the gradients of a loss.
    pub fn step(&mut self, grads: &GradStore) -> Result<(), SpinflipError> {
        let g: Vec<Option<Tensor>> = self
            .vars
            .iter()
            .map(|v| grads.get(v.as_tensor()).cloned())
            .collect();
        self.update(&g)
    }

    /// One update from gradients given in variable order (e.g. from
    /// [`super::bptt::loss_and_grad`]); the same arithmetic as [`Self::step`].
    pub fn step_with(&mut self, grads: &[Tensor]) -> Result<(), SpinflipError> {
        if grads.len() != self.vars.len() {
            return Err(SpinflipError::config(
                "optimiser",
                format!(
                    "{} gradients for {} variables",
                    grads.len(),
                    self.vars.len()
                ),
            ));
        }
        let g: Vec<Option<Tensor>> = grads.iter().cloned().map(Some).collect();
        self.update(&g)
    }

    fn update(&mut self, grads: &[Option<Tensor>]) -> Result<(), SpinflipError> {
        self.step += 1;
        let p = self.params;
        let t = self.step as i32;
        let c1 = 1.0 / (1.0 - p.beta1.powi(t));
        let c2 = 1.0 / (1.0 - p.beta2.powi(t));
        for (((var, m), v), g) in self
            .vars
            .iter()
            .zip(&mut self.m)
            .zip(&mut self.v)
            .zip(grads)
        {
            let Some(g) = g else {
                continue;
            };
            *m = ((&*m * p.beta1)? + (g * (1.0 - p.beta1))?)?;
            *v = ((&*v * p.beta2)? + (g.sqr()? * (1.0 - p.beta2))?)?;
            let mhat = (&*m * c1)?;
            let vhat = (&*v * c2)?;
            let upd = (mhat / (vhat.sqrt()? + p.eps)?)?;
            let theta = var.as_tensor();
            let decayed = if p.weight_decay > 0.0 {
                (theta * (1.0 - p.lr * p.weight_decay))?
            } else {
                theta.clone()
            };
            var.set(&(decayed - (upd * p.lr)?)?)?;
        }
        Ok(())
    }

    /// The moment estimates `(m, v)`, in variable order.
    pub fn moments(&self) -> (&[Tensor], &[Tensor]) {
        (&self.m, &self.v)
    }

    /// Restore moments (same shapes and order as the variables) and the step count.
    pub fn restore(
        &mut self,
        m: Vec<Tensor>,
        v: Vec<Tensor>,
        step: u64,
    ) -> Result<(), SpinflipError> {
        if m.len() != self.vars.len() || v.len() != self.vars.len() {
            return Err(SpinflipError::config(
                "checkpoint",
                "optimiser state has the wrong number of tensors",
            ));
        }
        for ((var, a), b) in self.vars.iter().zip(&m).zip(&v) {
            if a.dims() != var.dims() || b.dims() != var.dims() {
                return Err(SpinflipError::config(
                    "checkpoint",
                    "optimiser state shapes differ from the network's",
                ));
            }
        }
        self.m = m;
        self.v = v;
        self.step = step;
        Ok(())
    }
}
