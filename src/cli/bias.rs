//! `spinflip bias`.

use crate::SpinflipError;

/// Arguments of `spinflip bias`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run `spinflip bias`.
pub fn run(_args: Args) -> Result<(), SpinflipError> {
    Err(SpinflipError::config(
        "command",
        "'bias' is not implemented yet",
    ))
}
