//! The statistics cache: each label file's `ImageSummary` kept in memory and refreshed
//! cheaply — list `labels/` (ETags come with the listing) and fetch only files whose ETag
//! changed. Statistics, round sampling and export all read from it. Also the gold answers,
//! read with one conditional GET per refresh, and the quality figures over the cache.

use std::collections::{HashMap, HashSet};

use futures::StreamExt;

use crate::backend::{BackendError, Fetched, ObjectStore};
use crate::domain::gold::GoldSet;
use crate::domain::keys;
use crate::domain::label_file::{ImageSummary, LabelFile};
use crate::domain::quality::QualityReport;
use crate::domain::stats::{DEFAULT_VOTES_PER_IMAGE, ImageStats};
use crate::service::context::AppContext;

const PARALLEL_FETCHES: usize = 16;

#[derive(Debug, Clone)]
struct CachedFile {
    etag: String,
    answer_ids: HashSet<String>,
}

#[derive(Debug, Clone)]
pub struct StatsCache {
    images: Vec<String>,
    files: HashMap<String, CachedFile>,
    summaries: HashMap<String, ImageSummary>,
    votes_per_image: u64,
    generation: u64,
}

impl Default for StatsCache {
    fn default() -> Self {
        StatsCache {
            images: Vec::new(),
            files: HashMap::new(),
            summaries: HashMap::new(),
            votes_per_image: DEFAULT_VOTES_PER_IMAGE,
            generation: 0,
        }
    }
}

/// What a refresh did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshSummary {
    pub images: usize,
    pub label_files: usize,
    /// Files fetched because their ETag changed (or were new).
    pub fetched: usize,
}

impl StatsCache {
    pub fn new() -> StatsCache {
        StatsCache::default()
    }

    pub async fn refresh(&mut self, ctx: &AppContext) -> Result<RefreshSummary, BackendError> {
        self.votes_per_image = ctx.votes_per_image;
        self.refresh_store(ctx.backend.store.as_ref(), keys::IMAGES, keys::LABELS)
            .await
    }

    /// Refresh from any store and prefixes (the bench uses a scratch prefix).
    pub async fn refresh_store(
        &mut self,
        store: &dyn ObjectStore,
        images_prefix: &str,
        labels_prefix: &str,
    ) -> Result<RefreshSummary, BackendError> {
        let (images, labels) =
            tokio::try_join!(store.list_all(images_prefix), store.list_all(labels_prefix))?;
        let images: Vec<String> = images
            .iter()
            .filter_map(|o| o.key.strip_prefix(images_prefix).map(str::to_string))
            .collect();
        if images != self.images {
            self.images = images;
            self.generation += 1;
        }
        let listed: HashMap<String, String> = labels
            .into_iter()
            .filter_map(|o| {
                let image = o
                    .key
                    .strip_prefix(labels_prefix)?
                    .strip_suffix(".txt")?
                    .to_string();
                Some((image, o.etag))
            })
            .collect();
        let before = self.files.len();
        self.files.retain(|image, _| listed.contains_key(image));
        self.summaries.retain(|image, _| listed.contains_key(image));
        if self.files.len() != before {
            self.generation += 1;
        }
        let changed: Vec<(String, Option<String>)> = listed
            .iter()
            .filter(|(image, etag)| self.files.get(*image).is_none_or(|c| &c.etag != *etag))
            .map(|(image, _)| (image.clone(), self.files.get(image).map(|c| c.etag.clone())))
            .collect();
        let fetched = changed.len();
        let results: Vec<(String, Result<Fetched, BackendError>)> = futures::stream::iter(changed)
            .map(|(image, old)| async move {
                let key = format!("{labels_prefix}{image}.txt");
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
                    self.generation += 1;
                    let file = LabelFile::parse(&o.bytes);
                    let answer_ids = file.answer_ids().into_iter().map(str::to_string).collect();
                    self.summaries
                        .insert(image.clone(), ImageSummary::from_file(&file));
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
                    self.generation += 1;
                    self.files.remove(&image);
                    self.summaries.remove(&image);
                }
            }
        }
        Ok(RefreshSummary {
            images: self.images.len(),
            label_files: self.files.len(),
            fetched,
        })
    }

    /// Statistics for every image, plus label files whose image is gone; sorted by name.
    pub fn images(&self) -> Vec<ImageStats> {
        // Sort + dedup merges the two name sets in O(n log n); a `contains` per file key
        // made this quadratic (85 ms at 10,000 images).
        let mut names: Vec<&String> = self.images.iter().chain(self.files.keys()).collect();
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

    /// Goes up whenever a refresh found something new (a changed file, another listing).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Each label file's summary, by image name.
    pub fn summaries(&self) -> &HashMap<String, ImageSummary> {
        &self.summaries
    }

    pub fn votes_per_image(&self) -> u64 {
        self.votes_per_image
    }

    /// (done, total): images with the votes they need, of all images in the store.
    pub fn progress(&self) -> (usize, usize) {
        crate::domain::sampling::progress(&self.images, &self.summaries, self.votes_per_image)
    }

    pub fn image_names(&self) -> Vec<String> {
        self.images.clone()
    }

    /// Images this labeller has answered at least once (vote or skip).
    pub fn labelled_by(&self, user: &str) -> HashSet<String> {
        self.summaries
            .iter()
            .filter(|(_, s)| s.answered_by(user))
            .map(|(image, _)| image.clone())
            .collect()
    }

    pub fn has_answer(&self, image: &str, answer_id: &str) -> bool {
        self.files
            .get(image)
            .is_some_and(|c| c.answer_ids.contains(answer_id))
    }
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
    let images: Vec<(&str, &ImageSummary)> = cache
        .summaries()
        .iter()
        .map(|(image, s)| (image.as_str(), s))
        .collect();
    crate::domain::quality::assess(&images, gold)
}
