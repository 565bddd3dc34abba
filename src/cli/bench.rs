//! `spinflip bench`.

use crate::SpinflipError;

/// Arguments of `spinflip bench`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run `spinflip bench`.
pub fn run(_args: Args) -> Result<(), SpinflipError> {
    Err(SpinflipError::config(
        "command",
        "'bench' is not implemented yet",
    ))
}
