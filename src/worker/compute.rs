//! One batch of compute requests: check and summarise each body, write its log object
//! (create-only, keyed by message id and send time, so a redelivery writes nothing new),
//! reply — JSON to the client's own `ReplyTo` queue, or plain text on the shared response
//! queue for the original system's attribute-less clients — then delete the batch.

use std::collections::BTreeMap;

use bytes::Bytes;
use futures::future::join_all;

use super::{Reporter, Unfinished};
use crate::backend::{BackendError, OutgoingMessage, PutCondition, ReceivedMessage};
use crate::domain::keys;
use crate::domain::messages::{ATTR_CORRELATION_ID, ATTR_REPLY_TO, ComputeReply};
use crate::domain::numbers::{SummaryJson, compute};
use crate::service::context::{AppContext, REPLY_QUEUE_PREFIX};

/// Where a message's reply goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Destination {
    /// The client's own queue, with the correlation id.
    ReplyTo { url: String, correlation_id: String },
    /// The shared response queue, plain text.
    Shared,
    /// Nowhere valid: the reason is logged.
    Nowhere(String),
}

fn destination(m: &ReceivedMessage) -> Destination {
    match (
        m.attributes.get(ATTR_REPLY_TO),
        m.attributes.get(ATTR_CORRELATION_ID),
    ) {
        (None, None) => Destination::Shared,
        (Some(url), Some(id)) => {
            // Only reply to client reply queues, never to an arbitrary queue a sender names.
            let name = url.rsplit('/').next().unwrap_or(url);
            if name.starts_with(REPLY_QUEUE_PREFIX) {
                Destination::ReplyTo {
                    url: url.clone(),
                    correlation_id: id.clone(),
                }
            } else {
                Destination::Nowhere(format!(
                    "ReplyTo {} is not a hotdog-tui reply queue",
                    crate::domain::names::display_safe(name)
                ))
            }
        }
        _ => Destination::Nowhere("the request has only one of ReplyTo and CorrelationId".into()),
    }
}

struct Answered {
    message: ReceivedMessage,
    destination: Destination,
    reply: ComputeReply,
    refused: bool,
    /// The log object's key and contents.
    log: (String, String),
}

/// Computes one request's answer and its log; no I/O.
fn answer(m: ReceivedMessage) -> Answered {
    let destination = destination(&m);
    let correlation_id = match &destination {
        Destination::ReplyTo { correlation_id, .. } => correlation_id.clone(),
        _ => m.message_id.clone(),
    };
    let (text, result, error) = match compute(&m.body) {
        Ok(summary) => (summary.to_string(), Some(SummaryJson::from(&summary)), None),
        Err(e) => (e.to_string(), None, Some(e.to_string())),
    };
    let key = keys::log(&keys::log_stamp(m.sent_at_ms), &m.message_id);
    let log = format!("{text}\n");
    let refused = error.is_some();
    Answered {
        message: m,
        destination,
        reply: ComputeReply {
            correlation_id,
            text,
            result,
            error,
        },
        refused,
        log: (key, log),
    }
}

/// Writes every answer's log object (create-only: a redelivery writes nothing new); per
/// answer, why its log could not be written.
async fn write_logs(ctx: &AppContext, answered: &[Answered]) -> Vec<Option<BackendError>> {
    join_all(answered.iter().map(|a| async {
        let (key, log) = &a.log;
        match ctx
            .backend
            .store
            .put(
                key,
                Bytes::from(log.clone()),
                "text/plain; charset=utf-8",
                PutCondition::IfAbsent,
            )
            .await
        {
            Ok(_) | Err(BackendError::PreconditionFailed) => None,
            Err(e) => Some(e),
        }
    }))
    .await
}

/// Replies grouped per destination queue (so each goes out in batches of 10), each with
/// the index of the answer it carries.
type RepliesByQueue = BTreeMap<String, Vec<(usize, OutgoingMessage)>>;

/// Returns the messages that could not be finished, each with why. The logs are written
/// beside the replies, not before them: the client waits only for its reply. A request is
/// deleted once both are done; if its log failed it is redelivered, the log is written then
/// and the client drops the second reply by its correlation id.
pub(super) async fn process_batch(
    ctx: &AppContext,
    reporter: &Reporter,
    batch: Vec<ReceivedMessage>,
) -> Vec<Unfinished> {
    let answered: Vec<Answered> = batch.into_iter().map(answer).collect();
    let mut failed: Vec<Option<BackendError>> = vec![None; answered.len()];
    let by_queue = replies_by_queue(ctx, reporter, &answered, &mut failed);
    let (log_failures, mut done) = tokio::join!(
        write_logs(ctx, &answered),
        send_replies(ctx, reporter, &answered, by_queue, &mut failed)
    );
    for (i, log_failure) in log_failures.into_iter().enumerate() {
        if let Some(error) = log_failure {
            reporter.error(format!("could not write a request's log: {error}"));
            done[i] = false;
            failed[i] = Some(error);
        }
    }
    let mut held = Vec::new();
    settle(ctx, reporter, answered, done, failed, &mut held).await;
    held
}

