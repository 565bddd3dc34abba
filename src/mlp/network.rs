//! A fully connected network on a flat `f32` parameter vector: the layout, seeded
//! initialisation, a batched forward and backward pass for training (matrix products through
//! [`crate::nn::dense`]), and a single-point `f64` forward with its vector-Jacobian product
//! for likelihoods that need gradients with respect to the inputs.
//!
//! Layer `l` maps `sizes[l]` inputs to `sizes[l + 1]` outputs, `z = W x + b` with `W` stored
//! row-major as `(out, in)` (PyTorch's convention); every layer but the last is followed by
//! the activation.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use crate::nn::dense::{matmul, mse, MatRef};
use crate::SpinflipError;

/// Non-linearity between the layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `max(0, x)`: the usual choice for regression from summaries.
    #[default]
    Relu,
    /// `tanh(x)`: smooth, for emulators whose gradients a sampler follows.
    Tanh,
}

impl Activation {
    fn apply(self, z: f32) -> f32 {
        match self {
            Activation::Relu => z.max(0.0),
            Activation::Tanh => z.tanh(),
        }
    }

    fn apply64(self, z: f64) -> f64 {
        match self {
            Activation::Relu => z.max(0.0),
            Activation::Tanh => z.tanh(),
        }
    }

    /// Derivative from the activation's output `a` (both have closed forms in `a`).
    fn slope(self, a: f32) -> f32 {
        match self {
            Activation::Relu => (a > 0.0) as u8 as f32,
            Activation::Tanh => 1.0 - a * a,
        }
    }

    fn slope64(self, a: f64) -> f64 {
        match self {
            Activation::Relu => (a > 0.0) as u8 as f64,
            Activation::Tanh => 1.0 - a * a,
        }
    }
}

/// The architecture: layer widths from input to output, and the activation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MlpSpec {
    /// Widths, input first, output last (at least two entries).
    pub sizes: Vec<usize>,
    /// Activation after every hidden layer.
    pub activation: Activation,
}

impl MlpSpec {
    /// `inputs -> hidden... -> outputs`.
    pub fn new(inputs: usize, hidden: &[usize], outputs: usize, activation: Activation) -> Self {
        let mut sizes = vec![inputs];
        sizes.extend_from_slice(hidden);
        sizes.push(outputs);
        MlpSpec { sizes, activation }
    }

    /// Every width positive, at least an input and an output.
    pub fn validate(&self) -> Result<(), SpinflipError> {
        if self.sizes.len() < 2 || self.sizes.contains(&0) {
            return Err(SpinflipError::config(
                "mlp",
                format!(
                    "layer widths {:?}: need an input and an output width, all positive",
                    self.sizes
                ),
            ));
        }
        Ok(())
    }

    /// Inputs.
    pub fn inputs(&self) -> usize {
        self.sizes[0]
    }

    /// Outputs.
    pub fn outputs(&self) -> usize {
        self.sizes[self.sizes.len() - 1]
    }

    /// Number of layers (weight matrices).
    pub fn depth(&self) -> usize {
        self.sizes.len() - 1
    }

    /// Names and shapes of the parameter tensors in flat order: `dense{l}.weight` `(out,
    /// in)`, `dense{l}.bias` `(out)`.
    pub fn layout(&self) -> Vec<(String, Vec<usize>)> {
        (0..self.depth())
            .flat_map(|l| {
                let (i, o) = (self.sizes[l], self.sizes[l + 1]);
                [
                    (format!("dense{l}.weight"), vec![o, i]),
                    (format!("dense{l}.bias"), vec![o]),
                ]
            })
            .collect()
    }

    /// Length of the flat parameter vector.
    pub fn n_params(&self) -> usize {
        (0..self.depth())
            .map(|l| (self.sizes[l] + 1) * self.sizes[l + 1])
            .sum()
    }

    /// Offsets of layer `l`'s weight and bias in the flat vector.
    fn offsets(&self, l: usize) -> (usize, usize) {
        let w: usize = (0..l)
            .map(|m| (self.sizes[m] + 1) * self.sizes[m + 1])
            .sum();
        (w, w + self.sizes[l] * self.sizes[l + 1])
    }

