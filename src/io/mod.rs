//! Data files: NPY/NPZ arrays, 21cmGEM-layout HDF5, text spectra.
pub mod text;
