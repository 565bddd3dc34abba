//! Cosmology: background, linear power spectrum, growth, halo collapsed fractions.
