//! The Worker tab's state: the embedded worker's figures as last reported, a per-second
//! throughput history for the sparkline, the queue depths and a bounded event log.

pub mod keys;
pub mod view;

use std::collections::VecDeque;

use crate::backend::QueueDepth;
use crate::worker::{WorkerEvent, WorkerState, WorkerStatus};

/// Seconds of throughput kept for the sparkline.
pub const THROUGHPUT_LEN: usize = 120;
/// Worker events kept.
pub const LOG_LEN: usize = 500;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepths {
    pub requests: QueueDepth,
    pub requests_dlq: QueueDepth,
    pub labels: QueueDepth,
    pub labels_dlq: QueueDepth,
}

#[derive(Debug, Clone)]
pub struct WorkerPanel {
    /// `false` with `--no-worker`.
    pub enabled: bool,
    pub figures: Option<WorkerStatus>,
    /// Work done per second, oldest first.
    pub throughput: VecDeque<u64>,
    last_total: Option<u64>,
    pub depths: Option<Result<QueueDepths, String>>,
    pub log: VecDeque<WorkerEvent>,
    /// Lines scrolled up from the newest.
    pub scroll: usize,
}

impl WorkerPanel {
    pub fn new(enabled: bool) -> WorkerPanel {
        WorkerPanel {
            enabled,
            figures: None,
            throughput: VecDeque::with_capacity(THROUGHPUT_LEN),
            last_total: None,
            depths: None,
            log: VecDeque::new(),
            scroll: 0,
        }
    }

    /// The embedded worker's state; `None` with `--no-worker`.
    pub fn mode(&self) -> Option<WorkerState> {
        match (&self.figures, self.enabled) {
            (_, false) => None,
            (Some(f), true) => Some(f.state),
            (None, true) => Some(WorkerState::Running),
        }
    }

    /// What the status line and the tab call the worker's state.
    pub fn mode_label(&self) -> &'static str {
        self.mode().map_or("off", WorkerState::label)
    }

    /// Samples throughput; called once a second.
    pub fn sample(&mut self) {
        let total = self
            .figures
            .as_ref()
            .map_or(0, |f| f.requests_answered + f.answers_written);
        let delta = self.last_total.map_or(0, |last| total.saturating_sub(last));
        self.last_total = Some(total);
        if self.throughput.len() == THROUGHPUT_LEN {
            self.throughput.pop_front();
        }
        self.throughput.push_back(delta);
    }

    pub fn push_event(&mut self, line: WorkerEvent) {
        if self.log.len() == LOG_LEN {
            self.log.pop_front();
        }
        self.log.push_back(line);
        if self.scroll > 0 {
            // Keep the lines the user scrolled to in place.
            self.scroll = (self.scroll + 1).min(self.log.len().saturating_sub(1));
        }
    }

    pub fn scroll_by(&mut self, delta: isize) {
        let max = self.log.len().saturating_sub(1);
        self.scroll = self.scroll.saturating_add_signed(delta).min(max);
    }
}
