//! Default fit priors on the 21cmGEM parameters: those of the 21cmLSTM fits (Dorigo Jones et
//! al. 2024, sec. 4; see ANCHORS.md), which are the 21cmGEM ranges, log-uniform on f_star,
//! V_c and f_X and uniform on the rest.

use crate::global::{PARAM_LATEX, PARAM_LOG, PARAM_NAMES, PARAM_RANGES};
use spinflip_samplers::Prior;

/// The default `(LaTeX, prior)` of a named parameter, if it has one.
pub fn default_prior(name: &str) -> Option<(String, Prior)> {
    let i = PARAM_NAMES.iter().position(|n| *n == name)?;
    let (min, max) = PARAM_RANGES[i];
    let prior = if PARAM_LOG[i] {
        Prior::LogUniform { min, max }
    } else {
        Prior::Uniform { min, max }
    };
    Some((PARAM_LATEX[i].to_string(), prior))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dj24_priors() {
        assert_eq!(
            default_prior("f_X").unwrap().1,
            Prior::LogUniform {
                min: 1e-6,
                max: 1e3
            }
        );
        assert_eq!(
            default_prior("tau").unwrap().1,
            Prior::Uniform {
                min: 0.04,
                max: 0.2
            }
        );
        assert!(default_prior("nope").is_none());
    }
}
