//! Runs `Effect`s: each becomes a tokio task (or a blocking task for decode / encode / file
//! work) that sends its result back as an `Action` carrying the id it answers. Also owns
//! the long-lived tasks: statistics and round picking, the outbox and its sender, compute
//! client, worker status, queue depths. The work itself lives with its feature
//! (`label::tasks`, `upload::tasks`, `stats::tasks`, `detail::tasks`).
//!
//! One effect runs in place rather than as a task: a given answer is appended to the outbox
//! before `run` returns, so it is in the file before the frame that shows it is drawn (a
//! `kill -9` right after cannot lose it). That append is microseconds; its `fsync` runs on
//! a blocking task.

pub mod tasks;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

use super::{Action, Effect, Tab, send};
use crate::backend::BackendError;
use crate::graphics::Renderer;
use crate::service::context::AppContext;
use crate::service::outbox::{Outbox, OutboxSender};
use crate::worker::WorkerHandle;
use tasks::{ComputeCommand, StatsCommand};

/// How long quitting waits for the round's claims to be released.
const RELEASE_LIMIT: Duration = Duration::from_secs(2);

/// Decodes running at once: bounds peak memory with big photos (and there are 2 cores).
const DECODES_AT_ONCE: usize = 1;

pub struct EffectRunner {
    ctx: AppContext,
    tx: mpsc::UnboundedSender<Action>,
    renderer: Renderer,
    stats: mpsc::UnboundedSender<StatsCommand>,
    compute: mpsc::UnboundedSender<ComputeCommand>,
    compute_task: JoinHandle<()>,
    visible: watch::Sender<Tab>,
    worker: Option<WorkerHandle>,
    /// Where given answers wait for the queue; `None` when it cannot be written.
    outbox: Option<Outbox>,
    sender: Option<Arc<OutboxSender>>,
    /// Pollers and forwarders, aborted on shutdown.
    background: JoinSet<()>,
    /// One-off effect tasks; dropped (aborted) with the runner.
    jobs: JoinSet<()>,
    decode_slots: Arc<Semaphore>,
}

impl EffectRunner {
    /// Starts the long-lived tasks. `worker` is the embedded worker, if any.
    pub fn start(
        ctx: AppContext,
        tx: mpsc::UnboundedSender<Action>,
        renderer: Renderer,
        worker: Option<WorkerHandle>,
    ) -> Self {
        let mut background = JoinSet::new();
        let (stats, stats_rx) = mpsc::unbounded_channel();
        background.spawn(tasks::stats_loop(ctx.clone(), tx.clone(), stats_rx));
        let (visible, visible_rx) = watch::channel(Tab::Label);
        background.spawn(tasks::depth_loop(ctx.clone(), tx.clone(), visible_rx));
        if let Some(w) = &worker {
            background.spawn(tasks::worker_status_loop(w.status.clone(), tx.clone()));
            background.spawn(tasks::worker_events_loop(w.events(), tx.clone()));
        }
        let (compute, compute_rx) = mpsc::unbounded_channel();
        let compute_task = tokio::spawn(tasks::compute_loop(ctx.clone(), tx.clone(), compute_rx));
        let (outbox, sender) = match Outbox::for_context(&ctx) {
            Ok(outbox) => {
                send(
                    &tx,
                    Action::OutboxReady(Ok(outbox.path().display().to_string())),
                );
                let (events, events_rx) = mpsc::unbounded_channel();
                // It first sends what an earlier session left.
                let sender = OutboxSender::spawn(ctx.clone(), outbox.clone(), events);
                background.spawn(tasks::outbox_events_loop(events_rx, tx.clone()));
                (Some(outbox), Some(Arc::new(sender)))
            }
            Err(e) => {
                send(&tx, Action::OutboxReady(Err(e.to_string())));
                (None, None)
            }
        };
        EffectRunner {
            ctx,
            tx,
            renderer,
            stats,
            compute,
            compute_task,
            visible,
            worker,
            outbox,
            sender,
            background,
            jobs: JoinSet::new(),
            decode_slots: Arc::new(Semaphore::new(DECODES_AT_ONCE)),
        }
    }

