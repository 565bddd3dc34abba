//! `spinflip simulate`.

use crate::SpinflipError;

/// Arguments of `spinflip simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run `spinflip simulate`.
pub fn run(_args: Args) -> Result<(), SpinflipError> {
    Err(SpinflipError::config(
        "command",
        "'simulate' is not implemented yet",
    ))
}
