//! Subcommands of the `spinflip` binary, one file each.

pub mod bench;
pub mod bias;
pub mod eval;
pub mod fit;
pub mod simulate;
pub mod simulate_maps;
pub mod summarize;
pub mod train;
