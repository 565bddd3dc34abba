//! Histories of the global 21-cm signal at the fiducial point (or with overrides) as CSV.
//!
//! ```text
//! cargo run --release --example global_fiducial -- out.csv [--f_star 0.1 --V_c 30 ...]
//! ```
//! Columns: z,dTb_mK,x_HI,T_K,T_S,J_alpha,x_alpha,x_c (z ascending 5..50).

use spinflip::global::{GlobalParams, GlobalSimulator, PARAM_NAMES};
use std::io::Write;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .ok_or("usage: global_fiducial OUT.csv [--f_star v --V_c v --f_X v --tau v --alpha_X v --nu_min v --R_mfp v]")?;
    let mut theta = GlobalParams::fiducial().to_array();
    let mut rest = args[1..].iter();
    while let Some(flag) = rest.next() {
        let name = flag.trim_start_matches("--");
        let i = PARAM_NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                format!(
                    "unknown parameter '{flag}' (known: {})",
                    PARAM_NAMES.join(", ")
                )
            })?;
        let v = rest
            .next()
            .ok_or_else(|| format!("'{flag}' needs a value"))?;
        theta[i] = v
            .parse()
            .map_err(|_| format!("'{v}' is not a number for {flag}"))?;
    }
    let sim = GlobalSimulator::planck18();
    let h = sim.histories(&theta)?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(f, "z,dTb_mK,x_HI,T_K,T_S,J_alpha,x_alpha,x_c")?;
    for k in 0..h.z.len() {
        writeln!(
            f,
            "{:.1},{:.6},{:.6e},{:.6e},{:.6e},{:.6e},{:.6e},{:.6e}",
            h.z[k], h.dtb[k], h.x_hi[k], h.t_k[k], h.t_s[k], h.j_alpha[k], h.x_alpha[k], h.x_c[k]
        )?;
    }
    f.flush()?;
    let (k_min, t_min) =
        h.dtb.iter().enumerate().fold(
            (0, f64::INFINITY),
            |a, (k, &t)| if t < a.1 { (k, t) } else { a },
        );
    eprintln!(
        "parameters {:?}: trough {:.1} mK at z = {:.1}, zeta = {:.2}; wrote {}",
        theta, t_min, h.z[k_min], h.zeta, path
    );
    Ok(())
}
