mod common;
use spinflip_samplers::nested::*;
use spinflip_samplers::*;

fn report<L: LogLikelihood>(
    name: &str,
    p: &ParameterSet,
    l: &L,
    exact: f64,
    n_live: usize,
    method: Method,
    seeds: std::ops::Range<u64>,
) {
    for seed in seeds {
        let s = NestedSettings {
            n_live,
            seed,
            method,
            ..Default::default()
        };
        let t = std::time::Instant::now();
        let r = NestedSampler::new(p, l, s).unwrap().run().unwrap();
        let m = r.posterior().mean();
        eprintln!("{name} n={n_live} seed={seed}: lnZ {:.3} +- {:.3} (dev {:.2} sig) H {:.2} calls {} iters {} {:?} mean0 {:.3}",
            r.log_evidence, r.log_evidence_err, (r.log_evidence - exact)/r.log_evidence_err, r.information, r.n_calls, r.n_iterations, t.elapsed(), m[0]);
    }
}

#[test]
fn probe() {
    let which = std::env::var("PROBE").unwrap_or_default();
    let n: usize = std::env::var("NLIVE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let seeds = 1..std::env::var("NSEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let method = match std::env::var("METHOD").as_deref() {
        Ok("slice") => Method::Slice,
        Ok("rej") => Method::Rejection,
        _ => Method::Auto,
    };
    if which.starts_with('g') {
        let d: usize = which[1..].parse().unwrap();
        let (p, l, e) = common::gaussian(d);
        report(&which, &p, &l, e, n, method, seeds);
    } else if which == "shells" {
        let (p, l, e) = common::shells();
        report(&which, &p, &l, e, n, method, seeds);
    } else if which == "eggbox" {
        let (p, l, e) = common::eggbox();
        report(&which, &p, &l, e, n, method, seeds);
    }
}
