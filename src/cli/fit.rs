//! `spinflip fit RUN.toml`.

use crate::config::RunConfig;
use crate::fit::run_fit;
use crate::problem::Problem;
use crate::SpinflipError;
use std::path::PathBuf;

/// Arguments of `spinflip fit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run configuration (TOML).
    pub config: PathBuf,
    /// Override `[output] root`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override the sampler seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Resume from the checkpoint at the output root.
    #[arg(long)]
    pub resume: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Run `spinflip fit`.
pub fn run(args: Args) -> Result<(), SpinflipError> {
    let mut cfg = RunConfig::load(&args.config)?;
    if let Some(o) = args.out {
        cfg.output.root = o;
    }
    if let Some(s) = args.seed {
        cfg.sampler.seed = s;
    }
    cfg.sampler.resume |= args.resume;
    let problem = Problem::from_config(&cfg)?;
    eprintln!(
        "fitting {} channels with {} parameters ({} free)",
        problem.likelihood.data().len(),
        problem.params.n_params(),
        problem.params.n_free()
    );
    let out = run_fit(&cfg, &problem, args.quiet)?;
    print!("{}", out.summary.table());
    println!(
        "outputs: {}_*.txt, .paramnames, .stats, .json, _fit.json, PNGs",
        cfg.output.root.display()
    );
    Ok(())
}
