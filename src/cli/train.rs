//! `spinflip train`.

use crate::SpinflipError;

/// Arguments of `spinflip train`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run `spinflip train`.
pub fn run(_args: Args) -> Result<(), SpinflipError> {
    Err(SpinflipError::config(
        "command",
        "'train' is not implemented yet",
    ))
}
