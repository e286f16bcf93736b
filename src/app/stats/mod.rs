//! The Stats tab's state: the latest per-image statistics (sorted by the chosen key),
//! their totals, the scroll position and the export format and result.

pub mod keys;
pub mod tasks;
pub mod view;

use std::time::Instant;

use crate::domain::export::ExportFormat;
use crate::domain::stats::{ImageStats, SortKey, Totals, sort_stats, totals};

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
        }
    }
}

impl StatsState {
    pub fn set_images(&mut self, mut images: Vec<ImageStats>, at: Instant) {
        sort_stats(&mut images, self.sort);
        self.totals = totals(&images);
        self.images = images;
        self.scroll = self.scroll.min(self.images.len().saturating_sub(1));
        self.refreshed_at = Some(at);
        self.refresh_error = None;
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

    pub fn scroll_by(&mut self, delta: isize) {
        let max = self.images.len().saturating_sub(1);
        self.scroll = self.scroll.saturating_add_signed(delta).min(max);
    }
}
