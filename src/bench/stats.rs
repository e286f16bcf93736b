//! `bench stats`: seeds K images and their answers under the run's scratch prefix through
//! the product's own write paths (images checked and stored as an upload does, answers
//! grouped per file through the worker's group-committed label writes, the label index
//! recorded in one write per shard per chunk), then measures what a labeller's terminal
//! does against that store: the first round of a fresh process (picked as the TUI picks
//! it, from a sample of the index: manifest, a wave of shards, claims, pick, claim), the
//! whole index loaded cold (what the TUI loads beside that first pick, for the Stats tab),
//! a warm refresh with nothing changed, and a refresh after 100 answers landed; each with
//! its request count and time, and the process's RSS. Totals are checked against what
//! was seeded.

use std::collections::HashSet;
use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::ensure;
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use serde::Serialize;
use serde_json::json;

use super::{Outcome, PrefixedStore, Scratch, ms, progress, short};
use crate::backend::local::LocalStore;
use crate::backend::{
    BackendKind, ETag, Fetched, ListPage, Object, ObjectMeta, ObjectStore, PutCondition, Result,
};
use crate::domain::label_file::{Answer, Vote};
use crate::domain::sampling::RoundChoice;
use crate::domain::stats::{Totals, totals};
use crate::service::context::AppContext;
use crate::service::label_index::IndexWriter;
use crate::service::label_writes::LabelWrites;
use crate::service::rounds::RoundPicker;
use crate::service::statistics::StatsCache;
use crate::service::upload::store_image;

const SEED_CONCURRENCY: usize = 32;
/// Images seeded between two index records (one write per touched shard each).
const SEED_CHUNK: u32 = 10_000;
/// Answers that land between the warm refresh and the next.
const LANDED: u32 = 100;
const WARM_RUNS: usize = 5;

