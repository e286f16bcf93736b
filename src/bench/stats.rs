//! `bench stats`: seeds K images with votes under the run's scratch prefix, then times the
//! statistics refresh the Stats tab and `hotdog-tui stats` do: cold (a fresh cache and, on
//! the local backend, a freshly opened store, as in a new process), warm (nothing changed),
//! and after 1% of the label files changed. The totals are checked against what was seeded.

use std::io::Cursor;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::ensure;
use bytes::Bytes;
use futures::StreamExt;
use serde::Serialize;
use serde_json::json;

use super::{Outcome, Scratch, ms, progress, short};
use crate::backend::local::LocalStore;
use crate::backend::{BackendKind, ObjectStore, PutCondition};
use crate::domain::keys;
use crate::domain::label_file::{Answer, Vote};
use crate::domain::stats::{Totals, totals};
use crate::service::statistics::StatsCache;

const SEED_CONCURRENCY: usize = 16;

#[derive(Debug, Clone, clap::Args)]
pub struct StatsArgs {
    /// Images to seed, each with a label file.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub images: u32,
    /// Most votes per image (each gets 1 to this many).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub votes: u32,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
struct Figures {
    images: u32,
    votes: u64,
    seed_s: f64,
    /// Fresh cache (and fresh local store): lists both prefixes and fetches every file.
    cold_ms: f64,
    /// Nothing changed: lists, compares ETags, fetches nothing.
    warm_ms: f64,
    /// After `changed_files` label files changed: fetches only those.
    changed_ms: f64,
    changed_files: u64,
    /// Files the three refreshes fetched.
    fetched: [usize; 3],
    errors: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_error: Option<String>,
}

fn image_name(i: u32) -> String {
    format!("img-{i:06}.png")
}

/// Image `i`'s label file: 1 to `max_votes` answers, reproducible.
fn label_file(i: u32, max_votes: u32) -> (String, u64) {
    let mut rng = fastrand::Rng::with_seed(u64::from(i) + 1);
    let n = rng.u32(1..=max_votes);
    let mut text = String::new();
    for k in 0..n {
        let vote = if rng.bool() {
            Vote::HotDog
        } else {
            Vote::NotHotDog
        };
        // One labeller per answer: each counts as a current vote.
        let answer = Answer {
            kind: vote.into(),
            at: "2026-01-01T00:00:00Z".into(),
            labeller: format!("bench-labeller-{k}"),
            answer_id: format!("{i:06}-{k:04}"),
        };
        text.push_str(&answer.to_line());
    }
    (text, u64::from(n))
}

pub(super) async fn run(s: &Scratch, args: &StatsArgs) -> anyhow::Result<Outcome> {
    let mut f = Figures {
        images: args.images,
        ..Figures::default()
    };
    let started = Instant::now();
    f.votes = seed(s.ctx.backend.store.as_ref(), args).await?;
    f.seed_s = started.elapsed().as_secs_f64();

    // Refresh from the real store with the full prefixes, so no wrapper sits in the timing.
    let images_prefix = format!("{}{}", s.prefix, keys::IMAGES);
    let labels_prefix = format!("{}{}", s.prefix, keys::LABELS);
    let store: Arc<dyn ObjectStore> = match &s.ctx.backend.kind {
        // A new process has no ETag cache: open the store afresh for the cold figure.
        BackendKind::Local { data_dir } => Arc::new(LocalStore::open(data_dir)?),
        BackendKind::Aws { .. } => s.user_ctx.backend.store.clone(),
    };
    let mut cache = StatsCache::new();
    let refresh = async |cache: &mut StatsCache| -> anyhow::Result<(Duration, usize, Totals)> {
        let t = Instant::now();
        let summary = cache
            .refresh_store(store.as_ref(), &images_prefix, &labels_prefix)
            .await?;
        let all = totals(&cache.images());
        Ok((t.elapsed(), summary.fetched, all))
    };
    let (cold, fetched_cold, t_cold) = refresh(&mut cache).await?;
    let (warm, fetched_warm, t_warm) = refresh(&mut cache).await?;
    f.changed_files = u64::from((args.images / 100).max(1));
    for i in 0..f.changed_files as u32 {
        let (mut text, _) = label_file(i, args.votes);
        text.push_str(&format!(
            "1\t2026-01-02T00:00:00Z\tbench-extra\t{i:06}-extra\n"
        ));
        let key = keys::label_file(&image_name(i));
        s.ctx
            .backend
            .store
            .put(
                &key,
                Bytes::from(text),
                "text/plain; charset=utf-8",
                PutCondition::None,
            )
            .await?;
    }
    let (changed, fetched_changed, t_changed) = refresh(&mut cache).await?;
    f.cold_ms = ms(cold);
    f.warm_ms = ms(warm);
    f.changed_ms = ms(changed);
    f.fetched = [fetched_cold, fetched_warm, fetched_changed];

    let mut problems = Vec::new();
    for (what, t, votes) in [
        ("cold", &t_cold, f.votes),
        ("warm", &t_warm, f.votes),
        ("changed", &t_changed, f.votes + f.changed_files),
    ] {
        if t.images != args.images as usize || t.labelled_images != args.images as usize {
            problems.push(format!(
                "{what} refresh saw {} images, {} labelled",
                t.images, t.labelled_images
            ));
        }
        if t.votes != votes {
            problems.push(format!(
                "{what} refresh counted {} votes, {votes} were seeded",
                t.votes
            ));
        }
    }
    if fetched_warm != 0 {
        problems.push(format!(
            "the warm refresh fetched {fetched_warm} unchanged files"
        ));
    }
    f.errors = problems.len() as u64;
    f.first_error = problems.into_iter().next();

    let mut json = serde_json::to_value(&f)?;
    if let Some(obj) = json.as_object_mut() {
        obj.insert("bench".into(), json!("stats"));
        obj.insert("backend".into(), json!(s.ctx.backend.kind.describe()));
    }
    let mut text = format!(
        "stats on {}: {} images, {} votes (seeded in {} s)\n  cold refresh    {} ms ({} files fetched)\n  warm refresh    {} ms (nothing changed, {} fetched)\n  after changes   {} ms ({} files changed, {} fetched)\n  checks          {} errors\n",
        s.ctx.backend.kind.describe(),
        f.images,
        f.votes,
        short(f.seed_s),
        short(f.cold_ms),
        fetched_cold,
        short(f.warm_ms),
        fetched_warm,
        short(f.changed_ms),
        f.changed_files,
        fetched_changed,
        f.errors
    );
    if let Some(e) = &f.first_error {
        text.push_str(&format!("  first error     {e}\n"));
    }
    Ok(Outcome {
        json,
        text,
        passed: f.errors == 0,
    })
}

/// Puts K tiny images and their label files; returns the votes written.
async fn seed(store: &dyn ObjectStore, args: &StatsArgs) -> anyhow::Result<u64> {
    let mut png = Cursor::new(Vec::new());
    image::RgbImage::from_pixel(4, 4, image::Rgb([60, 140, 90]))
        .write_to(&mut png, image::ImageFormat::Png)?;
    let png = Bytes::from(png.into_inner());
    let bar = progress(u64::from(args.images), "seeding");
    let results: Vec<anyhow::Result<u64>> = futures::stream::iter(0..args.images)
        .map(|i| {
            let (png, bar) = (png.clone(), bar.clone());
            async move {
                let name = image_name(i);
                let (text, votes) = label_file(i, args.votes);
                let (image_key, label_key) = (keys::image(&name), keys::label_file(&name));
                let image = store.put(&image_key, png, "image/png", PutCondition::None);
                let label = store.put(
                    &label_key,
                    Bytes::from(text),
                    "text/plain; charset=utf-8",
                    PutCondition::None,
                );
                tokio::try_join!(image, label)?;
                bar.inc(1);
                Ok(votes)
            }
        })
        .buffer_unordered(SEED_CONCURRENCY)
        .collect()
        .await;
    bar.finish_and_clear();
    let mut votes = 0;
    for r in results {
        votes += r?;
    }
    ensure!(votes > 0, "nothing was seeded");
    Ok(votes)
}
