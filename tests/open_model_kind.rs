//! Proof of openness: a model kind defined in this one file (a 3-parameter Gaussian bump on
//! a 2-D grid), registered, and fitted through `Problem` and the nested sampler from a TOML
//! configuration, exactly as the built-in global-signal kinds are.

use spinflip::config::{ModelConfig, RunConfig};
use spinflip::fit::run_fit;
use spinflip::likelihoods::{ForwardModel, ModelError};
use spinflip::models::{register, ModelKind, OutputSpace, SharedModel};
use spinflip::problem::Problem;
use spinflip::samplers::Prior;
use spinflip::SpinflipError;
use std::sync::{Arc, Once};

const N: usize = 16;
const WIDTH: f64 = 0.3;

/// `A exp(-((x - x0)^2 + (y - y0)^2) / (2 w^2))` on an N x N grid over [-1, 1]^2.
struct Bump {
    grid: Vec<f64>,
}

impl ForwardModel for Bump {
    fn param_names(&self) -> Vec<String> {
        vec!["amplitude".into(), "x0".into(), "y0".into()]
    }
    fn grid(&self) -> &[f64] {
        &self.grid
    }
    fn predict(&self, th: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
        self.check_shapes(th.len(), out.len())?;
        let c = |i: usize| -1.0 + 2.0 * i as f64 / (N - 1) as f64;
        for (k, o) in out.iter_mut().enumerate() {
            let (x, y) = (c(k % N), c(k / N));
            let r2 = (x - th[1]).powi(2) + (y - th[2]).powi(2);
            *o = th[0] * (-r2 / (2.0 * WIDTH * WIDTH)).exp();
        }
        Ok(())
    }
}

struct BumpKind;

impl ModelKind for BumpKind {
    fn name(&self) -> &str {
        "gaussian_bump"
    }
    fn describe(&self) -> String {
        "a Gaussian bump on a 16 x 16 image (test)".into()
    }
    fn param_names(&self) -> Vec<String> {
        vec!["amplitude".into(), "x0".into(), "y0".into()]
    }
    fn param_latex(&self) -> Vec<String> {
        vec![r"A\,[\mathrm{mK}]".into(), "x_0".into(), "y_0".into()]
    }
    fn default_priors(&self) -> Vec<Prior> {
        vec![
            Prior::Uniform {
                min: 0.0,
                max: 10.0,
            },
            Prior::Uniform {
                min: -1.0,
                max: 1.0,
            },
            Prior::Uniform {
                min: -1.0,
                max: 1.0,
            },
        ]
    }
    fn fiducial(&self) -> Vec<f64> {
        vec![5.0, 0.2, -0.3]
    }
    fn output(&self) -> OutputSpace {
        OutputSpace::Image {
            shape: vec![N, N],
            unit: "mK".into(),
        }
    }
    fn load(&self, _cfg: &ModelConfig) -> Result<SharedModel, SpinflipError> {
        Ok(Arc::new(Bump {
            grid: (0..N * N).map(|k| k as f64).collect(),
        }))
    }
}

fn registered() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| register(Arc::new(BumpKind)).unwrap());
}

