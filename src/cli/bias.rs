//! `spinflip bias BIAS.toml`.

use crate::bias::{run_bias, BiasConfig};
use crate::SpinflipError;
use std::path::PathBuf;

/// Arguments of `spinflip bias`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Bias configuration (TOML).
    pub config: PathBuf,
    /// No progress: neither the line per fit nor the fits' own progress.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Run `spinflip bias`.
pub fn run(args: Args) -> Result<(), SpinflipError> {
    let cfg = BiasConfig::load(&args.config)?;
    let report = run_bias(&cfg, args.quiet)?;
    print!("{}", report.markdown());
    println!(
        "written: {0}.md, {0}.csv, {0}.json, {0}_bias.png",
        cfg.output.root.display()
    );
    Ok(())
}
