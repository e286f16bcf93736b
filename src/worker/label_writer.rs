//! One batch of label submissions: answers are grouped by image, and each image's group
//! is group-committed with whatever other receive loops of this worker hold for the same
//! file (`service::label_writes`); then the batch's changes go to the label index in one
//! write per shard (`service::label_index`). Messages are deleted only after both, so a
//! failure of either is retried by redelivery (answers carry ids: nothing is written
//! twice, and the index learns the file as it stands). Messages that cannot be read go to
//! the DLQ.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures::StreamExt;

use super::{Reporter, Unfinished};
use crate::backend::{BackendError, ObjectStore, OutgoingMessage, ReceivedMessage};
use crate::domain::keys;
use crate::domain::label_file::Answer;
use crate::domain::messages::LabelSubmission;
use crate::domain::names::display_safe;
use crate::service::context::AppContext;
use crate::service::label_index::IndexWriter;
use crate::service::label_writes::LabelWrites;

const PARALLEL_WRITES: usize = 16;

/// What the worker's receive loops share: images known to exist (so each write does not
/// need a `head` first), the group-committed label files, and the index writer.
pub(crate) struct LabelWriting {
    known: Mutex<HashSet<String>>,
    files: LabelWrites,
    index: IndexWriter,
}

impl LabelWriting {
    pub(crate) fn new(store: Arc<dyn ObjectStore>) -> LabelWriting {
        LabelWriting {
            known: Mutex::new(HashSet::new()),
            files: LabelWrites::new(store.clone()),
            index: IndexWriter::new(store),
        }
    }

    async fn exists(&self, store: &dyn ObjectStore, image: &str) -> Result<bool, BackendError> {
        if self.known.lock().is_ok_and(|k| k.contains(image)) {
            return Ok(true);
        }
        let found = store.head(&keys::image(image)).await?.is_some();
        if found && let Ok(mut k) = self.known.lock() {
            k.insert(image.to_string());
        }
        Ok(found)
    }
}

/// Answers of a batch grouped per image, with the messages each group came from.
type ByImage = HashMap<String, (Vec<Answer>, HashSet<usize>)>;

/// Returns the messages that could not be finished, each with why.
pub(super) async fn process_batch(
    ctx: &AppContext,
    reporter: &Reporter,
    known: &LabelWriting,
    batch: Vec<ReceivedMessage>,
) -> Vec<Unfinished> {
    let mut failed: Vec<Option<BackendError>> = vec![None; batch.len()];
    let (by_image, poison) = group_by_image(&batch, reporter);
    dead_letter_unreadable(ctx, reporter, &batch, &poison, &mut failed).await;
    write_groups(ctx, reporter, known, by_image, &mut failed).await;
    settle(ctx, reporter, batch, failed).await
}

/// Decodes each message; answers are grouped per image so one write carries several.
/// Returns the groups and the indices of messages that cannot be read.
fn group_by_image(batch: &[ReceivedMessage], reporter: &Reporter) -> (ByImage, Vec<usize>) {
    let mut by_image: ByImage = HashMap::new();
    let mut poison = Vec::new();
    for (i, m) in batch.iter().enumerate() {
        match LabelSubmission::decode(&m.body) {
            Ok(answers) => {
                for a in answers {
                    let entry = by_image.entry(a.image).or_default();
                    entry.0.push(a.answer);
                    entry.1.insert(i);
                }
            }
            Err(e) => {
                reporter.error(format!(
                    "a label message cannot be read ({e}); moved to the dead-letter queue"
                ));
                poison.push(i);
            }
        }
    }
    (by_image, poison)
}

async fn dead_letter_unreadable(
    ctx: &AppContext,
    reporter: &Reporter,
    batch: &[ReceivedMessage],
    poison: &[usize],
    failed: &mut [Option<BackendError>],
) {
    for &i in poison {
        let m = &batch[i];
        let moved = ctx
            .backend
            .queues
            .send(
                &ctx.resources.labels_dlq,
                OutgoingMessage {
                    body: m.body.clone(),
                    attributes: m.attributes.clone(),
                },
            )
            .await;
        if let Err(e) = moved {
            reporter.error(format!(
                "could not move a bad label message to the dead-letter queue: {e}"
            ));
            failed[i] = Some(e);
        } else {
            reporter.update(|s| s.dead_lettered += 1);
        }
    }
}

/// Appends each image's answers to its label file, several files at once, then records
/// the files as they now stand in the label index; a failed write marks every message
/// that contributed to it.
async fn write_groups(
    ctx: &AppContext,
    reporter: &Reporter,
    known: &LabelWriting,
    by_image: ByImage,
    failed: &mut [Option<BackendError>],
) {
    let store = ctx.backend.store.as_ref();
    let writes = futures::stream::iter(by_image)
        .map(|(image, (answers, sources))| async move {
            let count = answers.len();
            let result = match known.exists(store, &image).await {
                Ok(true) => known.files.append(&image, answers).await.map(Some),
                Ok(false) => Ok(None),
                Err(e) => Err(e),
            };
            (image, count, sources, result)
        })
        .buffer_unordered(PARALLEL_WRITES)
        .collect::<Vec<_>>()
        .await;
    let mut indexed: Vec<HashSet<usize>> = Vec::new();
    let mut updates = Vec::new();
    for (image, count, sources, result) in writes {
        match result {
            Ok(Some(o)) => {
                reporter.update(|s| {
                    s.answers_written += o.added as u64;
                    s.answers_duplicate += o.already_there as u64;
                    s.retries += u64::from(o.conflicts);
                });
                let extra = if o.already_there > 0 {
                    format!(", {} already there", o.already_there)
                } else {
                    String::new()
                };
                reporter.batch_event(format!(
                    "wrote {} answers to labels/{}.txt{extra}",
                    o.added,
                    display_safe(&image)
                ));
                if let Some(u) = o.index_update(&image) {
                    updates.push(u);
                    indexed.push(sources);
                }
            }
            Ok(None) => reporter.error(format!(
                "{count} answers for unknown image {} were dropped (no images/ object of that name)",
                display_safe(&image)
            )),
            Err(e) => {
                reporter.error(format!(
                    "could not write answers for {}: {e}",
                    display_safe(&image)
                ));
                for i in sources {
                    failed[i] = Some(e.clone());
                }
            }
        }
    }
    if updates.is_empty() {
        return;
    }
    if let Err(e) = known.index.record(updates).await {
        // The answers are in their files; the messages stay, so a redelivery records
        // the files in the index again (the answers themselves are skipped by id).
        reporter.error(format!(
            "wrote the answers but could not update the label index: {e}"
        ));
        for i in indexed.into_iter().flatten() {
            failed[i] = Some(e.clone());
        }
    }
}

/// Deletes the finished messages; returns the others with why they are not finished.
async fn settle(
    ctx: &AppContext,
    reporter: &Reporter,
    batch: Vec<ReceivedMessage>,
    failed: Vec<Option<BackendError>>,
) -> Vec<Unfinished> {
    let mut receipts = Vec::new();
    let mut held = Vec::new();
    for (message, failure) in batch.into_iter().zip(failed) {
        match failure {
            None => receipts.push(message.receipt.clone()),
            Some(error) => held.push(Unfinished { message, error }),
        }
    }
    if !receipts.is_empty()
        && let Err(e) = ctx
            .backend
            .queues
            .delete_batch(&ctx.resources.labels, &receipts)
            .await
    {
        reporter.error(format!(
            "could not delete written label messages: {e}; a redelivery is skipped by answer id"
        ));
    }
    held
}
