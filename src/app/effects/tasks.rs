//! The runner's long-lived tasks: the statistics refresh (which also notices when our
//! answers land in the label files), the compute client, the embedded worker's status and
//! events, and the queue depths (polled only while the Worker tab is visible).

use std::time::{Duration, Instant};

use tokio::sync::{broadcast, mpsc, watch};

use crate::app::send;
use crate::app::worker::QueueDepths;
use crate::app::{Action, Tab};
use crate::backend::BackendError;
use crate::service::compute_client::ComputeClient;
use crate::service::context::AppContext;
use crate::service::statistics::StatsCache;
use crate::worker::{WorkerEvent, WorkerStatus};

/// Statistics refresh period: an answer from any terminal shows within about this long.
pub const STATS_INTERVAL: Duration = Duration::from_millis(1500);
pub const DEPTH_INTERVAL: Duration = Duration::from_secs(1);

pub enum StatsCommand {
    /// (image, answer id) pairs to report once they are in the label files.
    Watch(Vec<(String, String)>),
    RefreshNow,
}

pub async fn stats_loop(
    ctx: AppContext,
    tx: mpsc::UnboundedSender<Action>,
    mut cmds: mpsc::UnboundedReceiver<StatsCommand>,
) {
    let mut cache = StatsCache::new();
    let mut watched: Vec<(String, String)> = Vec::new();
    let mut last_names: Option<Vec<String>> = None;
    let mut failing = false;
    loop {
        match cache.refresh(&ctx).await {
            Ok(summary) => {
                let names = cache.image_names();
                // After a failure, report even an unchanged refresh: the UI clears the error.
                let changed = summary.fetched > 0 || last_names.as_ref() != Some(&names) || failing;
                failing = false;
                if changed {
                    let action = Action::StatsRefreshed {
                        images: cache.images(),
                        image_names: names.clone(),
                        labelled_by_me: cache.labelled_by(&ctx.user),
                        changed: true,
                        at: Instant::now(),
                    };
                    if !send(&tx, action) {
                        return;
                    }
                    last_names = Some(names);
                }
                let (landed, still): (Vec<_>, Vec<_>) = watched
                    .drain(..)
                    .partition(|(image, id)| cache.has_answer(image, id));
                watched = still;
                if !landed.is_empty()
                    && !send(
                        &tx,
                        Action::AnswersWritten(landed.into_iter().map(|(_, id)| id).collect()),
                    )
                {
                    return;
                }
            }
            Err(e) => {
                failing = true;
                if !send(&tx, Action::StatsFailed(e)) {
                    return;
                }
            }
        }
        // Wait for the next period; commands arriving meanwhile are taken as they come.
        let next = tokio::time::Instant::now() + STATS_INTERVAL;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(next) => break,
                cmd = cmds.recv() => match cmd {
                    None => return,
                    Some(StatsCommand::Watch(pairs)) => watched.extend(pairs),
                    Some(StatsCommand::RefreshNow) => break,
                },
            }
        }
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
