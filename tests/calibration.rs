//! Simulation-based calibration can tell a calibrated posterior from an overconfident one:
//! a straight line `y = a + b x` with Gaussian noise (its posterior is exact, so SBC must pass
//! at every level) and the same line whose mocks carry twice the noise the likelihood assumes
//! (its intervals are half as wide as they should be: the 50/68/95% intervals cover about
//! 26/38/66% of truths, far outside the binomial tolerance, so SBC must fail).

use std::sync::{Arc, Once};

use spinflip::calibrate::{calibrate, CalibrationSettings};
use spinflip::config::{MockConfig, ModelConfig, RunConfig};
use spinflip::likelihoods::{mock_vector, ForwardModel, ModelError, Noise};
use spinflip::models::{register, MockData, ModelKind, OutputSpace, SharedModel};
use spinflip::samplers::Prior;
use spinflip::SpinflipError;

struct Line {
    x: Vec<f64>,
}

impl ForwardModel for Line {
    fn param_names(&self) -> Vec<String> {
        vec!["a".into(), "b".into()]
    }
    fn grid(&self) -> &[f64] {
        &self.x
    }
    fn predict(&self, th: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
        self.check_shapes(th.len(), out.len())?;
        for (o, x) in out.iter_mut().zip(&self.x) {
            *o = th[0] + th[1] * x;
        }
        Ok(())
    }
}

/// `inflate`: the mock's noise relative to what the likelihood is told.
struct LineKind {
    name: &'static str,
    inflate: f64,
}

impl ModelKind for LineKind {
    fn name(&self) -> &str {
        self.name
    }
    fn describe(&self) -> String {
        "a straight line (test)".into()
    }
    fn param_names(&self) -> Vec<String> {
        vec!["a".into(), "b".into()]
    }
    fn param_latex(&self) -> Vec<String> {
        vec!["a".into(), "b".into()]
    }
    fn default_priors(&self) -> Vec<Prior> {
        vec![
            Prior::Uniform {
                min: -1.0,
                max: 1.0
            };
            2
        ]
    }
    fn fiducial(&self) -> Vec<f64> {
        vec![0.0, 0.0]
    }
    fn output(&self) -> OutputSpace {
        OutputSpace::Vector {
            names: (0..8).map(|i| format!("y{i}")).collect(),
            unit: "".into(),
        }
    }
    fn load(&self, _cfg: &ModelConfig) -> Result<SharedModel, SpinflipError> {
        Ok(Arc::new(Line {
            x: (0..8).map(|i| -1.0 + i as f64 / 3.5).collect(),
        }))
    }
    fn mock(
        &self,
        model: &dyn ForwardModel,
        truth: &[f64],
        mock: &MockConfig,
        _cfg: &ModelConfig,
    ) -> Result<MockData, SpinflipError> {
        let told = Noise::white(mock.noise, model.n_outputs())?;
        let real = Noise::white(mock.noise * self.inflate, model.n_outputs())?;
        let (data, clean) = mock_vector(model, truth, &real, mock.seed)?;
        Ok(MockData {
            data,
            noise: told,
            clean,
        })
    }
}

fn registered() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        register(Arc::new(LineKind {
            name: "line",
            inflate: 1.0,
        }))
        .unwrap();
        register(Arc::new(LineKind {
            name: "line_overconfident",
            inflate: 2.0,
        }))
        .unwrap();
    });
}

fn config(kind: &str) -> RunConfig {
    RunConfig::from_toml_str(
        &format!(
            "[output]\nroot = 'unused'\n[model]\nkind = '{kind}'\n[data.mock]\nnoise = 0.3\n\
             [sampler]\nn_live = 100\nseed = 1\n"
        ),
        "test",
    )
    .unwrap()
}

fn settings() -> CalibrationSettings {
    CalibrationSettings {
        n: 300,
        seed: 11,
        threads: None,
        progress: false,
    }
}

#[test]
fn an_exact_posterior_is_calibrated() {
    registered();
    let c = calibrate(&config("line"), &settings()).unwrap();
    print!("{}", c.table());
    assert_eq!(c.n_mocks, 300);
    assert_eq!(c.histogram["a"].iter().sum::<usize>(), 300);
    assert!(c.calibrated, "{}", c.table());
    // 95% of calibrated runs have chi^2 (9 dof) below 16.9; 27.9 is the 0.1% tail.
    assert!(c.chi2.values().all(|&x| x < 27.9), "{}", c.table());
}

#[test]
fn an_overconfident_posterior_is_caught() {
    registered();
    let c = calibrate(&config("line_overconfident"), &settings()).unwrap();
    print!("{}", c.table());
    assert!(!c.calibrated, "{}", c.table());
    for name in ["a", "b"] {
        let cov95 = c.coverage[name][2].covered;
        // Expected about 0.66 (intervals half as wide as the scatter): far below 0.95.
        assert!(cov95 < 0.8, "{name}: 95% intervals cover {cov95}");
    }
    // Fewer than 10 mocks is refused.
    let e = calibrate(&config("line"), &CalibrationSettings { n: 3, ..settings() }).unwrap_err();
    assert!(e.to_string().contains("at least 10"), "{e}");
}

/// `bench samplers` on the line: every sampler's posterior mean agrees with nested
/// sampling's within 0.2 posterior sigma (each mean carries a Monte Carlo error of about
/// 1/sqrt(ESS) sigma, ESS in the hundreds or more), with a positive, finite ESS; MAP, which
/// gives no samples, is refused.
#[test]
fn samplers_side_by_side_agree_on_the_line() {
    use spinflip::config::SamplerKind;
    use spinflip::fit::bench::compare_samplers;
    registered();
    let dir = std::env::temp_dir().join(format!("spinflip-bench-samplers-{}", std::process::id()));
    let mut cfg = config("line");
    cfg.data.mock.as_mut().unwrap().truth =
        [("a".to_string(), 0.2), ("b".to_string(), -0.4)].into();
    let kinds = [
        SamplerKind::Nested,
        SamplerKind::Ensemble,
        SamplerKind::Nuts,
    ];
    let rows = compare_samplers(&cfg, &kinds, &dir).unwrap();
    print!("{}", spinflip::fit::bench::table(&rows));
    assert_eq!(rows.len(), 3);
    for r in &rows {
        assert!(
            r.ess_min.is_finite() && r.ess_min > 100.0,
            "{}: ESS {}",
            r.sampler,
            r.ess_min
        );
        let shift = r.max_mean_shift_sigma.unwrap();
        assert!(
            shift < 0.2,
            "{}: means {shift} sigma from nested",
            r.sampler
        );
    }
    let e = compare_samplers(&cfg, &[SamplerKind::Map], &dir).unwrap_err();
    assert!(e.to_string().contains("--kinds"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
