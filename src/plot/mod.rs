//! PNG plots: line plots, bands, corner plots.