#[derive(Debug, Clone, clap::Args)]
pub struct StatsArgs {
    /// Images to seed, each with a label file.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(100..=1_000_000))]
    pub images: u32,
    /// Most answers per image (each gets 1 to this many, 5 on average with the default).
    #[arg(long, default_value_t = 9, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub votes: u32,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Requests one phase made, by kind (counted here, around the store this bench reads).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
struct Requests {
    get: u64,
    get_if_changed: u64,
    list: u64,
    put: u64,
    other: u64,
}

impl Requests {
    fn total(&self) -> u64 {
        self.get + self.get_if_changed + self.list + self.put + self.other
    }
}

#[derive(Debug, Clone, Default, Serialize)]
struct Phase {
    ms: f64,
    requests: Requests,
    requests_total: u64,
    shards_fetched: usize,
    shard_bytes: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
struct Figures {
    images: u32,
    answers: u64,
    seed_s: f64,
    /// A fresh process: read the claims and a sample of the index, pick and claim a round
    /// (the whole index when the sample holds too few open images).
    first_round: Phase,
    /// A fresh process loading the whole index (the Stats tab's first figures; the TUI
    /// does it beside the first pick).
    whole_index: Phase,
    /// Nothing changed (median of several).
    warm: Phase,
    /// After `landed` answers on as many images were written by the worker's path.
    landed: u32,
    after_landed: Phase,
    /// Resident set of this process once the whole index is in, and what the first round
    /// and the whole index added.
    rss_mb: f64,
    rss_growth_mb: f64,
    errors: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_error: Option<String>,
}

fn image_name(i: u32) -> String {
    format!("img-{i:06}.png")
}

/// Image `i`'s answers: 1 to `max_votes`, each by another labeller, reproducible.
fn answers_for(i: u32, max_votes: u32) -> Vec<Answer> {
    let mut rng = fastrand::Rng::with_seed(u64::from(i) + 1);
    let n = rng.u32(1..=max_votes);
    (0..n)
        .map(|k| Answer {
            kind: if rng.bool() {
                Vote::HotDog
            } else {
                Vote::NotHotDog
            }
            .into(),
            at: "2026-01-01T00:00:00Z".into(),
            labeller: format!("bench-labeller-{k}"),
            answer_id: format!("{i:06}-{k:04}"),
        })
        .collect()
}

pub(super) async fn run(s: &Scratch, args: &StatsArgs) -> anyhow::Result<Outcome> {
    let mut f = Figures {
        images: args.images,
        landed: LANDED,
        ..Figures::default()
    };
    let started = Instant::now();
    f.answers = seed(&s.ctx, args).await?;
    f.seed_s = started.elapsed().as_secs_f64();

    // A fresh process: on the local backend a freshly opened store (no ETag cache).
    let inner: Arc<dyn ObjectStore> = match &s.ctx.backend.kind {
        BackendKind::Local { data_dir } => Arc::new(PrefixedStore::new(
            Arc::new(LocalStore::open(data_dir)?),
            s.prefix.clone(),
        )),
        BackendKind::Aws { .. } => s.ctx.backend.store.clone(),
    };
    let counter = Arc::new(CountingStore::new(inner));
    let mut ctx = s.ctx.clone();
    ctx.backend.store = counter.clone();
    ctx.user = "bench-first-round".into();

    let rss_before = rss_mb();
    let mut picker = RoundPicker::sampling_first(7);
    let none = HashSet::new();
    counter.reset();
    let t = Instant::now();
    let choice = picker.next_round(&ctx, &none, &none, &[]).await?;
    f.first_round = Phase {
        ms: ms(t.elapsed()),
        requests: counter.reset(),
        ..Phase::default()
    };
    f.first_round.requests_total = f.first_round.requests.total();
    let mut problems = Vec::new();
    if !matches!(&choice, RoundChoice::Round(r) if !r.is_empty()) {
        problems.push(format!("the first round picked nothing: {choice:?}"));
    }
    let t = Instant::now();
    let mut whole = StatsCache::new();
    let r = whole.refresh(&ctx).await?;
    f.whole_index = Phase {
        ms: ms(t.elapsed()),
        requests: counter.reset(),
        shards_fetched: r.shards_fetched,
        shard_bytes: r.shard_bytes,
        ..Phase::default()
    };
    f.whole_index.requests_total = f.whole_index.requests.total();
    picker.adopt(whole);
    f.rss_mb = rss_mb();
    f.rss_growth_mb = f.rss_mb - rss_before;
    check(&picker, args, f.answers, "whole index", &mut problems);

    let mut warm = Vec::new();
    for _ in 0..WARM_RUNS {
        let t = Instant::now();
        let r = picker.stats.refresh(&ctx).await?;
        let elapsed = t.elapsed();
        let requests = counter.reset();
        warm.push(Phase {
            ms: ms(elapsed),
            requests_total: requests.total(),
            requests,
            shards_fetched: r.shards_fetched,
            shard_bytes: r.shard_bytes,
        });
    }
    warm.sort_by(|a, b| a.ms.total_cmp(&b.ms));
    f.warm = warm[warm.len() / 2].clone();
    check(&picker, args, f.answers, "warm", &mut problems);
    if warm.iter().any(|w| w.shards_fetched > 0) {
        problems.push("a warm refresh fetched shards though nothing changed".into());
    }

    land_answers(&s.ctx, args.images).await?;
    counter.reset();
    let t = Instant::now();
    let r = picker.stats.refresh(&ctx).await?;
    f.after_landed = Phase {
        ms: ms(t.elapsed()),
        requests: counter.reset(),
        shards_fetched: r.shards_fetched,
        shard_bytes: r.shard_bytes,
        ..Phase::default()
    };
    f.after_landed.requests_total = f.after_landed.requests.total();
    check(
        &picker,
        args,
        f.answers + u64::from(LANDED),
        "after the answers landed",
        &mut problems,
    );
    // Leave no claim behind in the scratch space's claims (removed with it anyway).
    picker.claim(&ctx, Vec::new()).await?;

    f.errors = problems.len() as u64;
    f.first_error = problems.into_iter().next();
    let mut json = serde_json::to_value(&f)?;
    if let Some(obj) = json.as_object_mut() {
        obj.insert("bench".into(), json!("stats"));
        obj.insert("backend".into(), json!(s.ctx.backend.kind.describe()));
    }
    let line = |p: &Phase| {
        format!(
            "{} ms, {} requests ({} get, {} conditional get, {} list, {} put), {} shards fetched ({} KB)",
            short(p.ms),
            p.requests_total,
            p.requests.get,
            p.requests.get_if_changed,
            p.requests.list,
            p.requests.put,
            p.shards_fetched,
            p.shard_bytes / 1024
        )
    };
    let mut text = format!(
        "stats on {}: {} images, {} answers (seeded in {} s)\n  first round      {} ms, {} requests ({} get, {} list, {} put)\n  whole index      {}\n  warm refresh     {} (median of {WARM_RUNS})\n  {} answers landed {}\n  memory           {:.0} MB resident with the whole index ({:+.0} MB for the first round and it)\n  checks           {} errors\n",
        s.ctx.backend.kind.describe(),
        f.images,
        f.answers,
        short(f.seed_s),
        short(f.first_round.ms),
        f.first_round.requests_total,
        f.first_round.requests.get,
        f.first_round.requests.list,
        f.first_round.requests.put,
        line(&f.whole_index),
        line(&f.warm),
        LANDED,
        line(&f.after_landed),
        f.rss_mb,
        f.rss_growth_mb,
        f.errors
    );
    if let Some(e) = &f.first_error {
        text.push_str(&format!("  first error      {e}\n"));
    }
    Ok(Outcome {
        json,
        text,
        passed: f.errors == 0,
    })
}

fn check(picker: &RoundPicker, args: &StatsArgs, answers: u64, what: &str, out: &mut Vec<String>) {
    let t: Totals = totals(&picker.stats.images());
    if t.images != args.images as usize || t.labelled_images != args.images as usize {
        out.push(format!(
            "{what}: saw {} images, {} labelled, {} were seeded",
            t.images, t.labelled_images, args.images
        ));
    }
    if t.answers != answers || t.votes != answers {
        out.push(format!(
            "{what}: counted {} answers and {} votes, {answers} were written",
            t.answers, t.votes
        ));
    }
}

/// Seeds in chunks: each chunk's images (checked and stored as an upload does) and label
/// files (the worker's group-committed appends) in parallel, then one index record.
async fn seed(ctx: &AppContext, args: &StatsArgs) -> anyhow::Result<u64> {
    let mut png = Cursor::new(Vec::new());
    image::RgbImage::from_pixel(4, 4, image::Rgb([60, 140, 90]))
        .write_to(&mut png, image::ImageFormat::Png)?;
    let png = Bytes::from(png.into_inner());
    // The scratch space is a new store: its index starts complete, as a new install's.
    crate::service::label_index::start_empty(ctx.backend.store.as_ref()).await?;
    let files = LabelWrites::new(ctx.backend.store.clone());
    let index = IndexWriter::new(ctx.backend.store.clone());
    let bar = progress(u64::from(args.images), "seeding");
    let mut answers = 0;
    let mut start = 0;
    while start < args.images {
        let end = (start + SEED_CHUNK).min(args.images);
        let results: Vec<anyhow::Result<(u64, Vec<_>)>> = futures::stream::iter(start..end)
            .map(|i| {
                let (png, bar, files) = (png.clone(), bar.clone(), &files);
                async move {
                    let name = image_name(i);
                    let stored = store_image(ctx, &name, png).await;
                    ensure!(
                        stored.stored_name() == Some(name.as_str()),
                        "seeding {name}: {stored:?}"
                    );
                    let answers = answers_for(i, args.votes);
                    let n = answers.len() as u64;
                    let o = files.append(&name, answers).await?;
                    bar.inc(1);
                    let image = crate::domain::label_index::IndexUpdate::ImageAdded {
                        image: name.clone(),
                    };
                    Ok((
                        n,
                        [Some(image), o.index_update(&name)]
                            .into_iter()
                            .flatten()
                            .collect(),
                    ))
                }
            })
            .buffer_unordered(SEED_CONCURRENCY)
            .collect()
            .await;
        let mut updates = Vec::new();
        for r in results {
            let (n, u) = r?;
            answers += n;
            updates.extend(u);
        }
        index.record(updates).await?;
        start = end;
    }
    bar.finish_and_clear();
    ensure!(answers > 0, "nothing was seeded");
    Ok(answers)
}

/// `LANDED` answers on as many images spread over the store, written as the worker
/// writes a batch: group-committed appends, then one index record.
async fn land_answers(ctx: &AppContext, images: u32) -> anyhow::Result<()> {
    let files = LabelWrites::new(ctx.backend.store.clone());
    let step = (images / LANDED).max(1);
    let results: Vec<anyhow::Result<Option<_>>> = futures::stream::iter(0..LANDED)
        .map(|k| {
            let files = &files;
            async move {
                let name = image_name((k * step) % images);
                let answer = Answer {
                    kind: Vote::HotDog.into(),
                    at: "2026-01-02T00:00:00Z".into(),
                    labeller: "bench-extra".into(),
                    answer_id: format!("extra-{k}"),
                };
                let o = files.append(&name, vec![answer]).await?;
                Ok(o.index_update(&name))
            }
        })
        .buffer_unordered(SEED_CONCURRENCY)
        .collect()
        .await;
    let mut updates = Vec::new();
    for r in results {
        updates.extend(r?);
    }
    IndexWriter::new(ctx.backend.store.clone())
        .record(updates)
        .await?;
    Ok(())
}

/// This process's resident set, in MB (0 where /proc is missing).
fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Counts the requests made through it. Local to this bench: enough to check the round
/// trips each phase costs.
struct CountingStore {
    inner: Arc<dyn ObjectStore>,
    counts: [AtomicU64; 5],
}

impl CountingStore {
    fn new(inner: Arc<dyn ObjectStore>) -> CountingStore {
        CountingStore {
            inner,
            counts: Default::default(),
        }
    }