fn replies_by_queue(
    ctx: &AppContext,
    reporter: &Reporter,
    answered: &[Answered],
    failed: &mut [Option<BackendError>],
) -> RepliesByQueue {
    let mut by_queue: RepliesByQueue = BTreeMap::new();
    for (i, a) in answered.iter().enumerate() {
        let (url, message) = match &a.destination {
            Destination::ReplyTo {
                url,
                correlation_id,
            } => {
                let mut attributes = BTreeMap::new();
                attributes.insert(ATTR_CORRELATION_ID.to_string(), correlation_id.clone());
                let body = match serde_json::to_string(&a.reply) {
                    Ok(body) => body,
                    Err(e) => {
                        // Never an empty reply: the request goes to the dead-letter queue.
                        failed[i] = Some(BackendError::Invalid(format!(
                            "the reply to {} cannot be encoded: {e}",
                            a.reply.correlation_id
                        )));
                        continue;
                    }
                };
                (url.clone(), OutgoingMessage { body, attributes })
            }
            Destination::Shared => (
                ctx.resources.responses.clone(),
                OutgoingMessage::plain(a.reply.text.clone()),
            ),
            Destination::Nowhere(reason) => {
                reporter.error(format!(
                    "request {} answered but not replied to: {reason}",
                    a.reply.correlation_id
                ));
                continue;
            }
        };
        by_queue.entry(url).or_default().push((i, message));
    }
    by_queue
}

/// Sends the replies; returns which answers are done (replied, or nobody to reply to).
async fn send_replies(
    ctx: &AppContext,
    reporter: &Reporter,
    answered: &[Answered],
    by_queue: RepliesByQueue,
    failed: &mut [Option<BackendError>],
) -> Vec<bool> {
    let mut done = vec![false; answered.len()];
    for a in answered.iter().enumerate() {
        if matches!(a.1.destination, Destination::Nowhere(_)) {
            done[a.0] = true;
        }
    }
    for (url, messages) in by_queue {
        for chunk in messages.chunks(crate::backend::MAX_BATCH) {
            let (indices, outgoing): (Vec<usize>, Vec<OutgoingMessage>) =
                chunk.iter().cloned().unzip();
            match ctx.backend.queues.send_batch(&url, outgoing).await {
                Ok(results) => {
                    for (i, r) in indices.into_iter().zip(results) {
                        match r {
                            Ok(_) => done[i] = true,
                            Err(e) => {
                                reporter.error(format!("a reply could not be sent: {e}"));
                                failed[i] = Some(e);
                            }
                        }
                    }
                }
                Err(BackendError::NotFound { what }) => {
                    // The client is gone (its reply queue deleted): nobody to answer.
                    reporter.error(format!("{what}: the client left; its requests are dropped"));
                    for i in indices {
                        done[i] = true;
                    }
                }
                Err(e) => {
                    reporter.error(format!("replies could not be sent: {e}"));
                    for i in indices {
                        failed[i] = Some(e.clone());
                    }
                }
            }
        }
    }
    done
}

/// Deletes the answered requests and counts them; the rest join `held` with why.
async fn settle(
    ctx: &AppContext,
    reporter: &Reporter,
    answered: Vec<Answered>,
    done: Vec<bool>,
    failed: Vec<Option<BackendError>>,
    held: &mut Vec<Unfinished>,
) {
    let mut receipts = Vec::new();
    let (mut answered_n, mut refused_n) = (0u64, 0u64);
    for ((a, ok), failure) in answered.into_iter().zip(done).zip(failed) {
        if ok {
            receipts.push(a.message.receipt.clone());
            answered_n += 1;
            refused_n += u64::from(a.refused);
        } else {
            let error = failure
                .unwrap_or_else(|| BackendError::Other("the reply was not sent".to_string()));
            held.push(Unfinished {
                message: a.message,
                error,
            });
        }
    }
    if !receipts.is_empty()
        && let Err(e) = ctx
            .backend
            .queues
            .delete_batch(&ctx.resources.requests, &receipts)
            .await
    {
        reporter.error(format!(
            "could not delete answered requests: {e}; they may be answered twice (logs stay single)"
        ));
    }
    reporter.update(|s| {
        s.requests_answered += answered_n;
        s.requests_refused += refused_n;
    });
    if answered_n > 0 {
        reporter.batch_event(format!(
            "answered {answered_n} requests ({refused_n} refused as bad input)"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(attrs: &[(&str, &str)]) -> ReceivedMessage {
        ReceivedMessage {
            message_id: "m".into(),
            body: "1".into(),
            attributes: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            receipt: "r".into(),
            receive_count: 1,
            sent_at_ms: 0,
        }
    }

    #[test]
    fn replies_go_only_to_reply_queues() {
        assert_eq!(destination(&msg(&[])), Destination::Shared);
        assert_eq!(
            destination(&msg(&[
                ("ReplyTo", "https://sqs/1/hotdog-reply-ab"),
                ("CorrelationId", "c")
            ])),
            Destination::ReplyTo {
                url: "https://sqs/1/hotdog-reply-ab".into(),
                correlation_id: "c".into()
            }
        );
        assert!(matches!(
            destination(&msg(&[
                ("ReplyTo", "https://sqs/1/hotdog-labels"),
                ("CorrelationId", "c")
            ])),
            Destination::Nowhere(_)
        ));
        assert!(matches!(
            destination(&msg(&[("CorrelationId", "c")])),
            Destination::Nowhere(_)
        ));
    }

    #[test]
    fn log_stamp_is_the_send_time() {
        assert_eq!(keys::log_stamp(0), "1970-01-01-000000");
        assert_eq!(keys::log_stamp(1_764_573_741_000), "2025-12-01-072221");
    }
}
