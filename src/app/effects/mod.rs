//! Runs `Effect`s: each becomes a tokio task (or a blocking task for decode / encode / file
//! work) that sends its result back as an `Action` carrying the id it answers. Also owns
//! the long-lived tasks: statistics refresh, compute client, worker status, queue depths.
//! The work itself lives with its feature (`label::tasks`, `upload::tasks`, `stats::tasks`).

pub mod tasks;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

use super::{Action, Effect, Tab, send};
use crate::backend::BackendError;
use crate::graphics::Renderer;
use crate::service::context::AppContext;
use crate::worker::WorkerHandle;
use tasks::{ComputeCommand, StatsCommand};

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
        EffectRunner {
            ctx,
            tx,
            renderer,
            stats,
            compute,
            compute_task,
            visible,
            worker,
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
            Effect::SubmitAnswers { batch, answers } => {
                self.jobs.spawn(async move {
                    let result = crate::service::labeller::submit_round(&ctx, &answers).await;
                    send(&tx, Action::AnswersSubmitted { batch, result });
                });
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

    /// Stops everything: the compute client deletes its reply queue, the embedded worker
    /// finishes what it holds. Bounded, so a dead backend cannot hang the exit.
    pub async fn shutdown(mut self, limit: Duration) {
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
