//! `spinflip simulate maps`: 21-cm light-cones for map inference (Gillet et al. 2019 style).
//!
//! Each light-cone is written as soon as it is done to `<out>.parts/lc-<index>.npz`
//! (atomically), so a killed run loses only the light-cones in progress and the same command
//! resumes it; when all are done they are joined into `--out` and the parts removed. A set
//! can be made in several runs (the same `--seed` with consecutive `--first` ranges give the
//! same light-cones as one run) and joined with `--join`.

use crate::io::npy::{f32_npy_bytes, npy_header, str_npy_bytes, u64_npy_bytes};
use crate::io::npz::{NpzReader, NpzWriter};
use crate::io::NpyArray;
use crate::lightcone::summaries::{chunk_power_spectra, default_k_edges, n_chunks};
use crate::lightcone::{
    MapGeometry, MapOutput, MapParams, MapSimulator, MapTables, MAP_PARAM_NAMES, N_MAP_PARAMS,
};
use crate::samplers::progress::Counter;
use crate::seeds::mix;
use crate::SpinflipError;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Arguments of `spinflip simulate maps`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Number of light-cones, parameters drawn uniformly over the Gillet et al. box
    /// (zeta 10-250, log10 T_vir 4-6, log10 L_X 38-42, E_0 0.1-1.5 keV) with --seed.
    #[arg(long)]
    pub n: Option<usize>,
    /// Parameter points instead of --n: an N x 4 NPY or CSV file, columns zeta, log10_Tvir,
    /// log10_LX, E0_keV (a CSV may start with a header line).
    #[arg(long, value_name = "FILE")]
    pub params: Option<PathBuf>,
    /// Seed of the parameter draws and of every light-cone's initial conditions.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Index of the first light-cone. Light-cone i depends only on (--seed, i), so a set can
    /// be made in several runs: --first 0 --n 5000, then --first 5000 --n 5000, then --join.
    #[arg(long, default_value_t = 0)]
    pub first: usize,
    /// Planes x = const per light-cone, evenly spaced.
    #[arg(long, default_value_t = 4)]
    pub slices: usize,
    /// Output file (.npz).
    #[arg(long, value_name = "FILE.npz")]
    pub out: PathBuf,
    /// Comoving box side, Mpc.
    #[arg(long, default_value_t = 128.0)]
    pub box_mpc: f64,
    /// Cells per side.
    #[arg(long, default_value_t = 32)]
    pub cells: usize,
    /// Lowest redshift of the light-cone.
    #[arg(long, default_value_t = 6.0)]
    pub z_min: f64,
    /// Highest redshift of the light-cone (at most 35).
    #[arg(long, default_value_t = 30.0)]
    pub z_max: f64,
    /// Mean free path of ionising photons (largest bubble radius), Mpc.
    #[arg(long, default_value_t = MapParams::R_MFP_DEFAULT)]
    pub r_mfp: f64,
    /// X-ray spectral energy index.
    #[arg(long, default_value_t = MapParams::ALPHA_X_DEFAULT)]
    pub alpha_x: f64,
    /// Initial conditions for every light-cone instead of seeded draws: the z = 0 linear
    /// density, a cells^3 NPY (C order, line of sight last), e.g. 21cmFAST's
    /// `lowres_density`, to compare the two codes on the same structures.
    #[arg(long, value_name = "FILE.npy")]
    pub ics: Option<PathBuf>,
    /// Also store the whole light-cones, `cones` (N, cells, cells, N_los).
    #[arg(long)]
    pub full_cone: bool,
    /// Worker threads (default: all cores); each light-cone runs on one thread.
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress (a bar on a terminal, a line every 10 s otherwise) or summary.
    #[arg(long)]
    pub quiet: bool,
    /// Join existing light-cone sets (same geometry) into --out instead of simulating.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub join: Vec<PathBuf>,
    /// Keep the per-light-cone part files after joining them.
    #[arg(long)]
    pub keep_parts: bool,
}

/// Members stacked along the light-cone axis when sets are joined.
const STACKED: [&str; 8] = [
    "index",
    "seeds",
    "params",
    "slices",
    "global_tb",
    "global_xhi",
    "ps",
    "cones",
];
/// Members that must agree between joined sets (copied from the first).
const SHARED: [&str; 6] = [
    "los_redshifts",
    "slice_x",
    "geometry",
    "fixed",
    "ps_k",
    "ps_z",
];