#[test]
fn a_kind_defined_here_is_fitted_through_problem_and_nested_sampling() {
    registered();
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("open_kind");
    let cfg = RunConfig::from_toml_str(
        &format!(
            r#"
[output]
root = "{}"
plots = true
[model]
kind = "gaussian_bump"
[data.mock]
noise = 0.5
seed = 3
truth = {{ amplitude = 4.0, x0 = 0.25 }}
[sampler]
n_live = 100
seed = 1
checkpoint_seconds = 0
quiet = true
"#,
            dir.join("bump").display()
        ),
        "test",
    )
    .unwrap();
    let problem = Problem::from_config(&cfg).unwrap();
    // y0 takes the kind's fiducial value.
    assert_eq!(problem.truth.as_deref(), Some(&[4.0, 0.25, -0.3][..]));
    assert_eq!(problem.likelihood.data().len(), N * N);
    let out = run_fit(&cfg, &problem, true).unwrap();
    let fisher_std = fisher_std(&problem, &[4.0, 0.25, -0.3], 0.5);
    for (p, want) in out.summary.params.iter().zip(fisher_std) {
        let t = p.truth.unwrap();
        // Within 4 posterior standard deviations (a 6e-5 chance to fail per parameter if
        // the posterior is right; the noise realisation is fixed by the seed).
        assert!(
            (p.stats.mean - t).abs() < 4.0 * p.stats.std,
            "{}: {} +- {} vs truth {t}",
            p.stats.name,
            p.stats.mean,
            p.stats.std
        );
        // The model is nearly linear at this signal-to-noise, so the posterior width is the
        // Cramer-Rao (inverse Fisher) width; 25% covers the nested-sampling noise of a std
        // from 100 live points.
        assert!(
            (p.stats.std / want - 1.0).abs() < 0.25,
            "{}: std {} vs Fisher {want}",
            p.stats.name,
            p.stats.std
        );
    }
    for suffix in [
        "_dead-birth.txt",
        "_fit.json",
        "_corner.png",
        "_predictive.png",
    ] {
        let mut f = dir.join("bump").into_os_string();
        f.push(suffix);
        assert!(std::path::Path::new(&f).exists(), "{suffix} missing");
    }
}

/// Square roots of the diagonal of the inverse Fisher matrix at `theta` for white noise
/// `sigma` (derivatives by central differences).
fn fisher_std(problem: &Problem, theta: &[f64], sigma: f64) -> Vec<f64> {
    let m = problem.model.as_ref();
    let n = m.n_outputs();
    let grad: Vec<Vec<f64>> = (0..3)
        .map(|i| {
            let (mut a, mut b) = (theta.to_vec(), theta.to_vec());
            a[i] += 1e-5;
            b[i] -= 1e-5;
            let (mut fa, mut fb) = (vec![0.0; n], vec![0.0; n]);
            m.predict(&a, &mut fa).unwrap();
            m.predict(&b, &mut fb).unwrap();
            fa.iter().zip(&fb).map(|(x, y)| (x - y) / 2e-5).collect()
        })
        .collect();
    let f = |i: usize, j: usize| {
        grad[i]
            .iter()
            .zip(&grad[j])
            .map(|(a, b)| a * b)
            .sum::<f64>()
            / (sigma * sigma)
    };
    // Inverse of the symmetric 3 x 3 Fisher matrix by cofactors: only its diagonal.
    let (a, b, c, d, e, g) = (f(0, 0), f(0, 1), f(0, 2), f(1, 1), f(1, 2), f(2, 2));
    let det = a * (d * g - e * e) - b * (b * g - e * c) + c * (b * e - d * c);
    vec![
        ((d * g - e * e) / det).sqrt(),
        ((a * g - c * c) / det).sqrt(),
        ((a * d - b * b) / det).sqrt(),
    ]
}

#[test]
fn spectral_options_are_refused_for_an_image_kind_and_unknown_kinds_list_it() {
    registered();
    let cfg = RunConfig::from_toml_str(
        "[output]\nroot = 'x'\n[model]\nkind = 'gaussian_bump'\n[data]\nband = [50.0, 100.0]\n[data.mock]\nnoise = 1.0\n",
        "t",
    )
    .unwrap();
    let e = Problem::from_config(&cfg).err().unwrap().to_string();
    assert!(
        e.contains("data.band") && e.contains("gaussian_bump"),
        "{e}"
    );
    let cfg = RunConfig::from_toml_str(
        "[output]\nroot = 'x'\n[model]\nkind = 'gaussian_bumb'\n[data.mock]\nnoise = 1.0\n",
        "t",
    )
    .unwrap();
    let e = Problem::from_config(&cfg).err().unwrap().to_string();
    assert!(e.contains("unknown model kind 'gaussian_bumb'"), "{e}");
    assert!(
        e.contains("'gaussian_bump'") && e.contains("'emulator'"),
        "{e}"
    );
}

