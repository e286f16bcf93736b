//! The label index against both backends (local, and moto): it stays equal to what the
//! label files say while several workers and a bulk writer write answers for images in
//! the same shards at once, and it is rebuilt when missing or stale (another format,
//! label files written around the worker).

use crate::common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hotdog_tui::backend::{Backend, PutCondition};
use hotdog_tui::domain::keys;
use hotdog_tui::domain::label_file::{Answer, Vote};
use hotdog_tui::domain::label_index::{MANIFEST_KEY, shard_key, shard_of};
use hotdog_tui::service::context::AppContext;
use hotdog_tui::service::label_index::{IndexWriter, RebuildMode, read_index, rebuild};
use hotdog_tui::service::label_writes::LabelWrites;
use hotdog_tui::service::statistics::StatsCache;
use hotdog_tui::service::upload::upload_bytes;
use hotdog_tui::worker::{self, WorkerConfig};

on_both_backends!(
    the_index_stays_equal_to_the_files_under_concurrent_writers,
    a_missing_or_stale_index_is_rebuilt,
);

/// `n` image names that fall into only two shards, so every writer contends on them.
fn crowded_names(n: usize) -> Vec<String> {
    let first = shard_of("img-0.png");
    let second = shard_of("img-1.png");
    (0..)
        .map(|i| format!("img-{i}.png"))
        .filter(|name| [first, second].contains(&shard_of(name)))
        .take(n)
        .collect()
}

async fn upload(ctx: &AppContext, names: &[String]) {
    for name in names {
        let r = upload_bytes(ctx, name, Bytes::from(common::png(4, 4, [9, 99, 199]))).await;
        assert_eq!(r.stored_name(), Some(name.as_str()), "{r:?}");
    }
}

/// The index as stored must be exactly what a full read of the label files says.
async fn assert_index_matches_files(ctx: &AppContext) {
    let store = &ctx.backend.store;
    let indexed = read_index(store.as_ref()).await.unwrap();
    let (_, truth) = rebuild(store, &HashMap::new(), RebuildMode::InMemory)
        .await
        .unwrap();
    let mut names: Vec<&String> = indexed.keys().chain(truth.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        assert_eq!(
            indexed.get(name),
            truth.get(name),
            "index entry of {name} differs from the files"
        );
    }
}

