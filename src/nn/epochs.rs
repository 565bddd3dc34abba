//! The epoch loop every network trains with: shuffled mini-batches from a seed, an
//! [`Optimizer`] over a flat parameter buffer, a learning-rate schedule, early stopping on the
//! validation loss, the best parameters kept, a checkpoint after every epoch (resumable
//! bit for bit, refused for other settings or data), progress (a bar on a terminal, a line
//! every few seconds otherwise: [`Counter`]) and per-epoch log lines.
//!
//! A network plugs in through [`Trainable`]: its parameter layout, the loss and gradient of
//! a mini-batch, and the validation loss.

use super::checkpoint::{
    checkpoint_paths, load_checkpoint, remove_checkpoint, save_checkpoint, CheckpointState,
    EpochRecord, NamedArrays,
};
use super::optim::{Optimizer, OptimizerConfig};
use super::schedule::{LrSchedule, StoppingRule};
use crate::samplers::progress::Counter;
use crate::SpinflipError;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::path::Path;
use std::time::Instant;

/// Where a mini-batch sits in the run (for seeded randomness such as dropout masks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchContext {
    /// Epoch (0-based).
    pub epoch: usize,
    /// Batch within the epoch (0-based).
    pub batch: usize,
    /// A seed unique to this batch of this run.
    pub seed: u64,
}

/// A network and its data, as the epoch loop sees them.
pub trait Trainable {
    /// Names and shapes of the parameter tensors, in the order of the flat buffer.
    fn layout(&self) -> Vec<(String, Vec<usize>)>;
    /// Number of training examples.
    fn n_train(&self) -> usize;
    /// The mean loss of the training examples `batch` at `params`; its gradient with
    /// respect to `params` is written into `grad` (same layout, overwritten).
    fn batch_loss_grad(
        &mut self,
        params: &[f32],
        batch: &[usize],
        ctx: BatchContext,
        grad: &mut [f32],
    ) -> Result<f64, SpinflipError>;
    /// The validation loss at `params` (what early stopping and the best model go by).
    fn val_loss(&mut self, params: &[f32]) -> Result<f64, SpinflipError>;
    /// State outside the parameters that training updates (batch-norm running statistics):
    /// kept with the best parameters and in checkpoints. None by default.
    fn buffers(&self) -> Vec<f32> {
        Vec::new()
    }
    /// Restore [`buffers`](Self::buffers) (from a checkpoint).
    fn set_buffers(&mut self, buffers: &[f32]) -> Result<(), SpinflipError> {
        let _ = buffers;
        Ok(())
    }
}

/// The settings of the loop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochLoop {
    /// Schedule, early stopping and the epoch budget.
    pub rule: StoppingRule,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Seed of the batch order (and of the batch seeds).
    pub seed: u64,
    /// The optimiser (its learning rate is the rule's).
    pub optimizer: OptimizerConfig,
    /// Skip an epoch's last batch when it is smaller than `batch_size` (batch norm needs
    /// several examples per batch); the shuffle changes every epoch, so every example is
    /// still seen.
    pub drop_last: bool,
}

/// How to run the loop.
#[derive(Debug, Clone)]
pub struct LoopOptions<'a> {
    /// The model's output path: the checkpoint goes next to it (`OUT.ckpt.*`).
    pub out: &'a Path,
    /// Require the checkpoint (an error if there is none). Without it, a checkpoint of the
    /// same run (settings and data) found at `out` is resumed anyway, one of another run is
    /// refused, and none means a fresh start: rerunning a killed command continues it.
    pub resume: bool,
    /// Delete a checkpoint at `out` and start over.
    pub restart: bool,
    /// Show progress on stderr (a bar on a terminal, a line every few seconds otherwise).
    pub progress: bool,
    /// Print one line per finished epoch to stderr.
    pub log_epochs: bool,
    /// Everything that must match for a resume (the epoch budget and the patience may grow).
    pub settings: serde_json::Value,
    /// Fingerprint of the training data (must match for a resume).
    pub data_hash: String,
}