    fn count(&self, i: usize) {
        self.counts[i].fetch_add(1, Ordering::Relaxed);
    }

    /// The counts so far, and starts again from zero.
    fn reset(&self) -> Requests {
        let take = |i: usize| self.counts[i].swap(0, Ordering::Relaxed);
        Requests {
            get: take(0),
            get_if_changed: take(1),
            list: take(2),
            put: take(3),
            other: take(4),
        }
    }
}

#[async_trait]
impl ObjectStore for CountingStore {
    async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
        condition: PutCondition,
    ) -> Result<ETag> {
        self.count(3);
        self.inner.put(key, bytes, content_type, condition).await
    }
    async fn get(&self, key: &str) -> Result<Option<Object>> {
        self.count(0);
        self.inner.get(key).await
    }
    async fn get_if_changed(&self, key: &str, etag: &str) -> Result<Fetched> {
        self.count(1);
        self.inner.get_if_changed(key, etag).await
    }
    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>> {
        self.count(4);
        self.inner.head(key).await
    }
    async fn list_page(&self, prefix: &str, continuation: Option<String>) -> Result<ListPage> {
        self.count(2);
        self.inner.list_page(prefix, continuation).await
    }
    async fn list_all(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        // The inner store's own listing (the local one does not page); counted as the
        // pages of 1,000 keys S3 would return.
        let all = self.inner.list_all(prefix).await?;
        self.counts[2].fetch_add((all.len() as u64).div_ceil(1000).max(1), Ordering::Relaxed);
        Ok(all)
    }
    async fn delete(&self, key: &str) -> Result<()> {
        self.count(4);
        self.inner.delete(key).await
    }
    async fn ensure_bucket(&self) -> Result<bool> {
        self.count(4);
        self.inner.ensure_bucket().await
    }
}
