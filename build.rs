//! Link settings of the C library: on Linux the cdylib carries the SONAME
//! `libspinflip.so.<major>` (`libspinflip.so.0` for 0.x), so programs linked against an installed
//! `libspinflip.so` (scripts/install_clib.sh) record the versioned name and keep loading the
//! library after a compatible upgrade. Nothing else is built or generated here.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap();
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libspinflip.so.{major}");
    }
}
