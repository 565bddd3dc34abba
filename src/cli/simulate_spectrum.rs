//! `spinflip simulate spectrum`: a mock measured spectrum, as a telescope would give it:
//! channels evenly spaced in frequency (not on the model's redshift grid), the simulator's
//! global signal at chosen parameters interpolated onto them, plus seeded white noise. The
//! text file (`nu_MHz T_mK sigma_mK`) is what `[data] file = ...` reads; its header records the
//! truth and the command that made it.

use crate::global::{GlobalParams, GlobalSimulator, PARAM_NAMES};
use crate::likelihoods::global_signal::channel_taps;
use crate::likelihoods::spectrum::freq_of_z;
use crate::likelihoods::ForwardModel;
use crate::SpinflipError;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use std::fmt::Write as _;
use std::path::PathBuf;

/// Most channels a spectrum may have (a typo in --step should not fill the memory).
const MAX_CHANNELS: usize = 1_000_000;

/// Arguments of `spinflip simulate spectrum`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Lowest channel (MHz).
    #[arg(long, default_value_t = 50.0)]
    pub freq_min: f64,
    /// Highest channel (MHz); the channels run from --freq-min in steps of --step up to it.
    #[arg(long, default_value_t = 100.0)]
    pub freq_max: f64,
    /// Channel spacing (MHz).
    #[arg(long, default_value_t = 0.5)]
    pub step: f64,
    /// White noise per channel (mK); also written as the sigma column. 0: noiseless data
    /// (the sigma column is then --sigma).
    #[arg(long, default_value_t = 20.0)]
    pub noise: f64,
    /// The sigma column for noiseless data (mK).
    #[arg(long)]
    pub sigma: Option<f64>,
    /// A parameter of the truth, NAME=VALUE (repeatable); the others take the fiducial values.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Seed of the noise.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output text file.
    #[arg(long)]
    pub out: PathBuf,
}

/// Run `spinflip simulate spectrum`.
pub fn run(a: Args) -> Result<(), SpinflipError> {
    let cfg = |field: &str, reason: String| SpinflipError::config(field.to_string(), reason);
    if !(a.freq_min.is_finite() && a.freq_max.is_finite() && a.freq_min < a.freq_max) {
        return Err(cfg(
            "--freq-min",
            format!(
                "need --freq-min < --freq-max, got {} and {}",
                a.freq_min, a.freq_max
            ),
        ));
    }
    if !(a.step.is_finite() && a.step > 0.0) {
        return Err(cfg("--step", format!("must be > 0, got {}", a.step)));
    }
    if !(a.noise.is_finite() && a.noise >= 0.0) {
        return Err(cfg("--noise", format!("must be >= 0 mK, got {}", a.noise)));
    }
    let sigma = if a.noise > 0.0 {
        a.noise
    } else {
        a.sigma.ok_or_else(|| {
            cfg(
                "--sigma",
                "noiseless data (--noise 0) need the sigma column's value, e.g. --sigma 20".into(),
            )
        })?
    };
    if !(sigma.is_finite() && sigma > 0.0) {
        return Err(cfg("--sigma", format!("must be > 0 mK, got {sigma}")));
    }
    let mut theta = GlobalParams::fiducial().to_array();
    for spec in &a.set {
        let (name, value) = spec
            .split_once('=')
            .ok_or_else(|| cfg("--set", format!("'{spec}': expected NAME=VALUE")))?;
        let i = PARAM_NAMES
            .iter()
            .position(|n| *n == name.trim())
            .ok_or_else(|| {
                cfg(
                    "--set",
                    format!(
                        "unknown parameter '{name}' (one of {})",
                        PARAM_NAMES.join(", ")
                    ),
                )
            })?;
        theta[i] = value
            .trim()
            .parse()
            .map_err(|_| cfg("--set", format!("'{value}' is not a number for {name}")))?;
    }
    let channels = (a.freq_max - a.freq_min) / a.step + 1e-9;
    if channels >= MAX_CHANNELS as f64 {
        return Err(cfg(
            "--step",
            format!(
                "{:.0} channels from --freq-min to --freq-max in steps of {} MHz: at most \
                 {MAX_CHANNELS}; use a larger --step",
                channels.floor() + 1.0,
                a.step
            ),
        ));
    }
    let n = channels.floor() as usize + 1;
    let freq: Vec<f64> = (0..n)
        .map(|i| ((a.freq_min + i as f64 * a.step) * 1e6).round() / 1e6)
        .collect();

    let sim = GlobalSimulator::planck18();
    let mut signal = vec![0.0; sim.n_outputs()];
    sim.predict(&theta, &mut signal)?;
    let model_freq: Vec<f64> = sim.grid().iter().map(|&z| freq_of_z(z)).collect();
    let (lo, hi) = model_freq
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(l, h), &f| (l.min(f), h.max(f)));
    if freq[0] < lo || freq[n - 1] > hi {
        return Err(cfg(
            "--freq-min",
            format!(
                "channels {}..{} MHz reach outside the simulator's range {lo:.3}..{hi:.3} MHz \
                 (z = 5..50)",
                freq[0],
                freq[n - 1]
            ),
        ));
    }
    let taps = channel_taps(&model_freq, &freq)?;
    let noise = Normal::new(0.0, a.noise.max(f64::MIN_POSITIVE))
        .map_err(|e| cfg("--noise", e.to_string()))?;
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(a.seed);

    let mut text = String::new();
    let command: Vec<String> = std::env::args()
        .skip(1)
        .map(|s| if s.contains(' ') { format!("'{s}'") } else { s })
        .collect();
    let _ = writeln!(
        text,
        "# Mock global 21-cm spectrum: the spinflip simulator's signal interpolated onto \
         channels evenly spaced in frequency, plus white noise."
    );
    let _ = writeln!(text, "# made by: spinflip {}", command.join(" "));
    let truth: Vec<String> = PARAM_NAMES
        .iter()
        .zip(&theta)
        .map(|(n, v)| format!("{n} = {v}"))
        .collect();
    let _ = writeln!(text, "# truth: {}", truth.join(", "));
    let _ = writeln!(text, "# noise: {} mK white, seed {}", a.noise, a.seed);
    let _ = writeln!(text, "# nu_MHz  T_mK  sigma_mK");
    for (f, t) in freq.iter().zip(&taps) {
        let clean: f64 = t.iter().map(|&(j, w)| w * signal[j]).sum();
        let eps = if a.noise > 0.0 {
            noise.sample(&mut rng)
        } else {
            0.0
        };
        let _ = writeln!(text, "{f:.6} {:.6} {sigma:.6}", clean + eps);
    }
    spinflip_samplers::output::ensure_parent(&a.out)?;
    spinflip_samplers::output::write_atomic(&a.out, text.as_bytes())?;
    eprintln!(
        "wrote {n} channels ({:.3}..{:.3} MHz, {} MHz apart) to {}",
        freq[0],
        freq[n - 1],
        a.step,
        a.out.display()
    );
    Ok(())
}
