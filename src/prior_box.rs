//! Priors against the box a model is valid on (an emulator's training box): a prior that
//! reaches outside it would be cut silently by the model's rejections, moving ln Z, so it is
//! refused before the run, or, with `[model] truncate_priors = true`, cut explicitly with the
//! prior mass lost reported.

use crate::SpinflipError;
use spinflip_samplers::{Parameter, Prior};

/// Relative slack at the box's edges (priors written with rounded bounds still fit).
const EDGE_SLACK: f64 = 1e-9;

/// A prior cut to the model's box.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorCut {
    /// Parameter name.
    pub name: String,
    /// The prior as configured.
    pub from: Prior,
    /// The prior used.
    pub to: Prior,
    /// Fraction of `from`'s mass that `to` keeps.
    pub kept: f64,
}

impl PriorCut {
    /// One line for a user: what was cut and what it does to ln Z.
    pub fn message(&self) -> String {
        format!(
            "params.{}: the prior ({}) was truncated to the model's valid range ({}), keeping \
             {:.3}% of its mass; ln Z is the evidence of the truncated prior (add ln {:.4} = \
             {:.4} for the configured prior with L = 0 outside)",
            self.name,
            self.from,
            self.to,
            100.0 * self.kept,
            self.kept,
            self.kept.ln()
        )
    }
}

/// Check each parameter's prior against `valid` (one `(min, max)` per model parameter, the
/// first `valid.len()` of `params`). Outside it: an error naming the parameter, the range and
/// the fixes, unless `truncate`, when the prior is cut to the range and reported.
/// `what` names the model in messages (e.g. "the emulator's training range").
pub fn fit_priors_to_box(
    params: &mut [Parameter],
    valid: &[(f64, f64)],
    truncate: bool,
    what: &str,
) -> Result<Vec<PriorCut>, SpinflipError> {
    let mut cuts = Vec::new();
    for (p, &(lo, hi)) in params.iter_mut().zip(valid) {
        let (a, b) = p.prior.bounds();
        let slack = EDGE_SLACK * lo.abs().max(hi.abs());
        if a >= lo - slack && b <= hi + slack {
            continue;
        }
        let field = format!("params.{}.prior", p.name);
        if p.prior.is_fixed() {
            return Err(SpinflipError::config(
                field,
                format!(
                    "{} lies outside {what} [{lo}, {hi}]; fix it inside the range",
                    p.prior
                ),
            ));
        }
        if !truncate {
            return Err(SpinflipError::config(
                field,
                format!(
                    "{} reaches outside {what} [{lo}, {hi}], where the model rejects every \
                     point (the prior would be cut silently and ln Z moved). Narrow the prior \
                     to inside the range; or set `truncate_priors = true` in [model] to cut \
                     it there (the mass lost is reported); or `allow_extrapolation = true` \
                     to let the emulator extrapolate (accuracy unknown there)",
                    p.prior
                ),
            ));
        }
        let (to, kept) = p.prior.truncated(lo, hi).map_err(|e| {
            SpinflipError::config(field.clone(), format!("cannot be cut to {what}: {e}"))
        })?;
        cuts.push(PriorCut {
            name: p.name.clone(),
            from: p.prior,
            to,
            kept,
        });
        p.prior = to;
    }
    Ok(cuts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str, prior: Prior) -> Parameter {
        Parameter::new(name, name, prior).unwrap()
    }

    #[test]
    fn a_prior_inside_the_box_passes_and_one_outside_is_refused_or_cut() {
        let boxed = [(1e-6, 1e3), (0.0, 1.0)];
        let mut ok = vec![
            param("f_X", Prior::log_uniform(1e-6, 1e3).unwrap()),
            param("b", Prior::uniform(0.0, 1.0 + 1e-12).unwrap()),
        ];
        assert!(fit_priors_to_box(&mut ok, &boxed, false, "the box")
            .unwrap()
            .is_empty());

        let wide = || {
            vec![
                param("f_X", Prior::log_uniform(1e-8, 1e4).unwrap()),
                param("b", Prior::uniform(0.0, 1.0).unwrap()),
            ]
        };
        let err = fit_priors_to_box(&mut wide(), &boxed, false, "the box")
            .unwrap_err()
            .to_string();
        assert!(err.contains("params.f_X.prior"), "{err}");
        assert!(err.contains("[0.000001, 1000]"), "{err}");
        assert!(err.contains("truncate_priors = true"), "{err}");

        let mut params = wide();
        let cuts = fit_priors_to_box(&mut params, &boxed, true, "the box").unwrap();
        assert_eq!(cuts.len(), 1);
        // 9 of the 12 decades are kept.
        assert!((cuts[0].kept - 0.75).abs() < 1e-12);
        assert_eq!(params[0].prior, Prior::log_uniform(1e-6, 1e3).unwrap());
        assert!(
            cuts[0].message().contains("75.000%"),
            "{}",
            cuts[0].message()
        );
    }

    #[test]
    fn a_fixed_value_outside_the_box_is_an_error_even_when_truncating() {
        let mut p = vec![param("a", Prior::fixed(5.0).unwrap())];
        assert!(fit_priors_to_box(&mut p, &[(0.0, 1.0)], true, "the box").is_err());
    }
}
