//! The opaque likelihood handle C callers hold.

use crate::problem::Problem;
use std::ffi::CString;

/// An opaque likelihood handle: parameters with priors, data, noise and a forward model.
pub struct SpinflipLikelihood {
    problem: Problem,
    pub(crate) names: Vec<CString>,
    pub(crate) latex: Vec<CString>,
}

impl SpinflipLikelihood {
    pub(crate) fn new(problem: Problem) -> Self {
        let cs = |s: &str| CString::new(s.replace('\0', " ")).unwrap_or_default();
        let names = problem
            .params
            .params()
            .iter()
            .map(|p| cs(&p.name))
            .collect();
        let latex = problem
            .params
            .params()
            .iter()
            .map(|p| cs(&p.latex))
            .collect();
        SpinflipLikelihood {
            problem,
            names,
            latex,
        }
    }

    /// The problem behind the handle (for the sampler adapters).
    pub(crate) fn problem(&self) -> &Problem {
        &self.problem
    }
}
