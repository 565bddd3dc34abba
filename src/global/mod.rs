//! The semi-analytic global 21-cm signal simulator on the 21cmGEM parameters.
