//! The statistics cache: every image's `ImageSummary`, read from the label index
//! (`service::label_index`) rather than from a listing and the label files. A refresh lists
//! `index/` (one request: every shard's ETag) and fetches only the shards whose ETag
//! changed; a missing or stale index is rebuilt from the label files first. Statistics,
//! round sampling and export all read from it. Also the gold answers, read with one
//! conditional GET per refresh, and the quality figures over the cache.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use futures::StreamExt;

use crate::backend::{BackendError, ETag, Fetched, ObjectMeta, ObjectStore};
use crate::domain::compact::LabelETag;
use crate::domain::gold::GoldSet;
use crate::domain::keys;
use crate::domain::label_file::{ImageSummary, LabelFile};
use crate::domain::label_index::{
    INDEX_PREFIX, IndexEntry, IndexShard, IndexedLabel, MANIFEST_KEY, SHARDS, shard_of,
    shard_of_key,
};
use crate::domain::quality::QualityReport;
use crate::domain::stats::{DEFAULT_VOTES_PER_IMAGE, ImageStats};
use crate::service::context::AppContext;
use crate::service::label_index::{
    FetchedShard, PARALLEL_FETCHES, RebuildMode, RebuildReport, Truth, fetch_shard, read_manifest,
    rebuild,
};

/// A watched label file's answer ids, as of its ETag.
#[derive(Debug, Clone)]
struct CachedFile {
    etag: String,
    answer_ids: HashSet<String>,
}

#[derive(Debug, Clone)]
pub struct StatsCache {
    /// Images whose `images/` object exists. The names here, in `labels`, `summaries` and
    /// `shard_names` are one shared allocation per image (at 100,000 images, 13 MB less).
    images: BTreeSet<Arc<str>>,
    /// Shared with the quality computation, which reads a snapshot without a copy; a
    /// change while it runs copies the map (`Arc::make_mut`).
    summaries: Arc<HashMap<Arc<str>, ImageSummary>>,
    /// Each label file's ETag (compact: 100,000 are held) and size, as the index says.
    labels: HashMap<Arc<str>, (LabelETag, u64)>,
    /// The names each shard holds, and the shard's ETag (absent: built in memory).
    shard_names: HashMap<u32, Vec<Arc<str>>>,
    shard_etags: HashMap<u32, ETag>,
    /// The manifest this view follows; `None` until loaded (or while the index cannot be
    /// written and the view is rebuilt in memory).
    manifest_etag: Option<ETag>,
    /// Label files read for `has_answer`, for the images in `watched`.
    watched: HashSet<String>,
    files: HashMap<String, CachedFile>,
    votes_per_image: u64,
    generation: u64,
    /// Holds only a sample of the shards (`load_sample`), until the next `refresh`.
    sampled: bool,
}

/// Shards a first pick reads on a cold start (of `SHARDS`): at 100,000 images about 6,000
/// images to choose from, fetched in one parallel wave.
pub const SAMPLE_SHARDS: usize = 16;

impl Default for StatsCache {
    fn default() -> Self {
        StatsCache {
            images: BTreeSet::new(),
            summaries: Arc::new(HashMap::new()),
            labels: HashMap::new(),
            shard_names: HashMap::new(),
            shard_etags: HashMap::new(),
            manifest_etag: None,
            watched: HashSet::new(),
            files: HashMap::new(),
            votes_per_image: DEFAULT_VOTES_PER_IMAGE,
            generation: 0,
            sampled: false,
        }
    }
}

/// What a refresh did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshSummary {
    pub images: usize,
    pub label_files: usize,
    /// Index shards fetched because their ETag changed (or were new).
    pub shards_fetched: usize,
    /// Bytes of those shards.
    pub shard_bytes: u64,
    /// Set when the index was missing or stale and was rebuilt from the label files.
    pub rebuilt: Option<RebuildReport>,
    /// The index could not be written (no permission): the view was built in memory.
    pub in_memory: bool,
}

