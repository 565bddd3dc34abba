//! The power-spectrum summary of a light-cone (21CMMC convention): the spherically averaged
//! Delta^2(k) of cubic chunks along the line of sight, in the k bins inside `[k_min, k_max]`
//! (0.1-1 / Mpc by default) and every `chunk_stride`-th chunk, as `log10(Delta^2 + floor)`
//! (the log makes the scatter of a power spectrum near Gaussian; the floor keeps ionised
//! chunks, whose power is zero, finite). The bins are those `simulate maps` stores in `ps`.

use serde::{Deserialize, Serialize};

use crate::lightcone::lightcone::LightCone;
use crate::lightcone::summaries::{chunk_power_spectra, default_k_edges};
use crate::SpinflipError;

/// Bins of the `ps` array `simulate maps` writes per chunk.
pub const PS_K_BINS: usize = 16;

/// Which bins and how they are transformed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PsSpec {
    /// Smallest bin-centre k kept, 1/Mpc.
    pub k_min: f64,
    /// Largest bin-centre k kept, 1/Mpc.
    pub k_max: f64,
    /// Keep every n-th chunk along the line of sight (1: all).
    pub chunk_stride: usize,
    /// Added to Delta^2 (mK^2) before the log.
    pub floor: f64,
    /// Fractional modelling uncertainty added in quadrature to every bin (21CMMC: 0.15),
    /// as `log10(1 + frac)` dex.
    pub modelling_error: f64,
}

impl Default for PsSpec {
    /// 21CMMC's convention as the shipped likelihood uses it: 0.1-1 / Mpc, every other chunk,
    /// a 0.01 mK^2 floor, 15% modelling uncertainty.
    fn default() -> Self {
        PsSpec {
            k_min: 0.1,
            k_max: 1.0,
            chunk_stride: 2,
            floor: 0.01,
            modelling_error: 0.15,
        }
    }
}

/// The selected bins for a box of `box_mpc` on `cells` cells and `n_chunks` chunks: flat
/// indices into the `(n_chunks, PS_K_BINS)` array.
pub fn selected_bins(spec: &PsSpec, box_mpc: f64, cells: usize, n_chunks: usize) -> Vec<usize> {
    let edges = default_k_edges(box_mpc, cells, PS_K_BINS);
    let centre = |b: usize| (edges[b] * edges[b + 1]).sqrt();
    let ks: Vec<usize> = (0..PS_K_BINS)
        .filter(|&b| centre(b) >= spec.k_min && centre(b) <= spec.k_max)
        .collect();
    (0..n_chunks)
        .step_by(spec.chunk_stride.max(1))
        .flat_map(|c| ks.iter().map(move |&b| c * PS_K_BINS + b))
        .collect()
}

/// Summaries of a light-cone.
#[derive(Debug, Clone)]
pub struct PsSummarizer {
    spec: PsSpec,
    box_mpc: f64,
    keep: Vec<usize>,
}

impl PsSummarizer {
    /// For light-cones of `box_mpc` on `cells` cells with `n_chunks` chunks.
    pub fn new(
        spec: PsSpec,
        box_mpc: f64,
        cells: usize,
        n_chunks: usize,
    ) -> Result<Self, SpinflipError> {
        if !(spec.floor > 0.0 && spec.floor.is_finite()) || spec.modelling_error < 0.0 {
            return Err(SpinflipError::config(
                "ps",
                "floor must be positive and modelling_error >= 0",
            ));
        }
        let keep = selected_bins(&spec, box_mpc, cells, n_chunks);
        if keep.is_empty() {
            return Err(SpinflipError::config(
                "ps",
                format!(
                    "no k bin of a {box_mpc} Mpc box on {cells} cells lies in [{}, {}] / Mpc",
                    spec.k_min, spec.k_max
                ),
            ));
        }
        Ok(PsSummarizer {
            spec,
            box_mpc,
            keep,
        })
    }

    /// Flat indices into the `(chunks, PS_K_BINS)` array of the kept bins.
    pub fn keep(&self) -> &[usize] {
        &self.keep
    }

    /// The settings.
    pub fn spec(&self) -> &PsSpec {
        &self.spec
    }

    /// `log10(Delta^2 + floor)` of the kept bins of a full `(chunks x PS_K_BINS)` array.
    pub fn from_array(&self, ps: &[f64]) -> Result<Vec<f64>, SpinflipError> {
        Ok(self
            .kept_raw(ps)?
            .into_iter()
            .map(|v| (v + self.spec.floor).log10())
            .collect())
    }

    /// Delta^2 (mK^2) of the kept bins of a full `(chunks x PS_K_BINS)` array, checked
    /// finite and non-negative.
    pub fn kept_raw(&self, ps: &[f64]) -> Result<Vec<f64>, SpinflipError> {
        self.keep
            .iter()
            .map(|&i| {
                let v = *ps.get(i).ok_or_else(|| {
                    SpinflipError::shape(
                        "power spectrum",
                        format!("{} values, bin {i} is outside", ps.len()),
                    )
                })?;
                if !(v.is_finite() && v >= 0.0) {
                    return Err(SpinflipError::shape(
                        "power spectrum",
                        format!("Delta^2 = {v} in bin {i}: must be finite and >= 0"),
                    ));
                }
                Ok(v)
            })
            .collect()
    }

    /// The full `(chunks x PS_K_BINS)` array of a simulated light-cone (rounded to `f32` as
    /// `simulate maps` stores it, so a mock and a file give the same numbers).
    pub fn light_cone_array(&self, lc: &LightCone) -> Result<Vec<f64>, SpinflipError> {
        if lc.t_b.iter().any(|v| !v.is_finite()) {
            return Err(SpinflipError::shape(
                "light-cone",
                "non-finite brightness temperatures",
            ));
        }
        Ok(chunk_power_spectra(
            lc,
            self.box_mpc,
            &default_k_edges(self.box_mpc, lc.cells, PS_K_BINS),
        )
        .iter()
        .flat_map(|c| c.delta2.iter().map(|&v| v as f32 as f64))
        .collect())
    }

    /// The summary of a simulated light-cone.
    pub fn summarize_light_cone(&self, lc: &LightCone) -> Result<Vec<f64>, SpinflipError> {
        self.from_array(&self.light_cone_array(lc)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_selection_is_12_k_bins_of_every_other_chunk() {
        let keep = selected_bins(&PsSpec::default(), 128.0, 32, 24);
        // Bin centres of the 16 log bins from 2 pi / 128 to sqrt(3) pi 32 / 128 / Mpc: the
        // ones in 0.1-1 / Mpc are bins 3-14.
        assert_eq!(keep.len(), 12 * 12);
        assert_eq!(keep[0], 3);
        assert_eq!(keep[11], 14);
        assert_eq!(keep[12], 2 * 16 + 3);
    }
}
