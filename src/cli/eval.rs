//! `spinflip eval`.

use crate::SpinflipError;

/// Arguments of `spinflip eval`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run `spinflip eval`.
pub fn run(_args: Args) -> Result<(), SpinflipError> {
    Err(SpinflipError::config(
        "command",
        "'eval' is not implemented yet",
    ))
}
