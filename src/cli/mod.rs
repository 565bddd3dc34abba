//! Subcommands of the `spinflip` binary, one file each.

pub mod bench;
pub mod bias;
pub mod calibrate;
pub mod eval;
pub mod eval_cnn;
pub mod eval_mlp;
pub mod fit;
pub mod settings;
pub mod simulate;
pub mod simulate_maps;
pub mod simulate_spectrum;
pub mod summarize;
pub mod train;
pub mod train_cnn;
pub mod train_mlp;

/// Make Ctrl-C (SIGINT) raise the samplers' interrupt flag: a running fit stops at its next
/// step, writes its checkpoint and exits with status 130. A second Ctrl-C exits at once.
pub fn install_interrupt_handler() {
    use std::sync::atomic::Ordering;
    use std::sync::Once;
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let flag = spinflip_samplers::driver::interrupt_flag();
        // Failing to install the handler only costs the graceful stop: Ctrl-C still kills.
        let _ = ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
        });
    });
}

/// Files a command wrote, for its last line: `a, b, c`.
pub fn file_list(files: &[std::path::PathBuf]) -> String {
    files
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
