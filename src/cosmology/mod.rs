//! Cosmology: background, linear power spectrum, growth, halo collapsed fractions.
//!
//! Everything hangs off a [`Cosmology`] value (Planck 2018 by default). Parameter-independent
//! tables (sigma(M), the collapsed-fraction functions) live in a [`CosmologyTables`] built once
//! per cosmology and shared behind an `Arc`.

pub mod constants;
// The file layout (cosmology/cosmology.rs holds the `Cosmology` value) is the project's.
#[allow(clippy::module_inception)]
pub mod cosmology;
pub mod growth;
pub mod halos;
pub mod power;
pub mod tables;
pub mod transfer;

pub use cosmology::Cosmology;
pub use halos::{CollapsedFraction, MassFunction};
pub use power::SigmaTable;
pub use tables::CosmologyTables;
