//! Evaluating a map CNN: predictions for every slice of a set of light-cones, R^2 per
//! parameter for single slices and for the mean over a light-cone's slices (as Gillet et
//! al. 2019 report both), mean absolute errors, and predicted-vs-true plots.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::data::SliceSet;
use super::model_file::CnnModel;
use super::noise::NoiseSpec;
use super::train::items;
use crate::SpinflipError;

/// Seed of the evaluation noise (fixed: the same report on every run).
pub const EVAL_NOISE_SEED: u64 = 0xe7a1_5eed;

/// The report of an evaluation (the JSON of `spinflip eval cnn`).
#[derive(Debug, Clone, Serialize)]
pub struct CnnEvaluation {
    /// Parameter names.
    pub names: Vec<String>,
    /// Light-cones evaluated.
    pub n_light_cones: usize,
    /// Slices per light-cone.
    pub slices_per_light_cone: usize,
    /// R^2 of the mean prediction over each light-cone's slices, per parameter.
    pub r2: BTreeMap<String, f64>,
    /// R^2 of single-slice predictions, per parameter.
    pub r2_one_slice: BTreeMap<String, f64>,
    /// Mean absolute error of the light-cone means, per parameter (physical units).
    pub mae: BTreeMap<String, f64>,
    /// Mean absolute error of single slices, per parameter.
    pub mae_one_slice: BTreeMap<String, f64>,
    /// Noise added to the slices before evaluation.
    pub noise: Option<NoiseSpec>,
    /// Data file and light-cone range.
    pub data: String,
    /// Light-cones used (indices in the file).
    pub light_cones: Range<usize>,
    /// Light-cone-mean predictions, `n x d` (physical units).
    #[serde(skip)]
    pub predicted: Vec<f64>,
    /// True parameters, `n x d`.
    #[serde(skip)]
    pub truth: Vec<f64>,
}

use crate::nn::metrics::{column, mae, r2};

/// Evaluate `model` on the light-cones `lcs` of `data`, with `noise` added (if any).
pub fn evaluate(
    model: &CnnModel,
    data: &SliceSet,
    lcs: Range<usize>,
    noise: Option<&NoiseSpec>,
    threads: Option<usize>,
) -> Result<CnnEvaluation, SpinflipError> {
    model.check_geometry(data.cells, data.n_los, &data.source)?;
    let names = model.sidecar.targets.names.clone();
    let d = names.len();
    if data.n_params != d {
        return Err(SpinflipError::Data {
            path: data.source.clone(),
            reason: format!(
                "{} parameters per light-cone, the model infers {d}",
                data.n_params
            ),
        });
    }
    if lcs.is_empty() || lcs.end > data.n {
        return Err(SpinflipError::config(
            "light-cones",
            format!(
                "range {lcs:?} is empty or outside the set's {} light-cones",
                data.n
            ),
        ));
    }
    if let Some(n) = noise {
        n.validate()?;
    }
    let mut net = model.cpu_network()?;
    if let Some(t) = threads {
        net = net.with_threads(t)?;
    }
    let all = items(data, lcs.clone());
    let len = data.slice_len();
    let mut slice_pred = Vec::with_capacity(all.len() * d);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for chunk in all.chunks(256) {
        x.resize(chunk.len() * len, 0.0);
        y.resize(chunk.len() * d, 0.0);
        data.fill_batch(
            chunk,
            &model.sidecar.input,
            &model.sidecar.targets,
            noise,
            EVAL_NOISE_SEED,
            &mut x,
            &mut y,
        )?;
        let mut out = vec![0.0f32; chunk.len() * d];
        net.predict(&model.params, &x, &mut out)?;
        slice_pred.extend(model.sidecar.targets.denormalise(&out));
    }
    let (n, k) = (lcs.len(), data.k);
    let mut truth = Vec::with_capacity(n * d);
    let mut mean_pred = vec![0.0; n * d];
    let mut slice_truth = Vec::with_capacity(n * k * d);
    for (a, i) in lcs.clone().enumerate() {
        truth.extend_from_slice(data.params_of(i));
        for j in 0..k {
            slice_truth.extend_from_slice(data.params_of(i));
            for q in 0..d {
                mean_pred[a * d + q] += slice_pred[(a * k + j) * d + q] / k as f64;
            }
        }
    }
    let col = |v: &[f64], q: usize| column(v, d, q);
    let mut out = CnnEvaluation {
        names: names.clone(),
        n_light_cones: n,
        slices_per_light_cone: k,
        r2: BTreeMap::new(),
        r2_one_slice: BTreeMap::new(),
        mae: BTreeMap::new(),
        mae_one_slice: BTreeMap::new(),
        noise: noise.cloned(),
        data: data.source.clone(),
        light_cones: lcs,
        predicted: mean_pred.clone(),
        truth: truth.clone(),
    };
    for (q, name) in names.iter().enumerate() {
        let (p, t) = (col(&mean_pred, q), col(&truth, q));
        let (ps, ts) = (col(&slice_pred, q), col(&slice_truth, q));
        out.r2.insert(name.clone(), r2(&p, &t));
        out.r2_one_slice.insert(name.clone(), r2(&ps, &ts));
        out.mae.insert(name.clone(), mae(&p, &t));
        out.mae_one_slice.insert(name.clone(), mae(&ps, &ts));
    }
    Ok(out)
}

impl CnnEvaluation {
    /// Write the JSON report to `path` and one predicted-vs-true PNG per parameter next to
    /// it (`REPORT_NAME.png`); returns the files written.
    pub fn write(&self, path: &Path) -> Result<Vec<PathBuf>, SpinflipError> {
        use crate::plot::lines::save_predicted_vs_true;
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| SpinflipError::config("report", e.to_string()))?;
        crate::samplers::output::ensure_parent(path)?;
        crate::samplers::output::write_atomic(path, json.as_bytes())?;
        let mut files = vec![path.to_path_buf()];
        let d = self.names.len();
        let stem = path.with_extension("");
        for (q, name) in self.names.iter().enumerate() {
            let t = column(&self.truth, d, q);
            let p = column(&self.predicted, d, q);
            let mut png = stem.clone().into_os_string();
            png.push(format!("_{name}.png"));
            let png = PathBuf::from(png);
            save_predicted_vs_true(
                &png,
                format!(
                    "{name}: R^2 = {:.3} ({}-slice mean), {:.3} (one slice)",
                    self.r2[name], self.slices_per_light_cone, self.r2_one_slice[name]
                ),
                name,
                format!("{} light-cones", self.n_light_cones),
                &t,
                &p,
            )?;
            files.push(png);
        }
        Ok(files)
    }
}
