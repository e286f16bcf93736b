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
use crate::backend::{BackendError, MAX_BATCH, ObjectStore, OutgoingMessage, ReceivedMessage};
use crate::domain::keys;
use crate::domain::label_file::Answer;
use crate::domain::label_index::IndexUpdate;
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
    /// Index records and deletes still running beside the receive loops.
    finishing: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl LabelWriting {
    pub(crate) fn new(store: Arc<dyn ObjectStore>) -> LabelWriting {
        LabelWriting {
            known: Mutex::new(HashSet::new()),
            files: LabelWrites::new(store.clone()),
            index: IndexWriter::new(store),
            finishing: Mutex::new(Vec::new()),
        }
    }

    /// Runs a batch's index record and message deletes beside the receive loop.
    fn finish(&self, work: impl std::future::Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(work);
        if let Ok(mut f) = self.finishing.lock() {
            f.retain(|h| !h.is_finished());
            f.push(handle);
        }
    }

    /// Waits for every batch's index record and deletes (on shutdown).
    pub(crate) async fn drain(&self) {
        let handles: Vec<_> = match self.finishing.lock() {
            Ok(mut f) => std::mem::take(&mut *f),
            Err(_) => Vec::new(),
        };
        for h in handles {
            // A panicked task has nothing left to wait for; its messages come back.
            let _ = h.await;
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

/// Writes the batch's answers into their label files; returns the messages that could
/// not be finished, each with why. Recording the written files in the label index and
/// deleting the messages run beside the next receive (`LabelWriting::finish`): the
/// answers are safe in their files by then, and a message whose index write failed is
/// simply not deleted, so its redelivery records the file again.
pub(super) async fn process_batch(
    ctx: &AppContext,
    reporter: &Reporter,
    known: &Arc<LabelWriting>,
    batch: Vec<ReceivedMessage>,
) -> Vec<Unfinished> {
    let mut failed: Vec<Option<BackendError>> = vec![None; batch.len()];
    let (by_image, poison) = group_by_image(&batch, reporter);
    dead_letter_unreadable(ctx, reporter, &batch, &poison, &mut failed).await;
    let (updates, indexed) = write_groups(ctx, reporter, known, by_image, &mut failed).await;
    let mut held = Vec::new();
    let mut done = Vec::new();
    let mut after_index = Vec::new();
    for (i, (message, failure)) in batch.into_iter().zip(failed).enumerate() {
        match failure {
            Some(error) => held.push(Unfinished { message, error }),
            None if indexed.contains(&i) => after_index.push(message.receipt),
            None => done.push(message.receipt),
        }
    }
    let (ctx, reporter, state) = (ctx.clone(), reporter.clone(), known.clone());
    let finish = async move {
        if !updates.is_empty() {
            match state.index.record(updates).await {
                Ok(()) => done.extend(after_index),
                Err(e) => reporter.error(format!(
                    "wrote the answers but could not update the label index: {e}; the messages come back after their visibility timeout and are recorded again"
                )),
            }
        }
        delete_finished(&ctx, &reporter, done).await;
    };
    known.finish(finish);
    held
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
) -> (Vec<IndexUpdate>, HashSet<usize>) {
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
    let mut indexed: HashSet<usize> = HashSet::new();
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
                    indexed.extend(sources);
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
    // A message with a failed write stays out of the index's set: it is retried whole.
    indexed.retain(|i| failed[*i].is_none());
    (updates, indexed)
}

/// Deletes the finished messages.
async fn delete_finished(ctx: &AppContext, reporter: &Reporter, receipts: Vec<String>) {
    for chunk in receipts.chunks(MAX_BATCH) {
        if let Err(e) = ctx
            .backend
            .queues
            .delete_batch(&ctx.resources.labels, chunk)
            .await
        {
            reporter.error(format!(
                "could not delete written label messages: {e}; a redelivery is skipped by answer id"
            ));
        }
    }
}
