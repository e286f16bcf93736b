//! The label index in the bucket (`domain::label_index`): writing it (group-committed,
//! conditional writes per shard, so concurrent writers never lose each other's entries),
//! reading its shards, and rebuilding or verifying it from the label files, which stay
//! the source of truth.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;

use crate::backend::{BackendError, ETag, Fetched, ObjectStore, PutCondition};
use crate::domain::keys;
use crate::domain::label_file::ImageSummary;
use crate::domain::label_index::{
    INDEX_PREFIX, IndexEntry, IndexManifest, IndexShard, IndexUpdate, IndexedLabel, MANIFEST_KEY,
    SHARDS, shard_key, shard_of, shard_of_key,
};
use crate::service::group_commit::GroupCommit;

pub const PARALLEL_FETCHES: usize = 32;
const MAX_ATTEMPTS: u32 = 30;

type ShardCache = Arc<Mutex<HashMap<u32, (ETag, IndexShard)>>>;

/// Writes index updates: all updates of one call for a shard go into one conditional
/// write of it, and updates arriving while that shard is being written wait and go into
/// the next one. Shards this writer wrote are remembered with their ETag, so the next
/// write of a shard is a single if-match put unless someone else wrote it meanwhile.
pub struct IndexWriter {
    group: GroupCommit<Vec<IndexUpdate>, Result<(), BackendError>>,
}

impl IndexWriter {
    pub fn new(store: Arc<dyn ObjectStore>) -> IndexWriter {
        let cache: ShardCache = Arc::new(Mutex::new(HashMap::new()));
        IndexWriter {
            group: GroupCommit::new(Arc::new(
                move |key: String, items: Vec<Vec<IndexUpdate>>| {
                    let (store, cache) = (store.clone(), cache.clone());
                    Box::pin(async move {
                        let n = items.len();
                        let updates: Vec<IndexUpdate> = items.into_iter().flatten().collect();
                        let result = match shard_of_key(&key) {
                            Some(shard) => {
                                write_shard(store.as_ref(), &cache, shard, &updates).await
                            }
                            None => Err(BackendError::Invalid(format!("{key} is no index shard"))),
                        };
                        vec![result; n]
                    })
                },
            )),
        }
    }

    /// Records `updates` in their shards (several shards at once); returns when all are
    /// written, or the first failure.
    pub async fn record(&self, updates: Vec<IndexUpdate>) -> Result<(), BackendError> {
        let mut by_shard: BTreeMap<u32, Vec<IndexUpdate>> = BTreeMap::new();
        for u in updates {
            by_shard.entry(shard_of(u.image())).or_default().push(u);
        }
        let results: Vec<Result<(), BackendError>> = futures::stream::iter(by_shard)
            .map(|(shard, updates)| async move {
                self.group
                    .submit(&shard_key(shard), updates)
                    .await
                    .unwrap_or_else(|| {
                        Err(BackendError::Other(format!(
                            "the writer of index shard {shard} stopped unexpectedly"
                        )))
                    })
            })
            .buffer_unordered(PARALLEL_FETCHES)
            .collect()
            .await;
        results.into_iter().collect()
    }
}

fn jitter(d: Duration) -> Duration {
    d.mul_f64(0.5 + fastrand::f64())
}

/// Reads a shard: `(etag, shard)`, an empty shard when missing or of another format (a
/// writer then replaces it; readers treat such a shard as a stale index).
async fn read_shard(
    store: &dyn ObjectStore,
    shard: u32,
) -> Result<(Option<ETag>, IndexShard), BackendError> {
    Ok(match store.get(&shard_key(shard)).await? {
        Some(o) => (
            Some(o.etag),
            IndexShard::decode(&o.bytes).unwrap_or_else(|| IndexShard::empty(shard)),
        ),
        None => (None, IndexShard::empty(shard)),
    })
}

