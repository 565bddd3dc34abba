//! A measured (or mock) sky-averaged spectrum: frequencies, temperatures and noise.

use crate::error::ModelError;
use serde::{Deserialize, Serialize};

/// Rest frequency of the 21-cm line in MHz.
pub const NU21_MHZ: f64 = 1_420.405_751;

/// Observed frequency (MHz) of the 21-cm line emitted at redshift `z`.
pub fn freq_of_z(z: f64) -> f64 {
    NU21_MHZ / (1.0 + z)
}

/// Redshift at which the 21-cm line is observed at `nu` MHz.
pub fn z_of_freq(nu_mhz: f64) -> f64 {
    NU21_MHZ / nu_mhz - 1.0
}

/// A spectrum: one temperature (mK) per frequency channel (MHz), with optional per-channel noise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spectrum {
    /// Channel frequencies in MHz.
    pub freq_mhz: Vec<f64>,
    /// Measured brightness temperature in mK.
    pub temp_mk: Vec<f64>,
    /// 1-sigma noise per channel in mK, if the data carry it.
    pub sigma_mk: Option<Vec<f64>>,
}

impl Spectrum {
    /// Build and validate: equal lengths, finite values, positive frequencies and sigmas.
    pub fn new(
        freq_mhz: Vec<f64>,
        temp_mk: Vec<f64>,
        sigma_mk: Option<Vec<f64>>,
    ) -> Result<Self, ModelError> {
        let s = Spectrum {
            freq_mhz,
            temp_mk,
            sigma_mk,
        };
        s.validate()?;
        Ok(s)
    }

    /// Number of channels.
    pub fn len(&self) -> usize {
        self.freq_mhz.len()
    }

    /// Whether there are no channels.
    pub fn is_empty(&self) -> bool {
        self.freq_mhz.is_empty()
    }

    /// Check lengths and values; errors name the field and the fix.
    pub fn validate(&self) -> Result<(), ModelError> {
        let n = self.freq_mhz.len();
        if n == 0 {
            return Err(ModelError::Invalid {
                field: "data".into(),
                reason: "the spectrum has no channels".into(),
            });
        }
        if self.temp_mk.len() != n {
            return Err(ModelError::Dimension {
                what: "data temperatures (one per frequency)".into(),
                expected: n,
                got: self.temp_mk.len(),
            });
        }
        for (i, &f) in self.freq_mhz.iter().enumerate() {
            if !(f.is_finite() && f > 0.0) {
                return Err(ModelError::Invalid {
                    field: "data.freq".into(),
                    reason: format!(
                        "channel {i} has frequency {f}; frequencies must be finite and > 0 MHz"
                    ),
                });
            }
        }
        for (i, &t) in self.temp_mk.iter().enumerate() {
            if !t.is_finite() {
                return Err(ModelError::Invalid {
                    field: "data.temp".into(),
                    reason: format!("channel {i} ({} MHz) has non-finite temperature {t}; remove or mask the channel", self.freq_mhz[i]),
                });
            }
        }
        if let Some(sig) = &self.sigma_mk {
            if sig.len() != n {
                return Err(ModelError::Dimension {
                    what: "data sigmas (one per frequency)".into(),
                    expected: n,
                    got: sig.len(),
                });
            }
            for (i, &s) in sig.iter().enumerate() {
                if !(s.is_finite() && s > 0.0) {
                    return Err(ModelError::Invalid {
                        field: "data.sigma".into(),
                        reason: format!(
                            "channel {i} has sigma {s}; noise must be finite and > 0 mK"
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// Keep only channels with `lo <= nu <= hi` MHz.
    pub fn band(&self, lo_mhz: f64, hi_mhz: f64) -> Result<Spectrum, ModelError> {
        if !(lo_mhz.is_finite() && hi_mhz.is_finite() && lo_mhz < hi_mhz) {
            return Err(ModelError::Invalid {
                field: "band".into(),
                reason: format!("band must be [lo, hi] MHz with lo < hi, got [{lo_mhz}, {hi_mhz}]"),
            });
        }
        let keep: Vec<usize> = (0..self.len())
            .filter(|&i| (lo_mhz..=hi_mhz).contains(&self.freq_mhz[i]))
            .collect();
        if keep.is_empty() {
            return Err(ModelError::Invalid {
                field: "band".into(),
                reason: format!("no channel lies in [{lo_mhz}, {hi_mhz}] MHz"),
            });
        }
        Ok(Spectrum {
            freq_mhz: keep.iter().map(|&i| self.freq_mhz[i]).collect(),
            temp_mk: keep.iter().map(|&i| self.temp_mk[i]).collect(),
            sigma_mk: self
                .sigma_mk
                .as_ref()
                .map(|s| keep.iter().map(|&i| s[i]).collect()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_field() {
        let e = Spectrum::new(vec![50.0, 60.0], vec![1.0, f64::NAN], None).unwrap_err();
        assert!(e.to_string().contains("data.temp"), "{e}");
        let e = Spectrum::new(vec![50.0, 60.0], vec![1.0, 2.0], Some(vec![1.0, 0.0])).unwrap_err();
        assert!(e.to_string().contains("data.sigma"), "{e}");
        assert!(Spectrum::new(vec![50.0], vec![1.0, 2.0], None).is_err());
    }

    #[test]
    fn band_cut_and_redshift_conversion() {
        let s = Spectrum::new(vec![50.0, 60.0, 70.0], vec![1.0, 2.0, 3.0], None).unwrap();
        let b = s.band(55.0, 75.0).unwrap();
        assert_eq!(b.temp_mk, vec![2.0, 3.0]);
        assert!(s.band(80.0, 90.0).is_err());
        assert!((z_of_freq(freq_of_z(17.3)) - 17.3).abs() < 1e-12);
    }
}
