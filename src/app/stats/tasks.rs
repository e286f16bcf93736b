//! The Stats tab's background work: writing the export file.

use std::path::PathBuf;

use tokio::sync::mpsc;

use crate::app::Action;
use crate::app::send;
use crate::domain::export::ExportFormat;
use crate::domain::stats::ImageStats;
use crate::service::context::AppContext;

pub(crate) async fn export(
    ctx: AppContext,
    tx: mpsc::UnboundedSender<Action>,
    format: ExportFormat,
    images: Vec<ImageStats>,
) {
    let result = tokio::task::spawn_blocking(move || write_export(&ctx, &images, format))
        .await
        .unwrap_or_else(|e| Err(format!("export crashed: {e}")));
    send(&tx, Action::Exported(result));
}

/// Writes the export into the current directory, or the data dir when that is not writable.
fn write_export(
    ctx: &AppContext,
    images: &[ImageStats],
    format: ExportFormat,
) -> Result<String, String> {
    let name = crate::service::export_file::default_file_name(format);
    let mut dirs = vec![std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))];
    if let crate::backend::BackendKind::Local { data_dir } = &ctx.backend.kind {
        dirs.push(data_dir.clone());
    }
    let mut last_error = String::from("no directory to write to");
    for dir in dirs {
        let path = dir.join(&name);
        match crate::service::export_file::export(ctx, images, format, &path) {
            Ok(summary) => {
                let skipped = if summary.skipped > 0 {
                    format!(" ({} without a label left out)", summary.skipped)
                } else {
                    String::new()
                };
                return Ok(format!(
                    "Exported {} rows to {}{skipped}",
                    summary.rows,
                    path.display()
                ));
            }
            Err(e) => last_error = format!("cannot write {}: {e}", path.display()),
        }
    }
    Err(last_error)
}
