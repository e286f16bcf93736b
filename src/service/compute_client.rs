//! The compute service's client: its own reply queue, requests sent with `ReplyTo` and
//! `CorrelationId`, and a listener task that routes each reply to whoever waits for it.
//! The reply queue is deleted on `close`; one left by a crash is pruned after a day idle.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::backend::{
    BackendError, LONG_POLL, MAX_BATCH, MessageQueue, OutgoingMessage, QueueSpec,
};
use crate::domain::messages::{ATTR_CORRELATION_ID, ATTR_REPLY_TO, ComputeReply};
use crate::service::context::{AppContext, REPLY_QUEUE_PREFIX, VISIBILITY_TIMEOUT};

type Waiters = Arc<Mutex<HashMap<String, oneshot::Sender<ComputeReply>>>>;

pub struct ComputeClient {
    queues: Arc<dyn MessageQueue>,
    request_url: String,
    reply_url: String,
    waiters: Waiters,
    replies: Option<mpsc::UnboundedReceiver<ComputeReply>>,
    listener: JoinHandle<()>,
    keepalive: JoinHandle<()>,
}

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error(
        "no worker answered within {0:?}: is a worker running? (start one with `hotdog-tui worker`)"
    )]
    Timeout(Duration),
}

impl ComputeClient {
    /// Creates this client's reply queue and starts listening on it.
    pub async fn open(ctx: &AppContext) -> Result<ComputeClient, BackendError> {
        let name = format!("{REPLY_QUEUE_PREFIX}{}", uuid::Uuid::new_v4().simple());
        let (reply_url, _) = ctx
            .backend
            .queues
            .ensure_queue(&QueueSpec {
                name,
                dead_letter: None,
                visibility_timeout: VISIBILITY_TIMEOUT,
            })
            .await?;
        let queues = ctx.backend.queues.clone();
        let waiters: Waiters = Arc::default();
        let (tx, rx) = mpsc::unbounded_channel();
        let listener = tokio::spawn(listen(
            queues.clone(),
            reply_url.clone(),
            waiters.clone(),
            tx,
        ));
        let keepalive = tokio::spawn(keep_alive(queues.clone(), reply_url.clone()));
        Ok(ComputeClient {
            queues,
            request_url: ctx.resources.requests.clone(),
            reply_url,
            waiters,
            replies: Some(rx),
            listener,
            keepalive,
        })
    }

    pub fn reply_url(&self) -> &str {
        &self.reply_url
    }

    fn message(&self, text: &str, correlation_id: &str) -> OutgoingMessage {
        let mut attributes = BTreeMap::new();
        attributes.insert(ATTR_REPLY_TO.to_string(), self.reply_url.clone());
        attributes.insert(ATTR_CORRELATION_ID.to_string(), correlation_id.to_string());
        OutgoingMessage {
            body: text.to_string(),
            attributes,
        }
    }

    /// A fresh correlation id. The caller records it *before* `send`: a reply can come
    /// back before `send` returns.
    pub fn new_correlation_id() -> String {
        uuid::Uuid::new_v4().to_string()
    }

    /// Sends a request under `correlation_id`; its reply arrives on `take_replies`.
    pub async fn send(&self, text: &str, correlation_id: &str) -> Result<(), BackendError> {
        self.queues
            .send(&self.request_url, self.message(text, correlation_id))
            .await?;
        Ok(())
    }

    /// All replies not claimed by `call`, in arrival order (taken once, by the TUI).
    pub fn take_replies(&mut self) -> Option<mpsc::UnboundedReceiver<ComputeReply>> {
        self.replies.take()
    }

    /// Sends a request and waits for its reply.
    pub async fn call(&self, text: &str, timeout: Duration) -> Result<ComputeReply, CallError> {
        let mut calls = self.call_many(&[text.to_string()], timeout).await?;
        calls.pop().unwrap_or(Err(CallError::Timeout(timeout)))
    }