    pub fn run(&mut self, effect: Effect) {
        // Finished jobs are reaped here so the set does not grow over a long session.
        while self.jobs.try_join_next().is_some() {}
        let tx = self.tx.clone();
        let ctx = self.ctx.clone();
        match effect {
            Effect::FetchImage { name } => {
                let slots = self.decode_slots.clone();
                self.jobs.spawn(crate::app::label::tasks::fetch_and_decode(
                    ctx, tx, slots, name,
                ));
            }
            Effect::EncodeImage { name, image, size } => {
                self.jobs.spawn(crate::app::label::tasks::encode_for_tile(
                    tx,
                    self.renderer,
                    name,
                    image,
                    size,
                ));
            }
            Effect::GiveAnswer { image, kind } => self.give(&image, kind),
            Effect::PickRound {
                request,
                exclude,
                keep,
                answered,
            } => {
                let pick = StatsCommand::Pick {
                    request,
                    exclude,
                    keep,
                    answered,
                };
                if self.stats.send(pick).is_err() {
                    let result = Err(BackendError::Other(
                        "the statistics task has stopped; restart the session".into(),
                    ));
                    send(&tx, Action::RoundPicked { request, result });
                }
            }
            Effect::SendUnkept(answers) => {
                self.jobs.spawn(tasks::send_unkept(ctx, tx, answers));
            }
            // The outcome comes back through the sender's events, after what it sent.
            Effect::FlushOutbox => match self.sender.as_ref().map(|s| s.flush()) {
                Some(Ok(())) => {}
                Some(Err(e)) => {
                    send(&tx, Action::OutboxFlushed(Err(e)));
                }
                None => {
                    send(&tx, Action::OutboxFlushed(Ok(0)));
                }
            },
            Effect::LoadDetail { request, image } => {
                self.jobs
                    .spawn(crate::app::detail::tasks::load(ctx, tx, request, image));
            }
            Effect::EncodeDetail {
                request,
                image,
                size,
            } => {
                self.jobs.spawn(crate::app::detail::tasks::encode_large(
                    tx,
                    self.renderer,
                    request,
                    image,
                    size,
                ));
            }
            Effect::LoadReview { request, image } => {
                self.jobs
                    .spawn(crate::app::review::tasks::load(ctx, tx, request, image));
            }
            Effect::EncodeReview {
                request,
                image,
                size,
            } => {
                self.jobs.spawn(crate::app::review::tasks::encode(
                    tx,
                    self.renderer,
                    request,
                    image,
                    size,
                ));
            }
            // The stats task ends only at shutdown; a command sent after that has no one to serve.
            Effect::WatchAnswers(pairs) => {
                let _ = self.stats.send(StatsCommand::Watch(pairs));
            }
            Effect::RefreshStats => {
                let _ = self.stats.send(StatsCommand::RefreshNow);
            }
            Effect::SendCompute {
                local_id,
                correlation_id,
                text,
            } => {
                if self
                    .compute
                    .send(ComputeCommand {
                        local_id,
                        correlation_id,
                        text,
                    })
                    .is_err()
                {
                    let result = Err(BackendError::Other(
                        "the compute client has stopped; restart the session".to_string(),
                    ));
                    send(
                        &tx,
                        Action::ComputeSent {
                            local_id,
                            result,
                            at: Instant::now(),
                        },
                    );
                }
            }
            Effect::SetWorkerPaused(paused) => {
                if let Some(w) = &self.worker {
                    w.set_paused(paused);
                }
            }
            Effect::Export { format, images } => {
                self.jobs
                    .spawn(crate::app::stats::tasks::export(ctx, tx, format, images));
            }
            Effect::CompletePath { request, input } => {
                self.jobs
                    .spawn(crate::app::upload::tasks::complete_path(tx, request, input));
            }
            Effect::Upload { upload, path } => {
                self.jobs
                    .spawn(crate::app::upload::tasks::upload(ctx, tx, upload, path));
            }
            Effect::ShowTab(tab) => {
                self.visible.send_replace(tab);
            }
        }
    }

    /// Records a given answer in the outbox now (see the module comment), then lets the
    /// sender know; the result goes back to the state as `AnswerRecorded`.
    fn give(&mut self, image: &str, kind: crate::domain::label_file::AnswerKind) {
        let answer = crate::service::labeller::new_answer(&self.ctx.user, image, kind);
        let result = match &self.outbox {
            Some(outbox) => outbox
                .record_unsynced(std::slice::from_ref(&answer))
                .map_err(|e| e.to_string()),
            None => Err("the outbox is not available".to_string()),
        };
        if result.is_ok()
            && let Some(outbox) = self.outbox.clone()
        {
            let sender = self.sender.clone();
            self.jobs.spawn(async move {
                let synced = tokio::task::spawn_blocking(move || outbox.sync()).await;
                if let Ok(Err(e)) = synced {
                    tracing::warn!(error = %e, "could not fsync the outbox; the answer is written, not yet on disk");
                }
                if let Some(s) = sender {
                    s.wake();
                }
            });
        }
        send(&self.tx, Action::AnswerRecorded { answer, result });
    }

    /// Stops everything: the round's claims are released, the compute client deletes its
    /// reply queue, the embedded worker finishes what it holds. Bounded, so a dead backend
    /// cannot hang the exit.
    pub async fn shutdown(mut self, limit: Duration) {
        let (released, wait) = tokio::sync::oneshot::channel();
        if self
            .stats
            .send(StatsCommand::ReleaseClaims(released))
            .is_ok()
        {
            // Best effort: claims expire by themselves.
            let _ = tokio::time::timeout(RELEASE_LIMIT, wait).await;
        }
        if let Some(sender) = self.sender.take() {
            sender.stop();
        }
        self.background.abort_all();
        self.jobs.abort_all();
        drop(self.compute);
        drop(self.stats);
        let worker = self.worker.take();
        let finish = async move {
            // The compute task closes its client when its command channel closes; if it
            // panicked instead, there is nothing left to close.
            let _ = self.compute_task.await;
            if let Some(w) = worker {
                w.shutdown().await;
            }
        };
        if tokio::time::timeout(limit, finish).await.is_err() {
            tracing::warn!("shutdown took longer than {limit:?}; exiting anyway");
        }
    }
}
