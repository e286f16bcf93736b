//! The message-queue port on SQS: queues addressed by their real queue URLs, created with
//! a visibility timeout and a redrive policy, batch send/delete, long-poll receive, depth.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageAttributeValue, MessageSystemAttributeName,
    QueueAttributeName, SendMessageBatchRequestEntry,
};
use futures::StreamExt;

use super::{Failure, Service, classify, map_sdk, seconds_to_ms};
use crate::backend::{
    BackendError, LONG_POLL, MAX_BATCH, MessageQueue, OutgoingMessage, QueueDepth, QueueInfo,
    QueueSpec, ReceivedMessage, Result,
};

/// Attribute lookups in flight at once when listing queues.
const LIST_CONCURRENCY: usize = 8;

/// All queues of one account/region.
#[derive(Debug, Clone)]
pub struct SqsQueues {
    client: Client,
}

/// "queue <name>" from a queue URL, for messages.
fn queue_what(url: &str) -> String {
    format!("queue {}", queue_name(url))
}

/// The queue name is the URL's last path segment.
fn queue_name(url: &str) -> &str {
    url.trim_end_matches('/').rsplit('/').next().unwrap_or(url)
}

fn build_error(what: &str, e: impl std::fmt::Display) -> BackendError {
    BackendError::Invalid(format!("{what}: {e}"))
}

fn string_attribute(
    value: &str,
) -> std::result::Result<MessageAttributeValue, aws_sdk_sqs::error::BuildError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
}