    /// Seeded initial parameters: weights uniform in `+-sqrt(6 / fan_in)` for ReLU (He) or
    /// `+-sqrt(6 / (fan_in + fan_out))` for tanh (Glorot), biases zero.
    pub fn init(&self, seed: u64) -> Vec<f32> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut p = vec![0.0f32; self.n_params()];
        for l in 0..self.depth() {
            let (i, o) = (self.sizes[l], self.sizes[l + 1]);
            let a = match self.activation {
                Activation::Relu => (6.0 / i as f64).sqrt(),
                Activation::Tanh => (6.0 / (i + o) as f64).sqrt(),
            };
            let (w, _) = self.offsets(l);
            for v in &mut p[w..w + i * o] {
                *v = rng.random_range(-a..a) as f32;
            }
        }
        p
    }

    fn check(&self, params: &[f32]) -> Result<(), SpinflipError> {
        if params.len() != self.n_params() {
            return Err(SpinflipError::shape(
                "MLP",
                format!(
                    "MLP {:?} has {} parameters, got {}",
                    self.sizes,
                    self.n_params(),
                    params.len()
                ),
            ));
        }
        Ok(())
    }
}

/// Activations of a batch, kept for the backward pass.
#[derive(Debug, Clone, Default)]
pub struct MlpBatch {
    /// `acts[l]`: input of layer `l` (`acts[0]` the batch itself), `n x sizes[l]`;
    /// the last entry is the output.
    acts: Vec<Vec<f32>>,
    n: usize,
}

impl MlpBatch {
    /// The outputs of the last forward pass (`n x outputs`).
    pub fn output(&self) -> &[f32] {
        self.acts.last().map(Vec::as_slice).unwrap_or(&[])
    }

    /// Forward pass of `x` (`n x inputs`, row-major).
    pub fn forward(
        &mut self,
        spec: &MlpSpec,
        params: &[f32],
        x: &[f32],
    ) -> Result<&[f32], SpinflipError> {
        spec.check(params)?;
        let d = spec.inputs();
        if !x.len().is_multiple_of(d) {
            return Err(SpinflipError::shape(
                "MLP",
                format!(
                    "input of {} values is not a whole number of rows of {d}",
                    x.len()
                ),
            ));
        }
        let n = x.len() / d;
        self.n = n;
        self.acts.resize(spec.sizes.len(), Vec::new());
        self.acts[0].clear();
        self.acts[0].extend_from_slice(x);
        for l in 0..spec.depth() {
            let (i, o) = (spec.sizes[l], spec.sizes[l + 1]);
            let (w, b) = spec.offsets(l);
            let (head, tail) = self.acts.split_at_mut(l + 1);
            let out = &mut tail[0];
            out.resize(n * o, 0.0);
            for r in 0..n {
                out[r * o..(r + 1) * o].copy_from_slice(&params[b..b + o]);
            }
            matmul(
                out,
                o,
                MatRef::rows(&head[l], n, i),
                MatRef::rows(&params[w..w + i * o], o, i).t(),
                true,
            );
            if l + 1 < spec.depth() {
                out.iter_mut().for_each(|v| *v = spec.activation.apply(*v));
            }
        }
        Ok(self.output())
    }

    /// Mean squared error of the last forward pass against `target` (`n x outputs`), and
    /// its gradient with respect to the parameters into `grad` (overwritten).
    pub fn backward_mse(
        &self,
        spec: &MlpSpec,
        params: &[f32],
        target: &[f32],
        grad: &mut [f32],
    ) -> Result<f64, SpinflipError> {
        spec.check(params)?;
        spec.check(grad)?;
        let n = self.n;
        if target.len() != n * spec.outputs() {
            return Err(SpinflipError::shape(
                "MLP",
                format!(
                    "{} targets for {n} rows of {} outputs",
                    target.len(),
                    spec.outputs()
                ),
            ));
        }
        let mut dz = vec![0.0f32; target.len()];
        let loss = mse(self.output(), target, &mut dz);
        let mut dx = Vec::new();
        for l in (0..spec.depth()).rev() {
            let (i, o) = (spec.sizes[l], spec.sizes[l + 1]);
            let (w, b) = spec.offsets(l);
            let x = &self.acts[l];
            matmul(
                &mut grad[w..w + i * o],
                i,
                MatRef::rows(&dz, n, o).t(),
                MatRef::rows(x, n, i),
                false,
            );
            for (j, g) in grad[b..b + o].iter_mut().enumerate() {
                *g = (0..n).map(|r| dz[r * o + j]).sum();
            }
            if l == 0 {
                break;
            }
            dx.resize(n * i, 0.0);
            matmul(
                &mut dx,
                i,
                MatRef::rows(&dz, n, o),
                MatRef::rows(&params[w..w + i * o], o, i),
                false,
            );
            for (g, &a) in dx.iter_mut().zip(x) {
                *g *= spec.activation.slope(a);
            }
            std::mem::swap(&mut dz, &mut dx);
        }
        Ok(loss)
    }
}

