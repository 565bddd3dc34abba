//! Timing and memory of the light-cone simulator, for `spinflip bench maps` and the README:
//! tables once, then light-cones on one thread (per-stage times) and on all threads.

use super::geometry::MapGeometry;
use super::params::MapParams;
use super::simulator::{MapSimulator, MapTables, StageTimes};
use rayon::prelude::*;
use spinflip_likelihoods::ModelError;
use std::fmt::Write;
use std::sync::Arc;
use std::time::Instant;

/// Measured numbers of [`bench()`].
#[derive(Debug, Clone, PartialEq)]
pub struct BenchResult {
    /// The geometry.
    pub geometry: MapGeometry,
    /// Seconds to build the shared tables.
    pub tables_seconds: f64,
    /// Light-cones timed on one thread.
    pub serial_runs: usize,
    /// Median wall seconds per light-cone on one thread.
    pub serial_seconds: f64,
    /// Mean per-stage times of the one-thread runs.
    pub stages: StageTimes,
    /// Threads of the parallel run.
    pub threads: usize,
    /// Wall seconds per light-cone with all threads busy (one light-cone per thread).
    pub parallel_seconds: f64,
    /// Peak resident memory of the process, MB (Linux /proc; None elsewhere).
    pub peak_mb: Option<f64>,
    /// Resident memory before the first light-cone (tables built), MB.
    pub base_mb: Option<f64>,
}

/// Resident memory (VmRSS) and its peak (VmHWM) in MB, from /proc/self/status.
pub fn memory_mb() -> Option<(f64, f64)> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Time `runs` light-cones at the fiducial parameters on one thread, then `2 * threads` on
/// `threads` threads (0: all cores).
pub fn bench(
    geometry: MapGeometry,
    runs: usize,
    threads: usize,
) -> Result<BenchResult, ModelError> {
    let clock = Instant::now();
    let tables = Arc::new(MapTables::planck18(geometry)?);
    let tables_seconds = clock.elapsed().as_secs_f64();
    let sim = MapSimulator::new(tables);
    let base_mb = memory_mb().map(|m| m.0);
    let p = MapParams::fiducial();
    let mut times = Vec::new();
    let mut stages = StageTimes::default();
    for seed in 0..runs.max(1) as u64 {
        let clock = Instant::now();
        let out = sim.simulate(&p, seed)?;
        times.push(clock.elapsed().as_secs_f64());
        stages.add(&out.times);
    }
    let n = times.len();
    let scale = 1.0 / n as f64;
    stages = StageTimes {
        initial_conditions: stages.initial_conditions.mul_f64(scale),
        smoothing: stages.smoothing.mul_f64(scale),
        node_tables: stages.node_tables.mul_f64(scale),
        shell_sums: stages.shell_sums.mul_f64(scale),
        thermal: stages.thermal.mul_f64(scale),
        ionization: stages.ionization.mul_f64(scale),
        brightness: stages.brightness.mul_f64(scale),
        light_cone: stages.light_cone.mul_f64(scale),
    };
    times.sort_by(f64::total_cmp);
    let serial_seconds = times[n / 2];
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| ModelError::Fatal(format!("thread pool: {e}")))?;
    let threads = pool.current_num_threads();
    let jobs = 2 * threads;
    let clock = Instant::now();
    pool.install(|| {
        (0..jobs as u64)
            .into_par_iter()
            .try_for_each(|seed| sim.simulate(&p, 100 + seed).map(|_| ()))
    })?;
    let parallel_seconds = clock.elapsed().as_secs_f64() / jobs as f64;
    Ok(BenchResult {
        geometry,
        tables_seconds,
        serial_runs: n,
        serial_seconds,
        stages,
        threads,
        parallel_seconds,
        peak_mb: memory_mb().map(|m| m.1),
        base_mb,
    })
}

/// A human-readable report of [`bench()`] (what `spinflip bench maps` prints).
pub fn bench_report(
    geometry: MapGeometry,
    runs: usize,
    threads: usize,
) -> Result<String, ModelError> {
    let r = bench(geometry, runs, threads)?;
    let g = r.geometry;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "light-cone simulator: {} Mpc, {}^3 cells, z = {}-{}",
        g.box_mpc, g.cells, g.z_min, g.z_max
    );
    let _ = writeln!(s, "tables (once per geometry): {:.3} s", r.tables_seconds);
    let _ = writeln!(
        s,
        "one thread: {:.3} s per light-cone (median of {})",
        r.serial_seconds, r.serial_runs
    );
    let total = r.stages.total().as_secs_f64();
    for (name, d) in r.stages.stages() {
        let x = d.as_secs_f64();
        let _ = writeln!(
            s,
            "  {name:20} {x:8.4} s  {:5.1}%",
            100.0 * x / total.max(1e-12)
        );
    }
    let _ = writeln!(
        s,
        "{} threads: {:.3} s of wall time per light-cone ({:.0} light-cones per hour)",
        r.threads,
        r.parallel_seconds,
        3600.0 / r.parallel_seconds
    );
    match (r.base_mb, r.peak_mb) {
        (Some(b), Some(p)) => {
            let _ = writeln!(
                s,
                "memory: {b:.0} MB after the tables, peak {p:.0} MB (process)"
            );
        }
        _ => {
            let _ = writeln!(s, "memory: not measured on this platform");
        }
    }
    Ok(s)
}