/// Run `spinflip simulate maps`.
pub fn run(a: Args) -> Result<(), SpinflipError> {
    if a.out.extension().and_then(|e| e.to_str()) != Some("npz") {
        return Err(SpinflipError::config(
            "--out",
            format!("'{}' must end in .npz", a.out.display()),
        ));
    }
    if !a.join.is_empty() {
        if a.n.is_some() || a.params.is_some() {
            return Err(SpinflipError::config(
                "--join",
                "--join joins existing sets; do not give --n or --params with it",
            ));
        }
        let n = join_sets(&a.join, &a.out)?;
        if !a.quiet {
            eprintln!(
                "joined {n} light-cones from {} sets into {}",
                a.join.len(),
                a.out.display()
            );
        }
        return Ok(());
    }
    let jobs = jobs(&a)?;
    let geometry = MapGeometry {
        box_mpc: a.box_mpc,
        cells: a.cells,
        z_min: a.z_min,
        z_max: a.z_max,
    };
    geometry.validate().map_err(|e| geometry_error(&e))?;
    if a.slices == 0 || a.slices > a.cells {
        return Err(SpinflipError::config(
            "--slices",
            format!("{} planes: give 1 to --cells ({})", a.slices, a.cells),
        ));
    }
    let ics = match &a.ics {
        None => None,
        Some(p) => Some(read_ics(p, a.cells)?),
    };
    let tables = MapTables::planck18(geometry).map_err(|e| geometry_error(&e))?;
    let sim = MapSimulator::new(Arc::new(tables));
    let meta = Meta::new(&sim, &a);
    let parts = parts_dir(&a.out);
    std::fs::create_dir_all(&parts).map_err(|e| SpinflipError::io(&parts, e))?;
    check_settings(&parts, &a, &jobs)?;
    let pending: Vec<&Job> = jobs
        .iter()
        .filter(|j| NpzReader::open(&part_path(&parts, j.index)).is_err())
        .collect();

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.unwrap_or(0))
        .build()
        .map_err(|e| SpinflipError::config("--threads", e.to_string()))?;
    let pb = Counter::new(!a.quiet, "simulate maps", jobs.len() as u64, "light-cones")
        .resumed_at((jobs.len() - pending.len()) as u64);
    let clock = Instant::now();
    pool.install(|| {
        pending.par_iter().try_for_each(|job| {
            let out = sim
                .simulate_from(&job.params, job.seed, ics.as_deref())
                .map_err(|e| {
                    SpinflipError::config(
                        "simulate maps",
                        format!(
                            "light-cone {} ({:?}): {e}",
                            job.index,
                            job.params.to_array()
                        ),
                    )
                })?;
            write_part(&part_path(&parts, job.index), job, &out, &meta, &sim)?;
            pb.inc(1);
            Ok::<(), SpinflipError>(())
        })
    })?;
    pb.finish();
    let made = pending.len();
    let files: Vec<PathBuf> = jobs.iter().map(|j| part_path(&parts, j.index)).collect();
    join_sets(&files, &a.out)?;
    if !a.keep_parts {
        std::fs::remove_dir_all(&parts).map_err(|e| SpinflipError::io(&parts, e))?;
    }
    if !a.quiet {
        let secs = clock.elapsed().as_secs_f64();
        eprintln!(
            "wrote {} light-cones to {} ({} made now: {:.2} s of wall time per light-cone on {} \
             threads)",
            jobs.len(),
            a.out.display(),
            made,
            if made > 0 { secs / made as f64 } else { 0.0 },
            pool.current_num_threads(),
        );
    }
    Ok(())
}

/// One light-cone to make.
#[derive(Debug, Clone, Copy)]
struct Job {
    index: usize,
    params: MapParams,
    seed: u64,
}