/// A network for single-point evaluation in `f64` (likelihoods): the parameters widened
/// once, a forward pass and the vector-Jacobian product with respect to the input.
#[derive(Debug, Clone)]
pub struct Mlp64 {
    spec: MlpSpec,
    params: Vec<f64>,
}

impl Mlp64 {
    /// From a validated spec and its flat `f32` parameters.
    pub fn new(spec: MlpSpec, params: &[f32]) -> Result<Self, SpinflipError> {
        spec.validate()?;
        spec.check(params)?;
        Ok(Mlp64 {
            params: params.iter().map(|&v| f64::from(v)).collect(),
            spec,
        })
    }

    /// The architecture.
    pub fn spec(&self) -> &MlpSpec {
        &self.spec
    }

    /// Outputs at `x`, and the activations of every layer (for [`Self::vjp`]).
    pub fn forward(&self, x: &[f64]) -> Result<Vec<Vec<f64>>, SpinflipError> {
        if x.len() != self.spec.inputs() {
            return Err(SpinflipError::shape(
                "MLP",
                format!(
                    "the MLP takes {} inputs, got {}",
                    self.spec.inputs(),
                    x.len()
                ),
            ));
        }
        let mut acts = vec![x.to_vec()];
        for l in 0..self.spec.depth() {
            let (i, o) = (self.spec.sizes[l], self.spec.sizes[l + 1]);
            let (w, b) = self.spec.offsets(l);
            let inp = &acts[l];
            let last = l + 1 == self.spec.depth();
            let out = (0..o)
                .map(|j| {
                    let row = &self.params[w + j * i..w + (j + 1) * i];
                    let z =
                        self.params[b + j] + row.iter().zip(inp).map(|(a, b)| a * b).sum::<f64>();
                    if last {
                        z
                    } else {
                        self.spec.activation.apply64(z)
                    }
                })
                .collect();
            acts.push(out);
        }
        Ok(acts)
    }

    /// Outputs at `x`.
    pub fn predict(&self, x: &[f64]) -> Result<Vec<f64>, SpinflipError> {
        Ok(self.forward(x)?.pop().unwrap_or_default())
    }

