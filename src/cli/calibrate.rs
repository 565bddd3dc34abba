//! `spinflip calibrate RUN.toml --n 200`: simulation-based calibration of a fit configuration.

use std::path::PathBuf;

use crate::calibrate::{calibrate, CalibrationSettings};
use crate::config::RunConfig;
use crate::SpinflipError;

/// Arguments of `spinflip calibrate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run configuration (TOML) with a `[data.mock]` table: its model, noise, priors and
    /// sampler settings are used; truths are drawn from the prior and mock seeds from --seed.
    pub config: PathBuf,
    /// Number of mocks (200 or more for a verdict).
    #[arg(long, default_value_t = 200)]
    pub n: usize,
    /// Seed of the truths, mocks and samplers.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output root (default: the config's `[output] root`): ROOT_calibration.json and .png.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads (mocks in parallel; default all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress (a bar on a terminal, a line every 10 s otherwise).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Run `spinflip calibrate`.
pub fn run(a: Args) -> Result<(), SpinflipError> {
    let cfg = RunConfig::load(&a.config)?;
    let root = a.out.clone().unwrap_or_else(|| cfg.output.root.clone());
    let c = calibrate(
        &cfg,
        &CalibrationSettings {
            n: a.n,
            seed: a.seed,
            threads: a.threads,
            progress: !a.quiet,
        },
    )?;
    let files = c.write(&root)?;
    print!("{}", c.table());
    println!("wrote {}", super::file_list(&files));
    Ok(())
}
