//! The runner's long-lived tasks: the statistics refresh and round picking (which also
//! notices when our answers land in the label files), the outbox sender's reports, the
//! compute client, the embedded worker's status and events, and the queue depths (polled
//! only while the Worker tab is visible).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::app::send;
use crate::app::worker::QueueDepths;
use crate::app::{Action, Tab};
use crate::backend::{BackendError, OutgoingMessage};
use crate::domain::messages::{ImageAnswer, LabelSubmission};
use crate::service::compute_client::ComputeClient;
use crate::service::context::AppContext;
use crate::service::outbox::SenderEvent;
use crate::service::rounds::RoundPicker;
use crate::service::statistics::{GoldCache, StatsCache};
use crate::worker::{WorkerEvent, WorkerStatus};

/// Statistics refresh period: an answer from any terminal shows within about this long.
pub const STATS_INTERVAL: Duration = Duration::from_millis(1500);
pub const DEPTH_INTERVAL: Duration = Duration::from_secs(1);

pub enum StatsCommand {
    /// (image, answer id) pairs to report once they are in the label files.
    Watch(Vec<(String, String)>),
    RefreshNow,
    /// Pick and claim a round (see `Effect::PickRound`).
    Pick {
        request: u64,
        exclude: Vec<String>,
        keep: Vec<String>,
        answered: Vec<String>,
    },
    /// Quitting: give up every claim, then say so.
    ReleaseClaims(oneshot::Sender<()>),
}

/// Starts a quality computation when the label files or the gold answers changed, one at
/// a time (a change during a run is picked up after it).
#[derive(Default)]
struct QualityRuns {
    gold: GoldCache,
    gold_version: u64,
    /// (statistics generation, gold version) of the last computation started.
    computed_for: Option<(u64, u64)>,
    computations: u64,
    running: Option<tokio::task::JoinHandle<()>>,
}

impl QualityRuns {
    async fn after_refresh(
        &mut self,
        ctx: &AppContext,
        cache: &crate::service::statistics::StatsCache,
        tx: &mpsc::UnboundedSender<Action>,
    ) {
        // A store error here shows in the statistics refresh too; the last gold stands.
        if let Ok(true) = self.gold.refresh(ctx.backend.store.as_ref()).await {
            self.gold_version += 1;
        }
        let key = (cache.generation(), self.gold_version);
        let idle = self.running.as_ref().is_none_or(|h| h.is_finished());
        if self.computed_for == Some(key) || !idle {
            return;
        }
        self.computed_for = Some(key);
        self.computations += 1;
        let images = cache.summaries_snapshot();
        self.running = Some(crate::app::stats::tasks::compute_quality(
            tx.clone(),
            crate::app::stats::tasks::QualityInput {
                computation: self.computations,
                images,
                gold: self.gold.gold().clone(),
                gold_problem: self.gold.problem().map(str::to_string),
            },
        ));
    }
}

/// Owns the labeller's view of the dataset: the statistics (refreshed every
/// `STATS_INTERVAL`, or at once on request), the rounds it picks and claims, and the
/// answers it watches for in the label files. On a cold start the whole index loads in a
/// task of its own while the first picks read a sample of it, so a large store shows a
/// round long before its statistics.
pub async fn stats_loop(
    ctx: AppContext,
    tx: mpsc::UnboundedSender<Action>,
    mut cmds: mpsc::UnboundedReceiver<StatsCommand>,
) {
    let mut task = StatsTask {
        picker: RoundPicker::sampling_first(fastrand::u64(..)),
        watched: Vec::new(),
        reported: None,
        gold_reported: HashSet::new(),
        failing: false,
        quality: QualityRuns::default(),
        ctx: ctx.clone(),
        tx,
    };
    let mut whole = Some(tokio::spawn(async move {
        let mut cache = StatsCache::new();
        cache.refresh(&ctx).await.map(|_| cache)
    }));
    loop {
        let refreshed = match whole.take() {
            Some(mut loading) => loop {
                tokio::select! {
                    loaded = &mut loading => break match loaded {
                        Ok(Ok(cache)) => {
                            task.picker.adopt(cache);
                            crate::service::memory::return_freed_memory();
                            task.refresh().await
                        }
                        Ok(Err(e)) => Err(e),
                        Err(e) => Err(BackendError::Other(format!("loading the label index stopped: {e}"))),
                    },
                    cmd = cmds.recv() => match cmd {
                        None => return,
                        Some(cmd) => if task.on_command(cmd).await == Flow::Stop {
                            return;
                        },
                    },
                }
            },
            None => task.refresh().await,
        };
        if !task.report(refreshed).await {
            return;
        }
        // Wait for the next period; commands arriving meanwhile are taken as they come.
        let next = tokio::time::Instant::now() + STATS_INTERVAL;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(next) => break,
                cmd = cmds.recv() => match cmd {
                    None => return,
                    Some(cmd) => match task.on_command(cmd).await {
                        Flow::Stop => return,
                        Flow::RefreshNow => break,
                        Flow::Wait => {}
                    },
                },
            }
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Wait,
    RefreshNow,
    Stop,
}

