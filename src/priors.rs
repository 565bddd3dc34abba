//! Default fit priors on the 21cmGEM parameters: those of the 21cmLSTM fits (Dorigo Jones et
//! al. 2024, sec. 4; see ANCHORS.md), log-uniform on f_star, V_c and f_X.

use spinflip_samplers::Prior;

/// `(name, LaTeX label, prior)` of each 21cmGEM parameter, in model order.
pub fn global_21cmgem() -> Vec<(&'static str, &'static str, Prior)> {
    vec![
        (
            "f_star",
            r"f_\star",
            Prior::LogUniform {
                min: 1e-4,
                max: 0.5,
            },
        ),
        (
            "V_c",
            r"V_c\,[\mathrm{km\,s^{-1}}]",
            Prior::LogUniform {
                min: 4.2,
                max: 100.0,
            },
        ),
        (
            "f_X",
            r"f_X",
            Prior::LogUniform {
                min: 1e-6,
                max: 1e3,
            },
        ),
        (
            "tau",
            r"\tau",
            Prior::Uniform {
                min: 0.04,
                max: 0.2,
            },
        ),
        (
            "alpha_X",
            r"\alpha_X",
            Prior::Uniform { min: 1.0, max: 1.5 },
        ),
        (
            "nu_min",
            r"\nu_\mathrm{min}\,[\mathrm{keV}]",
            Prior::Uniform { min: 0.1, max: 3.0 },
        ),
        (
            "R_mfp",
            r"R_\mathrm{mfp}\,[\mathrm{Mpc}]",
            Prior::Uniform {
                min: 10.0,
                max: 50.0,
            },
        ),
    ]
}

/// The default `(LaTeX, prior)` of a named parameter, if it has one.
pub fn default_prior(name: &str) -> Option<(String, Prior)> {
    global_21cmgem()
        .into_iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, l, p)| (l.to_string(), p))
}