impl StatsCache {
    pub fn new() -> StatsCache {
        StatsCache::default()
    }

    pub async fn refresh(&mut self, ctx: &AppContext) -> Result<RefreshSummary, BackendError> {
        self.votes_per_image = ctx.votes_per_image;
        self.refresh_store(&ctx.backend.store).await
    }

    /// Refresh from any store (the bench uses its scratch view).
    pub async fn refresh_store(
        &mut self,
        store: &Arc<dyn ObjectStore>,
    ) -> Result<RefreshSummary, BackendError> {
        let mut summary = match self.manifest_etag.clone() {
            Some(manifest) => {
                let listed = store.list_all(INDEX_PREFIX).await?;
                let same = listed
                    .iter()
                    .any(|o| o.key == MANIFEST_KEY && o.etag == manifest);
                match same {
                    true => match self.apply_listing(store.as_ref(), &listed).await? {
                        Some(s) => s,
                        None => self.load(store).await?,
                    },
                    // Rebuilt or removed: start over from the manifest.
                    false => self.load(store).await?,
                }
            }
            None => self.load(store).await?,
        };
        self.refresh_watched(store.as_ref()).await?;
        summary.images = self.images.len();
        summary.label_files = self.labels.len();
        Ok(summary)
    }

    /// Nothing loaded yet (no index read, no view built).
    pub fn is_cold(&self) -> bool {
        self.manifest_etag.is_none() && self.shard_etags.is_empty() && self.summaries.is_empty()
    }

    /// Holds only a sample of the index (`load_sample`): enough to pick a round from, not
    /// to count the dataset. The next `refresh` fetches the shards not held yet.
    pub fn is_partial(&self) -> bool {
        self.sampled
    }

    /// Whether this view knows `image`'s state: always, unless it holds only a sample and
    /// the image's shard is not in it.
    pub fn holds(&self, image: &str) -> bool {
        !self.sampled || self.shard_etags.contains_key(&shard_of(image))
    }

    /// On a cold view, reads the manifest and `SAMPLE_SHARDS` shards chosen at random (one
    /// parallel wave, no listing), so a first round can be picked at once on a large
    /// store while the whole index loads. `false` (nothing held) when there is no index of
    /// this build's format yet: then only a `refresh` (which rebuilds it) will do.
    pub async fn load_sample(
        &mut self,
        store: &dyn ObjectStore,
        rng: &mut fastrand::Rng,
    ) -> Result<bool, BackendError> {
        if !self.is_cold() {
            return Ok(self.sampled);
        }
        if read_manifest(store).await?.is_none() {
            return Ok(false);
        }
        let mut shards: Vec<u32> = (0..SHARDS).collect();
        rng.shuffle(&mut shards);
        shards.truncate(SAMPLE_SHARDS);
        let fetched = fetch_shards(store, shards).await;
        let mut held = Vec::with_capacity(fetched.len());
        for (shard, r) in fetched {
            match r? {
                Some(FetchedShard {
                    etag,
                    content: Some(content),
                    ..
                }) => held.push((shard, etag, content)),
                // Of another format: the index is stale, a refresh rebuilds it.
                Some(FetchedShard { content: None, .. }) => return Ok(false),
                // Not written yet: no image of this shard is known to the index.
                None => {}
            }
        }
        for (shard, etag, content) in held {
            self.replace_shard(shard, Some((etag, content)));
        }
        self.sampled = true;
        Ok(true)
    }

    /// Loads the whole index; rebuilds it first when missing or of another format. A
    /// store that refuses the rebuild's writes gets a view built in memory instead. On a
    /// sampled view only the shards not held (or changed since) are fetched.
    async fn load(&mut self, store: &Arc<dyn ObjectStore>) -> Result<RefreshSummary, BackendError> {
        let summary = self.load_all(store).await;
        if summary.is_ok() {
            self.sampled = false;
        }
        summary
    }

