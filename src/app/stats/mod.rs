//! The Stats tab's state: the latest per-image statistics (sorted by the chosen key),
//! their totals, the scroll position and the export format and result; and the quality
//! figures (agreement, labellers, consensus per image), computed off the UI task whenever
//! the label files change, the last result kept on screen meanwhile.

pub mod keys;
pub mod tasks;
pub mod view;

use std::time::Instant;

use crate::domain::export::ExportFormat;
use crate::domain::quality::QualityReport;
use crate::domain::stats::{ImageStats, SortKey, Totals, sort_stats, totals};

/// The quality figures on screen, and which computation they came from. The per-image
/// figures live in the rows (`report.images` is emptied once they are applied).
#[derive(Debug, Clone)]
pub struct QualityShown {
    pub computation: u64,
    pub report: QualityReport,
    pub gold_problem: Option<String>,
}

#[derive(Debug, Clone)]
pub struct StatsState {
    pub images: Vec<ImageStats>,
    pub totals: Totals,
    pub sort: SortKey,
    /// The selected row (Enter opens its image and answers).
    pub scroll: usize,
    /// (done, total): images with the votes they need.
    pub progress: Option<(usize, usize)>,
    /// Request id of the next detail overlay.
    pub next_detail: u64,
    pub export_format: ExportFormat,
    pub exporting: bool,
    /// Last export's path (or why it failed).
    pub last_export: Option<Result<tasks::ExportDone, tasks::ExportFailed>>,
    pub refreshed_at: Option<Instant>,
    /// Last refresh error (cleared by a good refresh).
    pub refresh_error: Option<String>,
    /// The latest quality figures (`None` until the first computation lands).
    pub quality: Option<QualityShown>,
    /// The labeller table instead of the image table (`l`).
    pub show_labellers: bool,
    /// The selected row of the labeller table.
    pub labeller_scroll: usize,
    /// The first image row on screen, as last drawn: only the rows in view are built
    /// (100,000 rows a frame would be tens of milliseconds), scrolled just enough to keep
    /// the selected row in view.
    pub first_shown: std::cell::Cell<usize>,
}

impl Default for StatsState {
    fn default() -> Self {
        StatsState {
            images: Vec::new(),
            totals: totals(&[]),
            sort: SortKey::default(),
            scroll: 0,
            progress: None,
            next_detail: 1,
            export_format: ExportFormat::Csv,
            exporting: false,
            last_export: None,
            refreshed_at: None,
            refresh_error: None,
            quality: None,
            show_labellers: false,
            labeller_scroll: 0,
            first_shown: std::cell::Cell::new(0),
        }
    }
}

impl StatsState {
    /// The image rows to build for a table `rows` high: from the first row in view, moved
    /// just enough to keep the selected row in it (what ratatui's `TableState` does, kept
    /// here so only those rows are built).
    pub fn rows_in_view(&self, rows: usize) -> std::ops::Range<usize> {
        crate::app::layout::rows_in_view(self.images.len(), rows, self.scroll, &self.first_shown)
    }

    pub fn set_images(&mut self, mut images: Vec<ImageStats>, at: Instant) {
        // Until the next computation lands, the last figures stand for the new images:
        // carried over from the rows they replace.
        if self.quality.is_some() {
            carry_quality(&self.images, &mut images);
        }
        sort_stats(&mut images, self.sort);
        self.totals = totals(&images);
        self.images = images;
        self.scroll = self.scroll.min(self.images.len().saturating_sub(1));
        self.refreshed_at = Some(at);
        self.refresh_error = None;
    }

    /// Takes a computation's figures unless a later one is already shown; `true` if taken.
    pub fn set_quality(
        &mut self,
        computation: u64,
        report: QualityReport,
        gold_problem: Option<String>,
    ) -> bool {
        if self
            .quality
            .as_ref()
            .is_some_and(|q| q.computation >= computation)
        {
            return false;
        }
        let mut report = report;
        report.apply_to(&mut self.images);
        // The rows hold each image's figures now; the per-image list is not kept (6 MB at
        // 100,000 images): new rows take the figures from the rows they replace.
        report.images = Vec::new();
        sort_stats(&mut self.images, self.sort);
        self.labeller_scroll = self
            .labeller_scroll
            .min(report.labellers.len().saturating_sub(1));
        self.quality = Some(QualityShown {
            computation,
            report,
            gold_problem,
        });
        true
    }

    pub fn cycle_sort(&mut self) {
        self.sort = self.sort.next();
        sort_stats(&mut self.images, self.sort);
    }

    pub fn cycle_format(&mut self) {
        // The answers format needs every label file's answers: a CLI export only.
        self.export_format = match self.export_format {
            ExportFormat::Csv => ExportFormat::Jsonl,
            ExportFormat::Jsonl | ExportFormat::Answers => ExportFormat::Csv,
        };
    }

    /// Moves the selection of the table on screen.
    pub fn scroll_by(&mut self, delta: isize) {
        if self.show_labellers {
            let rows = self
                .quality
                .as_ref()
                .map_or(0, |q| q.report.labellers.len());
            self.labeller_scroll = self
                .labeller_scroll
                .saturating_add_signed(delta)
                .min(rows.saturating_sub(1));
            return;
        }
        let max = self.images.len().saturating_sub(1);
        self.scroll = self.scroll.saturating_add_signed(delta).min(max);
    }
}

/// Copies each image's consensus, confidence and adjudication from the rows being replaced
/// onto the new ones (matched by name).
fn carry_quality(old: &[ImageStats], new: &mut [ImageStats]) {
    crate::domain::quality::copy_by_name(
        old.iter()
            .map(|s| (s.image.as_str(), (s.consensus, s.confidence, s.adjudicated))),
        new,
    );
}