fn jobs(a: &Args) -> Result<Vec<Job>, SpinflipError> {
    let seed_of = |i: usize| mix(a.seed, i as u64, 1);
    let with_fixed = |p: MapParams| MapParams {
        r_mfp: a.r_mfp,
        alpha_x: a.alpha_x,
        ..p
    };
    let rows: Vec<MapParams> = match (a.n, &a.params) {
        (Some(_), Some(_)) => {
            return Err(SpinflipError::config(
                "--n",
                "give either --n (random draws) or --params FILE, not both",
            ))
        }
        (None, None) => {
            return Err(SpinflipError::config(
                "--n",
                "how many light-cones? give --n N, --params FILE or --join FILES",
            ))
        }
        (Some(0), None) => return Err(SpinflipError::config("--n", "must be at least 1")),
        (Some(n), None) => (0..n)
            .map(|j| {
                let mut rng =
                    Xoshiro256PlusPlus::seed_from_u64(mix(a.seed, (a.first + j) as u64, 2));
                let u: [f64; N_MAP_PARAMS] = std::array::from_fn(|_| rng.random::<f64>());
                with_fixed(MapParams::from_unit_cube(&u))
            })
            .collect(),
        (None, Some(path)) => read_param_file(path)?
            .into_iter()
            .enumerate()
            .map(|(r, row)| {
                MapParams::from_slice(&row)
                    .map(with_fixed)
                    .map_err(|e| SpinflipError::Data {
                        path: path.display().to_string(),
                        reason: format!("row {}: {e}", r + 1),
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    let mut out = Vec::with_capacity(rows.len());
    for (j, p) in rows.into_iter().enumerate() {
        p.validate().map_err(|e| match &a.params {
            Some(path) => SpinflipError::Data {
                path: path.display().to_string(),
                reason: format!("row {}: {e}", j + 1),
            },
            None => SpinflipError::config("--r-mfp/--alpha-x", e.to_string()),
        })?;
        let index = a.first + j;
        out.push(Job {
            index,
            params: p,
            seed: seed_of(index),
        });
    }
    Ok(out)
}

/// Rows of an N x 4 parameter file: NPY (any numeric dtype) or CSV / whitespace text.
pub fn read_param_file(path: &Path) -> Result<Vec<[f64; N_MAP_PARAMS]>, SpinflipError> {
    let bytes = std::fs::read(path).map_err(|e| SpinflipError::io(path, e))?;
    let bad = |reason: String| SpinflipError::Data {
        path: path.display().to_string(),
        reason,
    };
    let cols_msg = format!("{} columns ({})", N_MAP_PARAMS, MAP_PARAM_NAMES.join(", "));
    if bytes.starts_with(b"\x93NUMPY") {
        let a = NpyArray::from_npy_bytes(&bytes, &path.display().to_string())?;
        if a.shape.len() != 2 || a.shape[1] != N_MAP_PARAMS || a.shape[0] == 0 {
            return Err(bad(format!("shape {:?}: need N x {cols_msg}", a.shape)));
        }
        return Ok((0..a.rows())
            .map(|i| std::array::from_fn(|c| a.row(i)[c]))
            .collect());
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| bad(format!("neither a .npy array nor text with {cols_msg}")))?;
    let mut rows = Vec::new();
    for (lineno, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let cols: Vec<&str> = line
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|c| !c.is_empty())
            .collect();
        let vals: Result<Vec<f64>, _> = cols.iter().map(|c| c.parse::<f64>()).collect();
        match vals {
            Err(_) if rows.is_empty() && lineno == 0 => continue, // a header line
            Err(_) => {
                return Err(bad(format!(
                    "line {}: '{line}' is not {cols_msg} of numbers",
                    lineno + 1
                )))
            }
            Ok(v) if v.len() != N_MAP_PARAMS => {
                return Err(bad(format!(
                    "line {}: {} values, need {cols_msg}",
                    lineno + 1,
                    v.len()
                )))
            }
            Ok(v) => rows.push(std::array::from_fn(|c| v[c])),
        }
    }
    if rows.is_empty() {
        return Err(bad(format!(
            "no parameter rows: need N lines of {cols_msg}"
        )));
    }
    Ok(rows)
}

/// The z = 0 density of `--ics`: cells^3 values.
fn read_ics(path: &Path, cells: usize) -> Result<Vec<f32>, SpinflipError> {
    let bytes = std::fs::read(path).map_err(|e| SpinflipError::io(path, e))?;
    let a = NpyArray::from_npy_bytes(&bytes, &path.display().to_string())?;
    let n3 = cells * cells * cells;
    if a.data.len() != n3 || !(a.shape.len() == 1 || a.shape == vec![cells; 3]) {
        return Err(SpinflipError::Data {
            path: path.display().to_string(),
            reason: format!(
                "shape {:?}: need ({cells}, {cells}, {cells}) for --cells {cells}",
                a.shape
            ),
        });
    }
    if a.data.iter().any(|x| !x.is_finite()) {
        return Err(SpinflipError::Data {
            path: path.display().to_string(),
            reason: "non-finite density values".into(),
        });
    }
    Ok(a.data.iter().map(|&x| x as f32).collect())
}

fn geometry_error(e: &spinflip_likelihoods::ModelError) -> SpinflipError {
    match e {
        spinflip_likelihoods::ModelError::Invalid { field, reason } => {
            let flag = match field.as_str() {
                "cells" => "--cells",
                "box_mpc" => "--box-mpc",
                "z_max" => "--z-max",
                _ => "--z-min/--z-max",
            };
            SpinflipError::config(flag, reason.clone())
        }
        other => SpinflipError::config("geometry", other.to_string()),
    }
}

/// Everything the part files share.
struct Meta {
    slice_x: Vec<usize>,
    los_redshifts: Vec<f64>,
    geometry: [f64; 4],
    fixed: [f64; 3],
    ps_edges: Vec<f64>,
    full_cone: bool,
}

impl Meta {
    fn new(sim: &MapSimulator, a: &Args) -> Self {
        let g = sim.layout().geometry;
        Self {
            slice_x: (0..a.slices).map(|k| k * g.cells / a.slices).collect(),
            los_redshifts: sim.layout().los_redshifts(),
            geometry: [g.box_mpc, g.cells as f64, g.z_min, g.z_max],
            fixed: [a.r_mfp, a.alpha_x, crate::lightcone::simulator::F_STAR],
            ps_edges: default_k_edges(g.box_mpc, g.cells, 16),
            full_cone: a.full_cone,
        }
    }
}

fn parts_dir(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".parts");
    PathBuf::from(s)
}

fn part_path(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("lc-{index:08}.npz"))
}

/// A resumed run must be the same run: the settings are recorded in the parts directory.
fn check_settings(parts: &Path, a: &Args, jobs: &[Job]) -> Result<(), SpinflipError> {
    let mut s = format!(
        "box_mpc={} cells={} z_min={} z_max={} r_mfp={} alpha_x={} slices={} full_cone={} ics={:?}\n",
        a.box_mpc, a.cells, a.z_min, a.z_max, a.r_mfp, a.alpha_x, a.slices, a.full_cone, a.ics
    );
    for j in jobs {
        s.push_str(&format!(
            "{} {} {:?}\n",
            j.index,
            j.seed,
            j.params.to_array()
        ));
    }
    let file = parts.join("settings.txt");
    match std::fs::read_to_string(&file) {
        Ok(old) if old != s => Err(SpinflipError::config(
            "--out",
            format!(
                "'{}' holds parts of a different run (other settings or parameters); resume with \
                 the same command, or delete that directory",
                parts.display()
            ),
        )),
        Ok(_) => Ok(()),
        Err(_) => Ok(crate::samplers::output::write_atomic(&file, s.as_bytes())?),
    }
}

fn write_part(
    path: &Path,
    job: &Job,
    out: &MapOutput,
    meta: &Meta,
    sim: &MapSimulator,
) -> Result<(), SpinflipError> {
    let lc = &out.light_cone;
    let (n, n_los) = (lc.cells, lc.n_los);
    let k = meta.slice_x.len();
    let mut slices = Vec::with_capacity(k * n * n_los);
    for &x in &meta.slice_x {
        slices.extend_from_slice(lc.plane_x(x));
    }
    let box_mpc = sim.layout().geometry.box_mpc;
    let ps = chunk_power_spectra(lc, box_mpc, &meta.ps_edges);
    let nk = meta.ps_edges.len() - 1;
    let ps_k: Vec<f64> = ps
        .first()
        .map(|c| c.k.clone())
        .unwrap_or_else(|| vec![0.0; nk]);
    let ps_z: Vec<f64> = ps.iter().map(|c| c.z).collect();
    let ps_flat: Vec<f32> = ps
        .iter()
        .flat_map(|c| c.delta2.iter().map(|&x| x as f32))
        .collect();
    let mut w = NpzWriter::create(path)?;
    w.add("index", &u64_npy_bytes(&[1], &[job.index as u64]))?;
    w.add("seeds", &u64_npy_bytes(&[1], &[job.seed]))?;
    w.add(
        "params",
        &NpyArray::from_rows(1, N_MAP_PARAMS, job.params.to_array().to_vec())?.to_npy_bytes(),
    )?;
    w.add("slices", &f32_npy_bytes(&[1, k, n, n_los], &slices))?;
    w.add("global_tb", &f32_npy_bytes(&[1, n_los], &lc.global_tb))?;
    w.add("global_xhi", &f32_npy_bytes(&[1, n_los], &lc.global_xhi))?;
    w.add("ps", &f32_npy_bytes(&[1, n_chunks(lc), nk], &ps_flat))?;
    if meta.full_cone {
        w.add("cones", &f32_npy_bytes(&[1, n, n, n_los], &lc.t_b))?;
    }
    w.add("param_names", &str_npy_bytes(&MAP_PARAM_NAMES))?;
    w.add(
        "los_redshifts",
        &NpyArray::new(vec![n_los], meta.los_redshifts.clone())?.to_npy_bytes(),
    )?;
    let sx: Vec<u64> = meta.slice_x.iter().map(|&x| x as u64).collect();
    w.add("slice_x", &u64_npy_bytes(&[k], &sx))?;
    w.add(
        "geometry",
        &NpyArray::new(vec![4], meta.geometry.to_vec())?.to_npy_bytes(),
    )?;
    w.add(
        "fixed",
        &NpyArray::new(vec![3], meta.fixed.to_vec())?.to_npy_bytes(),
    )?;
    w.add("ps_k", &NpyArray::new(vec![nk], ps_k)?.to_npy_bytes())?;
    w.add(
        "ps_z",
        &NpyArray::new(vec![ps_z.len()], ps_z)?.to_npy_bytes(),
    )?;
    w.finish()
}

/// Bytes per element of a simple dtype string ('<f4', '<u8', '<U10', ...).
fn itemsize(descr: &str) -> Option<usize> {
    let d = descr.trim_start_matches(['<', '>', '=', '|']);
    let (kind, n) = d.split_at(1);
    let n: usize = n.parse().ok()?;
    Some(if kind == "U" { 4 * n } else { n })
}

/// Join light-cone sets into `out`: stacked members concatenated, shared members checked and
/// copied, duplicate initial-condition seeds refused. Returns the number of light-cones.
pub fn join_sets(inputs: &[PathBuf], out: &Path) -> Result<usize, SpinflipError> {
    if inputs.is_empty() {
        return Err(SpinflipError::config("--join", "no files to join"));
    }
    let mut readers: Vec<NpzReader> = inputs
        .iter()
        .map(|p| NpzReader::open(p))
        .collect::<Result<_, _>>()?;
    let data_err = |p: &Path, reason: String| SpinflipError::Data {
        path: p.display().to_string(),
        reason,
    };
    for (r, p) in readers.iter().zip(inputs) {
        for m in ["params", "slices", "los_redshifts", "param_names"] {
            if !r.has(m) {
                return Err(data_err(
                    p,
                    format!("no '{m}' array: not a light-cone set from `spinflip simulate maps`"),
                ));
            }
        }
    }
    // Shared members must agree.
    for name in SHARED.iter().chain(["param_names"].iter()) {
        if !readers.iter().all(|r| r.has(name)) {
            continue;
        }
        let first = if *name == "param_names" {
            format!("{:?}", readers[0].strings(name)?)
        } else {
            format!("{:?}", readers[0].array(name)?)
        };
        for (r, p) in readers.iter_mut().zip(inputs).skip(1) {
            let other = if *name == "param_names" {
                format!("{:?}", r.strings(name)?)
            } else {
                format!("{:?}", r.array(name)?)
            };
            if other != first {
                return Err(data_err(
                    p,
                    format!(
                        "'{name}' differs from '{}': only sets of the same geometry and settings can be joined",
                        inputs[0].display()
                    ),
                ));
            }
        }
    }
    // No initial conditions twice.
    let mut seen = std::collections::HashMap::new();
    for (r, p) in readers.iter_mut().zip(inputs) {
        if !r.has("seeds") {
            continue;
        }
        for s in r.array("seeds")?.data {
            if let Some(q) = seen.insert(s.to_bits(), p.clone()) {
                return Err(data_err(
                    p,
                    format!(
                        "a light-cone with the same seed is already in '{}': the sets overlap \
                         (use other --first ranges or another --seed)",
                        q.display()
                    ),
                ));
            }
        }
    }
    let mut total = 0;
    for r in readers.iter_mut() {
        total += r.header("params")?.1[0];
    }
    let mut w = NpzWriter::create(out)?;
    for name in STACKED {
        if !readers.iter().all(|r| r.has(name)) {
            continue;
        }
        let (descr, shape) = readers[0].header(name)?;
        let tail: Vec<usize> = shape[1..].to_vec();
        for (r, p) in readers.iter_mut().zip(inputs) {
            let (d, s) = r.header(name)?;
            if d != descr || s[1..] != tail[..] {
                return Err(data_err(
                    p,
                    format!("'{name}' is {d} {s:?}, the first set's is {descr} {shape:?}"),
                ));
            }
        }
        let mut full = vec![total];
        full.extend_from_slice(&tail);
        let header = npy_header(&descr, &full);
        let size =
            itemsize(&descr).ok_or_else(|| data_err(&inputs[0], format!("dtype {descr}")))?;
        let len = header.len() as u64 + (full.iter().product::<usize>() * size) as u64;
        w.begin(name, len)?;
        w.write(&header)?;
        for r in readers.iter_mut() {
            r.copy_data(name, &mut w)?;
        }
    }
    for name in SHARED {
        if !readers[0].has(name) {
            continue;
        }
        let (descr, shape) = readers[0].header(name)?;
        let header = npy_header(&descr, &shape);
        let size =
            itemsize(&descr).ok_or_else(|| data_err(&inputs[0], format!("dtype {descr}")))?;
        w.begin(
            name,
            header.len() as u64 + (shape.iter().product::<usize>() * size) as u64,
        )?;
        w.write(&header)?;
        readers[0].copy_data(name, &mut w)?;
    }
    let names = readers[0].strings("param_names")?;
    let refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    w.add("param_names", &str_npy_bytes(&refs))?;
    w.finish()?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_files_npy_and_csv() {
        let dir = std::env::temp_dir().join(format!("spinflip_mapparams_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let csv = dir.join("p.csv");
        std::fs::write(
            &csv,
            "zeta,log10_Tvir,log10_LX,E0_keV\n30,4.7,40.5,0.5\n100 5 41 1.0\n",
        )
        .unwrap();
        let rows = read_param_file(&csv).unwrap();
        assert_eq!(rows, vec![[30.0, 4.7, 40.5, 0.5], [100.0, 5.0, 41.0, 1.0]]);
        let npy = dir.join("p.npy");
        NpyArray::from_rows(1, 4, vec![20.0, 4.5, 39.0, 0.2])
            .unwrap()
            .save(&npy)
            .unwrap();
        assert_eq!(read_param_file(&npy).unwrap(), vec![[20.0, 4.5, 39.0, 0.2]]);
        std::fs::write(&csv, "30,4.7,40.5\n").unwrap();
        assert!(matches!(
            read_param_file(&csv),
            Err(SpinflipError::Data { .. })
        ));
        NpyArray::from_rows(2, 3, vec![0.0; 6])
            .unwrap()
            .save(&npy)
            .unwrap();
        assert!(matches!(
            read_param_file(&npy),
            Err(SpinflipError::Data { .. })
        ));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn draws_depend_only_on_seed_and_index() {
        assert_eq!(mix(3, 7, 1), mix(3, 7, 1));
        assert_ne!(mix(3, 7, 1), mix(3, 8, 1));
        assert_ne!(mix(3, 7, 1), mix(4, 7, 1));
        assert_eq!(itemsize("<U10"), Some(40));
        assert_eq!(itemsize("<f4"), Some(4));
    }
}
