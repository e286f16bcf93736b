//! The worker: consumes the request queue (compute) and the label queue (answers into label
//! files). The same code runs embedded in the TUI or headless (`hotdog-tui worker`); any
//! number of workers may consume the same queues. Live state goes out on a `watch`
//! channel, notable events on a `broadcast` one.

mod compute;
mod label_writer;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;

use crate::backend::{
    BackendError, LONG_POLL, MAX_BATCH, MAX_RECEIVES, OutgoingMessage, ReceivedMessage,
};
use crate::config::ResourceNames;
use crate::service::context::{AppContext, VISIBILITY_TIMEOUT};

pub use crate::service::label_writes::append_with_retry;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Concurrent receive loops per queue.
    pub pollers: usize,
    pub wait: Duration,
    pub visibility: Duration,
    /// Prune reply queues idle this long (checked hourly); `None` disables.
    pub prune_idle: Option<Duration>,
    /// Compare the label index with the label files this often (first after one period)
    /// and correct it: catches label files written around the worker. `None` disables.
    pub verify_index: Option<Duration>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            pollers: 4,
            wait: LONG_POLL,
            visibility: VISIBILITY_TIMEOUT,
            prune_idle: Some(Duration::from_secs(24 * 3600)),
            verify_index: Some(Duration::from_secs(3600)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WorkerState {
    #[default]
    Running,
    Paused,
    /// The backend failed; the worker is backing off and will try again.
    Retrying,
    Stopped,
}

impl WorkerState {
    pub fn label(self) -> &'static str {
        match self {
            WorkerState::Running => "running",
            WorkerState::Paused => "paused",
            WorkerState::Retrying => "retrying",
            WorkerState::Stopped => "stopped",
        }
    }
}

/// Counters since the worker started.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkerStatus {
    pub state: WorkerState,
    /// Compute requests answered (results and error sentences).
    pub requests_answered: u64,
    /// Of those, requests whose input was refused with an error sentence.
    pub requests_refused: u64,
    pub answers_written: u64,
    /// Redelivered answers found already in their file and skipped.
    pub answers_duplicate: u64,
    pub errors: u64,
    /// Conditional writes that lost a race and were retried, plus backend retries.
    pub retries: u64,
    pub dead_lettered: u64,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerEvent {
    pub at: String,
    pub text: String,
    pub is_error: bool,
}

/// Shared by the worker's tasks: where they report.
#[derive(Clone)]
pub(crate) struct Reporter {
    status: Arc<watch::Sender<WorkerStatus>>,
    events: broadcast::Sender<WorkerEvent>,
}

impl Reporter {
    pub(crate) fn update(&self, f: impl FnOnce(&mut WorkerStatus)) {
        self.status.send_modify(f);
    }

    pub(crate) fn event(&self, text: String) {
        tracing::info!("{text}");
        // No subscriber is fine: the headless worker only logs.
        let _ = self.events.send(WorkerEvent {
            at: clock(),
            text,
            is_error: false,
        });
    }

    /// A routine event (one per batch): shown in the TUI's log, logged at debug only, so a
    /// busy headless worker does not flood its output.
    pub(crate) fn batch_event(&self, text: String) {
        tracing::debug!("{text}");
        // No subscriber is fine: the headless worker only logs.
        let _ = self.events.send(WorkerEvent {
            at: clock(),
            text,
            is_error: false,
        });
    }

    pub(crate) fn error(&self, text: String) {
        tracing::warn!("{text}");
        let t = text.clone();
        self.update(|s| {
            s.errors += 1;
            s.last_error = Some(t);
        });
        // No subscriber is fine: the headless worker only logs.
        let _ = self.events.send(WorkerEvent {
            at: clock(),
            text,
            is_error: true,
        });
    }
}

fn clock() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

