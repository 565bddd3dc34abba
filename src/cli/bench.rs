//! `spinflip bench`.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use crate::emulator::fast::{FastLstm, Isa};
use crate::emulator::peak::{peak_macs_per_second, sigmoid_per_second};
use crate::emulator::{GlobalEmulator, LstmConfig, LstmWeights};
use crate::SpinflipError;

/// Arguments of `spinflip bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// Time the LSTM emulator's fast CPU path per call and per signal.
    Emulator(EmulatorArgs),
    /// Time the light-cone simulator per light-cone and per stage.
    Maps(MapsArgs),
    /// Time the map CNN's CPU training and inference per slice (ratio to the FLOP bound).
    Cnn(CnnArgs),
    /// Run samplers side by side on one fit configuration: ESS per second and per call.
    Samplers(SamplersArgs),
}

/// Arguments of `spinflip bench samplers`.
#[derive(Debug, clap::Args)]
pub struct SamplersArgs {
    /// Run configuration (TOML), e.g. examples/global_signal.toml.
    pub config: PathBuf,
    /// Samplers to run (nested first: the others' mean shifts are measured against it).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "nested,ensemble,nuts"
    )]
    pub kinds: Vec<crate::config::SamplerKind>,
    /// Directory for the runs' chains and the JSON table.
    #[arg(long, default_value = "out/bench_samplers")]
    pub out: PathBuf,
}

/// Arguments of `spinflip bench maps`.
#[derive(Debug, clap::Args)]
pub struct MapsArgs {
    /// Light-cones to time.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Threads (light-cones run in parallel, one per thread).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Cells per side (box side scales with it at 4 Mpc per cell).
    #[arg(long, default_value_t = 32)]
    pub cells: usize,
}

/// Arguments of `spinflip bench cnn`.
#[derive(Debug, clap::Args)]
pub struct CnnArgs {
    /// Convolution padding of the timed architecture.
    #[arg(long, value_enum, default_value_t = crate::cnn::Padding::Valid)]
    pub padding: crate::cnn::Padding,
    /// Slices per training batch.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 2.0)]
    pub seconds: f64,
    /// Also time candle's CPU path (slow).
    #[arg(long)]
    pub candle: bool,
}

/// Arguments of `spinflip bench emulator`.
#[derive(Debug, clap::Args)]
pub struct EmulatorArgs {
    /// Trained model (default: random weights of the given architecture; speed does not
    /// depend on the weights).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Hidden units (without --model).
    #[arg(long, default_value_t = LstmConfig::DEFAULT_HIDDEN)]
    pub hidden: usize,
    /// Layers (without --model).
    #[arg(long, default_value_t = LstmConfig::DEFAULT_LAYERS)]
    pub layers: usize,
    /// Channels per LSTM step (without --model); must divide 451.
    #[arg(long, default_value_t = LstmConfig::DEFAULT_OUTPUTS_PER_STEP)]
    pub outputs_per_step: usize,
    /// Batch sizes to time.
    #[arg(long, value_delimiter = ',', default_value = "1,16,256,4096")]
    pub batch: Vec<usize>,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 1.0)]
    pub seconds: f64,
    /// Also time batches split over all cores (rayon).
    #[arg(long)]
    pub parallel: bool,
    /// Instruction set.
    #[arg(long, value_enum, default_value_t = IsaArg::Auto)]
    pub isa: IsaArg,
}

/// An instruction set for the fast path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum IsaArg {
    /// The best this CPU has.
    Auto,
    /// Portable Rust.
    Generic,
    /// AVX2 + FMA.
    Avx2,
    /// AVX-512.
    Avx512,
    /// aarch64 NEON.
    Neon,
}

/// Run `spinflip bench`.
pub fn run(args: Args) -> Result<(), SpinflipError> {
    match args.what {
        What::Emulator(a) => run_emulator(a),
        What::Maps(a) => {
            let geometry = crate::lightcone::MapGeometry {
                box_mpc: 4.0 * a.cells as f64,
                cells: a.cells,
                ..Default::default()
            };
            print!(
                "{}",
                crate::lightcone::bench::bench_report(geometry, a.runs, a.threads)?
            );
            Ok(())
        }
        What::Cnn(a) => {
            let opts = crate::cnn::bench::BenchOptions {
                config: crate::cnn::CnnConfig::gillet(32, 787).with_padding(a.padding),
                batch: a.batch,
                budget_s: a.seconds,
                candle: a.candle,
            };
            print!("{}", crate::cnn::bench::bench_report(&opts)?);
            Ok(())
        }
        What::Samplers(a) => {
            let cfg = crate::config::RunConfig::load(&a.config)?;
            let rows = crate::fit::bench::compare_samplers(&cfg, &a.kinds, &a.out)?;
            print!("{}", crate::fit::bench::table(&rows));
            let json = serde_json::to_string_pretty(&rows)
                .map_err(|e| SpinflipError::config("bench", e.to_string()))?;
            let path = a.out.join("samplers.json");
            crate::samplers::output::ensure_parent(&path)?;
            crate::samplers::output::write_atomic(&path, json.as_bytes())?;
            println!("wrote {}", path.display());
            Ok(())
        }
    }
}

