//! Where cargo put the cdylib for this test build, for the tests that link or load it.

use std::path::PathBuf;

/// The directory holding libspinflip.so for this test build (target/<profile> or its deps/).
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    for d in [deps, deps.parent().unwrap()] {
        if d.join("libspinflip.so").exists() {
            return d.to_path_buf();
        }
    }
    panic!("libspinflip.so not found next to {}", exe.display());
}
