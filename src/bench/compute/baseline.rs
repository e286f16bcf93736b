//! The compute baseline: the simplest correct thing for the same work, without the
//! product's pipeline. One client and one plain consumer, strictly one request at a time:
//! send, receive one, write the log object, reply, delete, receive the reply, delete it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{ComputeArgs, Figures, Tally, check, request_text};
use crate::backend::{
    BackendError, LONG_POLL, OutgoingMessage, PutCondition, QueueSpec, ReceivedMessage,
};
use crate::bench::{Scratch, progress};
use crate::domain::keys;
use crate::domain::messages::{ATTR_CORRELATION_ID, ATTR_REPLY_TO, ComputeReply};
use crate::domain::numbers::{SummaryJson, compute};
use crate::service::context::{AppContext, REPLY_QUEUE_PREFIX, VISIBILITY_TIMEOUT};

/// Waits for exactly one message (long polls until it comes).
async fn receive_one(
    ctx: &AppContext,
    url: &str,
    deadline: Instant,
) -> Result<Option<ReceivedMessage>, BackendError> {
    while Instant::now() < deadline {
        let wait = LONG_POLL.min(deadline.saturating_duration_since(Instant::now()));
        let mut got = ctx
            .backend
            .queues
            .receive(url, 1, wait, VISIBILITY_TIMEOUT)
            .await?;
        if let Some(m) = got.pop() {
            return Ok(Some(m));
        }
    }
    Ok(None)
}

/// The baseline: one client and one plain consumer, strictly one request at a time.
pub(super) async fn run_baseline(s: &Scratch, args: &ComputeArgs) -> anyhow::Result<Figures> {
    let ctx = &s.ctx;
    let queues = &ctx.backend.queues;
    let mut urls = Vec::new();
    for name in [
        format!("hotdog-bench-{}-baseline", s.id),
        format!("{REPLY_QUEUE_PREFIX}bench-{}", s.id),
    ] {
        let (url, _) = queues
            .ensure_queue(&QueueSpec {
                name,
                dead_letter: None,
                visibility_timeout: VISIBILITY_TIMEOUT,
            })
            .await?;
        s.track_queue(url.clone());
        urls.push(url);
    }
    let (request_url, reply_url) = (&urls[0], &urls[1]);
    let timeout = Duration::from_secs(args.timeout);
    let bar = progress(args.requests, "baseline");
    let mut tally = Tally::default();
    let started = Instant::now();
    for i in 0..args.requests {
        let text = request_text(i);
        let sent = Instant::now();
        match baseline_one(ctx, request_url, reply_url, &text, sent + timeout).await {
            Ok(Some(reply)) => {
                tally.samples.push(sent.elapsed());
                check(&mut tally, &text, &reply);
            }
            Ok(None) => {
                tally.timeouts += 1;
                tally.problem(format!("baseline: no reply to {text:?} in {timeout:?}"));
            }
            Err(e) => {
                tally.failed += 1;
                tally.problem(format!("baseline: {e}"));
            }
        }
        bar.inc(1);
    }
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    Ok(tally.figures(args.requests, elapsed))
}

async fn baseline_one(
    ctx: &AppContext,
    request_url: &str,
    reply_url: &str,
    text: &str,
    deadline: Instant,
) -> Result<Option<ComputeReply>, BackendError> {
    let queues = &ctx.backend.queues;
    let correlation_id = uuid::Uuid::new_v4().to_string();
    let mut attributes = BTreeMap::new();
    attributes.insert(ATTR_REPLY_TO.to_string(), reply_url.to_string());
    attributes.insert(ATTR_CORRELATION_ID.to_string(), correlation_id.clone());
    queues
        .send(
            request_url,
            OutgoingMessage {
                body: text.to_string(),
                attributes,
            },
        )
        .await?;
    // The consumer: receive one, log it create-only, reply, delete.
    let Some(m) = receive_one(ctx, request_url, deadline).await? else {
        return Ok(None);
    };
    let (line, result, error) = match compute(&m.body) {
        Ok(summary) => (summary.to_string(), Some(SummaryJson::from(&summary)), None),
        Err(e) => (e.to_string(), None, Some(e.to_string())),
    };
    let key = keys::log(&keys::log_stamp(m.sent_at_ms), &m.message_id);
    let log = Bytes::from(format!("{line}\n"));
    match ctx
        .backend
        .store
        .put(
            &key,
            log,
            "text/plain; charset=utf-8",
            PutCondition::IfAbsent,
        )
        .await
    {
        Ok(_) | Err(BackendError::PreconditionFailed) => {}
        Err(e) => return Err(e),
    }
    let reply_to = m.attributes.get(ATTR_REPLY_TO).cloned().unwrap_or_default();
    let reply = ComputeReply {
        correlation_id: m
            .attributes
            .get(ATTR_CORRELATION_ID)
            .cloned()
            .unwrap_or_default(),
        text: line,
        result,
        error,
    };
    let body = serde_json::to_string(&reply).map_err(|e| BackendError::Other(e.to_string()))?;
    queues.send(&reply_to, OutgoingMessage::plain(body)).await?;
    queues
        .delete_batch(request_url, std::slice::from_ref(&m.receipt))
        .await?;
    // The client: receive its reply and delete it.
    let Some(r) = receive_one(ctx, reply_url, deadline).await? else {
        return Ok(None);
    };
    queues
        .delete_batch(reply_url, std::slice::from_ref(&r.receipt))
        .await?;
    let reply: ComputeReply =
        serde_json::from_str(&r.body).map_err(|e| BackendError::Other(e.to_string()))?;
    if reply.correlation_id != correlation_id {
        return Err(BackendError::Other(format!(
            "reply for {} arrived while waiting for {correlation_id}",
            reply.correlation_id
        )));
    }
    Ok(Some(reply))
}