/// The same kind fitted with the gradient samplers: NUTS (gradients by finite differences,
/// since this model has no backward pass) and the MAP with its Laplace widths.
#[test]
fn a_kind_defined_here_is_fitted_with_nuts_and_map() {
    registered();
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("open_kind_grad");
    let truth = [4.0, 0.25, -0.3];
    for (name, sampler) in [
        (
            "nuts",
            "kind = 'nuts'\nn_chains = 2\nn_warmup = 200\nn_samples = 500\n",
        ),
        (
            "nuts_transport",
            "kind = 'nuts'\nmetric = 'transport'\ntarget_accept = 0.9\nn_chains = 2\n\
             n_warmup = 200\nn_samples = 500\n",
        ),
        ("map", "kind = 'map'\n"),
    ] {
        let cfg = RunConfig::from_toml_str(
            &format!(
                "[output]\nroot = '{}'\nplots = false\n[model]\nkind = 'gaussian_bump'\n\
                 [data.mock]\nnoise = 0.5\nseed = 3\ntruth = {{ amplitude = 4.0, x0 = 0.25 }}\n\
                 [sampler]\nseed = 1\nquiet = true\n{sampler}",
                dir.join(name).display()
            ),
            name,
        )
        .unwrap();
        let problem = Problem::from_config(&cfg).unwrap();
        let out = run_fit(&cfg, &problem, true).unwrap();
        let fisher = fisher_std(&problem, &truth, 0.5);
        for ((p, t), want) in out.summary.params.iter().zip(truth).zip(&fisher) {
            assert!(
                (p.stats.mean - t).abs() < 4.0 * want,
                "{name} {}: {} vs truth {t} (Fisher std {want})",
                p.stats.name,
                p.stats.mean
            );
            // NUTS's 1,000 draws and the Laplace approximation both give the Fisher width
            // (a linear-Gaussian problem) to the Monte Carlo error of 1,000 draws (~5%).
            assert!(
                (p.stats.std / want - 1.0).abs() < 0.25,
                "{name} {}: std {} vs Fisher {want}",
                p.stats.name,
                p.stats.std
            );
        }
        assert!(
            out.summary.notes.is_empty(),
            "{name}: {:?}",
            out.summary.notes
        );
    }
}

/// `[sampler] method` and `step_out` reach the nested sampler: a fit asked to slice sample
/// with stepping out says so in `root.json` (its settings, and every new point sliced).
#[test]
fn the_nested_method_step_out_and_slice_chains_keys_reach_the_sampler() {
    registered();
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("open_kind_method");
    let root = dir.join("slice");
    let cfg = RunConfig::from_toml_str(
        &format!(
            "[output]\nroot = '{}'\nplots = false\n[model]\nkind = 'gaussian_bump'\n\
             [data.mock]\nnoise = 0.5\nseed = 3\n[sampler]\nn_live = 60\nseed = 2\n\
             method = 'slice'\nstep_out = true\nslice_chains = 3\ncheckpoint_seconds = 0\n\
             quiet = true\n",
            root.display()
        ),
        "test",
    )
    .unwrap();
    let problem = Problem::from_config(&cfg).unwrap();
    run_fit(&cfg, &problem, true).unwrap();
    let mut json = root.clone().into_os_string();
    json.push(".json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["settings"]["method"], "slice");
    assert_eq!(v["settings"]["step_out"], true);
    assert_eq!(v["settings"]["slice_chains"], 3);
    // Three chains per batch: every point made counts, used or not (a queued end is
    // dropped when the contour has passed it, ~3 / (2 x 60) of them, and a few wait at
    // the end).
    let (made, iterations) = (
        v["n_sliced"].as_u64().unwrap(),
        v["n_iterations"].as_u64().unwrap(),
    );
    assert!(
        made % 3 == 0 && made >= iterations,
        "{made} made, {iterations} iterations"
    );
    assert!(
        (made as f64) < 1.1 * iterations as f64,
        "{made} made, {iterations} iterations"
    );
    let e = RunConfig::from_toml_str(
        "[output]\nroot = 'x'\n[model]\nkind = 'gaussian_bump'\n[sampler]\nmethod = 'slices'\n",
        "t",
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("slices") && e.contains("rejection"), "{e}");
}