/// What the loop ends with.
#[derive(Debug, Clone)]
pub struct LoopOutcome {
    /// Parameters at the best validation loss.
    pub best: Vec<f32>,
    /// Parameters at the last epoch.
    pub last: Vec<f32>,
    /// The model's buffers ([`Trainable::buffers`]) at the best validation loss.
    pub best_buffers: Vec<f32>,
    /// Counters and history (as in the checkpoint).
    pub state: CheckpointState,
}

fn split(layout: &[(String, Vec<usize>)], prefix: &str, flat: &[f32]) -> NamedArrays {
    let mut at = 0;
    layout
        .iter()
        .map(|(n, s)| {
            let k: usize = s.iter().product();
            let v = flat[at..at + k].to_vec();
            at += k;
            (format!("{prefix}{n}"), s.clone(), v)
        })
        .collect()
}

fn join(
    layout: &[(String, Vec<usize>)],
    prefix: &str,
    map: &mut super::checkpoint::ArrayMap,
) -> Result<Vec<f32>, SpinflipError> {
    let mut out = Vec::new();
    for (n, s) in layout {
        let name = format!("{prefix}{n}");
        match map.remove(&name) {
            Some((shape, v)) if &shape == s => out.extend(v),
            _ => {
                return Err(SpinflipError::training(format!(
                    "checkpoint tensor '{name}' is missing or of the wrong shape (expected {s:?})"
                )))
            }
        }
    }
    Ok(out)
}

fn without_budget(v: &serde_json::Value) -> serde_json::Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("epochs");
        o.remove("patience");
    }
    v
}