struct StatsTask {
    picker: RoundPicker,
    watched: Vec<(String, String)>,
    /// The statistics generation last reported to the UI.
    reported: Option<u64>,
    gold_reported: HashSet<String>,
    failing: bool,
    quality: QualityRuns,
    ctx: AppContext,
    tx: mpsc::UnboundedSender<Action>,
}

impl StatsTask {
    async fn refresh(&mut self) -> Result<(), BackendError> {
        self.picker
            .stats
            .watch(self.watched.iter().map(|(image, _)| image.clone()));
        self.picker.stats.refresh(&self.ctx).await.map(|_| ())
    }

    /// Tells the UI what a refresh found; `false` when the UI has gone.
    async fn report(&mut self, refreshed: Result<(), BackendError>) -> bool {
        if let Err(e) = refreshed {
            self.failing = true;
            return send(&self.tx, Action::StatsFailed(e));
        }
        self.quality
            .after_refresh(&self.ctx, &self.picker.stats, &self.tx)
            .await;
        let cache = &self.picker.stats;
        // After a failure, report even an unchanged refresh: the UI clears the error.
        let changed = self.reported != Some(cache.generation()) || self.failing;
        self.failing = false;
        if changed {
            let action = Action::StatsRefreshed {
                images: cache.images(),
                image_names: cache.image_names(),
                changed: true,
                at: Instant::now(),
            };
            if !send(&self.tx, action) {
                return false;
            }
            self.reported = Some(cache.generation());
        }
        let (landed, still): (Vec<_>, Vec<_>) = self
            .watched
            .drain(..)
            .partition(|(image, id)| cache.has_answer(image, id));
        self.watched = still;
        landed.is_empty()
            || send(
                &self.tx,
                Action::AnswersWritten(landed.into_iter().map(|(_, id)| id).collect()),
            )
    }

    async fn on_command(&mut self, cmd: StatsCommand) -> Flow {
        match cmd {
            StatsCommand::Watch(pairs) => self.watched.extend(pairs),
            StatsCommand::RefreshNow => return Flow::RefreshNow,
            StatsCommand::Pick {
                request,
                exclude,
                keep,
                answered,
            } => {
                let exclude: HashSet<String> = exclude.into_iter().collect();
                let answered: HashSet<String> = answered.into_iter().collect();
                let picker = &mut self.picker;
                let result = picker
                    .next_round(&self.ctx, &exclude, &answered, &keep)
                    .await;
                if *picker.gold() != self.gold_reported {
                    self.gold_reported = picker.gold().clone();
                    let mut gold: Vec<String> = self.gold_reported.iter().cloned().collect();
                    gold.sort();
                    if !send(&self.tx, Action::GoldImages(gold)) {
                        return Flow::Stop;
                    }
                }
                if !send(&self.tx, Action::RoundPicked { request, result }) {
                    return Flow::Stop;
                }
                // The pick read the whole index: report what it found without waiting.
                if !picker.stats.is_partial() && self.reported != Some(picker.stats.generation()) {
                    return Flow::RefreshNow;
                }
            }
            StatsCommand::ReleaseClaims(done) => {
                if let Err(e) = self.picker.claim(&self.ctx, Vec::new()).await {
                    tracing::warn!(error = %e, "could not release the round's claims; they expire by themselves");
                }
                // The runner may have stopped waiting.
                let _ = done.send(());
            }
        }
        Flow::Wait
    }
}

pub struct ComputeCommand {
    pub local_id: u64,
    pub correlation_id: String,
    pub text: String,
}

