//! The CNN summary of a light-cone: the map CNN's parameter estimates averaged over the
//! light-cone's slices (Gillet et al. 2019 average over slices the same way), in physical
//! units. This is the data vector of the CNN likelihood.

use crate::cnn::noise::NoiseSpec;
use crate::cnn::{CnnModel, CpuCnn};
use crate::lightcone::lightcone::LightCone;
use crate::SpinflipError;

/// The x = const planes `simulate maps` stores for `k` slices of a box of `cells` cells.
pub fn slice_planes(cells: usize, k: usize) -> Vec<usize> {
    (0..k).map(|j| j * cells / k).collect()
}

/// A map CNN ready to summarise light-cones.
#[derive(Debug)]
pub struct CnnSummarizer {
    model: CnnModel,
    net: CpuCnn,
}

impl CnnSummarizer {
    /// Wrap a loaded model (one thread: summaries are made inside samplers and calibration
    /// loops that parallelise over mocks).
    pub fn new(model: CnnModel) -> Result<Self, SpinflipError> {
        let net = model.cpu_network()?.with_threads(1)?;
        Ok(CnnSummarizer { model, net })
    }

    /// The model.
    pub fn model(&self) -> &CnnModel {
        &self.model
    }

    /// Names of the summaries (`t_` + the CNN's parameter names).
    pub fn names(&self) -> Vec<String> {
        self.model
            .sidecar
            .targets
            .names
            .iter()
            .map(|n| format!("t_{n}"))
            .collect()
    }

    /// Summary of `k` slices (`k x cells x n_los`, mK, row-major), with `noise` added to
    /// each slice (seeded by `seed` and the slice index) before the network sees it.
    pub fn summarize(
        &mut self,
        slices: &[f32],
        cells: usize,
        n_los: usize,
        noise: Option<&NoiseSpec>,
        seed: u64,
    ) -> Result<Vec<f64>, SpinflipError> {
        self.model.check_geometry(cells, n_los, "light-cone")?;
        let len = cells * n_los;
        if slices.is_empty() || !slices.len().is_multiple_of(len) {
            return Err(SpinflipError::shape(
                "light-cone slices",
                format!(
                    "{} values are not whole {cells} x {n_los} slices",
                    slices.len()
                ),
            ));
        }
        if let Some(i) = slices.iter().position(|v| !v.is_finite()) {
            return Err(SpinflipError::shape(
                "light-cone slices",
                format!(
                    "pixel {i} is {}: the CNN needs finite brightness temperatures (mask or fill bad pixels first)",
                    slices[i]
                ),
            ));
        }
        let k = slices.len() / len;
        let mut x = slices.to_vec();
        if let Some(n) = noise {
            n.validate()?;
            for (j, s) in x.chunks_mut(len).enumerate() {
                n.apply(s, cells, n_los, seed, j as u64)?;
            }
        }
        for s in x.chunks_mut(len) {
            self.model.sidecar.input.apply(s);
        }
        let d = self.model.sidecar.targets.names.len();
        let mut out = vec![0.0f32; k * d];
        self.net.predict(&self.model.params, &x, &mut out)?;
        let phys = self.model.sidecar.targets.denormalise(&out);
        let mut t = vec![0.0; d];
        for row in phys.chunks(d) {
            t.iter_mut().zip(row).for_each(|(a, b)| *a += b / k as f64);
        }
        Ok(t)
    }

    /// Summary of a simulated light-cone: its `k` evenly spaced x = const planes.
    pub fn summarize_light_cone(
        &mut self,
        lc: &LightCone,
        k: usize,
        noise: Option<&NoiseSpec>,
        seed: u64,
    ) -> Result<Vec<f64>, SpinflipError> {
        let mut slices = Vec::with_capacity(k * lc.cells * lc.n_los);
        for x in slice_planes(lc.cells, k) {
            slices.extend_from_slice(lc.plane_x(x));
        }
        self.summarize(&slices, lc.cells, lc.n_los, noise, seed)
    }
}
