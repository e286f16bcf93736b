//! The Stats tab's background work: writing the export file, and computing the quality
//! figures on a blocking thread.

use std::path::PathBuf;

use tokio::sync::mpsc;

use crate::app::Action;
use crate::app::send;
use crate::domain::export::ExportFormat;
use crate::domain::gold::GoldSet;
use crate::domain::label_file::ImageSummary;
use crate::domain::stats::ImageStats;
use crate::service::context::AppContext;

/// What one quality computation reads: a snapshot of the label files' summaries and the
/// gold answers.
pub struct QualityInput {
    pub computation: u64,
    pub images: std::sync::Arc<std::collections::HashMap<std::sync::Arc<str>, ImageSummary>>,
    pub gold: GoldSet,
    pub gold_problem: Option<String>,
}

/// Computes the quality figures on a blocking thread and sends them as
/// `Action::QualityComputed`. Should it crash, nothing is sent: the last figures stay on
/// screen and the next change computes again.
pub(crate) fn compute_quality(
    tx: mpsc::UnboundedSender<Action>,
    input: QualityInput,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let QualityInput {
            computation,
            images,
            gold,
            gold_problem,
        } = input;
        let result = tokio::task::spawn_blocking(move || {
            let refs = crate::service::statistics::named(&images);
            let report = crate::domain::quality::assess(&refs, &gold);
            drop(refs);
            drop(images);
            crate::service::memory::return_freed_memory();
            report
        })
        .await;
        if let Ok(report) = result {
            send(
                &tx,
                Action::QualityComputed {
                    computation,
                    report: Box::new(report),
                    gold_problem,
                },
            );
        }
    })
}

/// An export written: how many rows, how many images left out, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportDone {
    pub rows: usize,
    pub skipped: usize,
    pub path: PathBuf,
}

impl std::fmt::Display for ExportDone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Exported {} rows to {}", self.rows, self.path.display())?;
        if self.skipped > 0 {
            write!(f, " ({} without a label left out)", self.skipped)?;
        }
        Ok(())
    }
}

/// Why no export file was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportFailed {
    #[error("cannot write {path}: {reason}", path = .path.display())]
    Write { path: PathBuf, reason: String },
    #[error("the export task crashed")]
    Crashed,
}

pub(crate) async fn export(
    ctx: AppContext,
    tx: mpsc::UnboundedSender<Action>,
    format: ExportFormat,
    images: Vec<ImageStats>,
) {
    let result = tokio::task::spawn_blocking(move || write_export(&ctx, &images, format))
        .await
        .unwrap_or(Err(ExportFailed::Crashed));
    send(&tx, Action::Exported(result));
}

/// Writes the export into the current directory, or the data dir when that is not writable.
fn write_export(
    ctx: &AppContext,
    images: &[ImageStats],
    format: ExportFormat,
) -> Result<ExportDone, ExportFailed> {
    let name = crate::service::export_file::default_file_name(format);
    let mut dirs = vec![std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))];
    if let crate::backend::BackendKind::Local { data_dir } = &ctx.backend.kind {
        dirs.push(data_dir.clone());
    }
    let mut last_error = None;
    for dir in dirs {
        let path = dir.join(&name);
        match crate::service::export_file::export(ctx, images, format, &path) {
            Ok(summary) => {
                return Ok(ExportDone {
                    rows: summary.rows,
                    skipped: summary.skipped,
                    path,
                });
            }
            Err(e) => {
                last_error = Some(ExportFailed::Write {
                    path,
                    reason: e.to_string(),
                })
            }
        }
    }
    // The current directory is always tried, so there is an error to report.
    Err(last_error.unwrap_or(ExportFailed::Crashed))
}
