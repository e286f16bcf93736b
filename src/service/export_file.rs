//! Writing the dataset export to a file (the formats themselves live in `domain::export`).

use std::path::Path;

use crate::domain::export::{
    ExportFilter, ExportFormat, ExportSummary, to_answers_csv, to_csv, to_manifest,
};
use crate::domain::label_file::ImageSummary;
use crate::domain::stats::ImageStats;
use crate::service::context::AppContext;

/// The export's text. `answers` (each label file's summary) is read by the `answers`
/// format only; the TUI, which offers CSV and JSONL, passes none.
pub fn render(
    ctx: &AppContext,
    stats: &[ImageStats],
    answers: &[(&str, &ImageSummary)],
    format: ExportFormat,
    filter: ExportFilter,
) -> (String, ExportSummary) {
    match format {
        ExportFormat::Csv => to_csv(stats, filter),
        ExportFormat::Answers => to_answers_csv(stats, answers, filter),
        ExportFormat::Jsonl => to_manifest(
            &ctx.names.bucket,
            stats,
            filter,
            &crate::service::labeller::now_rfc3339(),
        ),
    }
}

/// Writes the whole export (no filter); see `export_filtered`.
pub fn export(
    ctx: &AppContext,
    stats: &[ImageStats],
    format: ExportFormat,
    path: &Path,
) -> Result<ExportSummary, std::io::Error> {
    export_filtered(ctx, stats, &[], format, ExportFilter::default(), path)
}

/// Writes the export atomically (temp file + rename) so a reader never sees half a file.
pub fn export_filtered(
    ctx: &AppContext,
    stats: &[ImageStats],
    answers: &[(&str, &ImageSummary)],
    format: ExportFormat,
    filter: ExportFilter,
    path: &Path,
) -> Result<ExportSummary, std::io::Error> {
    let (text, summary) = render(ctx, stats, answers, format, filter);
    let tmp = path.with_extension(format!("{}.tmp", format.extension()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)?;
    Ok(summary)
}

/// `hotdog-export-YYYYMMDD-HHMMSS.<ext>`.
pub fn default_file_name(format: ExportFormat) -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "hotdog-export-{:04}{:02}{:02}-{:02}{:02}{:02}.{}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        format.extension()
    )
}
