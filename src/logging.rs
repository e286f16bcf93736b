//! Logs go through `tracing` to a file (`--log-file`, filtered by `RUST_LOG`), never to the
//! terminal the TUI draws on; the headless worker also narrates on stderr.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt;

use crate::config::Settings;

const SDK_TARGETS: [&str; 8] = [
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_sigv4",
    "aws_config",
    "aws_runtime",
    "hyper",
    "hyper_util",
];

/// Starts logging; keep the guard alive so buffered lines are flushed on exit.
pub fn init(settings: &Settings, headless: bool) -> Option<WorkerGuard> {
    let mut filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("hotdog_tui=info,warn"));
    // The SDK's debug and trace output carries the identity (access key id), signed
    // headers and request URLs; whatever RUST_LOG asks for, those crates stay at info.
    for target in SDK_TARGETS {
        if let Ok(d) = format!("{target}=info").parse() {
            filter = filter.add_directive(d);
        }
    }
    let path: &Path = &settings.log_file;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "hotdog-tui.log".into());
    if crate::backend::local::private_dir(dir).is_err() {
        return None; // no log file is better than refusing to run
    }
    let appender = tracing_appender::rolling::never(dir, file_name);
    let (file, guard) = tracing_appender::non_blocking(appender);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false);
    let installed = if headless {
        builder
            .with_writer(file.and(std::io::stderr.with_max_level(tracing::Level::INFO)))
            .try_init()
    } else {
        builder.with_writer(file).try_init()
    };
    installed.ok().map(|_| guard)
}
