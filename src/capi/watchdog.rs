//! A misconfigured MultiNest or PolyChord run (a wrong `npars`, a fixed parameter under
//! PolyChord, a prior outside the emulator's range) gets log-zero from every adapter call and
//! loops forever with no output, the reason sitting unread in [`super::spinflip_last_error`].
//! The adapters count consecutive log-zero answers; at the threshold (default 10,000,
//! [`spinflip_set_rejection_warning`]) the last error is printed to stderr once per streak.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Consecutive log-zero answers over all threads (a success on any thread ends the streak).
static STREAK: AtomicU64 = AtomicU64::new(0);
static THRESHOLD: AtomicU64 = AtomicU64::new(10_000);
static WARNED: AtomicBool = AtomicBool::new(false);

/// After `n` consecutive log-zero answers from the MultiNest/PolyChord adapters, print the last
/// error to stderr (once per streak); `0` turns the warning off. The default is 10,000.
#[no_mangle]
pub extern "C" fn spinflip_set_rejection_warning(n: usize) {
    THRESHOLD.store(n as u64, Ordering::Relaxed);
}

/// How many adapter calls in a row have answered log-zero.
#[no_mangle]
pub extern "C" fn spinflip_consecutive_rejections() -> usize {
    STREAK.load(Ordering::Relaxed) as usize
}

/// Record one adapter answer; `reason` is this thread's last error when it was log-zero.
pub(crate) fn record(logzero: bool, reason: impl FnOnce() -> String) {
    if !logzero {
        if STREAK.swap(0, Ordering::Relaxed) != 0 {
            WARNED.store(false, Ordering::Relaxed);
        }
        return;
    }
    let n = STREAK.fetch_add(1, Ordering::Relaxed) + 1;
    let at = THRESHOLD.load(Ordering::Relaxed);
    if at > 0 && n >= at && !WARNED.swap(true, Ordering::Relaxed) {
        eprintln!(
            "spinflip: {n} consecutive likelihood calls from the sampler adapter returned log-zero; \
             the sampler cannot make progress. Last error: {}",
            reason()
        );
    }
}
