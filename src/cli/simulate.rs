//! `spinflip simulate global`: training data for emulators in the 21cmGEM layout.

use crate::global::{parameter_design_in, GlobalParams, GlobalSimulator, Sampling, SubBox, N_OUT};
use crate::io::{DataFormat, GlobalSignalSet, NpyArray};
use crate::likelihoods::ForwardModel;
use crate::samplers::progress::Counter;
use crate::SpinflipError;
use rayon::prelude::*;
use std::path::PathBuf;

/// Which simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Model {
    /// The physical global 21-cm signal on the 7 21cmGEM parameters.
    Global,
}

/// Point design.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SamplingArg {
    /// Latin hypercube.
    Lhs,
    /// Independent uniform draws.
    Uniform,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// NumPy .npz.
    Npz,
    /// HDF5.
    Hdf5,
}

/// Arguments of `spinflip simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The simulator.
    #[arg(value_enum)]
    pub model: Model,
    /// Total number of signals (split by --split) unless --n-train/--n-val/--n-test are given.
    #[arg(long)]
    pub n: Option<usize>,
    /// Training-set size (with --n-val and --n-test, instead of --n/--split).
    #[arg(long)]
    pub n_train: Option<usize>,
    /// Validation-set size.
    #[arg(long)]
    pub n_val: Option<usize>,
    /// Test-set size.
    #[arg(long)]
    pub n_test: Option<usize>,
    /// Fractions of --n for train, validation, test.
    #[arg(long, default_value = "0.9,0.05,0.05")]
    pub split: String,
    /// Random seed of the design.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output file (.npz, .h5, .hdf5).
    #[arg(long)]
    pub out: PathBuf,
    /// Point design over the prior box (log-uniform in f_star, V_c, f_X).
    #[arg(long, value_enum, default_value_t = SamplingArg::Lhs)]
    pub sampling: SamplingArg,
    /// Output format (default: from the extension .npz, .h5 or .hdf5).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Restrict a parameter to a sub-range of its prior, NAME=MIN,MAX (repeatable), e.g.
    /// `--box nu_min=0.1,0.35` for extra training signals where an emulator is weak.
    #[arg(long = "box", value_name = "NAME=MIN,MAX")]
    pub sub_box: Vec<String>,
    /// No progress (a bar on a terminal, a line every 10 s otherwise).
    #[arg(long, short)]
    pub quiet: bool,
}

/// `spinflip simulate`: `global` (the arguments above) or the `maps` subcommand.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SimulateArgs {
    /// Light-cone maps.
    #[command(subcommand)]
    pub maps: Option<MapsCommand>,
    /// The global-signal simulator's arguments.
    #[command(flatten)]
    pub global: Option<Args>,
}

/// The `maps` subcommand of `spinflip simulate`.
#[derive(Debug, clap::Subcommand)]
pub enum MapsCommand {
    /// 21-cm light-cones over the Gillet et al. (2019) parameters (see `simulate maps --help`).
    Maps(super::simulate_maps::Args),
    /// A mock measured spectrum on channels evenly spaced in frequency (see
    /// `simulate spectrum --help`).
    Spectrum(super::simulate_spectrum::Args),
}

/// Run `spinflip simulate global` or `spinflip simulate maps`.
pub fn run_any(a: SimulateArgs) -> Result<(), SpinflipError> {
    match (a.maps, a.global) {
        (Some(MapsCommand::Maps(m)), _) => super::simulate_maps::run(m),
        (Some(MapsCommand::Spectrum(s)), _) => super::simulate_spectrum::run(s),
        (None, Some(g)) => run(g),
        (None, None) => Err(SpinflipError::config(
            "simulate",
            "give `global`, `maps` or `spectrum`",
        )),
    }
}

/// Sizes of the three splits from the arguments.
pub fn split_sizes(a: &Args) -> Result<[usize; 3], SpinflipError> {
    match (a.n, a.n_train, a.n_val, a.n_test) {
        (None, Some(tr), Some(va), Some(te)) => {
            if tr + va + te == 0 {
                return Err(SpinflipError::config(
                    "--n-train",
                    "all three sets are empty",
                ));
            }
            Ok([tr, va, te])
        }
        (Some(_), Some(_), _, _) | (Some(_), _, Some(_), _) | (Some(_), _, _, Some(_)) => {
            Err(SpinflipError::config(
                "--n",
                "give either --n (with --split) or --n-train/--n-val/--n-test, not both",
            ))
        }
        (None, _, _, _) if a.n_train.is_some() || a.n_val.is_some() || a.n_test.is_some() => {
            Err(SpinflipError::config(
                "--n-train",
                "give all three of --n-train, --n-val, --n-test",
            ))
        }
        (None, ..) => Err(SpinflipError::config(
            "--n",
            "how many signals? give --n N or --n-train/--n-val/--n-test",
        )),
        (Some(0), ..) => Err(SpinflipError::config("--n", "must be at least 1")),
        (Some(n), ..) => {
            let f: Vec<f64> = a
                .split
                .split(',')
                .map(|s| s.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|_| {
                    SpinflipError::config(
                        "--split",
                        format!("'{}' is not three numbers like 0.9,0.05,0.05", a.split),
                    )
                })?;
            if f.len() != 3 || f.iter().any(|x| !x.is_finite() || *x < 0.0) {
                return Err(SpinflipError::config(
                    "--split",
                    format!("'{}': need three non-negative fractions", a.split),
                ));
            }
            let s: f64 = f.iter().sum();
            if (s - 1.0).abs() > 1e-6 {
                return Err(SpinflipError::config(
                    "--split",
                    format!("fractions sum to {s}, not 1"),
                ));
            }
            let val = (f[1] * n as f64).round() as usize;
            let test = ((f[2] * n as f64).round() as usize).min(n - val.min(n));
            Ok([n - val.min(n) - test, val.min(n), test])
        }
    }
}