async fn write_shard(
    store: &dyn ObjectStore,
    cache: &ShardCache,
    shard: u32,
    updates: &[IndexUpdate],
) -> Result<(), BackendError> {
    let key = shard_key(shard);
    let cached = cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&shard);
    let mut current: Option<(Option<ETag>, IndexShard)> = cached.map(|(e, s)| (Some(e), s));
    let mut conflicts = 0;
    let mut backoff = Duration::from_millis(5);
    loop {
        let (etag, mut content) = match current.take() {
            Some(c) => c,
            None => read_shard(store, shard).await?,
        };
        let mut changed = false;
        for u in updates {
            changed |= content.apply(u);
        }
        if !changed {
            // Nothing to write against what we hold; if that was our remembered copy,
            // make sure it is still the stored one before saying so.
            if let Some(e) = &etag {
                match store.get_if_changed(&key, e).await? {
                    Fetched::Unchanged => {}
                    Fetched::Changed(o) => {
                        let fresh = IndexShard::decode(&o.bytes)
                            .unwrap_or_else(|| IndexShard::empty(shard));
                        current = Some((Some(o.etag), fresh));
                        continue;
                    }
                    Fetched::Missing => {
                        current = Some((None, IndexShard::empty(shard)));
                        continue;
                    }
                }
                remember(cache, shard, e.clone(), content);
            }
            return Ok(());
        }
        let condition = match &etag {
            Some(e) => PutCondition::IfMatch(e.clone()),
            None => PutCondition::IfAbsent,
        };
        match store
            .put(
                &key,
                Bytes::from(content.encode()),
                "application/json",
                condition,
            )
            .await
        {
            Ok(new_etag) => {
                remember(cache, shard, new_etag, content);
                return Ok(());
            }
            Err(BackendError::PreconditionFailed | BackendError::NotFound { .. }) => {
                conflicts += 1;
                if conflicts >= MAX_ATTEMPTS {
                    return Err(BackendError::Contended {
                        key,
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

fn remember(cache: &ShardCache, shard: u32, etag: ETag, content: IndexShard) {
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(shard, (etag, content));
}

/// The manifest, if there is one of this build's format.
pub async fn read_manifest(
    store: &dyn ObjectStore,
) -> Result<Option<(ETag, IndexManifest)>, BackendError> {
    Ok(store
        .get(MANIFEST_KEY)
        .await?
        .and_then(|o| IndexManifest::decode(&o.bytes).map(|m| (o.etag, m))))
}

/// A shard as a reader gets it: its ETag, size, and content (`None` when it is of another
/// format or unreadable); `None` when there is no such shard. Decoded on the blocking
/// pool, so the shards of a cold load decode on every core at once.
pub async fn fetch_shard(
    store: &dyn ObjectStore,
    key: &str,
) -> Result<Option<FetchedShard>, BackendError> {
    let Some(o) = store.get(key).await? else {
        return Ok(None);
    };
    let size = o.bytes.len() as u64;
    let bytes = o.bytes;
    let content = tokio::task::spawn_blocking(move || IndexShard::decode(&bytes))
        .await
        .map_err(|e| BackendError::Other(format!("decoding an index shard failed: {e}")))?;
    Ok(Some(FetchedShard {
        etag: o.etag,
        size,
        content,
    }))
}

pub struct FetchedShard {
    pub etag: ETag,
    pub size: u64,
    pub content: Option<IndexShard>,
}

/// What a rebuild or verification found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RebuildReport {
    pub images: usize,
    pub label_files: usize,
    /// Label files read (new, or changed since the index saw them).
    pub fetched: usize,
    /// Index entries that differed from the files and were corrected.
    pub repaired: usize,
    pub shards_written: usize,
    pub manifest_written: bool,
}

/// What the label files and images say, per image (the index as it should be).
pub type Truth = HashMap<String, IndexEntry>;

/// How `rebuild` goes about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebuildMode {
    /// Build the view only, write nothing, trust no summary in the index (only those
    /// passed as known): a reader without write access, or a check of the index.
    InMemory,
    /// Trust summaries whose ETag matches the file's; correct what differs; write the
    /// manifest if missing.
    Verify,
    /// Read every label file again, correct what differs, and write the manifest anew
    /// (so every reader reloads the whole index).
    Rebuild,
}

/// Rebuilds or verifies the index from `images/` and `labels/`: reads the index as it
/// is, lists both prefixes, reads the label files whose ETag the index (or `known`) does
/// not already hold, and corrects every entry that differs with compare-and-set updates
/// (an entry a worker changed meanwhile is left to the worker: it is newer). Writes the
/// manifest last, so its presence says the index is complete.
pub async fn rebuild(
    store: &Arc<dyn ObjectStore>,
    known: &HashMap<String, IndexedLabel>,
    mode: RebuildMode,
) -> Result<(RebuildReport, Truth), BackendError> {
    let write = mode != RebuildMode::InMemory;
    let s = store.as_ref();
    let (indexed, images, labels, manifest) = tokio::try_join!(
        read_index(s),
        s.list_all(keys::IMAGES),
        s.list_all(keys::LABELS),
        read_manifest(s),
    )?;
    let mut truth: Truth = HashMap::new();
    for o in &images {
        if let Some(name) = o.key.strip_prefix(keys::IMAGES) {
            truth.entry(name.to_string()).or_default().image = true;
        }
    }
    let mut to_fetch = Vec::new();
    let mut report = RebuildReport {
        images: images.len(),
        label_files: labels.len(),
        ..RebuildReport::default()
    };
    for o in &labels {
        let Some(image) = keys::image_of_label_file(&o.key) else {
            continue;
        };
        let from_index = indexed
            .get(image)
            .and_then(|e| e.label.as_ref())
            .filter(|l| mode == RebuildMode::Verify && l.etag == o.etag);
        let reuse = from_index.or_else(|| {
            known
                .get(image)
                .filter(|l| mode != RebuildMode::Rebuild && l.etag == o.etag)
        });
        match reuse {
            Some(l) => truth.entry(image.to_string()).or_default().label = Some(l.clone()),
            None => to_fetch.push(image.to_string()),
        }
    }
    report.fetched = to_fetch.len();
    let fetched: Vec<(String, Result<Option<IndexedLabel>, BackendError>)> =
        futures::stream::iter(to_fetch)
            .map(|image| async move {
                let r = s.get(&keys::label_file(&image)).await.map(|o| {
                    o.map(|o| IndexedLabel {
                        bytes: o.bytes.len() as u64,
                        summary: ImageSummary::from_bytes(&o.bytes),
                        etag: o.etag,
                    })
                });
                (image, r)
            })
            .buffer_unordered(PARALLEL_FETCHES)
            .collect()
            .await;
    for (image, r) in fetched {
        if let Some(label) = r? {
            truth.entry(image).or_default().label = Some(label);
        }
    }
    let mut repairs = Vec::new();
    let names: HashSet<&String> = truth.keys().chain(indexed.keys()).collect();
    for name in names {
        let expected = indexed.get(name).cloned().unwrap_or_default();
        let found = truth.get(name).cloned().unwrap_or_default();
        if expected != found {
            repairs.push(IndexUpdate::Repair {
                image: name.clone(),
                expected,
                found,
            });
        }
    }
    report.repaired = repairs.len();
    report.shards_written = repairs
        .iter()
        .map(|r| shard_of(r.image()))
        .collect::<HashSet<_>>()
        .len();
    if write {
        IndexWriter::new(store.clone()).record(repairs).await?;
        if manifest.is_none() || mode == RebuildMode::Rebuild {
            write_manifest(s, PutCondition::None).await?;
            report.manifest_written = true;
        }
    } else {
        report.shards_written = 0;
    }
    Ok((report, truth))
}

async fn write_manifest(
    store: &dyn ObjectStore,
    condition: PutCondition,
) -> Result<ETag, BackendError> {
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let id = uuid::Uuid::new_v4().simple().to_string();
    store
        .put(
            MANIFEST_KEY,
            Bytes::from(IndexManifest::new(now, id).encode()),
            "application/json",
            condition,
        )
        .await
}

/// Marks the index of a new, empty store complete (its empty index is exact), so the first
/// reader does not rebuild. `false` when there was a manifest already.
pub async fn start_empty(store: &dyn ObjectStore) -> Result<bool, BackendError> {
    match write_manifest(store, PutCondition::IfAbsent).await {
        Ok(_) => Ok(true),
        Err(BackendError::PreconditionFailed) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Every entry of the index as stored (shards of another format count as empty).
pub async fn read_index(store: &dyn ObjectStore) -> Result<Truth, BackendError> {
    let listed = store.list_all(INDEX_PREFIX).await?;
    let shards: Vec<u32> = listed
        .iter()
        .filter_map(|o| shard_of_key(&o.key))
        .filter(|s| *s < SHARDS)
        .collect();
    let read: Vec<Result<(Option<ETag>, IndexShard), BackendError>> = futures::stream::iter(shards)
        .map(|shard| async move { read_shard(store, shard).await })
        .buffer_unordered(PARALLEL_FETCHES)
        .collect()
        .await;
    let mut all = HashMap::new();
    for r in read {
        all.extend(r?.1.images);
    }
    Ok(all)
}
