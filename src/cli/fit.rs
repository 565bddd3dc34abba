//! `spinflip fit`.

use crate::SpinflipError;

/// Arguments of `spinflip fit`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run `spinflip fit`.
pub fn run(_args: Args) -> Result<(), SpinflipError> {
    Err(SpinflipError::config(
        "command",
        "'fit' is not implemented yet",
    ))
}