    async fn load_all(
        &mut self,
        store: &Arc<dyn ObjectStore>,
    ) -> Result<RefreshSummary, BackendError> {
        let mut rebuilt = None;
        for attempt in 0..2 {
            if let Some((etag, _)) = read_manifest(store.as_ref()).await? {
                let listed = store.list_all(INDEX_PREFIX).await?;
                if let Some(mut s) = self.apply_listing(store.as_ref(), &listed).await? {
                    self.manifest_etag = Some(etag);
                    s.rebuilt = rebuilt;
                    return Ok(s);
                }
            }
            if attempt == 0 {
                match rebuild(store, &self.known_labels(), RebuildMode::Verify).await {
                    Ok((report, _)) => {
                        tracing::info!(?report, "rebuilt the label index");
                        rebuilt = Some(report);
                    }
                    Err(BackendError::AccessDenied { what, detail }) => {
                        tracing::warn!(
                            "cannot write the label index ({what}: {detail}); reading the label files instead"
                        );
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        // No readable index even after a rebuild (or no right to write one): build the
        // view in memory from the label files, reusing what is known by ETag.
        let (report, truth) = rebuild(store, &self.known_labels(), RebuildMode::InMemory).await?;
        self.replace_all(truth);
        Ok(RefreshSummary {
            rebuilt: Some(report),
            in_memory: true,
            ..RefreshSummary::default()
        })
    }

    /// Label files this view knows, to spare re-reading them in a rebuild.
    fn known_labels(&self) -> HashMap<String, IndexedLabel> {
        self.labels
            .iter()
            .filter_map(|(image, (etag, bytes))| {
                Some((
                    image.to_string(),
                    IndexedLabel {
                        etag: etag.to_string(),
                        bytes: *bytes,
                        summary: self.summaries.get(image)?.clone(),
                    },
                ))
            })
            .collect()
    }

    /// Fetches the shards whose ETag differs from this view's and applies them. `None`
    /// when a shard is of another format (the index is stale).
    async fn apply_listing(
        &mut self,
        store: &dyn ObjectStore,
        listed: &[ObjectMeta],
    ) -> Result<Option<RefreshSummary>, BackendError> {
        let listed: HashMap<u32, &str> = listed
            .iter()
            .filter_map(|o| Some((shard_of_key(&o.key)?, o.etag.as_str())))
            .filter(|(s, _)| *s < SHARDS)
            .collect();
        let changed: Vec<u32> = listed
            .iter()
            .filter(|(s, etag)| self.shard_etags.get(s).is_none_or(|e| e != *etag))
            .map(|(s, _)| *s)
            .collect();
        let fetched = fetch_shards(store, changed).await;
        let mut decoded = Vec::with_capacity(fetched.len());
        let mut summary = RefreshSummary::default();
        for (shard, r) in fetched {
            match r? {
                Some(FetchedShard {
                    etag,
                    size,
                    content: Some(content),
                }) => {
                    summary.shard_bytes += size;
                    decoded.push((shard, Some((etag, content))));
                }
                Some(FetchedShard { content: None, .. }) => return Ok(None),
                None => decoded.push((shard, None)),
            }
        }
        summary.shards_fetched = decoded.len();
        let gone: Vec<u32> = self
            .shard_names
            .keys()
            .filter(|s| !listed.contains_key(s))
            .copied()
            .collect();
        for shard in gone {
            self.replace_shard(shard, None);
        }
        for (shard, content) in decoded {
            self.replace_shard(shard, content);
        }
        Ok(Some(summary))
    }

    /// Puts a shard's entries in place of what this view held for it.
    fn replace_shard(&mut self, shard: u32, content: Option<(ETag, IndexShard)>) {
        for name in self.shard_names.remove(&shard).unwrap_or_default() {
            self.images.remove(&name);
            Arc::make_mut(&mut self.summaries).remove(&name);
            self.labels.remove(&name);
        }
        self.shard_etags.remove(&shard);
        self.generation += 1;
        let Some((etag, content)) = content else {
            return;
        };
        let mut names = Vec::with_capacity(content.images.len());
        for (name, entry) in content.images {
            names.push(self.insert_entry(&name, entry));
        }
        self.shard_names.insert(shard, names);
        self.shard_etags.insert(shard, etag);
    }

    /// Returns the name as shared by this view's maps.
    fn insert_entry(&mut self, name: &str, entry: IndexEntry) -> Arc<str> {
        let shared: Arc<str> = Arc::from(name);
        if entry.image {
            self.images.insert(Arc::clone(&shared));
        }
        if let Some(label) = entry.label {
            self.labels.insert(
                Arc::clone(&shared),
                (LabelETag::new(&label.etag), label.bytes),
            );
            Arc::make_mut(&mut self.summaries).insert(Arc::clone(&shared), label.summary);
        }
        shared
    }

    /// Replaces the whole view with one built in memory (no stored index behind it).
    fn replace_all(&mut self, truth: Truth) {
        self.images.clear();
        Arc::make_mut(&mut self.summaries).clear();
        self.labels.clear();
        self.shard_names.clear();
        self.shard_etags.clear();
        self.manifest_etag = None;
        self.generation += 1;
        for (name, entry) in truth {
            let shard = shard_of(&name);
            let name = self.insert_entry(&name, entry);
            self.shard_names.entry(shard).or_default().push(name);
        }
    }

    /// Watch these images' label files so `has_answer` can tell when an answer landed.
    pub fn watch(&mut self, images: impl IntoIterator<Item = String>) {
        self.watched = images.into_iter().collect();
        self.files.retain(|image, _| self.watched.contains(image));
    }

    /// Reads the watched label files whose ETag in the index differs from the copy held.
    async fn refresh_watched(&mut self, store: &dyn ObjectStore) -> Result<(), BackendError> {
        let stale: Vec<(String, Option<String>)> = self
            .watched
            .iter()
            .filter(
                |image| match (self.labels.get(image.as_str()), self.files.get(*image)) {
                    (Some((etag, _)), Some(file)) => *etag != *file.etag,
                    (Some(_), None) => true,
                    (None, _) => false,
                },
            )
            .map(|image| (image.clone(), self.files.get(image).map(|f| f.etag.clone())))
            .collect();
        let results: Vec<(String, Result<Fetched, BackendError>)> = futures::stream::iter(stale)
            .map(|(image, old)| async move {
                let key = keys::label_file(&image);
                let r = match old {
                    Some(etag) => store.get_if_changed(&key, &etag).await,
                    None => store.get(&key).await.map(|o| match o {
                        Some(o) => Fetched::Changed(o),
                        None => Fetched::Missing,
                    }),
                };
                (image, r)
            })
            .buffer_unordered(PARALLEL_FETCHES)
            .collect()
            .await;
        for (image, r) in results {
            match r? {
                Fetched::Changed(o) => {
                    let file = LabelFile::parse(&o.bytes);
                    let answer_ids = file.answer_ids().into_iter().map(str::to_string).collect();
                    self.files.insert(
                        image,
                        CachedFile {
                            etag: o.etag,
                            answer_ids,
                        },
                    );
                }
                Fetched::Unchanged => {}
                Fetched::Missing => {
                    self.files.remove(&image);
                }
            }
        }
        Ok(())
    }

    /// Statistics for every image, plus label files whose image is gone; sorted by name.
    pub fn images(&self) -> Vec<ImageStats> {
        let mut names: Vec<&str> = self
            .images
            .iter()
            .chain(self.labels.keys())
            .map(|n| &**n)
            .collect();
        names.sort_unstable();
        names.dedup();
        names
            .into_iter()
            .map(|n| match self.summaries.get(n) {
                Some(s) => ImageStats::from_summary(n, s, self.votes_per_image),
                None => ImageStats::no_votes(n),
            })
            .collect()
    }

    /// Goes up whenever a refresh found something new (a changed shard, a rebuild).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Each label file's summary, by image name.
    pub fn summaries(&self) -> &HashMap<Arc<str>, ImageSummary> {
        &self.summaries
    }

    /// The same, shared: a snapshot for work off this task, without copying it.
    pub fn summaries_snapshot(&self) -> Arc<HashMap<Arc<str>, ImageSummary>> {
        Arc::clone(&self.summaries)
    }

    pub fn votes_per_image(&self) -> u64 {
        self.votes_per_image
    }

    /// (done, total): images with the votes they need, of all images in the store.
    pub fn progress(&self) -> (usize, usize) {
        crate::domain::sampling::progress(
            &self.image_names(),
            &self.summaries,
            self.votes_per_image,
        )
    }

    /// Every image in the store, sorted by name.
    pub fn image_names(&self) -> Vec<String> {
        self.images.iter().map(|n| n.to_string()).collect()
    }

    /// Images this labeller has answered at least once (vote or skip).
    pub fn labelled_by(&self, user: &str) -> HashSet<String> {
        self.summaries
            .iter()
            .filter(|(_, s)| s.answered_by(user))
            .map(|(image, _)| image.to_string())
            .collect()
    }

    /// Whether the answer is in the image's label file; only for watched images.
    pub fn has_answer(&self, image: &str, answer_id: &str) -> bool {
        self.files
            .get(image)
            .is_some_and(|c| c.answer_ids.contains(answer_id))
    }
}

/// Fetches and decodes these shards, `PARALLEL_FETCHES` at a time.
async fn fetch_shards(
    store: &dyn ObjectStore,
    shards: Vec<u32>,
) -> Vec<(u32, Result<Option<FetchedShard>, BackendError>)> {
    futures::stream::iter(shards)
        .map(|shard| async move {
            let key = crate::domain::label_index::shard_key(shard);
            (shard, fetch_shard(store, &key).await)
        })
        .buffer_unordered(PARALLEL_FETCHES)
        .collect()
        .await
}

/// The gold answers (`keys::GOLD_SET`) as last read, kept fresh with one conditional GET per
/// refresh. A gold object that cannot be read as gold answers leaves the set empty and says
/// why (`problem`), so the statistics still show; a store error is returned.
#[derive(Debug, Clone, Default)]
pub struct GoldCache {
    etag: Option<String>,
    gold: GoldSet,
    problem: Option<String>,
}

impl GoldCache {
    pub fn new() -> GoldCache {
        GoldCache::default()
    }

    /// Reads the object if it changed; `true` when the answers (or their problem) changed.
    pub async fn refresh(&mut self, store: &dyn ObjectStore) -> Result<bool, BackendError> {
        let fetched = match &self.etag {
            Some(etag) => store.get_if_changed(keys::GOLD_SET, etag).await?,
            None => match store.get(keys::GOLD_SET).await? {
                Some(o) => Fetched::Changed(o),
                None => Fetched::Missing,
            },
        };
        Ok(match fetched {
            Fetched::Unchanged => false,
            Fetched::Missing => {
                let had = self.etag.is_some();
                *self = GoldCache::default();
                had
            }
            Fetched::Changed(o) => {
                (self.gold, self.problem) = match GoldSet::parse(&o.bytes) {
                    Ok(gold) => (gold, None),
                    Err(e) => (GoldSet::new(), Some(e.to_string())),
                };
                self.etag = Some(o.etag);
                true
            }
        })
    }

    pub fn gold(&self) -> &GoldSet {
        &self.gold
    }

    /// Why the gold object was not used, if it could not be read.
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }
}

/// The quality figures (`domain::quality`) over every label file in the cache.
pub fn quality(cache: &StatsCache, gold: &GoldSet) -> QualityReport {
    crate::domain::quality::assess(&named(cache.summaries()), gold)
}

/// The summaries as (image name, summary) pairs, the shape the domain's quality and export
/// functions read.
pub fn named(summaries: &HashMap<Arc<str>, ImageSummary>) -> Vec<(&str, &ImageSummary)> {
    summaries.iter().map(|(image, s)| (&**image, s)).collect()
}
