//! Shell completions and man pages, generated from the clap definitions so they never
//! drift from the real flags.

use std::path::Path;
use std::process::ExitCode;

use clap::CommandFactory;

use super::Cli;

const BIN: &str = "hotdog-tui";

pub fn completions(shell: clap_complete::Shell) -> ExitCode {
    clap_complete::generate(shell, &mut Cli::command(), BIN, &mut std::io::stdout());
    ExitCode::SUCCESS
}

pub fn man(dir: Option<&Path>) -> ExitCode {
    let result = match dir {
        Some(dir) => std::fs::create_dir_all(dir)
            .and_then(|()| clap_mangen::generate_to(Cli::command(), dir))
            .map(|()| eprintln!("wrote the man pages to {}", dir.display())),
        None => clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let to = dir.map_or_else(
                || "standard output".to_string(),
                |d| d.display().to_string(),
            );
            eprintln!("error: cannot write the man page to {to}: {e}");
            ExitCode::FAILURE
        }
    }
}
