//! The likelihood PolyChord's context-free callbacks use (registered by the caller).

use super::handle::SpinflipLikelihood;
use std::sync::atomic::{AtomicPtr, Ordering};

static ACTIVE: AtomicPtr<SpinflipLikelihood> = AtomicPtr::new(std::ptr::null_mut());

/// Make `h` the active likelihood (null clears it).
pub(crate) fn set_active(h: *mut SpinflipLikelihood) {
    ACTIVE.store(h, Ordering::SeqCst);
}

/// The active likelihood (null if none).
pub(crate) fn active() -> *mut SpinflipLikelihood {
    ACTIVE.load(Ordering::SeqCst)
}

/// Clear the registration if `h` is the active likelihood (it is being freed).
pub(crate) fn unregister_if_active(h: *mut SpinflipLikelihood) {
    let _ = ACTIVE.compare_exchange(h, std::ptr::null_mut(), Ordering::SeqCst, Ordering::SeqCst);
}
