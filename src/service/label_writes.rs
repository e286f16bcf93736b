//! Appending answers to a label file without losing anyone's: read the file with its ETag,
//! append the answers whose ids are not there yet, and put it back if-match (create-only
//! for a new file), retrying with jittered backoff when another writer won. `LabelWrites`
//! group-commits: answers for a file that arrive while a write of it is in flight go into
//! the next write of it together, so a busy file costs one read-modify-write per round of
//! arrivals instead of one per answer. The worker writes through here, and so does
//! `import-original`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::backend::{BackendError, ETag, ObjectStore, PutCondition};
use crate::domain::keys;
use crate::domain::label_file::{Answer, append_answers_marked};
use crate::domain::label_index::IndexUpdate;
use crate::service::group_commit::GroupCommit;

const MAX_ATTEMPTS: u32 = 30;

fn jitter(d: Duration) -> Duration {
    d.mul_f64(0.5 + fastrand::f64())
}

/// What one append did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendOutcome {
    pub added: usize,
    pub already_there: usize,
    /// Conditional writes lost to another writer before this one won.
    pub conflicts: u32,
    /// The file as it stands after the append (`None`: there is no file, nothing to add).
    pub file: Option<(ETag, Bytes)>,
}

impl AppendOutcome {
    /// What the label index should learn from this append, for `image`.
    pub fn index_update(&self, image: &str) -> Option<IndexUpdate> {
        self.file
            .as_ref()
            .map(|(etag, bytes)| IndexUpdate::label_written(image, etag, bytes))
    }
}

/// Appends `answers` to `key` without losing any concurrent writer's answers.
pub async fn append_with_retry(
    store: &dyn ObjectStore,
    key: &str,
    answers: &[Answer],
) -> Result<AppendOutcome, BackendError> {
    let (added, conflicts, file) = append_marked(store, key, answers, None).await?;
    let n = added.iter().filter(|a| **a).count();
    Ok(AppendOutcome {
        added: n,
        already_there: answers.len() - n,
        conflicts,
        file,
    })
}

/// The read-modify-write loop; says per answer whether this call added it. `known` is a
/// version of the file this process wrote or read before: the first attempt appends to it
/// without reading (an if-match put on a stale version fails, and the loop reads again).
/// Label files only grow, so an answer found in an older version is in the file.
async fn append_marked(
    store: &dyn ObjectStore,
    key: &str,
    answers: &[Answer],
    mut known: Option<(ETag, Bytes)>,
) -> Result<(Vec<bool>, u32, Option<(ETag, Bytes)>), BackendError> {
    let mut conflicts = 0;
    let mut backoff = Duration::from_millis(2);
    loop {
        let current = match known.take() {
            Some(k) => Some(k),
            None => store.get(key).await?.map(|o| (o.etag, o.bytes)),
        };
        let (existing, condition) = match &current {
            Some((etag, bytes)) => (bytes.as_ref(), PutCondition::IfMatch(etag.clone())),
            None => (&[][..], PutCondition::IfAbsent),
        };
        let (bytes, added) = append_answers_marked(existing, answers);
        if !added.iter().any(|a| *a) {
            return Ok((added, conflicts, current));
        }
        let bytes = Bytes::from(bytes);
        match store
            .put(key, bytes.clone(), "text/plain; charset=utf-8", condition)
            .await
        {
            Ok(etag) => return Ok((added, conflicts, Some((etag, bytes)))),
            // Lost the race (or the file vanished under an if-match): read again and retry.
            Err(BackendError::PreconditionFailed | BackendError::NotFound { .. }) => {
                conflicts += 1;
                if conflicts >= MAX_ATTEMPTS {
                    return Err(BackendError::Contended {
                        key: key.to_string(),
                        attempts: conflicts,
                    });
                }
                tokio::time::sleep(jitter(backoff)).await;
                backoff = (backoff * 2).min(Duration::from_millis(500));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Files remembered by `LabelWrites` (the last version it wrote or read of each); past
/// this many the memory is cleared and files are read again.
const REMEMBERED_FILES: usize = 4096;

type Remembered = Arc<std::sync::Mutex<HashMap<String, (ETag, Bytes)>>>;

/// Group-committed appends to the label files of one store. The last version of each
/// file it wrote is remembered, so its next write of that file is a single if-match put
/// unless someone else wrote the file meanwhile.
pub struct LabelWrites {
    group: GroupCommit<Vec<Answer>, Result<AppendOutcome, BackendError>>,
}

impl LabelWrites {
    pub fn new(store: Arc<dyn ObjectStore>) -> LabelWrites {
        let remembered: Remembered = Arc::default();
        LabelWrites {
            group: GroupCommit::new(Arc::new(move |key: String, items: Vec<Vec<Answer>>| {
                let (store, remembered) = (store.clone(), remembered.clone());
                Box::pin(async move {
                    let known = remembered
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(&key);
                    let (results, file) = write_together(store.as_ref(), &key, items, known).await;
                    if let Some(file) = file {
                        let mut r = remembered.lock().unwrap_or_else(|e| e.into_inner());
                        if r.len() >= REMEMBERED_FILES {
                            r.clear();
                        }
                        r.insert(key, file);
                    }
                    results
                })
            })),
        }
    }

    /// Appends `answers` to `image`'s label file, together with whatever else is waiting
    /// for that file.
    pub async fn append(
        &self,
        image: &str,
        answers: Vec<Answer>,
    ) -> Result<AppendOutcome, BackendError> {
        self.group
            .submit(&keys::label_file(image), answers)
            .await
            .unwrap_or_else(|| {
                Err(BackendError::Other(format!(
                    "the writer of {image}'s label file stopped unexpectedly; the answers are retried"
                )))
            })
    }
}

/// One read-modify-write carrying every waiting caller's answers; each caller learns
/// which of its own were added. Also returns the file as it now stands.
async fn write_together(
    store: &dyn ObjectStore,
    key: &str,
    items: Vec<Vec<Answer>>,
    known: Option<(ETag, Bytes)>,
) -> (
    Vec<Result<AppendOutcome, BackendError>>,
    Option<(ETag, Bytes)>,
) {
    let all: Vec<Answer> = items.iter().flatten().cloned().collect();
    match append_marked(store, key, &all, known).await {
        Ok((added, conflicts, file)) => {
            let mut flags = added.into_iter();
            let results = items
                .iter()
                .map(|answers| {
                    let n = flags.by_ref().take(answers.len()).filter(|a| *a).count();
                    Ok(AppendOutcome {
                        added: n,
                        already_there: answers.len() - n,
                        conflicts,
                        file: file.clone(),
                    })
                })
                .collect();
            (results, file)
        }
        Err(e) => (items.iter().map(|_| Err(e.clone())).collect(), None),
    }
}