    /// Sends requests in batches of 10 and waits for every reply.
    pub async fn call_many(
        &self,
        texts: &[String],
        timeout: Duration,
    ) -> Result<Vec<Result<ComputeReply, CallError>>, BackendError> {
        let mut receivers = Vec::with_capacity(texts.len());
        let mut batches = Vec::new();
        for chunk in texts.chunks(MAX_BATCH) {
            let mut messages = Vec::with_capacity(chunk.len());
            for text in chunk {
                let id = uuid::Uuid::new_v4().to_string();
                let (tx, rx) = oneshot::channel();
                if let Ok(mut w) = self.waiters.lock() {
                    w.insert(id.clone(), tx);
                }
                messages.push(self.message(text, &id));
                receivers.push((id, rx));
            }
            batches.push(messages);
        }
        // The batches go out side by side: one round trip for a whole pipeline, not one each.
        let sent = futures::future::join_all(
            batches
                .into_iter()
                .map(|messages| self.queues.send_batch(&self.request_url, messages)),
        )
        .await;
        for batch in sent {
            for r in batch? {
                r?;
            }
        }
        let deadline = tokio::time::Instant::now() + timeout;
        let mut out = Vec::with_capacity(receivers.len());
        for (id, rx) in receivers {
            match tokio::time::timeout_at(deadline, rx).await {
                Ok(Ok(reply)) => out.push(Ok(reply)),
                _ => {
                    if let Ok(mut w) = self.waiters.lock() {
                        w.remove(&id);
                    }
                    out.push(Err(CallError::Timeout(timeout)));
                }
            }
        }
        Ok(out)
    }

    /// Stops listening and deletes the reply queue.
    pub async fn close(self) {
        self.listener.abort();
        self.keepalive.abort();
        if let Err(e) = self.queues.delete_queue(&self.reply_url).await {
            tracing::warn!(error = %e, "could not delete the reply queue; `hotdog-tui setup --prune` removes it later");
        }
    }
}

async fn listen(
    queues: Arc<dyn MessageQueue>,
    url: String,
    waiters: Waiters,
    unclaimed: mpsc::UnboundedSender<ComputeReply>,
) {
    let mut backoff = Duration::from_millis(200);
    loop {
        let batch = match queues
            .receive(&url, MAX_BATCH, LONG_POLL, VISIBILITY_TIMEOUT)
            .await
        {
            Ok(b) => {
                backoff = Duration::from_millis(200);
                b
            }
            Err(e) => {
                tracing::warn!(error = %e, "receiving replies failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
                continue;
            }
        };
        let receipts: Vec<String> = batch.iter().map(|m| m.receipt.clone()).collect();
        for m in batch {
            let reply = match serde_json::from_str::<ComputeReply>(&m.body) {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "ignoring a reply that is not JSON");
                    continue;
                }
            };
            let waiter = waiters
                .lock()
                .ok()
                .and_then(|mut w| w.remove(&reply.correlation_id));
            match waiter {
                // The caller may have timed out and gone: nothing to do then.
                Some(tx) => drop(tx.send(reply)),
                None => drop(unclaimed.send(reply)),
            }
        }
        if !receipts.is_empty() {
            // Beside the next long poll, not before it: a reply that arrives meanwhile is
            // received at once.
            let (queues, url) = (queues.clone(), url.clone());
            tokio::spawn(async move {
                if let Err(e) = queues.delete_batch(&url, &receipts).await {
                    tracing::warn!(error = %e, "could not delete replies; duplicates are ignored by correlation id");
                }
            });
        }
    }
}

/// Touches the reply queue hourly so pruning (after a day idle) never takes a live client's.
async fn keep_alive(queues: Arc<dyn MessageQueue>, url: String) {
    loop {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        if let Err(e) = queues.touch_queue(&url).await {
            tracing::warn!(error = %e, "could not touch the reply queue");
        }
    }
}