pub struct WorkerHandle {
    pub status: watch::Receiver<WorkerStatus>,
    events: broadcast::Sender<WorkerEvent>,
    paused: watch::Sender<bool>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl WorkerHandle {
    pub fn events(&self) -> broadcast::Receiver<WorkerEvent> {
        self.events.subscribe()
    }

    pub fn set_paused(&self, paused: bool) {
        self.paused.send_replace(paused);
    }

    pub fn is_paused(&self) -> bool {
        *self.paused.borrow()
    }

    /// Stops taking work, finishes what the loops hold, and waits for them.
    pub async fn shutdown(mut self) {
        self.shutdown.send_replace(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Which queue a loop consumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Job {
    Compute,
    Labels,
}

/// Starts the worker's loops on the current runtime.
pub fn spawn(ctx: AppContext, config: WorkerConfig) -> WorkerHandle {
    let (status_tx, status) = watch::channel(WorkerStatus::default());
    let (events, _) = broadcast::channel(256);
    let (paused, _) = watch::channel(false);
    let (shutdown, _) = watch::channel(false);
    let reporter = Reporter {
        status: Arc::new(status_tx),
        events: events.clone(),
    };
    let mut tasks = JoinSet::new();
    let label_state = Arc::new(label_writer::LabelWriting::new(ctx.backend.store.clone()));
    for job in [Job::Compute, Job::Labels] {
        for _ in 0..config.pollers.max(1) {
            tasks.spawn(run_loop(
                ctx.clone(),
                config.clone(),
                job,
                reporter.clone(),
                paused.subscribe(),
                shutdown.subscribe(),
                label_state.clone(),
            ));
        }
    }
    if let Some(idle) = config.prune_idle {
        let (ctx, reporter, mut stop) = (ctx.clone(), reporter.clone(), shutdown.subscribe());
        tasks.spawn(async move {
            loop {
                match crate::service::context::prune_reply_queues(&ctx, idle).await {
                    Ok(pruned) if !pruned.is_empty() => {
                        reporter.event(format!("pruned {} idle reply queues", pruned.len()));
                    }
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e, "pruning reply queues failed"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
                    _ = stop.changed() => return,
                }
            }
        });
    }
    if let Some(every) = config.verify_index {
        let (ctx, reporter, mut stop) = (ctx.clone(), reporter.clone(), shutdown.subscribe());
        tasks.spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(jitter(every)) => {}
                    _ = stop.changed() => return,
                }
                let store = &ctx.backend.store;
                let mode = crate::service::label_index::RebuildMode::Verify;
                match crate::service::label_index::rebuild(store, &Default::default(), mode).await {
                    Ok((r, _)) if r.repaired > 0 => reporter.event(format!(
                        "label index: corrected {} entries that differed from the label files",
                        r.repaired
                    )),
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e, "verifying the label index failed"),
                }
            }
        });
    }
    // Said from a task so a subscriber that joins right after `spawn` still hears it.
    let hello = reporter.clone();
    tasks.spawn(async move {
        tokio::task::yield_now().await;
        hello.event("worker started".into());
    });
    WorkerHandle {
        status,
        events,
        paused,
        shutdown,
        tasks,
    }
}

