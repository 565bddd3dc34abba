//! What every network's training shares: dense matrix products ([`dense`]), optimisers over flat parameter buffers
//! ([`optim`]), learning-rate schedules ([`schedule`]), the epoch loop with early stopping,
//! best-model keeping and resumable checkpoints ([`epochs`], [`checkpoint`]), model files
//! ([`files`]) and the loss-curve PNG ([`loss_curve`]).
//!
//! A network trains by implementing [`Trainable`] (its parameter layout, the loss and
//! gradient of a mini-batch, the validation loss) and calling [`run_epochs`]: the LSTM
//! emulator ([`crate::emulator::train`]) is the first user.

pub mod checkpoint;
pub mod dense;
pub mod epochs;
pub mod files;
pub mod loss_curve;
pub mod metrics;
pub mod optim;
pub mod schedule;
pub mod split;

pub use checkpoint::{CheckpointState, EpochRecord};
pub use epochs::{run_epochs, BatchContext, EpochLoop, LoopOptions, LoopOutcome, Trainable};
pub use optim::{Optimizer, OptimizerConfig, OptimizerKind};
pub use schedule::{LrSchedule, StoppingRule};