fn to_secs(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

/// A per-entry batch failure, mapped like a whole-call failure.
fn batch_entry_error(
    what: &str,
    code: &str,
    message: Option<&str>,
    sender_fault: bool,
) -> BackendError {
    let detail = match message {
        Some(m) => super::sanitize(&format!("{code}: {m}")),
        None => code.to_string(),
    };
    let f = Failure {
        code: Some(code.to_string()),
        message: message.map(str::to_string),
        detail,
        ..Failure::default()
    };
    match classify(Service::Sqs, what, &f) {
        // The service says the request itself was wrong: retrying will not help.
        BackendError::Other(m) if sender_fault => BackendError::Invalid(m),
        e => e,
    }
}

impl SqsQueues {
    pub fn new(client: Client) -> Self {
        SqsQueues { client }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn attributes(
        &self,
        url: &str,
        names: &[QueueAttributeName],
    ) -> Result<HashMap<QueueAttributeName, String>> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .set_attribute_names(Some(names.to_vec()))
            .send()
            .await
            .map_err(|e| map_sdk(Service::Sqs, &queue_what(url), &e))?;
        Ok(out.attributes().cloned().unwrap_or_default())
    }

    async fn queue_arn(&self, url: &str) -> Result<String> {
        self.attributes(url, &[QueueAttributeName::QueueArn])
            .await?
            .remove(&QueueAttributeName::QueueArn)
            .ok_or_else(|| {
                BackendError::Other(format!("SQS returned no QueueArn for {}", queue_what(url)))
            })
    }

    /// `None` when the queue vanished between listing and asking (pruned concurrently).
    async fn info(&self, url: String) -> Result<Option<QueueInfo>> {
        match self
            .attributes(&url, &[QueueAttributeName::LastModifiedTimestamp])
            .await
        {
            Ok(attrs) => {
                let last_modified_ms = attrs
                    .get(&QueueAttributeName::LastModifiedTimestamp)
                    .and_then(|s| seconds_to_ms(s))
                    .unwrap_or(0);
                Ok(Some(QueueInfo {
                    name: queue_name(&url).to_string(),
                    url,
                    last_modified_ms,
                }))
            }
            Err(BackendError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl MessageQueue for SqsQueues {
    async fn ensure_queue(&self, spec: &QueueSpec) -> Result<(String, bool)> {
        if let Some(url) = self.queue_url(&spec.name).await? {
            return Ok((url, false));
        }
        let what = format!("queue {}", spec.name);
        let mut req = self
            .client
            .create_queue()
            .queue_name(&spec.name)
            .attributes(
                QueueAttributeName::VisibilityTimeout,
                to_secs(spec.visibility_timeout).to_string(),
            );
        if let Some((dlq_url, max_receives)) = &spec.dead_letter {
            let arn = self.queue_arn(dlq_url).await?;
            let policy =
                serde_json::json!({ "deadLetterTargetArn": arn, "maxReceiveCount": max_receives });
            req = req.attributes(QueueAttributeName::RedrivePolicy, policy.to_string());
        }
        match req.send().await {
            Ok(out) => {
                let url = out.queue_url().map(str::to_string).ok_or_else(|| {
                    BackendError::Other(format!("SQS returned no URL for new {what}"))
                })?;
                tracing::info!(queue = %spec.name, dead_letter = spec.dead_letter.is_some(), "created SQS queue");
                Ok((url, true))
            }
            Err(err) => {
                let f = Failure::from_sdk(&err);
                // Lost a creation race with different attributes: the queue exists now.
                if f.code_is(&[
                    "QueueAlreadyExists",
                    "QueueNameExists",
                    "AWS.SimpleQueueService.QueueNameExists",
                ]) && let Some(url) = self.queue_url(&spec.name).await?
                {
                    tracing::warn!(queue = %spec.name, "queue exists with other attributes; using it as is");
                    return Ok((url, false));
                }
                Err(classify(Service::Sqs, &what, &f))
            }
        }
    }

    async fn queue_url(&self, name: &str) -> Result<Option<String>> {
        match self.client.get_queue_url().queue_name(name).send().await {
            Ok(out) => Ok(out.queue_url().map(str::to_string)),
            Err(err) => {
                let f = Failure::from_sdk(&err);
                if f.is_missing_container() {
                    tracing::debug!(queue = name, status = ?f.status, code = ?f.code, "sqs queue missing");
                    return Ok(None);
                }
                Err(map_sdk(Service::Sqs, &format!("queue {name}"), &err))
            }
        }
    }

    async fn delete_queue(&self, url: &str) -> Result<()> {
        match self.client.delete_queue().queue_url(url).send().await {
            Ok(_) => {
                tracing::info!(queue = queue_name(url), "deleted SQS queue");
                Ok(())
            }
            // Already gone is the state we wanted.
            Err(err) if Failure::from_sdk(&err).is_missing_container() => Ok(()),
            Err(err) => Err(map_sdk(Service::Sqs, &queue_what(url), &err)),
        }
    }

    async fn list_queues(&self, prefix: &str) -> Result<Vec<QueueInfo>> {
        let mut urls = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let out = self
                .client
                .list_queues()
                .queue_name_prefix(prefix)
                // A page size is required for SQS to return a next token at all.
                .max_results(1000)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| map_sdk(Service::Sqs, &format!("queues {prefix}*"), &e))?;
            urls.extend(out.queue_urls().iter().cloned());
            match out.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => break,
            }
        }
        let infos: Vec<Result<Option<QueueInfo>>> = futures::stream::iter(urls)
            .map(|url| self.info(url))
            .buffered(LIST_CONCURRENCY)
            .collect()
            .await;
        let mut out = Vec::with_capacity(infos.len());
        for info in infos {
            if let Some(i) = info? {
                out.push(i);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn touch_queue(&self, url: &str) -> Result<()> {
        // SQS bumps LastModifiedTimestamp on any SetQueueAttributes, so re-set a value to
        // what it already is.
        let current = self
            .attributes(url, &[QueueAttributeName::VisibilityTimeout])
            .await?
            .remove(&QueueAttributeName::VisibilityTimeout)
            .unwrap_or_else(|| "30".to_string());
        self.client
            .set_queue_attributes()
            .queue_url(url)
            .attributes(QueueAttributeName::VisibilityTimeout, current)
            .send()
            .await
            .map_err(|e| map_sdk(Service::Sqs, &queue_what(url), &e))?;
        tracing::debug!(queue = queue_name(url), "touched SQS queue");
        Ok(())
    }

    async fn send(&self, url: &str, message: OutgoingMessage) -> Result<String> {
        let what = queue_what(url);
        let mut req = self
            .client
            .send_message()
            .queue_url(url)
            .message_body(message.body);
        for (k, v) in &message.attributes {
            req =
                req.message_attributes(k, string_attribute(v).map_err(|e| build_error(&what, e))?);
        }
        let out = req
            .send()
            .await
            .map_err(|e| map_sdk(Service::Sqs, &what, &e))?;
        out.message_id()
            .map(str::to_string)
            .ok_or_else(|| BackendError::Other(format!("SQS returned no message id ({what})")))
    }

    async fn send_batch(
        &self,
        url: &str,
        messages: Vec<OutgoingMessage>,
    ) -> Result<Vec<Result<String>>> {
        let what = queue_what(url);
        let mut results = Vec::with_capacity(messages.len());
        let mut messages = messages.into_iter().peekable();
        // The port allows at most 10, but chunking keeps larger inputs correct too.
        while messages.peek().is_some() {
            let chunk: Vec<OutgoingMessage> = messages.by_ref().take(MAX_BATCH).collect();
            let n = chunk.len();
            let mut entries = Vec::with_capacity(n);
            for (i, m) in chunk.into_iter().enumerate() {
                let mut entry = SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(m.body);
                for (k, v) in &m.attributes {
                    entry = entry.message_attributes(
                        k,
                        string_attribute(v).map_err(|e| build_error(&what, e))?,
                    );
                }
                entries.push(entry.build().map_err(|e| build_error(&what, e))?);
            }
            let out = self
                .client
                .send_message_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| map_sdk(Service::Sqs, &what, &e))?;
            let mut chunk_results: Vec<Option<Result<String>>> = vec![None; n];
            for ok in out.successful() {
                if let Some(slot) = ok
                    .id()
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| chunk_results.get_mut(i))
                {
                    *slot = Some(Ok(ok.message_id().to_string()));
                }
            }
            for failed in out.failed() {
                tracing::warn!(
                    queue = queue_name(url),
                    id = failed.id(),
                    code = failed.code(),
                    "SQS batch send entry failed"
                );
                if let Some(slot) = failed
                    .id()
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| chunk_results.get_mut(i))
                {
                    *slot = Some(Err(batch_entry_error(
                        &what,
                        failed.code(),
                        failed.message(),
                        failed.sender_fault(),
                    )));
                }
            }
            results.extend(chunk_results.into_iter().map(|r| {
                r.unwrap_or_else(|| {
                    Err(BackendError::Other(format!(
                        "SQS reported no result for a batch entry ({what})"
                    )))
                })
            }));
        }
        Ok(results)
    }

    async fn receive(
        &self,
        url: &str,
        max: usize,
        wait: Duration,
        visibility: Duration,
    ) -> Result<Vec<ReceivedMessage>> {
        let max = max.clamp(1, MAX_BATCH) as i32;
        let out = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max)
            .wait_time_seconds(to_secs(wait.min(LONG_POLL)))
            .visibility_timeout(to_secs(visibility))
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .send()
            .await
            .map_err(|e| map_sdk(Service::Sqs, &queue_what(url), &e))?;
        let mut received = Vec::new();
        for m in out.messages() {
            let (Some(message_id), Some(receipt)) = (m.message_id(), m.receipt_handle()) else {
                tracing::warn!(
                    queue = queue_name(url),
                    "SQS returned a message without id or receipt; skipped"
                );
                continue;
            };
            let system = m.attributes();
            let receive_count = system
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .and_then(|s| s.parse::<u32>().ok())
                .unwrap_or(1);
            let sent_at_ms = system
                .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
                .and_then(|s| s.parse::<i64>().ok())
                .unwrap_or(0);
            let attributes: BTreeMap<String, String> = m
                .message_attributes()
                .map(|attrs| {
                    attrs
                        .iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.string_value()?.to_string())))
                        .collect()
                })
                .unwrap_or_default();
            received.push(ReceivedMessage {
                message_id: message_id.to_string(),
                body: m.body().unwrap_or_default().to_string(),
                attributes,
                receipt: receipt.to_string(),
                receive_count,
                sent_at_ms,
            });
        }
        Ok(received)
    }

    async fn extend_visibility(
        &self,
        url: &str,
        receipt: &str,
        visibility: Duration,
    ) -> Result<()> {
        let what = queue_what(url);
        self.client
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(receipt)
            .visibility_timeout(to_secs(visibility))
            .send()
            .await
            .map_err(|e| map_sdk(Service::Sqs, &what, &e))?;
        Ok(())
    }

    async fn delete_batch(&self, url: &str, receipts: &[String]) -> Result<()> {
        let what = queue_what(url);
        let mut first_failure = None;
        let mut failures = 0usize;
        for chunk in receipts.chunks(MAX_BATCH) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(r)
                        .build()
                })
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| build_error(&what, e))?;
            let out = self
                .client
                .delete_message_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| map_sdk(Service::Sqs, &what, &e))?;
            for failed in out.failed() {
                tracing::warn!(
                    queue = queue_name(url),
                    code = failed.code(),
                    "SQS batch delete entry failed"
                );
                failures += 1;
                first_failure.get_or_insert_with(|| {
                    batch_entry_error(
                        &what,
                        failed.code(),
                        failed.message(),
                        failed.sender_fault(),
                    )
                });
            }
        }
        match first_failure {
            None => Ok(()),
            // Keep the first entry's classification so callers can tell transient from not.
            Some(BackendError::Other(m)) if failures > 1 => Err(BackendError::Other(format!(
                "{failures} of {} deletes failed; first: {m}",
                receipts.len()
            ))),
            Some(e) => Err(e),
        }
    }

    async fn depth(&self, url: &str) -> Result<QueueDepth> {
        let attrs = self
            .attributes(
                url,
                &[
                    QueueAttributeName::ApproximateNumberOfMessages,
                    QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
                ],
            )
            .await?;
        let count = |name: &QueueAttributeName| {
            attrs
                .get(name)
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Ok(QueueDepth {
            visible: count(&QueueAttributeName::ApproximateNumberOfMessages),
            in_flight: count(&QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names_come_from_urls() {
        assert_eq!(
            queue_name("https://sqs.us-east-1.amazonaws.com/123456789012/jobs"),
            "jobs"
        );
        assert_eq!(
            queue_name("http://127.0.0.1:5000/123456789012/jobs-dlq/"),
            "jobs-dlq"
        );
        assert_eq!(queue_what("http://h/1/q"), "queue q");
    }

    #[test]
    fn batch_entry_failures_map_by_code_and_fault() {
        let e = batch_entry_error("queue q", "ReceiptHandleIsInvalid", Some("bad"), true);
        assert!(matches!(e, BackendError::Invalid(_)), "{e:?}");
        let e = batch_entry_error("queue q", "InternalError", None, false);
        assert!(matches!(e, BackendError::Other(_)), "{e:?}");
        let e = batch_entry_error("queue q", "Odd", None, true);
        assert!(matches!(e, BackendError::Invalid(_)), "{e:?}");
    }
}
