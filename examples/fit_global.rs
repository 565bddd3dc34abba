//! Fit a mock global signal from Rust: the shipped LSTM emulator as the model, a mock made
//! by the physical simulator, nested sampling, chains for anesthetic/getdist.
//! `cargo run --release --example fit_global` (a few seconds).
use spinflip::emulator::{default_emulator_path, GlobalEmulator};
use spinflip::global::{GlobalSimulator, GlobalSimulatorKind};
use spinflip::likelihoods::{mock_spectrum, ForwardModel, GlobalSignalLikelihood, Noise};
use spinflip::models::ModelKind;
use spinflip::samplers::{NestedSampler, NestedSettings};

/// Fit, write the chains under `root`, return ln Z.
pub fn fit(root: &str) -> Result<f64, Box<dyn std::error::Error>> {
    // Truth: f_star, V_c [km/s], f_X, tau, alpha_X, nu_min [keV], R_mfp [Mpc].
    let truth = [0.05, 16.5, 1.0, 0.055, 1.3, 0.5, 30.0];
    let simulator = GlobalSimulator::planck18();
    let noise = Noise::white(25.0, simulator.n_outputs())?; // 25 mK per channel
    let data = mock_spectrum(&simulator, &truth, &noise, 1)?;

    let emulator = GlobalEmulator::load(&default_emulator_path())?;
    let likelihood = GlobalSignalLikelihood::new(emulator, data, noise, None)?;
    let params = GlobalSimulatorKind.parameters()?; // the 21cmGEM priors

    let settings = NestedSettings {
        n_live: 200,
        batch_size: 64,
        seed: 42,
        ..Default::default()
    };
    let result = NestedSampler::new(&params, &likelihood, settings)?.run()?;
    result.write_chains(root)?;
    println!(
        "ln Z = {:.2} +- {:.2} ({} calls)",
        result.log_evidence, result.log_evidence_err, result.n_calls
    );
    print!("{}", result.posterior().summary());
    Ok(result.log_evidence)
}

#[allow(dead_code)] // the test suite calls `fit`
fn main() -> Result<(), Box<dyn std::error::Error>> {
    fit("out/fit_global").map(|_| ())
}
