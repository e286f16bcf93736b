//! `bench labels --votes-per-image N`: labellers work as people do — each asks for a round
//! (the TUI's picker: fewest votes first, claims, never an image she answered), looks at it
//! for a while, gives her answers through her own outbox (a few are skips), and stops when
//! nothing is left for her — while an embedded worker writes the files. Then the label
//! files are read back: every image's distinct labellers, the votes beyond N (labellers
//! shown the same image at the same moment), repeats, and lost or duplicated answers.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;

use super::labels::{LabelsArgs, seed_images};
use super::{Outcome, Scratch, short};
use crate::domain::keys;
use crate::domain::label_file::{AnswerKind, LabelFile, LabelLine, Standing, Vote, resolve};
use crate::domain::messages::ImageAnswer;
use crate::domain::sampling::RoundChoice;
use crate::service::context::AppContext;
use crate::service::outbox::Outbox;
use crate::service::rounds::RoundPicker;
use crate::worker::{self, WorkerConfig};

/// How often a labeller with nothing left (others hold the last images) asks again.
const ASK_AGAIN: Duration = Duration::from_millis(400);

#[derive(Debug, Clone, Default, Serialize)]
struct Figures {
    votes_per_image: u64,
    /// Rounds shown, over all labellers.
    rounds: u64,
    answers: u64,
    votes: u64,
    skips: u64,
    /// Images with fewer than N distinct labellers' current votes at the end.
    images_short: u64,
    /// Fewest distinct labellers with a current vote on one image.
    min_labellers_per_image: u64,
    /// Current votes beyond N on an image, summed: labellers shown it at the same moment.
    votes_beyond: u64,
    votes_beyond_pct: f64,
    /// (labeller, image) pairs shown more than once, or answered on more than one line.
    seen_twice: u64,
    lost: u64,
    duplicated: u64,
    unexpected: u64,
    errors: u64,
    elapsed_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_error: Option<String>,
}

/// What one simulated labeller did.
#[derive(Default)]
struct Session {
    shown: Vec<String>,
    given: Vec<ImageAnswer>,
    rounds: u64,
    error: Option<String>,
}

fn labeller(l: u16) -> String {
    format!("bench-labeller-{l}")
}

async fn label_like_a_person(ctx: AppContext, rounds: u32, think: Duration, seed: u64) -> Session {
    let mut s = Session::default();
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut picker = RoundPicker::new(seed);
    let outbox = match Outbox::for_context(&ctx) {
        Ok(o) => o,
        Err(e) => {
            s.error = Some(e.to_string());
            return s;
        }
    };
    let mut answered: HashSet<String> = HashSet::new();
    let give_up = Instant::now() + Duration::from_secs(600);
    while s.rounds < u64::from(rounds) && Instant::now() < give_up {
        let choice = match picker
            .next_round(&ctx, &HashSet::new(), &answered, &[])
            .await
        {
            Ok(c) => c,
            Err(e) => {
                s.error.get_or_insert(format!("picking a round: {e}"));
                tokio::time::sleep(ASK_AGAIN).await;
                continue;
            }
        };
        let images = match choice {
            RoundChoice::Round(images) => images,
            RoundChoice::NothingLeft(left) if left.held_by_others > 0 => {
                tokio::time::sleep(ASK_AGAIN).await;
                continue;
            }
            RoundChoice::NothingLeft(_) => break,
        };
        s.rounds += 1;
        s.shown.extend(images.iter().cloned());
        // A person looks at the round: 50 % to 150 % of the think time.
        tokio::time::sleep(think.mul_f64(0.5 + rng.f64())).await;
        let answers: Vec<(String, AnswerKind)> = images
            .iter()
            .map(|image| {
                let kind = if rng.f64() < 0.05 {
                    AnswerKind::Skip
                } else if rng.bool() {
                    AnswerKind::Vote(Vote::HotDog)
                } else {
                    AnswerKind::Vote(Vote::NotHotDog)
                };
                (image.clone(), kind)
            })
            .collect();
        match crate::service::labeller::give(&ctx, &outbox, &answers).await {
            Ok(given) => {
                if let Err(e) = given.sent {
                    s.error.get_or_insert(format!("sending: {e}"));
                }
                answered.extend(images);
                s.given.extend(given.answers);
            }
            Err(e) => {
                s.error.get_or_insert(format!("keeping answers: {e}"));
            }
        }
    }
    // Whatever an outage left in her outbox goes now; then her claims are released.
    if let Err(e) = outbox.send_pending(&ctx).await {
        s.error.get_or_insert(format!("sending what was kept: {e}"));
    }
    if let Err(e) = picker.claim(&ctx, Vec::new()).await {
        s.error.get_or_insert(format!("releasing claims: {e}"));
    }
    s
}

