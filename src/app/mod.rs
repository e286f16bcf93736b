//! The TUI's state and the only way it changes: `update(&mut State, Action) -> Vec<Effect>`.
//! `update` is synchronous and does no I/O; effects are run by `effects::EffectRunner` as
//! tasks that send their results back as actions tagged with the request they answer.

pub mod draw;
pub mod effects;
pub mod keymap;
mod keys;
pub mod layout;
pub mod shell;
pub mod theme;
mod update;

// One folder per tab or overlay: its state (`mod.rs`), keys, view and background tasks.
pub mod compute;
pub mod label;
pub mod stats;
pub mod status;
pub mod upload;
pub mod worker;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::KeyEvent;
use image::DynamicImage;
use ratatui::layout::{Rect, Size};

use crate::backend::BackendError;
use crate::domain::export::ExportFormat;
use crate::domain::label_file::Vote;
use crate::domain::messages::ComputeReply;
use crate::domain::sampling::ROUND_SIZE;
use crate::domain::stats::ImageStats;
use crate::service::upload::UploadOutcome;

pub use keys::update_key;
use update::apply;

/// How long quitting waits for answers to reach the queue (and the embedded worker to write
/// them) before giving up and saying what is left.
pub const QUIT_GRACE: Duration = Duration::from_secs(10);

/// Early key presses kept at most (see `State::early_keys`).
pub const EARLY_KEYS: usize = 64;

/// The tabs, in the order they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    Compute,
    Label,
    Stats,
    Worker,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Compute, Tab::Label, Tab::Stats, Tab::Worker];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Compute => "Compute",
            Tab::Label => "Label",
            Tab::Stats => "Stats",
            Tab::Worker => "Worker",
        }
    }
    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
    pub fn next(self) -> Tab {
        Tab::ALL[(self.index() + 1) % Tab::ALL.len()]
    }
    pub fn prev(self) -> Tab {
        Tab::ALL[(self.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    None,
    Help { scroll: usize },
    ErrorLog { scroll: usize },
    Upload(upload::UploadPrompt),
}

/// Everything the screen shows; owned by the UI task alone.
#[derive(Debug)]
pub struct State {
    pub tab: Tab,
    pub screen: Size,
    pub overlay: Overlay,
    pub status: status::StatusLine,
    pub label: label::LabelState,
    pub compute: compute::ComputeState,
    pub stats: stats::StatsState,
    pub worker: worker::WorkerPanel,
    /// Set once quitting starts: the moment it gives up waiting.
    pub quit_deadline: Option<Instant>,
    /// Set when the session should end; the lines are printed after the terminal is restored.
    pub exit: Option<Vec<String>>,
    /// Something visible changed since the last draw.
    pub dirty: bool,
    pub next_upload: u64,
    /// Label keys pressed before the first store listing, replayed when it arrives.
    pub early_keys: Vec<KeyEvent>,
    /// How pictures are drawn in this terminal (for the `?` overlay), set by `tui`.
    pub pictures: String,
    pub now: Instant,
}

/// Inputs to `update`: key presses, time, and the results of effects.
#[derive(Debug)]
pub enum Action {
    Key(KeyEvent),
    Resize {
        width: u16,
        height: u16,
    },
    /// About once a second: expiries, throughput samples, quit deadline.
    Tick(Instant),
    /// SIGTERM / SIGHUP: quit as `q` does (flushing answers), without waiting for a key.
    Quit,
    StatsRefreshed {
        images: Vec<ImageStats>,
        image_names: Vec<String>,
        labelled_by_me: HashSet<String>,
        changed: bool,
        at: Instant,
    },
    StatsFailed(BackendError),
    /// Answer ids now seen in the label files.
    AnswersWritten(Vec<String>),
    ImageDecoded {
        name: String,
        result: Result<Arc<DynamicImage>, label::picture_cache::PictureError>,
    },
    ImageEncoded {
        name: String,
        size: Size,
        result: Result<label::picture_cache::Encoded, label::picture_cache::PictureError>,
    },
    AnswersSubmitted {
        batch: u64,
        result: Result<Vec<String>, BackendError>,
    },
    ComputeReady(Result<(), BackendError>),
    ComputeSent {
        local_id: u64,
        result: Result<(), BackendError>,
        at: Instant,
    },
    ComputeReply {
        reply: ComputeReply,
        at: Instant,
    },
    WorkerStatus(crate::worker::WorkerStatus),
    WorkerEvent(crate::worker::WorkerEvent),
    QueueDepths(Result<worker::QueueDepths, BackendError>),
    Exported(Result<stats::tasks::ExportDone, stats::tasks::ExportFailed>),
    PathCompleted {
        request: u64,
        input: String,
        entries: Result<Vec<upload::PathEntry>, String>,
    },
    UploadProgress {
        upload: u64,
        done: usize,
        total: usize,
        current: String,
    },
    UploadFinished {
        upload: u64,
        outcomes: Vec<UploadOutcome>,
    },
}

/// Work for the effect runner. Each result comes back as an `Action`.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    FetchImage {
        name: String,
    },
    EncodeImage {
        name: String,
        image: Arc<DynamicImage>,
        size: Size,
    },
    SubmitAnswers {
        batch: u64,
        answers: Vec<(String, Vote)>,
    },
    /// (image, answer id) pairs to look for in the label files.
    WatchAnswers(Vec<(String, String)>),
    RefreshStats,
    SendCompute {
        local_id: u64,
        correlation_id: String,
        text: String,
    },
    SetWorkerPaused(bool),
    Export {
        format: ExportFormat,
        images: Vec<ImageStats>,
    },
    CompletePath {
        request: u64,
        input: String,
    },
    Upload {
        upload: u64,
        path: String,
    },
    /// Which tab is visible, so pollers for hidden panels can rest.
    ShowTab(Tab),
}

