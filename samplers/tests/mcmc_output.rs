//! `write_chains`: getdist `root.txt` + `root.paramnames` and the `root.json` summary.

use spinflip_samplers::mcmc::{EnsembleSampler, EnsembleSettings, EnsembleSummary, Stop};
use spinflip_samplers::{FnLikelihood, Parameter, ParameterSet, Prior};
use std::path::PathBuf;

#[test]
fn chains_and_summary_files() {
    let params = ParameterSet::new(vec![
        Parameter::new("a", r"\alpha", Prior::normal(1.0, 2.0).unwrap()).unwrap(),
        Parameter::new("fixed", "c", Prior::fixed(3.0).unwrap()).unwrap(),
        Parameter::new("b", r"\beta", Prior::log_uniform(0.1, 10.0).unwrap()).unwrap(),
    ])
    .unwrap();
    // Likelihood flat: the posterior is the prior.
    let like = FnLikelihood::new(3, |_: &[f64]| 0.0);
    let settings = EnsembleSettings {
        n_walkers: 12,
        stop: Stop::Steps(300),
        seed: 5,
        progress: false,
        ..Default::default()
    };
    let r = EnsembleSampler::new(&params, &like, settings)
        .unwrap()
        .run()
        .unwrap();
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mcmc_output/run");
    r.write_chains(&root).unwrap();

    let post = r.posterior();
    let txt = std::fs::read_to_string(root.with_extension("txt")).unwrap();
    let rows: Vec<Vec<f64>> = txt
        .lines()
        .map(|l| l.split_whitespace().map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), post.len());
    // weight, -2 log L, a, b (free parameters only).
    assert!(rows
        .iter()
        .all(|r| r.len() == 4 && r[0] == 1.0 && r[1] == 0.0));
    assert!(rows.iter().all(|r| (0.1..=10.0).contains(&r[3])));
    // 16 significant digits in the file.
    assert!((rows[0][2] - post.row(0)[0]).abs() <= 1e-14 * post.row(0)[0].abs());

    let names = std::fs::read_to_string(root.with_extension("paramnames")).unwrap();
    assert_eq!(names, "a\t\\alpha\nb\t\\beta\n");

    let json = std::fs::read_to_string(root.with_extension("json")).unwrap();
    let s: EnsembleSummary = serde_json::from_str(&json).unwrap();
    assert_eq!(s.seed, 5);
    assert_eq!(s.n_steps, 300);
    assert_eq!(s.n_calls, r.n_calls);
    assert_eq!(s.posterior.n_samples, post.len());
    assert_eq!(s.diagnostics.len(), 2);
    assert_eq!(s.diagnostics[1].name, "b");
    // serde_json reads floats to within an ulp.
    assert!((s.posterior.params[0].mean - post.mean()[0]).abs() < 1e-14);
    assert!(s.posterior.params[0].ci68[0] < s.posterior.params[0].ci68[1]);
    // No temporary files left behind by the atomic writes.
    let dir = root.parent().unwrap();
    assert!(std::fs::read_dir(dir).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".tmp")));
}
