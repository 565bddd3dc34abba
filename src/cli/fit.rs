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
    /// Require the checkpoint at the output root (without this flag an unfinished checkpoint
    /// of the same run is resumed anyway, and none means a fresh start).
    #[arg(long, conflicts_with = "restart")]
    pub resume: bool,
    /// Delete an existing checkpoint at the output root and start over.
    #[arg(long)]
    pub restart: bool,
    /// No progress (a status line on a terminal, a line every 10 s otherwise).
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
    for cut in &problem.prior_cuts {
        eprintln!("warning: {}", cut.message());
    }
    let ckpt = crate::fit::checkpoint_path(&cfg.output.root);
    if args.restart && ckpt.exists() {
        std::fs::remove_file(&ckpt).map_err(|e| SpinflipError::io(&ckpt, e))?;
    }
    super::install_interrupt_handler();
    eprintln!(
        "fitting {} data values with {} parameters ({} free), model '{}'; {}",
        problem.likelihood.data().len(),
        problem.params.n_params(),
        problem.params.n_free(),
        problem.kind.name(),
        if ckpt.exists() {
            format!(
                "checkpoint {} found: resuming it if it belongs to this run",
                ckpt.display()
            )
        } else {
            "starting".to_string()
        }
    );
    let out = run_fit(&cfg, &problem, args.quiet)?;
    print!("{}", out.summary.table());
    println!(
        "outputs: {}_*.txt, .paramnames, .stats, .json, _fit.json, PNGs",
        cfg.output.root.display()
    );
    Ok(())
}
