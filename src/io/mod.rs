//! Data files: NPY/NPZ arrays, 21cmGEM-layout HDF5, text spectra, the global-signal training
//! set, and the FNV-1a fingerprints that identify data and weight files.

pub mod dataset;
pub mod hash;
pub mod hdf5;
pub mod npy;
pub mod npz;
pub mod text;

pub use dataset::{DataFormat, GlobalSignalSet};
pub use npy::{FloatData, NpyArray, NpyFloats};
pub use npz::{read_npz, read_npz_raw, write_npz, write_npz_members};
