//! The `spinflip` command-line tool.

use clap::{Parser, Subcommand};
use spinflip::cli;

/// Bayesian inference on the 21-cm signal.
#[derive(Parser)]
#[command(name = "spinflip", version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Fit data with a run configuration (TOML): chains, summary, plots.
    Fit(cli::fit::Args),
    /// Posterior emulation bias: emulator vs simulator fits of the same mocks.
    Bias(cli::bias::Args),
    /// Generate training data with a simulator.
    Simulate(cli::simulate::SimulateArgs),
    /// Train a network.
    Train(cli::train::Args),
    /// Evaluate a trained network on held-out data.
    Eval(cli::eval::Args),
    /// Time models per call.
    Bench(cli::bench::Args),
    /// Summaries of a light-cone set (global signal, power spectra).
    Summarize(cli::summarize::Args),
    /// Simulation-based calibration of a fit configuration: coverage over mocks from the prior.
    Calibrate(cli::calibrate::Args),
}

fn main() {
    // Rust ignores SIGPIPE, so printing into a closed pipe (`spinflip eval ... | head`) would
    // panic; a command-line tool should end quietly, as other Unix tools do.
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to the default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Fit(a) => cli::fit::run(a),
        Cmd::Bias(a) => cli::bias::run(a),
        Cmd::Simulate(a) => cli::simulate::run_any(a),
        Cmd::Train(a) => cli::train::run(a),
        Cmd::Eval(a) => cli::eval::run(a),
        Cmd::Bench(a) => cli::bench::run(a),
        Cmd::Summarize(a) => cli::summarize::run(a),
        Cmd::Calibrate(a) => cli::calibrate::run(a),
    };
    match r {
        Ok(()) => {}
        Err(e @ spinflip::SpinflipError::Interrupted { .. }) => {
            eprintln!("{e}");
            // 128 + SIGINT, the shell's convention for a run stopped by Ctrl-C.
            std::process::exit(130);
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
