//! `spinflip summarize FILE.npz`: the summaries of a light-cone set from `spinflip simulate
//! maps` — the global signal and neutral fraction, reionisation midpoints and absorption
//! troughs, the spherically averaged Delta^2(k) of cubic line-of-sight chunks (21CMMC
//! convention, k = 0.1-1 / Mpc reported) and, for sets saved with `--full-cone`, the
//! cylindrical (k_perp, k_par) spectrum. Prints a table; `--out` writes the numbers as NPZ.

use crate::io::npy::f32_npy_bytes;
use crate::io::npz::{NpzReader, NpzWriter};
use crate::io::NpyArray;
use crate::lightcone::summaries::{
    chunk_cylindrical_spectra, log_edges, neutral_fraction_crossing, K_REPORT_MAX, K_REPORT_MIN,
};
use crate::lightcone::LightCone;
use crate::SpinflipError;
use std::path::PathBuf;

/// Arguments of `spinflip summarize`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// A light-cone set written by `spinflip simulate maps`.
    pub file: PathBuf,
    /// Write the summaries to this .npz.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Log bins in k_perp and in k_par of the cylindrical spectrum (sets with `cones`).
    #[arg(long, default_value_t = 8)]
    pub cyl_bins: usize,
}

/// Run `spinflip summarize`.
pub fn run(a: Args) -> Result<(), SpinflipError> {
    let mut r = NpzReader::open(&a.file)?;
    for m in ["params", "los_redshifts", "global_tb", "global_xhi"] {
        if !r.has(m) {
            return Err(SpinflipError::Data {
                path: a.file.display().to_string(),
                reason: format!("no '{m}': not a light-cone set from `spinflip simulate maps`"),
            });
        }
    }
    let z = r.array("los_redshifts")?.data;
    let n_los = z.len();
    let params = r.array("params")?;
    let n = params.rows();
    let mut tb = Vec::with_capacity(n * n_los);
    r.f32_rows("global_tb", |_, row| {
        tb.extend(row.iter().map(|&x| x as f64));
        Ok(())
    })?;
    let mut xhi = Vec::with_capacity(n * n_los);
    r.f32_rows("global_xhi", |_, row| {
        xhi.extend(row.iter().map(|&x| x as f64));
        Ok(())
    })?;
    let (tb_mean, tb_std) = column_stats(&tb, n, n_los);
    let (xhi_mean, _) = column_stats(&xhi, n, n_los);

    // Per light-cone midpoint and trough.
    let mut z_mid = Vec::with_capacity(n);
    let mut trough = Vec::with_capacity(2 * n);
    for i in 0..n {
        let lc = LightCone {
            cells: 1,
            n_los,
            t_b: Vec::new(),
            global_tb: tb[i * n_los..(i + 1) * n_los]
                .iter()
                .map(|&x| x as f32)
                .collect(),
            global_xhi: xhi[i * n_los..(i + 1) * n_los]
                .iter()
                .map(|&x| x as f32)
                .collect(),
            redshifts: z.clone(),
        };
        z_mid.push(neutral_fraction_crossing(&lc, 0.5).unwrap_or(f64::NAN));
        let (j, t) = lc
            .global_tb
            .iter()
            .enumerate()
            .fold((0, f32::MAX), |b, (j, &t)| if t < b.1 { (j, t) } else { b });
        trough.push(t as f64);
        trough.push(z[j]);
    }

    println!(
        "{}: {n} light-cones, {n_los} slices, z = {:.2}-{:.2}",
        a.file.display(),
        z[0],
        z[n_los - 1]
    );
    println!("\nglobal signal (mean +- std over light-cones):");
    println!("| z | dT_b [mK] | x_HI |\n|---|---|---|");
    for zt in [6.0, 7.0, 8.0, 9.0, 10.0, 12.0, 15.0, 18.0, 20.0, 25.0, 30.0] {
        if zt < z[0] || zt > z[n_los - 1] {
            continue;
        }
        let j = nearest(&z, zt);
        println!(
            "| {:.2} | {:.2} +- {:.2} | {:.3} |",
            z[j], tb_mean[j], tb_std[j], xhi_mean[j]
        );
    }
    let finite: Vec<f64> = z_mid.iter().copied().filter(|x| x.is_finite()).collect();
    if !finite.is_empty() {
        let (m, s) = mean_std(&finite);
        println!(
            "\nz(x_HI = 0.5): {m:.2} +- {s:.2} ({} of {n} light-cones reach it)",
            finite.len()
        );
    }
    let depths: Vec<f64> = trough.iter().step_by(2).copied().collect();
    let zs: Vec<f64> = trough.iter().skip(1).step_by(2).copied().collect();
    let (dm, ds) = mean_std(&depths);
    let (zm, zsd) = mean_std(&zs);
    println!("absorption trough: {dm:.1} +- {ds:.1} mK at z = {zm:.2} +- {zsd:.2}");

    let mut w = match &a.out {
        Some(p) => Some(NpzWriter::create(p)?),
        None => None,
    };
    if let Some(w) = w.as_mut() {
        w.add(
            "los_redshifts",
            &NpyArray::new(vec![n_los], z.clone())?.to_npy_bytes(),
        )?;
        w.add(
            "global_tb_mean",
            &NpyArray::new(vec![n_los], tb_mean.clone())?.to_npy_bytes(),
        )?;
        w.add(
            "global_tb_std",
            &NpyArray::new(vec![n_los], tb_std.clone())?.to_npy_bytes(),
        )?;
        w.add(
            "global_xhi_mean",
            &NpyArray::new(vec![n_los], xhi_mean.clone())?.to_npy_bytes(),
        )?;
        w.add(
            "z_mid",
            &NpyArray::new(vec![n], z_mid.clone())?.to_npy_bytes(),
        )?;
        w.add(
            "trough",
            &NpyArray::from_rows(n, 2, trough.clone())?.to_npy_bytes(),
        )?;
        w.add("params", &params.to_npy_bytes())?;
    }

    // Spherical Delta^2 of chunks, computed when the set was made.
    if r.has("ps") && r.has("ps_k") && r.has("ps_z") {
        let k = r.array("ps_k")?.data;
        let cz = r.array("ps_z")?.data;
        let mut ps = Vec::new();
        let shape = r.f32_rows("ps", |_, row| {
            ps.extend(row.iter().map(|&x| x as f64));
            Ok(())
        })?;
        let per = cz.len() * k.len();
        let (pm, psd) = column_stats(&ps, n, per);
        println!("\nDelta^2(k) [mK^2] of cubic chunks (mean +- std over light-cones):");
        let cols: Vec<usize> = (0..k.len())
            .filter(|&b| k[b] >= K_REPORT_MIN && k[b] <= K_REPORT_MAX)
            .collect();
        print!("| z \\ k [1/Mpc] |");
        for &b in &cols {
            print!(" {:.3} |", k[b]);
        }
        println!("\n|---|{}", "---|".repeat(cols.len()));
        for zt in [8.0, 10.0, 12.0, 15.0, 20.0, 25.0] {
            if cz.is_empty() || zt < cz[0] - 1.0 || zt > cz[cz.len() - 1] + 1.0 {
                continue;
            }
            let c = nearest(&cz, zt);
            print!("| {:.2} |", cz[c]);
            for &b in &cols {
                print!(
                    " {:.3e} +- {:.1e} |",
                    pm[c * k.len() + b],
                    psd[c * k.len() + b]
                );
            }
            println!();
        }
        if let Some(w) = w.as_mut() {
            w.add(
                "ps_k",
                &NpyArray::new(vec![k.len()], k.clone())?.to_npy_bytes(),
            )?;
            w.add(
                "ps_z",
                &NpyArray::new(vec![cz.len()], cz.clone())?.to_npy_bytes(),
            )?;
            w.add(
                "ps_mean",
                &NpyArray::new(vec![cz.len(), k.len()], pm)?.to_npy_bytes(),
            )?;
            w.add(
                "ps_std",
                &NpyArray::new(vec![cz.len(), k.len()], psd)?.to_npy_bytes(),
            )?;
            debug_assert_eq!(shape[0], n);
        }
    }

    // Cylindrical spectra need the whole cone.
    if r.has("cones") {
        let geometry = r.array("geometry")?.data;
        let box_mpc = geometry[0];
        let cells = geometry[1] as usize;
        let kf = 2.0 * std::f64::consts::PI / box_mpc;
        let kny = std::f64::consts::PI * cells as f64 / box_mpc;
        let perp = log_edges(kf, 2f64.sqrt() * kny * 1.0001, a.cyl_bins);
        let par = log_edges(kf, kny * 1.0001, a.cyl_bins);
        let mut all = Vec::new();
        let mut chunks_z = Vec::new();
        r.f32_rows("cones", |_, cone| {
            let lc = LightCone {
                cells,
                n_los,
                t_b: cone.to_vec(),
                global_tb: vec![0.0; n_los],
                global_xhi: vec![0.0; n_los],
                redshifts: z.clone(),
            };
            let cyl = chunk_cylindrical_spectra(&lc, box_mpc, &perp, &par);
            chunks_z = cyl.iter().map(|c| c.z).collect();
            for c in cyl {
                all.extend(c.power.iter().map(|&p| p as f32));
            }
            Ok(())
        })?;
        println!(
            "\ncylindrical P(k_perp, k_par) of {} chunks x {} x {} bins computed{}",
            chunks_z.len(),
            a.cyl_bins,
            a.cyl_bins,
            if a.out.is_some() { " (in --out)" } else { "" }
        );
        if let Some(w) = w.as_mut() {
            w.add(
                "cyl_kperp_edges",
                &NpyArray::new(vec![perp.len()], perp)?.to_npy_bytes(),
            )?;
            w.add(
                "cyl_kpar_edges",
                &NpyArray::new(vec![par.len()], par)?.to_npy_bytes(),
            )?;
            w.add(
                "cyl_z",
                &NpyArray::new(vec![chunks_z.len()], chunks_z.clone())?.to_npy_bytes(),
            )?;
            w.add(
                "cyl",
                &f32_npy_bytes(&[n, chunks_z.len(), a.cyl_bins, a.cyl_bins], &all),
            )?;
        }
    }
    if let Some(w) = w {
        w.finish()?;
        if let Some(p) = &a.out {
            println!("\nwrote {}", p.display());
        }
    }
    Ok(())
}

fn nearest(v: &[f64], x: f64) -> usize {
    (0..v.len())
        .min_by(|&i, &j| (v[i] - x).abs().total_cmp(&(v[j] - x).abs()))
        .unwrap_or(0)
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let s = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
    (m, s)
}

/// Mean and standard deviation over rows of an (rows x cols) array, per column.
fn column_stats(data: &[f64], rows: usize, cols: usize) -> (Vec<f64>, Vec<f64>) {
    let mut m = vec![0.0; cols];
    let mut s = vec![0.0; cols];
    for i in 0..rows {
        for j in 0..cols {
            m[j] += data[i * cols + j] / rows as f64;
        }
    }
    for i in 0..rows {
        for j in 0..cols {
            s[j] += (data[i * cols + j] - m[j]).powi(2) / rows as f64;
        }
    }
    (m, s.into_iter().map(f64::sqrt).collect())
}
