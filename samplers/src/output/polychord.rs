//! PolyChord's output layout, which anesthetic's `read_chains(root)` reads unmodified:
//! `root_dead-birth.txt` and `root_phys_live-birth.txt` (columns: params..., logL,
//! logL_birth), `root.paramnames`, and the human-readable `root.stats`.

use super::files::{ensure_parent, with_suffix, write_atomic};
use super::paramnames::write_paramnames;
use crate::error::SamplerError;
use crate::nested::state::Points;
use crate::nested::NestedResult;
use std::fmt::Write;
use std::path::Path;

/// Writes the PolyChord files of a nested-sampling result under the prefix `root`.
pub fn write_polychord(root: &Path, r: &NestedResult) -> Result<(), SamplerError> {
    ensure_parent(root)?;
    let p = r.names.len();
    write_atomic(
        &with_suffix(root, "_dead-birth.txt"),
        birth_table(&r.dead, p).as_bytes(),
    )?;
    write_atomic(
        &with_suffix(root, "_phys_live-birth.txt"),
        birth_table(&r.live, p).as_bytes(),
    )?;
    write_paramnames(root, &r.names, &r.latex, &[])?;
    write_atomic(&with_suffix(root, ".stats"), stats(r).as_bytes())
}

/// One line per point: params..., logL, logL_birth. Births of the initial prior draws are
/// `-inf` (numpy reads it; anesthetic counts those points as live from the start).
fn birth_table(pts: &Points, p: usize) -> String {
    let mut s = String::with_capacity(pts.len() * (p + 2) * 24);
    for i in 0..pts.len() {
        for x in &pts.theta[i * p..(i + 1) * p] {
            let _ = write!(s, "{x:23.15e} ");
        }
        let _ = writeln!(s, "{:23.15e} {:23.15e}", pts.log_l[i], pts.birth[i]);
    }
    s
}

/// PolyChord-style `root.stats`: evidence, run-time counters, posterior mean and sigma.
fn stats(r: &NestedResult) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Evidence estimates:");
    let _ = writeln!(s, "===================");
    let _ = writeln!(
        s,
        "  - The error is sqrt(H / nlive) with H the information (Skilling 2006)"
    );
    let _ = writeln!(
        s,
        "log(Z)       = {:12.5} +/- {:10.5}",
        r.log_evidence, r.log_evidence_err
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "Global evidence:");
    let _ = writeln!(s, "----------------");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "log(Z)       = {:12.5} +/- {:10.5}",
        r.log_evidence, r.log_evidence_err
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "Run-time information:");
    let _ = writeln!(s, "---------------------");
    let _ = writeln!(s);
    let _ = writeln!(s, " information: {:12.5}", r.information);
    let _ = writeln!(s, " nposterior:  {:12}", r.dead.len() + r.live.len());
    let _ = writeln!(s, " ndead:       {:12}", r.dead.len());
    let _ = writeln!(s, " nlive:       {:12}", r.settings.n_live);
    let _ = writeln!(s, " nlike:       {:12}", r.n_calls);
    let _ = writeln!(
        s,
        " <nlike>:     {:12.2}",
        r.n_calls as f64 / r.n_iterations.max(1) as f64
    );
    let _ = writeln!(s, " wall time:   {:12.3} s", r.wall_time.as_secs_f64());
    let _ = writeln!(s, " converged:   {:>12}", r.converged);
    let _ = writeln!(s);
    let _ = writeln!(s, "Dim No.       Mean        Sigma");
    let post = r.posterior();
    let mean = post.mean();
    let cov = post.covariance();
    let p = r.names.len();
    for j in 0..p {
        let _ = writeln!(
            s,
            "{:<4}{:16.8e} +/- {:14.8e}   {}",
            j + 1,
            mean[j],
            cov[j * p + j].max(0.0).sqrt(),
            r.names[j]
        );
    }
    s
}
