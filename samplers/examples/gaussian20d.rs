//! A 20-dimensional unit Gaussian in U[-10, 10]^20 (ln Z = -20 ln 20 = -59.915), sampled by
//! nested sampling with the automatic choice of move (rejection from ellipsoids throughout
//! here: a Gaussian's contours are ellipsoids).
//!
//! `cargo run --release -p spinflip-samplers --example gaussian20d -- out/g20 [seed]`

use spinflip_samplers::nested::{NestedSampler, NestedSettings};
use spinflip_samplers::{FnLikelihood, ParameterSet, Prior};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let root = args.next().ok_or("usage: gaussian20d OUTPUT_ROOT [SEED]")?;
    let seed = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1);
    let d = 20;
    let params = ParameterSet::iid(d, Prior::uniform(-10.0, 10.0)?)?;
    let norm = -0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln();
    let like = FnLikelihood::new(d, move |t: &[f64]| {
        norm - 0.5 * t.iter().map(|x| x * x).sum::<f64>()
    });
    let settings = NestedSettings {
        n_live: 500,
        seed,
        progress: true,
        ..Default::default()
    };
    let r = NestedSampler::new(&params, &like, settings)?.run()?;
    r.write_chains(&root)?;
    println!(
        "gaussian 20-D ({:?}): ln Z = {:.3} +- {:.3} (exact {:.3}), {} likelihood calls, {:.3} s, chains in {root}*",
        r.method,
        r.log_evidence,
        r.log_evidence_err,
        -(d as f64) * 20f64.ln(),
        r.n_calls,
        r.wall_time.as_secs_f64()
    );
    Ok(())
}