/// Run `spinflip simulate`.
pub fn run(a: Args) -> Result<(), SpinflipError> {
    let sizes = split_sizes(&a)?;
    let from_ext = DataFormat::from_path(&a.out);
    let format = match (a.format, from_ext) {
        (None, Ok(f)) => f,
        (None, Err(e)) => return Err(e),
        (Some(FormatArg::Npz), Ok(DataFormat::Hdf5))
        | (Some(FormatArg::Hdf5), Ok(DataFormat::Npz)) => {
            return Err(SpinflipError::config(
                "--format",
                format!("'{}' has the other format's extension", a.out.display()),
            ))
        }
        (Some(FormatArg::Npz), _) => DataFormat::Npz,
        (Some(FormatArg::Hdf5), _) => DataFormat::Hdf5,
    };
    let sampling = match a.sampling {
        SamplingArg::Lhs => Sampling::LatinHypercube,
        SamplingArg::Uniform => Sampling::Uniform,
    };
    let Model::Global = a.model;
    let sim = GlobalSimulator::planck18();
    let n: usize = sizes.iter().sum();
    let mut sub = SubBox::default();
    for spec in &a.sub_box {
        sub.restrict_from_spec(spec)?;
    }
    let design = parameter_design_in(n, sampling, a.seed, &sub);

    let pb = Counter::new(!a.quiet, "simulate", n as u64, "signals");
    let rows: Vec<Result<Row, SpinflipError>> = design
        .par_iter()
        .enumerate()
        .map(|(i, p)| {
            let r = simulate_point(&sim, p, a.seed, i, &sub);
            pb.inc(1);
            r
        })
        .collect();
    pb.finish();

    let mut par = Vec::with_capacity(n * 7);
    let mut sig = Vec::with_capacity(n * N_OUT);
    for r in rows {
        let (p, s) = r?;
        par.extend_from_slice(&p);
        sig.extend_from_slice(&s);
    }
    let mut offset = 0;
    let mut take = |k: usize| -> Result<(NpyArray, NpyArray), SpinflipError> {
        let p = NpyArray::from_rows(k, 7, par[offset * 7..(offset + k) * 7].to_vec())?;
        let s = NpyArray::from_rows(k, N_OUT, sig[offset * N_OUT..(offset + k) * N_OUT].to_vec())?;
        offset += k;
        Ok((p, s))
    };
    let (par_train, signal_train) = take(sizes[0])?;
    let (par_val, signal_val) = take(sizes[1])?;
    let (par_test, signal_test) = take(sizes[2])?;
    let set = GlobalSignalSet {
        redshifts: sim.grid().to_vec(),
        par_train,
        par_val,
        par_test,
        signal_train,
        signal_val,
        signal_test,
        design_box: Some(sub.ranges()),
    };
    set.save_as(&a.out, format)?;
    eprintln!(
        "wrote {} signals ({} train, {} val, {} test) to {}",
        n,
        sizes[0],
        sizes[1],
        sizes[2],
        a.out.display()
    );
    Ok(())
}

/// One simulated row: parameters and signal.
type Row = ([f64; 7], Vec<f64>);

/// Simulate one design point; a point where the model fails recoverably (no zeta reaches tau)
/// is replaced by a seeded uniform redraw in the same box, so the set always has the
/// requested size.
fn simulate_point(
    sim: &GlobalSimulator,
    p: &GlobalParams,
    seed: u64,
    index: usize,
    sub: &SubBox,
) -> Result<Row, SpinflipError> {
    let mut p = *p;
    let mut out = vec![0.0; N_OUT];
    for attempt in 0..20u64 {
        match sim.predict(&p.to_array(), &mut out) {
            Ok(()) => return Ok((p.to_array(), out)),
            Err(e) if e.is_recoverable() => {
                let s = seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (attempt + 1);
                p = parameter_design_in(1, Sampling::Uniform, s, sub)[0];
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(SpinflipError::config(
        "simulate",
        format!("point {index}: the simulator failed 20 times in a row"),
    ))
}
