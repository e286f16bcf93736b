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
pub mod detail;
pub mod label;
pub mod review;
pub mod stats;
pub mod status;
pub mod upload;
pub mod worker;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::KeyEvent;
use image::DynamicImage;
use ratatui::layout::{Rect, Size};

use crate::backend::BackendError;
use crate::domain::export::ExportFormat;
use crate::domain::label_file::AnswerKind;
use crate::domain::messages::{ComputeReply, ImageAnswer};
use crate::domain::sampling::{ROUND_SIZE, RoundChoice};
use crate::domain::stats::ImageStats;
use crate::service::upload::UploadOutcome;

pub use keys::update_key;
use update::apply;

/// How long quitting waits for answers to reach the queue (and the embedded worker to write
/// them) before giving up and saying what is left (kept in the outbox, or in the queue).
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
    Help {
        scroll: usize,
    },
    ErrorLog {
        scroll: usize,
    },
    Upload(upload::UploadPrompt),
    /// One image large with every answer in its label file (Enter on a Stats row). Boxed:
    /// it holds the image's whole summary, far larger than the other overlays.
    Detail(Box<detail::DetailView>),
    /// The contested images, for a reviewer to decide (`r` on the Stats tab); its state is
    /// `State::review`, kept while closed so decisions on their way are remembered.
    Review,
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
    pub review: review::ReviewState,
    pub worker: worker::WorkerPanel,
    /// Set once quitting starts: the moment it gives up waiting.
    pub quit_deadline: Option<Instant>,
    /// Set when the session should end; the lines are printed after the terminal is restored.
    pub exit: Option<Vec<String>>,
    /// The session ends with a failure status: answers could be neither kept nor sent.
    pub exit_failed: bool,
    /// Quitting asked the outbox to send what it keeps and waits for the answer.
    pub flushing: bool,
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
        changed: bool,
        at: Instant,
    },
    /// A round pick's result (the labels and claims as they were just read).
    RoundPicked {
        request: u64,
        result: Result<RoundChoice, BackendError>,
    },
    /// The gold images as the round picker last read them: a prefetched one is shown even
    /// when it has the votes it needs (she has not answered it).
    GoldImages(Vec<String>),
    /// The outbox is open at this path, or cannot be written (why).
    OutboxReady(Result<String, String>),
    /// An answer given: written to the outbox (`Ok`), or not (`Err`: it is sent straight).
    AnswerRecorded {
        answer: ImageAnswer,
        result: Result<(), String>,
    },
    /// The queue accepted these (image, answer id) answers; `kept` are left in the outbox
    /// (`None` for answers sent straight).
    AnswersSent {
        answers: Vec<(String, String)>,
        kept: Option<usize>,
    },
    /// Sending failed; `kept` answers wait in the outbox and are retried by themselves.
    SendFailed {
        error: String,
        kept: usize,
    },
    /// Quitting: the outbox sent what it could; this many are still kept (or why it
    /// cannot be read).
    OutboxFlushed(Result<usize, String>),
    DetailLoaded {
        request: u64,
        result: Result<detail::Loaded, BackendError>,
    },
    DetailEncoded {
        request: u64,
        size: Size,
        result: Result<label::picture_cache::Encoded, label::picture_cache::PictureError>,
    },
    ReviewLoaded {
        request: u64,
        result: Result<detail::Loaded, BackendError>,
    },
    ReviewEncoded {
        request: u64,
        size: Size,
        result: Result<label::picture_cache::Encoded, label::picture_cache::PictureError>,
    },
    StatsFailed(BackendError),
    /// The quality figures computed off the UI task for one state of the label files
    /// (`computation` goes up with each; an older one arriving late is dropped).
    QualityComputed {
        computation: u64,
        report: Box<crate::domain::quality::QualityReport>,
        /// Why the gold answers were left out, if they could not be read.
        gold_problem: Option<String>,
    },
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
    /// Her answer: written to the outbox before the next frame, then sent.
    GiveAnswer {
        image: String,
        kind: AnswerKind,
    },
    /// Pick (and claim) a round: none of `exclude` (on screen) or `answered` (hers this
    /// session), keeping the claims on `keep` (unanswered tiles on screen).
    PickRound {
        request: u64,
        exclude: Vec<String>,
        keep: Vec<String>,
        answered: Vec<String>,
    },
    /// Answers the outbox could not take: send them straight to the queue.
    SendUnkept(Vec<ImageAnswer>),
    /// Quitting: send what the outbox keeps now and say what is left.
    FlushOutbox,
    /// Load an image and its label file for the detail view.
    LoadDetail {
        request: u64,
        image: String,
    },
    EncodeDetail {
        request: u64,
        image: Arc<DynamicImage>,
        size: Size,
    },
    /// Load a contested image and its label file for the review view.
    LoadReview {
        request: u64,
        image: String,
    },
    EncodeReview {
        request: u64,
        image: Arc<DynamicImage>,
        size: Size,
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
    ) -> State {
        let mut state = State {
            tab: Tab::Label,
            screen,
            overlay: Overlay::None,
            status: status::StatusLine::new(backend, user, now),
            label: label::LabelState::new(),
            compute: compute::ComputeState::default(),
            stats: stats::StatsState::default(),
            review: review::ReviewState::new(user),
            worker: worker::WorkerPanel::new(worker_enabled),
            quit_deadline: None,
            exit: None,
            exit_failed: false,
            flushing: false,
            dirty: true,
            next_upload: 1,
            early_keys: Vec::new(),
            pictures: "half-blocks".into(),
            now,
        };
        state.apply_layout();
        state
    }

    /// What to run when the session starts: the statistics, the tab, and the first round
    /// (asked for at once: it does not wait for the whole image list).
    pub fn initial_effects(&mut self) -> Vec<Effect> {
        let mut effects = vec![Effect::RefreshStats, Effect::ShowTab(self.tab)];
        effects.extend(self.label.first_pick());
        effects
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
            || self.label.kept > 0
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
        let (Some(round), Some(size)) = (self.label.shown(), self.label.tile_size) else {
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

    /// Starts quitting: the outbox sends what it keeps, then (bounded) the embedded worker
    /// writes what the queue accepted.
    fn begin_quit(&mut self) -> Vec<Effect> {
        if self.quit_deadline.is_some() {
            return Vec::new();
        }
        self.quit_deadline = Some(self.now + QUIT_GRACE);
        let mut effects = Vec::new();
        // Always, even with nothing kept as far as we know: the count may lag the last
        // answer by a moment, and the flush's answer is the outbox's own.
        if matches!(self.label.outbox, label::OutboxState::Ready { .. }) {
            self.flushing = true;
            effects.push(Effect::FlushOutbox);
        }
        if !self.label.unkept.is_empty() {
            effects.push(Effect::SendUnkept(self.label.unkept.clone()));
        }
        if self.label.waiting() > 0 {
            self.status.info(format!(
                "Quitting: sending {} answer(s) first…",
                self.label.waiting()
            ));
        }
        self.check_exit();
        effects
    }

    /// Ends the session when nothing is left to wait for, when the outbox has said it
    /// keeps answers it cannot send (the queue is unreachable), or when the deadline passed.
    fn check_exit(&mut self) {
        let Some(deadline) = self.quit_deadline else {
            return;
        };
        // Without an embedded worker, answers in the queue are safe: the next worker writes them.
        let unwritten = if self.worker.enabled {
            self.label.unwritten.len()
        } else {
            0
        };
        let sending = self.flushing || !self.label.unkept.is_empty();
        let settled = !sending && (self.label.kept > 0 || unwritten == 0);
        if settled || self.now >= deadline {
            self.exit = Some(self.exit_report());
        }
    }

    fn exit_report(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        let kept = self.label.kept;
        if kept > 0 {
            let why = self
                .label
                .send_error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            let path = match &self.label.outbox {
                label::OutboxState::Ready { path } => format!(" in {path}"),
                _ => String::new(),
            };
            lines.push(format!(
                "{kept} answer(s) are kept{path}: the label queue could not be reached{why}. They are sent by the next `hotdog-tui` session or command on this backend, or `hotdog-tui outbox flush`."
            ));
        }
        let unkept = self.label.unkept.len();
        if unkept > 0 {
            self.exit_failed = true;
            let why = match &self.label.outbox {
                label::OutboxState::Unavailable { error } => error.clone(),
                _ => "the outbox could not be written".to_string(),
            };
            lines.push(format!(
                "{unkept} answer(s) could not be kept ({why}) nor sent to the label queue, and are lost; fix the state dir or the backend and label them again."
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
