//! The `hotdog-tui` binary: everything lives in the library.
#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::process::ExitCode;

fn main() -> ExitCode {
    hotdog_tui::service::memory::limit_arenas();
    let cli = hotdog_tui::cli::Cli::parse_args();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(hotdog_tui::cli::run(cli))
}
