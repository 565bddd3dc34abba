//! Where cargo put the cdylib for this test build, for the tests that link or load it.

use std::path::PathBuf;

/// The directory holding libspinflip.so for this test build (target/<profile> or its deps/).
///
/// On Linux the library's SONAME is `libspinflip.so.<major>` (build.rs), the name a program
/// linked with `-lspinflip` asks the loader for; cargo writes only `libspinflip.so`, so the
/// versioned name is made here as a symlink beside it (as the README's build line does).
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    for d in [deps, deps.parent().unwrap()] {
        if d.join("libspinflip.so").exists() {
            #[cfg(target_os = "linux")]
            {
                let versioned = d.join(concat!("libspinflip.so.", env!("CARGO_PKG_VERSION_MAJOR")));
                // Another test binary may make it at the same moment: an existing one is fine.
                if let Err(e) = std::os::unix::fs::symlink("libspinflip.so", &versioned) {
                    assert!(
                        e.kind() == std::io::ErrorKind::AlreadyExists,
                        "could not link {}: {e}",
                        versioned.display()
                    );
                }
            }
            return d.to_path_buf();
        }
    }
    panic!("libspinflip.so not found next to {}", exe.display());
}