impl State {
    pub fn new(
        backend: &str,
        user: &str,
        worker_enabled: bool,
        screen: Size,
        now: Instant,
        seed: u64,
    ) -> State {
        let mut state = State {
            tab: Tab::Label,
            screen,
            overlay: Overlay::None,
            status: status::StatusLine::new(backend, user, now),
            label: label::LabelState::new(seed),
            compute: compute::ComputeState::default(),
            stats: stats::StatsState::default(),
            worker: worker::WorkerPanel::new(worker_enabled),
            quit_deadline: None,
            exit: None,
            dirty: true,
            next_upload: 1,
            early_keys: Vec::new(),
            pictures: "half-blocks".into(),
            now,
        };
        state.apply_layout();
        state
    }

    /// What to run when the session starts.
    pub fn initial_effects(&self) -> Vec<Effect> {
        vec![Effect::RefreshStats, Effect::ShowTab(self.tab)]
    }

    fn apply_layout(&mut self) {
        let grid = layout::label_grid(
            Rect::new(0, 0, self.screen.width, self.screen.height),
            ROUND_SIZE,
        );
        self.label.grid_cols = grid.cols;
        self.label.tile_size = grid
            .tiles
            .first()
            .map(|t| Size::new(t.image.width, t.image.height));
        let zoom = layout::zoom_area(Rect::new(0, 0, self.screen.width, self.screen.height));
        self.label.zoom_size = Some(Size::new(zoom.image.width, zoom.image.height));
    }

    /// Ticks are needed only for what changes with time alone.
    pub fn wants_tick(&self) -> bool {
        self.status.notice.is_some()
            || !self.label.outbox.is_empty()
            || self.compute.in_flight() > 0
            || self.worker.enabled
            || self.quit_deadline.is_some()
    }

    /// Called by the loop before each action: `update` reads the time only from here.
    pub fn set_clock(&mut self, now: Instant) {
        self.now = now;
        self.status.now = now;
    }

    /// Every tile of the current round has its image (or its "cannot display") ready.
    pub fn round_fully_drawable(&self) -> bool {
        let (Some(round), Some(size)) = (&self.label.round, self.label.tile_size) else {
            return false;
        };
        round.tiles.iter().all(|t| {
            !matches!(
                self.label.images.view(&t.image, size),
                label::picture_cache::TileImage::Loading
            )
        })
    }

    pub fn answers_waiting(&self) -> usize {
        self.label.waiting()
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.status.error(text);
    }

    fn show_tab(&mut self, tab: Tab) -> Vec<Effect> {
        if self.tab == tab {
            return Vec::new();
        }
        self.tab = tab;
        if tab == Tab::Compute {
            // The input is focused whenever the tab is shown.
            self.compute.input_focused = true;
        }
        vec![Effect::ShowTab(tab)]
    }

    /// Starts quitting: flush unsent answers, then wait (bounded) for them to land.
    fn begin_quit(&mut self) -> Vec<Effect> {
        if self.quit_deadline.is_some() {
            return Vec::new();
        }
        self.quit_deadline = Some(self.now + QUIT_GRACE);
        let effects = self.label.flush();
        if self.label.waiting() > 0 {
            self.status.info(format!(
                "Quitting: sending {} answer(s) first…",
                self.label.waiting()
            ));
        }
        self.check_exit();
        effects
    }

    /// Ends the session when nothing is left to wait for, or when the deadline passed.
    fn check_exit(&mut self) {
        let Some(deadline) = self.quit_deadline else {
            return;
        };
        let unsent = self.label.unsent();
        // Without an embedded worker, answers in the queue are safe: the next worker writes them.
        let unwritten = if self.worker.enabled {
            self.label.unwritten.len()
        } else {
            0
        };
        if (unsent == 0 && unwritten == 0) || self.now >= deadline {
            self.exit = Some(self.exit_report());
        }
    }

    fn exit_report(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let unsent = self.label.unsent();
        if unsent > 0 {
            lines.push(format!(
                "{unsent} answer(s) could not be sent to the label queue and were lost; check the backend and label them again."
            ));
        }
        if !self.label.unwritten.is_empty() {
            lines.push(format!(
                "{} answer(s) are waiting in the label queue; a worker writes them (`hotdog-tui worker`, or the next session).",
                self.label.unwritten.len()
            ));
        }
        lines
    }

    fn force_quit(&mut self) -> Vec<Effect> {
        if self.quit_deadline.is_some() {
            // Second Ctrl-C: stop waiting.
            self.exit = Some(self.exit_report());
            return Vec::new();
        }
        self.begin_quit()
    }
}

/// Sends an action to the UI task from a background task; `false` once the UI is gone (a
/// late task's result then has nobody to go to, which is fine: loops stop on `false`).
pub(crate) fn send(tx: &tokio::sync::mpsc::UnboundedSender<Action>, action: Action) -> bool {
    tx.send(action).is_ok()
}

/// Applies one action. Never blocks; returns the effects to run. Sets `state.dirty` when
/// something visible changed (the caller clears it after drawing).
pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    let was_dirty = state.dirty;
    state.dirty = true;
    let effects = apply(state, action);
    state.dirty |= was_dirty;
    effects
}