/// Owns the compute client: opens its reply queue, sends requests, forwards every reply,
/// and closes (deleting the reply queue) when the command channel closes.
pub async fn compute_loop(
    ctx: AppContext,
    tx: mpsc::UnboundedSender<Action>,
    mut cmds: mpsc::UnboundedReceiver<ComputeCommand>,
) {
    let mut client = match ComputeClient::open(&ctx).await {
        Ok(c) => c,
        Err(e) => {
            send(&tx, Action::ComputeReady(Err(e.clone())));
            while let Some(cmd) = cmds.recv().await {
                send(
                    &tx,
                    Action::ComputeSent {
                        local_id: cmd.local_id,
                        result: Err(e.clone()),
                        at: Instant::now(),
                    },
                );
            }
            return;
        }
    };
    send(&tx, Action::ComputeReady(Ok(())));
    let forwarder = client.take_replies().map(|mut replies| {
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(reply) = replies.recv().await {
                if !send(
                    &tx,
                    Action::ComputeReply {
                        reply,
                        at: Instant::now(),
                    },
                ) {
                    return;
                }
            }
        })
    });
    while let Some(cmd) = cmds.recv().await {
        let result = client.send(&cmd.text, &cmd.correlation_id).await;
        send(
            &tx,
            Action::ComputeSent {
                local_id: cmd.local_id,
                result,
                at: Instant::now(),
            },
        );
    }
    if let Some(f) = forwarder {
        f.abort();
    }
    client.close().await;
}

pub async fn worker_status_loop(
    mut status: watch::Receiver<WorkerStatus>,
    tx: mpsc::UnboundedSender<Action>,
) {
    loop {
        let f = status.borrow_and_update().clone();
        if !send(&tx, Action::WorkerStatus(f)) {
            return;
        }
        if status.changed().await.is_err() {
            return;
        }
    }
}

pub async fn worker_events_loop(
    mut events: broadcast::Receiver<WorkerEvent>,
    tx: mpsc::UnboundedSender<Action>,
) {
    loop {
        let line = match events.recv().await {
            Ok(e) => WorkerEvent {
                at: e.at,
                text: e.text,
                is_error: e.is_error,
            },
            Err(broadcast::error::RecvError::Lagged(n)) => WorkerEvent {
                at: String::new(),
                text: format!("… {n} events skipped"),
                is_error: false,
            },
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if !send(&tx, Action::WorkerEvent(line)) {
            return;
        }
    }
}

async fn depths(ctx: &AppContext) -> Result<QueueDepths, BackendError> {
    let q = &ctx.backend.queues;
    let r = &ctx.resources;
    let (requests, requests_dlq, labels, labels_dlq) = tokio::try_join!(
        q.depth(&r.requests),
        q.depth(&r.requests_dlq),
        q.depth(&r.labels),
        q.depth(&r.labels_dlq)
    )?;
    Ok(QueueDepths {
        requests,
        requests_dlq,
        labels,
        labels_dlq,
    })
}

/// Polls queue depths about once a second while the Worker tab is shown.
pub async fn depth_loop(
    ctx: AppContext,
    tx: mpsc::UnboundedSender<Action>,
    mut visible: watch::Receiver<Tab>,
) {
    loop {
        if *visible.borrow_and_update() == Tab::Worker {
            if !send(&tx, Action::QueueDepths(depths(&ctx).await)) {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(DEPTH_INTERVAL) => {}
                r = visible.changed() => if r.is_err() { return },
            }
        } else if visible.changed().await.is_err() {
            return;
        }
    }
}

/// Forwards the outbox sender's reports to the UI.
pub async fn outbox_events_loop(
    mut events: mpsc::UnboundedReceiver<SenderEvent>,
    tx: mpsc::UnboundedSender<Action>,
) {
    while let Some(event) = events.recv().await {
        let action = match event {
            SenderEvent::Sent { answers, kept } => Action::AnswersSent {
                answers: answers
                    .into_iter()
                    .map(|a| (a.image, a.answer.answer_id))
                    .collect(),
                kept: Some(kept),
            },
            SenderEvent::Failed { error, kept, .. } => Action::SendFailed { error, kept },
            SenderEvent::Flushed(result) => Action::OutboxFlushed(result),
        };
        if !send(&tx, action) {
            return;
        }
    }
}

/// Sends answers the outbox could not take straight to the label queue, retrying with
/// backoff until the queue takes them (or the session ends).
pub async fn send_unkept(
    ctx: AppContext,
    tx: mpsc::UnboundedSender<Action>,
    answers: Vec<ImageAnswer>,
) {
    let mut retry = Duration::from_secs(1);
    loop {
        let body = serde_json::to_string(&LabelSubmission::new(&ctx.user, &answers));
        let result = match body {
            Ok(body) => ctx
                .backend
                .queues
                .send(&ctx.resources.labels, OutgoingMessage::plain(body))
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(format!("cannot encode answers: {e}")),
        };
        if result.is_ok() {
            let sent = answers
                .iter()
                .map(|a| (a.image.clone(), a.answer.answer_id.clone()))
                .collect();
            send(
                &tx,
                Action::AnswersSent {
                    answers: sent,
                    kept: None,
                },
            );
            return;
        }
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(Duration::from_secs(30));
    }
}