/// Train `model` from the parameters `start`; see the [module docs](self).
pub fn run_epochs<T: Trainable>(
    model: &mut T,
    start: Vec<f32>,
    cfg: &EpochLoop,
    opts: &LoopOptions,
) -> Result<LoopOutcome, SpinflipError> {
    let layout = model.layout();
    let n_params: usize = layout
        .iter()
        .map(|(_, s)| s.iter().product::<usize>())
        .sum();
    if start.len() != n_params {
        return Err(SpinflipError::shape(
            "start parameters",
            format!("{} values for a layout of {n_params}", start.len()),
        ));
    }
    let r = cfg.rule;
    if r.epochs == 0 || cfg.batch_size == 0 || r.patience == 0 || r.lr_patience == 0 {
        return Err(SpinflipError::config(
            "training settings",
            "epochs, batch, patience and lr-patience must be at least 1",
        ));
    }
    if !(r.lr > 0.0 && r.lr.is_finite() && r.lr_factor > 0.0 && r.lr_factor < 1.0) {
        return Err(SpinflipError::config(
            "learning rate",
            "lr must be > 0 and lr-factor in (0, 1)",
        ));
    }
    let mut params = start;
    let mut opt = Optimizer::new(
        OptimizerConfig {
            lr: r.lr,
            ..cfg.optimizer
        },
        n_params,
    );
    let mut best = params.clone();
    let mut best_buffers = model.buffers();
    let mut state = CheckpointState {
        epochs_done: 0,
        lr: r.lr,
        adam_step: 0,
        best_val: f64::INFINITY,
        best_epoch: 0,
        bad_epochs: 0,
        plateau_epochs: 0,
        stopped: false,
        settings: opts.settings.clone(),
        data_hash: opts.data_hash.clone(),
        history: Vec::new(),
        arrays_slot: None,
    };
    let (_, state_path) = checkpoint_paths(opts.out);
    if opts.resume && opts.restart {
        return Err(SpinflipError::config(
            "resume",
            "--resume (continue the checkpoint) and --restart (discard it) exclude each other",
        ));
    }
    if opts.restart {
        remove_checkpoint(opts.out)?;
    }
    if opts.resume || (!opts.restart && state_path.exists()) {
        let (mut map, st) = load_checkpoint(opts.out)?;
        // Found rather than asked for: say how to get past it.
        let fix = if opts.resume {
            String::new()
        } else {
            format!(
                " ({} is left from another run: pass --restart to discard it, or choose another --out)",
                state_path.display()
            )
        };
        // The epoch budget may grow on resume; everything else must match.
        if without_budget(&st.settings) != without_budget(&opts.settings) {
            return Err(SpinflipError::config(
                "resume",
                format!(
                    "settings differ from the checkpoint's ({}){fix}",
                    st.settings
                ),
            ));
        }
        if st.data_hash != opts.data_hash {
            return Err(SpinflipError::config(
                "resume",
                format!("the training data differ from the checkpoint's (hash mismatch){fix}"),
            ));
        }
        eprintln!(
            "resumed from the checkpoint {} after epoch {} (--restart starts over)",
            state_path.display(),
            st.epochs_done
        );
        params = join(&layout, "w.", &mut map)?;
        best = join(&layout, "best.", &mut map)?;
        let m = join(&layout, "m.", &mut map)?;
        let v = join(&layout, "v.", &mut map)?;
        if !best_buffers.is_empty() {
            let n_buf = best_buffers.len();
            let buf_layout = [("buffers".to_string(), vec![n_buf])];
            model.set_buffers(&join(&buf_layout, "", &mut map)?)?;
            let best_layout = [("best_buffers".to_string(), vec![n_buf])];
            best_buffers = join(&best_layout, "", &mut map)?;
        }
        opt.restore(m, v, st.adam_step)
            .map_err(|e| SpinflipError::training(format!("checkpoint: {e}")))?;
        state = st;
        state.settings = opts.settings.clone();
    }
    opt.config.lr = state.lr;

    let n = model.n_train();
    // Batches that run per epoch (a short last one is skipped with drop_last).
    let n_batches = if cfg.drop_last {
        n / cfg.batch_size
    } else {
        n.div_ceil(cfg.batch_size)
    };
    let remaining = r.epochs.saturating_sub(state.epochs_done);
    let bar = Counter::new(
        opts.progress && !state.stopped,
        "train",
        (remaining * n_batches) as u64,
        "batches",
    );
    let mut grad = vec![0f32; n_params];
    while state.epochs_done < r.epochs && !state.stopped {
        let epoch = state.epochs_done;
        let t0 = Instant::now();
        if r.schedule == LrSchedule::Cosine {
            opt.config.lr = LrSchedule::cosine_lr(r.lr, r.min_lr, epoch, r.epochs);
        }
        let epoch_of = format!("epoch {}/{}", epoch + 1, r.epochs);
        bar.set_message(epoch_of.clone());
        // Shuffle from (seed, epoch) so a resumed run draws the same batches.
        let epoch_seed = cfg.seed ^ (epoch as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(epoch_seed);
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        let mut sum = 0.0;
        for (bi, idx) in order.chunks(cfg.batch_size).enumerate() {
            if cfg.drop_last && idx.len() < cfg.batch_size {
                continue;
            }
            let ctx = BatchContext {
                epoch,
                batch: bi,
                seed: epoch_seed.wrapping_add((bi as u64).wrapping_mul(0xD1B5_4A32_D192_ED03)),
            };
            let l = model.batch_loss_grad(&params, idx, ctx, &mut grad)?;
            if !l.is_finite() {
                return Err(SpinflipError::training(format!(
                    "the loss became {l} in epoch {epoch}; lower the learning rate"
                )));
            }
            opt.update(&mut params, &grad)
                .map_err(SpinflipError::training)?;
            sum += l * idx.len() as f64;
            bar.inc(1);
            if bi % 10 == 0 && bar.is_visible() {
                bar.set_message(format!(
                    "{epoch_of}: train {:.3e} val {:.3e} lr {:.1e}",
                    sum / ((bi * cfg.batch_size + idx.len()) as f64),
                    state.history.last().map_or(f64::NAN, |r| r.val_loss),
                    opt.config.lr
                ));
            }
        }
        let val = model.val_loss(&params)?;
        let seen = if cfg.drop_last {
            n - n % cfg.batch_size
        } else {
            n
        };
        let train_loss = sum / seen.max(1) as f64;
        state.history.push(EpochRecord {
            epoch,
            train_loss,
            val_loss: val,
            lr: opt.config.lr,
            seconds: t0.elapsed().as_secs_f64(),
        });
        if val < state.best_val {
            state.best_val = val;
            state.best_epoch = epoch;
            state.bad_epochs = 0;
            state.plateau_epochs = 0;
            best.clone_from(&params);
            best_buffers = model.buffers();
        } else {
            state.bad_epochs += 1;
            state.plateau_epochs += 1;
            if r.schedule == LrSchedule::Plateau && state.plateau_epochs >= r.lr_patience {
                opt.config.lr = (opt.config.lr * r.lr_factor).max(r.min_lr);
                state.plateau_epochs = 0;
            }
            if state.bad_epochs >= r.patience {
                state.stopped = true;
            }
        }
        state.epochs_done += 1;
        state.lr = opt.config.lr;
        state.adam_step = opt.step;
        let (m, v) = opt.moments();
        let mut arrays = split(&layout, "w.", &params);
        arrays.extend(split(&layout, "best.", &best));
        // Moments interleaved per tensor (m.NAME, v.NAME), as checkpoints have always been.
        for (mt, vt) in split(&layout, "m.", m)
            .into_iter()
            .zip(split(&layout, "v.", v))
        {
            arrays.push(mt);
            arrays.push(vt);
        }
        if !best_buffers.is_empty() {
            let now = model.buffers();
            arrays.push(("buffers".into(), vec![now.len()], now));
            arrays.push((
                "best_buffers".into(),
                vec![best_buffers.len()],
                best_buffers.clone(),
            ));
        }
        save_checkpoint(opts.out, &arrays, &state)?;
        if opts.log_epochs {
            if let Some(h) = state.history.last() {
                bar.suspend(|| {
                    eprintln!(
                        "epoch {:4}/{}  train {:.4e}  val {:.4e}  lr {:.1e}  {:.1} s",
                        h.epoch + 1,
                        r.epochs,
                        h.train_loss,
                        h.val_loss,
                        h.lr,
                        h.seconds
                    )
                });
            }
        }
        bar.set_message(format!(
            "{epoch_of}: train {train_loss:.3e} val {val:.3e} lr {:.1e}",
            opt.config.lr
        ));
    }
    bar.finish();
    Ok(LoopOutcome {
        best,
        last: params,
        best_buffers,
        state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Least squares y = a x + b on 64 points: the loop must find (a, b) = (2, -1).
    struct Line {
        x: Vec<f32>,
        y: Vec<f32>,
    }

    impl Trainable for Line {
        fn layout(&self) -> Vec<(String, Vec<usize>)> {
            vec![("a".into(), vec![1]), ("b".into(), vec![1])]
        }
        fn n_train(&self) -> usize {
            self.x.len()
        }
        fn batch_loss_grad(
            &mut self,
            p: &[f32],
            batch: &[usize],
            _ctx: BatchContext,
            grad: &mut [f32],
        ) -> Result<f64, SpinflipError> {
            let (mut l, mut ga, mut gb) = (0.0f64, 0.0f32, 0.0f32);
            for &i in batch {
                let r = p[0] * self.x[i] + p[1] - self.y[i];
                l += f64::from(r * r);
                ga += 2.0 * r * self.x[i];
                gb += 2.0 * r;
            }
            let k = batch.len() as f32;
            grad.copy_from_slice(&[ga / k, gb / k]);
            Ok(l / batch.len() as f64)
        }
        fn val_loss(&mut self, p: &[f32]) -> Result<f64, SpinflipError> {
            let all: Vec<usize> = (0..self.x.len()).collect();
            let mut g = [0.0; 2];
            let ctx = BatchContext {
                epoch: 0,
                batch: 0,
                seed: 0,
            };
            self.batch_loss_grad(p, &all, ctx, &mut g)
        }
    }

    fn line() -> Line {
        let x: Vec<f32> = (0..64).map(|i| i as f32 / 32.0 - 1.0).collect();
        let y = x.iter().map(|x| 2.0 * x - 1.0).collect();
        Line { x, y }
    }

    fn cfg(epochs: usize) -> EpochLoop {
        EpochLoop {
            rule: StoppingRule {
                schedule: LrSchedule::Cosine,
                lr: 0.05,
                min_lr: 1e-4,
                lr_patience: 5,
                lr_factor: 0.5,
                patience: 1000,
                epochs,
            },
            batch_size: 8,
            seed: 3,
            optimizer: OptimizerConfig::adam(0.05),
            drop_last: false,
        }
    }

    #[test]
    fn fits_a_line_and_a_killed_run_resumes_to_the_same_bits() {
        let dir = std::env::temp_dir().join(format!("sf_epochs_{}", std::process::id()));
        let out = dir.join("line");
        let opts = |resume, restart| LoopOptions {
            out: &out,
            resume,
            restart,
            progress: false,
            log_epochs: false,
            settings: serde_json::json!({"lr": 0.05, "epochs": 60}),
            data_hash: "h".into(),
        };
        let straight =
            run_epochs(&mut line(), vec![0.0, 0.0], &cfg(60), &opts(false, false)).unwrap();
        assert!((straight.best[0] - 2.0).abs() < 1e-2 && (straight.best[1] + 1.0).abs() < 1e-2);
        assert_eq!(straight.state.epochs_done, 60);

        // The same run dies in epoch 25; the checkpoint of epoch 24 resumes it.
        struct Dies(Line);
        impl Trainable for Dies {
            fn layout(&self) -> Vec<(String, Vec<usize>)> {
                self.0.layout()
            }
            fn n_train(&self) -> usize {
                self.0.n_train()
            }
            fn batch_loss_grad(
                &mut self,
                p: &[f32],
                b: &[usize],
                ctx: BatchContext,
                g: &mut [f32],
            ) -> Result<f64, SpinflipError> {
                if ctx.epoch == 25 {
                    return Err(SpinflipError::training("killed"));
                }
                self.0.batch_loss_grad(p, b, ctx, g)
            }
            fn val_loss(&mut self, p: &[f32]) -> Result<f64, SpinflipError> {
                self.0.val_loss(p)
            }
        }
        // --restart discards the finished run's checkpoint; the run dies in epoch 25.
        let dies = |o: &LoopOptions| run_epochs(&mut Dies(line()), vec![0.0, 0.0], &cfg(60), o);
        assert!(dies(&opts(false, true)).is_err());
        // The same command again (no flag) finds the checkpoint of epoch 24 and resumes it.
        let resumed =
            run_epochs(&mut line(), vec![9.0, 9.0], &cfg(60), &opts(false, false)).unwrap();
        assert_eq!(resumed.last, straight.last);
        assert_eq!(resumed.best, straight.best);
        assert_eq!(resumed.state.history.len(), 60);
        // So does --resume, which requires it.
        assert!(dies(&opts(false, true)).is_err());
        let required =
            run_epochs(&mut line(), vec![9.0, 9.0], &cfg(60), &opts(true, false)).unwrap();
        assert_eq!(required.last, straight.last);
        // A checkpoint of other data is refused, found or required, and the found one says
        // how to get past it; --restart starts over.
        for (resume, fix) in [(true, false), (false, true)] {
            let bad = LoopOptions {
                data_hash: "other".into(),
                ..opts(resume, false)
            };
            let e = run_epochs(&mut line(), vec![0.0, 0.0], &cfg(60), &bad).unwrap_err();
            assert!(e.to_string().contains("hash"), "{e}");
            assert_eq!(e.to_string().contains("--restart"), fix, "{e}");
        }
        let fresh = LoopOptions {
            data_hash: "other".into(),
            ..opts(false, true)
        };
        let again = run_epochs(&mut line(), vec![0.0, 0.0], &cfg(60), &fresh).unwrap();
        assert_eq!(
            again.last, straight.last,
            "a fresh start is the straight run"
        );
        // Both flags at once: an error, not a guess.
        assert!(run_epochs(&mut line(), vec![0.0, 0.0], &cfg(60), &opts(true, true)).is_err());
        // --resume with no checkpoint: an error.
        let none = dir.join("none");
        let e = run_epochs(
            &mut line(),
            vec![0.0, 0.0],
            &cfg(60),
            &LoopOptions {
                out: &none,
                ..opts(true, false)
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("checkpoint"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