pub(super) async fn run(
    s: &Scratch,
    args: &LabelsArgs,
    votes_per_image: u64,
) -> anyhow::Result<Outcome> {
    let mut ctx = s.ctx.clone();
    ctx.votes_per_image = votes_per_image;
    // Each labeller's outbox lives in the run's own state folder, removed at the end.
    ctx.state_dir = s.user_ctx.state_dir.join(format!("bench-{}", s.id));
    seed_images(&ctx, args.images).await?;
    let handle = worker::spawn(
        ctx.clone(),
        WorkerConfig {
            pollers: usize::from(args.pollers),
            prune_idle: None,
            ..WorkerConfig::default()
        },
    );
    let started = Instant::now();
    let think = Duration::from_millis(args.think_ms);
    let mut tasks = tokio::task::JoinSet::new();
    for l in 0..args.labellers {
        let mut c = ctx.clone();
        c.user = labeller(l);
        tasks.spawn(label_like_a_person(
            c,
            args.rounds,
            think,
            u64::from(l) * 7919 + 11,
        ));
    }
    let mut f = Figures {
        votes_per_image,
        ..Figures::default()
    };
    let mut sessions = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let session = joined?;
        if let Some(e) = &session.error {
            f.errors += 1;
            f.first_error.get_or_insert(e.clone());
        }
        sessions.push(session);
    }
    // Wait until the worker added every answer given, or progress stalls. Answers found
    // already there are not counted: SQS may hand one message to two pollers at once, and
    // the second finds the first's answers, while other answers still wait in the queue.
    let given: HashMap<&str, &ImageAnswer> = sessions
        .iter()
        .flat_map(|s| s.given.iter())
        .map(|a| (a.answer.answer_id.as_str(), a))
        .collect();
    let want = given.len() as u64;
    let mut status = handle.status.clone();
    let mut last = (0, Instant::now());
    loop {
        let done = {
            let st = status.borrow_and_update();
            st.answers_written
        };
        if done >= want {
            break;
        }
        if done != last.0 {
            last = (done, Instant::now());
        } else if last.1.elapsed() >= Duration::from_secs(args.timeout) {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_millis(200), status.changed()).await;
    }
    f.elapsed_s = started.elapsed().as_secs_f64();
    handle.shutdown().await;
    let _ = std::fs::remove_dir_all(&ctx.state_dir); // best effort: a scratch folder

    // Read every label file back.
    let images: Vec<String> = (0..args.images).map(super::labels::image_name).collect();
    let mut found: HashMap<String, u64> = HashMap::new();
    let mut min_labellers = u64::MAX;
    for image in &images {
        let bytes = match ctx.backend.store.get(&keys::label_file(image)).await? {
            Some(o) => o.bytes.to_vec(),
            None => Vec::new(),
        };
        let file = LabelFile::parse(&bytes);
        let standing = resolve(&file);
        let mut voters: HashSet<&str> = HashSet::new();
        let mut lines_by: HashMap<&str, u64> = HashMap::new();
        for (line, st) in file.lines.iter().zip(&standing) {
            let LabelLine::Full(a) = line else {
                f.unexpected += 1;
                continue;
            };
            *lines_by.entry(a.labeller.as_str()).or_default() += 1;
            match given.get(a.answer_id.as_str()) {
                Some(g) if g.image == *image && g.answer == *a => {
                    *found.entry(a.answer_id.clone()).or_default() += 1;
                }
                _ => f.unexpected += 1,
            }
            if *st == Standing::Current && a.kind.vote().is_some() {
                voters.insert(a.labeller.as_str());
            }
        }
        f.seen_twice += lines_by.values().filter(|n| **n > 1).count() as u64;
        let votes = voters.len() as u64;
        f.votes += votes;
        f.votes_beyond += votes.saturating_sub(votes_per_image);
        if votes < votes_per_image {
            f.images_short += 1;
        }
        min_labellers = min_labellers.min(votes);
    }
    f.min_labellers_per_image = if images.is_empty() { 0 } else { min_labellers };
    for s in &sessions {
        f.rounds += s.rounds;
        let distinct: HashSet<&String> = s.shown.iter().collect();
        f.seen_twice += (s.shown.len() - distinct.len()) as u64;
        f.skips += s
            .given
            .iter()
            .filter(|a| a.answer.kind == AnswerKind::Skip)
            .count() as u64;
    }
    f.answers = want;
    f.lost = given.keys().filter(|id| !found.contains_key(**id)).count() as u64;
    f.duplicated = found.values().map(|n| n - 1).sum();
    f.votes_beyond_pct = if f.votes == 0 {
        0.0
    } else {
        f.votes_beyond as f64 * 100.0 / f.votes as f64
    };
    let passed = f.images_short == 0
        && f.votes_beyond_pct < 5.0
        && f.seen_twice == 0
        && f.lost + f.duplicated + f.unexpected + f.errors == 0;
    let mut value = serde_json::to_value(&f)?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("bench".into(), json!("labels-votes"));
        obj.insert("backend".into(), json!(ctx.backend.kind.describe()));
        obj.insert("labellers".into(), json!(args.labellers));
        obj.insert("max_rounds".into(), json!(args.rounds));
        obj.insert("images".into(), json!(args.images));
        obj.insert("think_ms".into(), json!(args.think_ms));
        obj.insert("passed".into(), json!(passed));
    }
    let mut text = format!(
        "labels on {}: {} labellers × up to {} rounds over {} images, votes-per-image {}, ~{} ms a round, embedded worker\n",
        ctx.backend.kind.describe(),
        args.labellers,
        args.rounds,
        args.images,
        votes_per_image,
        args.think_ms
    );
    text.push_str(&format!(
        "  rounds       {} shown, {} answers ({} votes on file, {} skips) in {} s\n  coverage     {} images short of {} labellers; fewest labellers on an image: {}\n  beyond {}     {} votes ({:.1} % of all votes)\n  checks       {} seen twice, {} lost, {} duplicated, {} unexpected, {} errors\n",
        f.rounds,
        f.answers,
        f.votes,
        f.skips,
        short(f.elapsed_s),
        f.images_short,
        votes_per_image,
        f.min_labellers_per_image,
        votes_per_image,
        f.votes_beyond,
        f.votes_beyond_pct,
        f.seen_twice,
        f.lost,
        f.duplicated,
        f.unexpected,
        f.errors
    ));
    if let Some(e) = &f.first_error {
        text.push_str(&format!("  first error  {e}\n"));
    }
    Ok(Outcome {
        json: value,
        text,
        passed,
    })
}