/// Median seconds per call of `f`, timed in rounds for about `budget` seconds.
pub fn time_per_call(budget: f64, mut f: impl FnMut()) -> f64 {
    f();
    let t = Instant::now();
    f();
    let once = t.elapsed().as_secs_f64().max(1e-9);
    let per_round = ((budget / 15.0) / once).ceil().max(1.0) as usize;
    let mut rounds = Vec::new();
    let start = Instant::now();
    while rounds.len() < 15 && (rounds.len() < 3 || start.elapsed().as_secs_f64() < budget) {
        let t = Instant::now();
        for _ in 0..per_round {
            f();
        }
        rounds.push(t.elapsed().as_secs_f64() / per_round as f64);
    }
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}

fn run_emulator(a: EmulatorArgs) -> Result<(), SpinflipError> {
    let mut fast = match &a.model {
        Some(p) => GlobalEmulator::load(p)?.fast().clone(),
        None => {
            if a.outputs_per_step == 0 || 451 % a.outputs_per_step != 0 {
                return Err(SpinflipError::config(
                    "outputs-per-step",
                    "must divide the 451 channels (1, 11 or 41)",
                ));
            }
            let c = LstmConfig {
                n_params: 7,
                hidden: a.hidden,
                layers: a.layers,
                n_steps: 451 / a.outputs_per_step,
                outputs_per_step: a.outputs_per_step,
            };
            c.validate()?;
            let freqs = (0..c.n_steps)
                .map(|i| i as f32 / (c.n_steps - 1) as f32)
                .collect();
            FastLstm::new(&LstmWeights::random(c, 1), freqs)?
        }
    };
    let isa = match a.isa {
        IsaArg::Auto => Isa::detect(),
        IsaArg::Generic => Isa::Generic,
        IsaArg::Avx2 => Isa::Avx2,
        IsaArg::Avx512 => Isa::Avx512,
        IsaArg::Neon => Isa::Neon,
    };
    fast.set_isa(isa)?;
    let c = *fast.config();
    let macs = c.macs_per_signal() as f64;
    let trans = c.transcendentals_per_signal() as f64;
    let peak = peak_macs_per_second(isa);
    let sig_rate = sigmoid_per_second(isa);
    let bound = macs / peak + trans / sig_rate;
    println!(
        "architecture: {} x LSTM({}), {} steps x {} channels, {} weights; instruction set {:?}; one thread",
        c.layers,
        c.hidden,
        c.n_steps,
        c.outputs_per_step,
        c.n_weights(),
        isa
    );
    println!(
        "per signal: {:.2} M multiply-adds, {:.3} M sigmoid/tanh",
        macs / 1e6,
        trans / 1e6
    );
    println!(
        "measured peaks (one core): FMA loop {:.1} G multiply-adds/s, sigmoid {:.2} G/s -> lower bound {:.1} us per signal",
        peak / 1e9,
        sig_rate / 1e9,
        bound * 1e6
    );
    println!(
        "{:>7} {:>14} {:>14} {:>10}",
        "batch", "us per call", "us per signal", "x bound"
    );
    for &n in &a.batch {
        if n == 0 {
            continue;
        }
        let params: Vec<f32> = (0..n * c.n_params)
            .map(|i| ((i * 37) % 101) as f32 / 100.0)
            .collect();
        let mut out = vec![0f32; n * c.n_outputs()];
        // Lengths are checked once here; the timed calls cannot fail.
        fast.forward_batch(&params, &mut out)?;
        let t = if n == 1 {
            time_per_call(a.seconds, || {
                let _ = fast.forward(black_box(&params), black_box(&mut out));
            })
        } else {
            time_per_call(a.seconds, || {
                let _ = fast.forward_batch(black_box(&params), black_box(&mut out));
            })
        };
        println!(
            "{:>7} {:>14.1} {:>14.2} {:>10.2}",
            n,
            t * 1e6,
            t * 1e6 / n as f64,
            t / n as f64 / bound
        );
        if a.parallel && n > 1 {
            let t = time_per_call(a.seconds, || {
                let _ = fast.forward_batch_par(black_box(&params), black_box(&mut out));
            });
            println!(
                "{:>7} {:>14.1} {:>14.2} {:>10}  ({} threads)",
                n,
                t * 1e6,
                t * 1e6 / n as f64,
                "-",
                rayon::current_num_threads()
            );
        }
    }
    Ok(())
}
