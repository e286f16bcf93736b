//! `bench labels`: N labellers submit rounds of answers to the label queue while an embedded
//! worker writes them into label files; the figure is answers/s from the first submit to the
//! last answer written, and the files are read back to count lost and duplicated answers.
//! `--baseline` writes the same answers one read-modify-write per answer, with no queue.

use std::collections::{HashMap, HashSet};
use std::io::Cursor;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use serde_json::json;

use super::{Outcome, PrefixedStore, Scratch, per_second, progress, ratio, short};
use crate::backend::counted::RequestCounts;
use crate::backend::{ObjectStore, PutCondition};
use crate::domain::keys;
use crate::domain::label_file::{Answer, LabelFile, LabelLine, Vote};
use crate::service::context::AppContext;
use crate::service::labeller::{new_answer_id, now_rfc3339, submit_round};
use crate::worker::{self, WorkerConfig, append_with_retry};

/// Answers per round, as the labelling screen shows them.
const ROUND_SIZE: usize = 4;

#[derive(Debug, Clone, clap::Args)]
pub struct LabelsArgs {
    /// Concurrent labellers.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub labellers: u16,
    /// Rounds each labeller submits (4 answers a round, one queue message each).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rounds: u32,
    /// Scratch images the rounds are drawn from (fewer means more answers per label file).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub images: u32,
    /// Receive loops of the embedded worker.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub pollers: u16,
    /// Also write the same answers the simplest correct way (one read-modify-write per
    /// answer, no queue) and print our throughput over its.
    #[arg(long)]
    pub baseline: bool,
    /// Give up when no answer has been written for this many seconds.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Label like people do instead: each labeller asks for rounds (fewest votes first,
    /// claims, never an image twice) until every image has N votes or nothing is left for
    /// her; then checks coverage, votes beyond N, repeats and losses.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1000), conflicts_with = "baseline")]
    pub votes_per_image: Option<u64>,
    /// With --votes-per-image: how long a labeller looks at a round (±50 %), in ms.
    #[arg(long, default_value_t = 1500, value_parser = clap::value_parser!(u64).range(0..=600_000))]
    pub think_ms: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
struct Figures {
    answers: u64,
    elapsed_s: f64,
    answers_per_s: f64,
    /// Submitted answers found in no label file.
    lost: u64,
    /// Extra copies of answers found more than once.
    duplicated: u64,
    /// Lines that are no submitted answer, or one in the wrong file or with the wrong vote.
    unexpected: u64,
    /// Conditional writes that lost a race and were retried.
    conflicts: u64,
    /// Submits or writes that failed outright.
    errors: u64,
    /// Errors the worker reported and retried (a transient failure is not a lost answer).
    worker_errors: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_error: Option<String>,
    /// Requests to the queues and the store from the first submit to the last write, by
    /// kind (`total` first).
    #[serde(serialize_with = "requests_json")]
    requests: RequestCounts,
}

fn requests_json<S: serde::Serializer>(r: &RequestCounts, s: S) -> Result<S::Ok, S::Error> {
    r.to_json().serialize(s)
}

/// One submitted answer, as it must be found in `labels/<image>.txt`.
#[derive(Debug, Clone)]
struct Expected {
    image: String,
    vote: Vote,
    labeller: String,
}

pub(super) fn image_name(i: u32) -> String {
    format!("img-{i:05}.png")
}

/// Labeller `l`'s rounds: distinct images per round, votes at random, reproducible.
fn plan(labeller: u16, rounds: u32, images: u32) -> Vec<Vec<(String, Vote)>> {
    let mut rng = fastrand::Rng::with_seed(u64::from(labeller) * 7919 + 1);
    let per_round = ROUND_SIZE.min(images as usize);
    (0..rounds)
        .map(|_| {
            let mut picked = HashSet::new();
            while picked.len() < per_round {
                picked.insert(rng.u32(0..images));
            }
            picked
                .into_iter()
                .map(|i| {
                    let vote = if rng.bool() {
                        Vote::HotDog
                    } else {
                        Vote::NotHotDog
                    };
                    (image_name(i), vote)
                })
                .collect()
        })
        .collect()
}

fn labeller(l: u16) -> String {
    format!("bench-labeller-{l}")
}

pub(super) async fn run(s: &Scratch, args: &LabelsArgs) -> anyhow::Result<Outcome> {
    seed_images(&s.ctx, args.images).await?;
    let ours = run_ours(s, args).await?;
    let baseline = match args.baseline {
        true => Some(run_baseline(s, args).await?),
        false => None,
    };
    let ratio = baseline
        .as_ref()
        .and_then(|b| ratio(ours.answers_per_s, b.answers_per_s));
    let clean = |f: &Figures| f.lost + f.duplicated + f.unexpected + f.errors == 0;
    let passed = clean(&ours) && baseline.as_ref().is_none_or(clean);
    let mut json = serde_json::to_value(&ours)?;
    if let Some(obj) = json.as_object_mut() {
        obj.insert("bench".into(), json!("labels"));
        obj.insert("backend".into(), json!(s.ctx.backend.kind.describe()));
        obj.insert("labellers".into(), json!(args.labellers));
        obj.insert("rounds".into(), json!(args.rounds));
        obj.insert("images".into(), json!(args.images));
        obj.insert("pollers".into(), json!(args.pollers));
        if let Some(b) = &baseline {
            obj.insert("baseline".into(), serde_json::to_value(b)?);
            obj.insert("ratio".into(), json!(ratio));
        }
    }
    let mut text = format!(
        "labels on {}: {} labellers × {} rounds of {} answers over {} images, embedded worker ({} pollers)\n",
        s.ctx.backend.kind.describe(),
        args.labellers,
        args.rounds,
        ROUND_SIZE.min(args.images as usize),
        args.images,
        args.pollers
    );
    text.push_str(&lines(&ours));
    if let Some(b) = &baseline {
        text.push_str("baseline, one read-modify-write per answer (no queue):\n");
        text.push_str(&lines(b));
        if let Some(r) = ratio {
            text.push_str(&format!(
                "  ratio        {r:.2}× the baseline's answers/s\n"
            ));
        }
    }
    Ok(Outcome { json, text, passed })
}

fn lines(f: &Figures) -> String {
    let mut t = format!(
        "  throughput   {:.0} answers/s written ({} in {} s, {} write conflicts retried)\n  requests     {}\n  checks       {} lost, {} duplicated, {} unexpected, {} errors\n",
        f.answers_per_s,
        f.answers,
        short(f.elapsed_s),
        f.conflicts,
        f.requests.total(),
        f.lost,
        f.duplicated,
        f.unexpected,
        f.errors
    );
    if let Some(e) = &f.first_error {
        t.push_str(&format!("  first error  {e}\n"));
    }
    t
}

/// Tiny real PNGs, so the worker's "does this image exist" check passes as in production.
pub(super) async fn seed_images(ctx: &AppContext, images: u32) -> anyhow::Result<()> {
    let mut png = Cursor::new(Vec::new());
    image::RgbImage::from_pixel(4, 4, image::Rgb([200, 120, 40]))
        .write_to(&mut png, image::ImageFormat::Png)?;
    let png = Bytes::from(png.into_inner());
    let store = ctx.backend.store.as_ref();
    let puts = (0..images).map(|i| {
        let png = png.clone();
        async move {
            let key = keys::image(&image_name(i));
            store.put(&key, png, "image/png", PutCondition::None).await
        }
    });
    use futures::StreamExt;
    let results: Vec<_> = futures::stream::iter(puts)
        .buffer_unordered(16)
        .collect()
        .await;
    for r in results {
        r?;
    }
    Ok(())
}

async fn run_ours(s: &Scratch, args: &LabelsArgs) -> anyhow::Result<Figures> {
    let (backend, counter) = s.ctx.backend.counted();
    let counted = AppContext {
        backend,
        ..s.ctx.clone()
    };
    let handle = worker::spawn(
        counted.clone(),
        WorkerConfig {
            pollers: usize::from(args.pollers),
            prune_idle: None,
            ..WorkerConfig::default()
        },
    );
    let total = u64::from(args.labellers) * u64::from(args.rounds);
    let bar = progress(
        total * ROUND_SIZE.min(args.images as usize) as u64,
        "labels",
    );
    let started = Instant::now();
    let before = counter.snapshot();
    let mut tasks = tokio::task::JoinSet::new();
    for l in 0..args.labellers {
        let mut ctx = counted.clone();
        ctx.user = labeller(l);
        let rounds = plan(l, args.rounds, args.images);
        tasks.spawn(async move {
            let mut sent: Vec<(String, Expected)> = Vec::new();
            let mut failure = None;
            for round in rounds {
                match submit_round(&ctx, &round).await {
                    Ok(ids) => {
                        sent.extend(ids.into_iter().zip(round).map(|(id, (image, vote))| {
                            let who = ctx.user.clone();
                            (
                                id,
                                Expected {
                                    image,
                                    vote,
                                    labeller: who,
                                },
                            )
                        }))
                    }
                    Err(e) => failure = Some(e.to_string()),
                }
            }
            (sent, failure)
        });
    }
    let mut expected = HashMap::new();
    let mut figures = Figures::default();
    while let Some(joined) = tasks.join_next().await {
        let (sent, failure) = joined?;
        expected.extend(sent);
        if let Some(f) = failure {
            figures.errors += 1;
            figures
                .first_error
                .get_or_insert(format!("submitting: {f}"));
        }
    }
    // Wait until the worker added every answer, or progress stalls. Answers found already
    // there are not counted: SQS may hand one message to two pollers at once, and the second
    // finds the first's answers, while other answers still wait in the queue.
    let mut status = handle.status.clone();
    let stall = Duration::from_secs(args.timeout);
    let want = expected.len() as u64;
    let mut last_progress = (0, Instant::now());
    loop {
        let done = {
            let st = status.borrow_and_update();
            st.answers_written
        };
        bar.set_position(done);
        if done >= want {
            break;
        }
        if done != last_progress.0 {
            last_progress = (done, Instant::now());
        } else if last_progress.1.elapsed() >= stall {
            break;
        }
        // Woken by every status change; the timeout only re-checks for a stall.
        let _ = tokio::time::timeout(Duration::from_millis(200), status.changed()).await;
    }
    let elapsed = started.elapsed();
    figures.requests = counter.snapshot().since(&before);
    bar.finish_and_clear();
    let worker_status = handle.status.borrow().clone();
    handle.shutdown().await;
    figures.answers = want;
    figures.elapsed_s = elapsed.as_secs_f64();
    figures.conflicts = worker_status.retries;
    figures.worker_errors = worker_status.errors;
    if let Some(e) = worker_status.last_error {
        figures.first_error.get_or_insert(format!("worker: {e}"));
    }
    verify(s.ctx.backend.store.as_ref(), &expected, &mut figures).await?;
    // Only answers that really landed, once, count towards the throughput.
    figures.answers_per_s = per_second(want.saturating_sub(figures.lost), elapsed);
    Ok(figures)
}

/// Reads every label file back and compares it with what was submitted.
async fn verify(
    store: &dyn ObjectStore,
    expected: &HashMap<String, Expected>,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let images: HashSet<&str> = expected.values().map(|e| e.image.as_str()).collect();
    let mut seen: HashMap<&str, u64> = HashMap::new();
    for image in images {
        let Some(object) = store.get(&keys::label_file(image)).await? else {
            continue;
        };
        for line in LabelFile::parse(&object.bytes).lines {
            let LabelLine::Full(a) = line else {
                figures.unexpected += 1;
                continue;
            };
            match expected.get_key_value(a.answer_id.as_str()) {
                Some((id, e))
                    if e.image == image
                        && a.kind.vote() == Some(e.vote)
                        && e.labeller == a.labeller =>
                {
                    *seen.entry(id.as_str()).or_default() += 1;
                }
                _ => figures.unexpected += 1,
            }
        }
    }
    figures.lost = expected
        .keys()
        .filter(|id| !seen.contains_key(id.as_str()))
        .count() as u64;
    figures.duplicated = seen.values().map(|n| n - 1).sum();
    Ok(())
}

/// The baseline: each labeller writes its answers straight into the label files, one
/// conditional read-modify-write per answer, in a `baseline/` prefix of the scratch space.
async fn run_baseline(s: &Scratch, args: &LabelsArgs) -> anyhow::Result<Figures> {
    let (backend, counter) = s.ctx.backend.counted();
    let store: Arc<dyn ObjectStore> =
        Arc::new(PrefixedStore::new(backend.store, "baseline/".into()));
    let per_round = ROUND_SIZE.min(args.images as usize) as u64;
    let total = u64::from(args.labellers) * u64::from(args.rounds) * per_round;
    let bar = progress(total, "baseline");
    let started = Instant::now();
    let before = counter.snapshot();
    let mut tasks = tokio::task::JoinSet::new();
    for l in 0..args.labellers {
        let (store, bar) = (store.clone(), bar.clone());
        let rounds = plan(l, args.rounds, args.images);
        tasks.spawn(async move {
            let mut out = (Vec::new(), 0u64, None);
            for (image, vote) in rounds.into_iter().flatten() {
                let answer = Answer {
                    kind: vote.into(),
                    at: now_rfc3339(),
                    labeller: labeller(l),
                    answer_id: new_answer_id(),
                };
                match append_with_retry(
                    store.as_ref(),
                    &keys::label_file(&image),
                    std::slice::from_ref(&answer),
                )
                .await
                {
                    Ok(o) => out.1 += u64::from(o.conflicts),
                    Err(e) => {
                        out.2.get_or_insert(e.to_string());
                    }
                }
                let expected = Expected {
                    image,
                    vote,
                    labeller: answer.labeller,
                };
                out.0.push((answer.answer_id, expected));
                bar.inc(1);
            }
            out
        });
    }
    let mut expected = HashMap::new();
    let mut figures = Figures::default();
    while let Some(joined) = tasks.join_next().await {
        let (sent, conflicts, failure) = joined?;
        expected.extend(sent);
        figures.conflicts += conflicts;
        if let Some(f) = failure {
            figures.errors += 1;
            figures
                .first_error
                .get_or_insert(format!("baseline write: {f}"));
        }
    }
    let elapsed = started.elapsed();
    figures.requests = counter.snapshot().since(&before);
    bar.finish_and_clear();
    figures.answers = expected.len() as u64;
    figures.elapsed_s = elapsed.as_secs_f64();
    verify(store.as_ref(), &expected, &mut figures).await?;
    figures.answers_per_s = per_second(figures.answers.saturating_sub(figures.lost), elapsed);
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_hold_distinct_images() {
        for round in plan(3, 50, 6) {
            let names: HashSet<&String> = round.iter().map(|(i, _)| i).collect();
            assert_eq!(names.len(), ROUND_SIZE);
        }
        assert!(plan(0, 5, 2).iter().all(|r| r.len() == 2));
        assert_eq!(plan(1, 10, 20).len(), 10);
    }
}