    /// `v^T d(output)/d(input)` at the activations `acts` of [`Self::forward`].
    pub fn vjp(&self, acts: &[Vec<f64>], v: &[f64]) -> Result<Vec<f64>, SpinflipError> {
        if v.len() != self.spec.outputs() || acts.len() != self.spec.sizes.len() {
            return Err(SpinflipError::shape(
                "MLP",
                format!(
                    "vjp needs {} output cotangents and the forward's activations",
                    self.spec.outputs()
                ),
            ));
        }
        let mut dz = v.to_vec();
        for l in (0..self.spec.depth()).rev() {
            let (i, o) = (self.spec.sizes[l], self.spec.sizes[l + 1]);
            let (w, _) = self.spec.offsets(l);
            let mut dx = vec![0.0; i];
            for (j, &g) in dz.iter().enumerate().take(o) {
                let row = &self.params[w + j * i..w + (j + 1) * i];
                dx.iter_mut().zip(row).for_each(|(d, &wv)| *d += g * wv);
            }
            if l > 0 {
                dx.iter_mut()
                    .zip(&acts[l])
                    .for_each(|(d, &a)| *d *= self.spec.activation.slope64(a));
            }
            dz = dx;
        }
        Ok(dz)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(act: Activation) -> MlpSpec {
        MlpSpec::new(5, &[7, 6], 3, act)
    }

    /// The batched f32 forward agrees with the f64 one; the parameter gradient of the MSE
    /// agrees with central finite differences of the f64 loss.
    #[test]
    fn parameter_gradient_matches_finite_differences() {
        for act in [Activation::Tanh, Activation::Relu] {
            let s = spec(act);
            let p = s.init(3);
            let n = 4;
            let x: Vec<f32> = (0..n * 5)
                .map(|i| ((i * 37 % 11) as f32 - 5.0) / 4.0)
                .collect();
            let t: Vec<f32> = (0..n * 3)
                .map(|i| ((i * 13 % 7) as f32 - 3.0) / 3.0)
                .collect();
            let mut b = MlpBatch::default();
            b.forward(&s, &p, &x).unwrap();
            let mut g = vec![0.0f32; s.n_params()];
            let loss = b.backward_mse(&s, &p, &t, &mut g).unwrap();
            let loss64 = |p: &[f32]| -> f64 {
                let m = Mlp64::new(s.clone(), p).unwrap();
                let mut sum = 0.0;
                for r in 0..n {
                    let xr: Vec<f64> = x[r * 5..r * 5 + 5].iter().map(|&v| v.into()).collect();
                    let y = m.predict(&xr).unwrap();
                    sum += y
                        .iter()
                        .zip(&t[r * 3..r * 3 + 3])
                        .map(|(a, &b)| (a - f64::from(b)).powi(2))
                        .sum::<f64>();
                }
                sum / (n * 3) as f64
            };
            assert!((loss - loss64(&p)).abs() < 1e-5 * loss.max(1.0));
            // f32 parameters: steps of 1e-2 keep the rounding error near 1e-6 relative.
            for k in (0..s.n_params()).step_by(7) {
                let h = 1e-2f32;
                let (mut a, mut c) = (p.clone(), p.clone());
                a[k] += h;
                c[k] -= h;
                let fd = (loss64(&a) - loss64(&c)) / (2.0 * f64::from(h));
                // ReLU kinks inside the step make single entries differ; tanh is smooth.
                let tol = if act == Activation::Tanh { 2e-3 } else { 2e-2 };
                assert!(
                    (fd - f64::from(g[k])).abs() <= tol * (fd.abs() + 1e-2),
                    "{act:?} param {k}: fd {fd} analytic {}",
                    g[k]
                );
            }
        }
    }

    /// The input vector-Jacobian product agrees with central differences (tanh: smooth).
    #[test]
    fn input_vjp_matches_finite_differences() {
        let s = spec(Activation::Tanh);
        let m = Mlp64::new(s.clone(), &s.init(9)).unwrap();
        let x = [0.3, -0.7, 1.1, 0.05, -0.2];
        let v = [0.5, -1.0, 2.0];
        let acts = m.forward(&x).unwrap();
        let g = m.vjp(&acts, &v).unwrap();
        for k in 0..5 {
            let h = 1e-6;
            let (mut a, mut c) = (x, x);
            a[k] += h;
            c[k] -= h;
            let f = |z: &[f64]| -> f64 {
                m.predict(z)
                    .unwrap()
                    .iter()
                    .zip(&v)
                    .map(|(y, w)| y * w)
                    .sum()
            };
            let fd = (f(&a) - f(&c)) / (2.0 * h);
            assert!(
                (fd - g[k]).abs() < 1e-8 * (1.0 + fd.abs()),
                "{k}: {fd} vs {}",
                g[k]
            );
        }
    }

    #[test]
    fn bad_shapes_are_errors() {
        let s = spec(Activation::Relu);
        assert!(MlpSpec::new(0, &[], 2, Activation::Relu)
            .validate()
            .is_err());
        let mut b = MlpBatch::default();
        assert!(b.forward(&s, &[0.0; 3], &[0.0; 5]).is_err());
        assert!(b.forward(&s, &s.init(0), &[0.0; 6]).is_err());
        let m = Mlp64::new(s.clone(), &s.init(0)).unwrap();
        assert!(m.predict(&[0.0; 4]).is_err());
    }
}