async fn run_loop(
    ctx: AppContext,
    config: WorkerConfig,
    job: Job,
    reporter: Reporter,
    mut paused: watch::Receiver<bool>,
    mut shutdown: watch::Receiver<bool>,
    known: Arc<label_writer::LabelWriting>,
) {
    let url = match job {
        Job::Compute => ctx.resources.requests.clone(),
        Job::Labels => ctx.resources.labels.clone(),
    };
    let mut backoff = Duration::from_millis(250);
    loop {
        if *shutdown.borrow() {
            break;
        }
        if *paused.borrow() {
            reporter.update(|s| {
                if s.state == WorkerState::Running {
                    s.state = WorkerState::Paused;
                }
            });
            tokio::select! {
                _ = paused.changed() => {}
                _ = shutdown.changed() => {}
            }
            if !*paused.borrow() {
                reporter.update(|s| s.state = WorkerState::Running);
            }
            continue;
        }
        let received: Result<Vec<ReceivedMessage>, BackendError> = tokio::select! {
            r = ctx.backend.queues.receive(&url, MAX_BATCH, config.wait, config.visibility) => r,
            _ = shutdown.changed() => break,
            _ = paused.changed() => continue,
        };
        match received {
            Ok(batch) => {
                backoff = Duration::from_millis(250);
                reporter.update(|s| {
                    if s.state != WorkerState::Running && !*paused.borrow() {
                        s.state = WorkerState::Running;
                    }
                });
                if batch.is_empty() {
                    continue;
                }
                let unfinished = process(&ctx, &reporter, &known, job, batch).await;
                let mut held = dead_letter_permanent(&ctx, &reporter, job, unfinished).await;
                // Backend trouble: hold the unfinished messages (hidden from other workers)
                // and retry them here with backoff, so an outage never burns their receive
                // count into the dead-letter queue. On shutdown they are left to expire.
                // A permanent failure (access denied, a file too contended) is not retried:
                // `dead_letter_permanent` moves it out of the way.
                let mut retry = Duration::from_millis(250);
                while !held.is_empty() && !*shutdown.borrow() {
                    reporter.update(|s| {
                        s.state = WorkerState::Retrying;
                        s.retries += 1;
                    });
                    reporter.event(format!(
                        "holding {} messages; retrying in {:.1} s",
                        held.len(),
                        retry.as_secs_f64()
                    ));
                    tokio::select! {
                        _ = tokio::time::sleep(jitter(retry)) => {}
                        _ = shutdown.changed() => break,
                    }
                    for m in &held {
                        // Best effort: if this fails too, another worker may take it over,
                        // which is harmless (log writes are create-only, answers carry ids).
                        let _ = ctx
                            .backend
                            .queues
                            .extend_visibility(&url, &m.receipt, config.visibility)
                            .await;
                    }
                    let unfinished = process(&ctx, &reporter, &known, job, held).await;
                    held = dead_letter_permanent(&ctx, &reporter, job, unfinished).await;
                    retry = (retry * 2).min(Duration::from_secs(10));
                }
                if held.is_empty() && !*paused.borrow() {
                    reporter.update(|s| s.state = WorkerState::Running);
                }
            }
            Err(e) => {
                reporter.update(|s| {
                    s.state = WorkerState::Retrying;
                    s.retries += 1;
                });
                reporter.error(format!(
                    "receiving from the queue failed: {e}; retrying in {:.1} s",
                    backoff.as_secs_f64()
                ));
                tokio::select! {
                    _ = tokio::time::sleep(jitter(backoff)) => {}
                    _ = shutdown.changed() => break,
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
    // Let the index records and deletes of the last batches finish.
    known.drain().await;
    reporter.update(|s| s.state = WorkerState::Stopped);
}

/// Processes one already-received batch outside any loop, as a worker would: used by
/// tests that hand the same message over twice to prove redelivery is harmless.
pub async fn process_received(
    ctx: &AppContext,
    labels_queue: bool,
    batch: Vec<ReceivedMessage>,
) -> WorkerStatus {
    let (status_tx, status) = watch::channel(WorkerStatus::default());
    let (events, _) = broadcast::channel(16);
    let reporter = Reporter {
        status: Arc::new(status_tx),
        events,
    };
    let job = if labels_queue {
        Job::Labels
    } else {
        Job::Compute
    };
    let state = Arc::new(label_writer::LabelWriting::new(ctx.backend.store.clone()));
    process(ctx, &reporter, &state, job, batch).await;
    state.drain().await;
    status.borrow().clone()
}

/// A received message a batch could not finish, and why.
pub(crate) struct Unfinished {
    pub message: ReceivedMessage,
    pub error: BackendError,
}

/// Moves the messages that failed for a reason retrying cannot fix to the job's
/// dead-letter queue (or, when even that fails, releases them so the queue's own redrive
/// moves them after `MAX_RECEIVES`), with one event that says why. Returns the ones worth
/// retrying.
async fn dead_letter_permanent(
    ctx: &AppContext,
    reporter: &Reporter,
    job: Job,
    unfinished: Vec<Unfinished>,
) -> Vec<ReceivedMessage> {
    let (queue, dlq, dlq_name) = match job {
        Job::Compute => (
            &ctx.resources.requests,
            &ctx.resources.requests_dlq,
            ResourceNames::dlq(&ctx.names.request_queue),
        ),
        Job::Labels => (
            &ctx.resources.labels,
            &ctx.resources.labels_dlq,
            ResourceNames::dlq(&ctx.names.label_queue),
        ),
    };
    let mut transient = Vec::new();
    for Unfinished { message, error } in unfinished {
        if error.is_transient() {
            transient.push(message);
            continue;
        }
        let copy = OutgoingMessage {
            body: message.body.clone(),
            attributes: message.attributes.clone(),
        };
        let moved = match ctx.backend.queues.send(dlq, copy).await {
            Ok(_) => ctx
                .backend
                .queues
                .delete_batch(queue, std::slice::from_ref(&message.receipt))
                .await
                .map(|()| true),
            Err(e) => {
                tracing::warn!(error = %e, "could not move a message to {dlq_name}");
                // Visible again at once: after MAX_RECEIVES the queue moves it itself.
                let _ = ctx
                    .backend
                    .queues
                    .extend_visibility(queue, &message.receipt, Duration::ZERO)
                    .await;
                Ok(false)
            }
        };
        match moved {
            Ok(true) => {
                reporter.update(|s| s.dead_lettered += 1);
                reporter.error(format!(
                    "not retrying a message that failed for good ({error}); moved it to {dlq_name}: fix the cause, then move it back"
                ));
            }
            Ok(false) | Err(_) => reporter.error(format!(
                "not retrying a message that failed for good ({error}); released it, the queue moves it to {dlq_name} after {MAX_RECEIVES} receives"
            )),
        }
    }
    transient
}

async fn process(
    ctx: &AppContext,
    reporter: &Reporter,
    known: &Arc<label_writer::LabelWriting>,
    job: Job,
    batch: Vec<ReceivedMessage>,
) -> Vec<Unfinished> {
    match job {
        Job::Compute => compute::process_batch(ctx, reporter, batch).await,
        Job::Labels => label_writer::process_batch(ctx, reporter, known, batch).await,
    }
}

/// ±50 % jitter so many workers do not retry in lockstep.
pub(crate) fn jitter(d: Duration) -> Duration {
    d.mul_f64(0.5 + fastrand::f64())
}