async fn the_index_stays_equal_to_the_files_under_concurrent_writers(b: Backend) {
    let ctx = common::app_context(b, "admin").await;
    let images = crowded_names(12);
    upload(&ctx, &images).await;
    // Three workers, each with its own label-file and index writers (as three processes
    // would have), draining the same label queue.
    let workers: Vec<_> = (0..3)
        .map(|_| {
            worker::spawn(
                ctx.clone(),
                WorkerConfig {
                    pollers: 2,
                    wait: Duration::from_millis(200),
                    prune_idle: None,
                    verify_index: None,
                    ..WorkerConfig::default()
                },
            )
        })
        .collect();
    let mut tasks = Vec::new();
    let mut expected = 0usize;
    for l in 0..4 {
        let mut c = ctx.clone();
        c.user = format!("labeller-{l}");
        let images = images.clone();
        expected += 5 * 4;
        tasks.push(tokio::spawn(async move {
            for round in 0..5 {
                let answers: Vec<(String, Vote)> = (0..4)
                    .map(|k| {
                        let vote = if (round + k + l) % 2 == 0 {
                            Vote::HotDog
                        } else {
                            Vote::NotHotDog
                        };
                        (images[(round * 4 + k + l) % images.len()].clone(), vote)
                    })
                    .collect();
                hotdog_tui::service::labeller::submit_round(&c, &answers)
                    .await
                    .unwrap();
            }
        }));
    }
    // Meanwhile a bulk writer (an import, say) appends to the same files and records
    // them in the index with writers of its own.
    let bulk = {
        let store = ctx.backend.store.clone();
        let images = images.clone();
        tokio::spawn(async move {
            let files = LabelWrites::new(store.clone());
            let index = IndexWriter::new(store);
            for (i, image) in images.iter().enumerate() {
                let answer = Answer {
                    kind: Vote::HotDog.into(),
                    at: "2026-12-01T07:00:00Z".into(),
                    labeller: String::new(),
                    answer_id: format!("bulk-{i}"),
                };
                let o = files.append(image, vec![answer]).await.unwrap();
                index
                    .record(o.index_update(image).into_iter().collect())
                    .await
                    .unwrap();
            }
        })
    };
    expected += images.len();
    for t in tasks {
        t.await.unwrap();
    }
    bulk.await.unwrap();
    // Wait until every answer is in the files and the workers are idle.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let mut lines = 0;
        for image in &images {
            if let Some(o) = ctx
                .backend
                .store
                .get(&keys::label_file(image))
                .await
                .unwrap()
            {
                lines += hotdog_tui::domain::label_file::LabelFile::parse(&o.bytes)
                    .lines
                    .len();
            }
        }
        let depth = ctx
            .backend
            .queues
            .depth(&ctx.resources.labels)
            .await
            .unwrap();
        if (lines >= expected && depth.visible + depth.in_flight == 0) || Instant::now() > deadline
        {
            assert_eq!(lines, expected, "answers lost or doubled in the files");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for w in workers {
        w.shutdown().await;
    }
    assert_index_matches_files(&ctx).await;
    // And a reader sees exactly the files' totals.
    let mut cache = StatsCache::new();
    cache.refresh(&ctx).await.unwrap();
    let answers: u64 = cache.images().iter().map(|s| s.answers).sum();
    assert_eq!(answers as usize, expected);
    assert_eq!(cache.image_names().len(), images.len());
}

async fn a_missing_or_stale_index_is_rebuilt(b: Backend) {
    let ctx = common::app_context(b, "admin").await;
    let store = ctx.backend.store.clone();
    let images = crowded_names(4);
    upload(&ctx, &images).await;
    let files = LabelWrites::new(store.clone());
    let index = IndexWriter::new(store.clone());
    let answer = |id: &str, who: &str| Answer {
        kind: Vote::NotHotDog.into(),
        at: "2026-12-01T07:00:00Z".into(),
        labeller: who.into(),
        answer_id: id.into(),
    };
    for (i, image) in images.iter().enumerate() {
        let o = files
            .append(image, vec![answer(&format!("a{i}"), "ann")])
            .await
            .unwrap();
        index
            .record(o.index_update(image).into_iter().collect())
            .await
            .unwrap();
    }

    // No manifest yet (nobody built the index): the first reader builds it.
    let mut cache = StatsCache::new();
    let first = cache.refresh(&ctx).await.unwrap();
    assert!(first.rebuilt.is_some() && !first.in_memory, "{first:?}");
    assert!(store.get(MANIFEST_KEY).await.unwrap().is_some());
    assert_index_matches_files(&ctx).await;
    let warm = cache.refresh(&ctx).await.unwrap();
    assert_eq!((warm.shards_fetched, warm.rebuilt.is_none()), (0, true));

    // Missing: the manifest is deleted; a new reader rebuilds.
    store.delete(MANIFEST_KEY).await.unwrap();
    let mut fresh = StatsCache::new();
    assert!(fresh.refresh(&ctx).await.unwrap().rebuilt.is_some());
    // The old reader notices the manifest changed and reloads, fetching only shards
    // whose ETag changed (none: the rebuild found nothing to correct).
    let again = cache.refresh(&ctx).await.unwrap();
    assert_eq!(again.shards_fetched, 0, "{again:?}");
    assert_eq!(cache.summaries().len(), images.len());

    // Stale: a shard of another format (an older build's) makes the index be rebuilt.
    let shard = shard_key(shard_of(&images[0]));
    store
        .put(
            &shard,
            Bytes::from_static(br#"{"format":"v0-s256-0000000000000000","shard":0,"images":{}}"#),
            "application/json",
            PutCondition::None,
        )
        .await
        .unwrap();
    let mut fresh = StatsCache::new();
    let r = fresh.refresh(&ctx).await.unwrap();
    assert!(r.rebuilt.is_some(), "{r:?}");
    assert_eq!(fresh.summaries().len(), images.len());
    assert_index_matches_files(&ctx).await;

    // Written around the worker: the index lags until a verification corrects it.
    let key = keys::label_file(&images[1]);
    let mut bytes = store.get(&key).await.unwrap().unwrap().bytes.to_vec();
    bytes.extend_from_slice(answer("around", "bob").to_line().as_bytes());
    store
        .put(&key, bytes.into(), "text/plain", PutCondition::None)
        .await
        .unwrap();
    fresh.refresh(&ctx).await.unwrap();
    assert_eq!(
        fresh.summaries()[images[1].as_str()].answers,
        1,
        "not seen yet"
    );
    let (report, _) = rebuild(&store, &HashMap::new(), RebuildMode::Verify)
        .await
        .unwrap();
    assert_eq!((report.repaired, report.fetched), (1, 1), "{report:?}");
    let seen = fresh.refresh(&ctx).await.unwrap();
    assert_eq!(seen.shards_fetched, 1);
    assert_eq!(fresh.summaries()[images[1].as_str()].answers, 2);
    assert_index_matches_files(&ctx).await;
    let names: HashSet<String> = fresh.image_names().into_iter().collect();
    assert_eq!(names, images.iter().cloned().collect());
}
