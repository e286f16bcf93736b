//! The reliability guarantees, each proved by a test that fails if the guarantee breaks:
//! no answer lost or duplicated under concurrency, crash safety under `kill -9`, poison and
//! foreign messages, and secrets kept out of logs. Real processes, both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::collections::{BTreeMap, HashMap};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::install::{Install, Stop, text};
use hotdog_tui::backend::OutgoingMessage;
use hotdog_tui::domain::keys;
use hotdog_tui::domain::label_file::{LabelFile, LabelLine, Vote};
use hotdog_tui::domain::messages::{ATTR_CORRELATION_ID, ATTR_REPLY_TO};
use hotdog_tui::service::compute_client::ComputeClient;
use hotdog_tui::service::context::AppContext;

const IMAGES: [&str; 4] = [
    "hotdog-01.jpg",
    "hotdog-02.jpg",
    "other-01.jpg",
    "other-02.jpg",
];

/// answer id → vote, per image, as read back from the label files.
async fn answers_in_files(ctx: &AppContext) -> HashMap<String, Vec<(String, Vote)>> {
    let mut out = HashMap::new();
    for image in IMAGES {
        let lines = match ctx
            .backend
            .store
            .get(&keys::label_file(image))
            .await
            .unwrap()
        {
            Some(o) => {
                let f = LabelFile::parse(&o.bytes);
                assert_eq!(
                    f.malformed, 0,
                    "{image} has malformed lines (a torn write?)"
                );
                f.lines
                    .into_iter()
                    .map(|l| match l {
                        LabelLine::Full(a) => (a.answer_id, a.kind.vote().expect("a vote")),
                        LabelLine::Bare(_) => panic!("unexpected bare line"),
                    })
                    .collect()
            }
            None => Vec::new(),
        };
        out.insert(image.to_string(), lines);
    }
    out
}

/// Waits until every submitted answer is in its file, then checks nothing is missing or
/// doubled. Returns (submitted, found, lost, duplicated).
async fn settle(
    ctx: &AppContext,
    submitted: &HashMap<String, HashMap<String, Vote>>,
    within: Duration,
) -> (usize, usize, usize, usize) {
    let deadline = Instant::now() + within;
    loop {
        let files = answers_in_files(ctx).await;
        let found: usize = files.values().map(Vec::len).sum();
        let total: usize = submitted.values().map(HashMap::len).sum();
        if found >= total || Instant::now() > deadline {
            let mut lost = 0;
            let mut duplicated = 0;
            for (image, want) in submitted {
                let got = &files[image];
                let mut counts: HashMap<&str, usize> = HashMap::new();
                for (id, vote) in got {
                    *counts.entry(id.as_str()).or_default() += 1;
                    assert_eq!(
                        want.get(id),
                        Some(vote),
                        "{image}: answer {id} was never submitted with that vote"
                    );
                }
                lost += want
                    .keys()
                    .filter(|id| !counts.contains_key(id.as_str()))
                    .count();
                duplicated += counts.values().map(|c| c - 1).sum::<usize>();
            }
            return (total, found, lost, duplicated);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn label_process(
    i: &Install,
    rounds: usize,
    seed: usize,
) -> std::thread::JoinHandle<Vec<(String, Vote, String)>> {
    let cmd = i.command(&[]);
    let args: Vec<String> = i.args.clone();
    let bin = common::install::BIN.to_string();
    let envs: Vec<(String, String)> = cmd
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_str()?.to_string(), v?.to_str()?.to_string())))
        .collect();
    std::thread::spawn(move || {
        let mut mine = Vec::new();
        for r in 0..rounds {
            let answers: Vec<String> = IMAGES
                .iter()
                .enumerate()
                .map(|(k, img)| format!("{img}={}", (seed + r + k) % 2))
                .collect();
            let out = Command::new(&bin)
                .args(&args)
                .args(["--user", &format!("labeller-{seed}"), "label", "--json"])
                .args(&answers)
                .envs(envs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .stdin(Stdio::null())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "label failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            for a in v["answers"].as_array().unwrap() {
                let vote = if a["vote"] == "1" {
                    Vote::HotDog
                } else {
                    Vote::NotHotDog
                };
                mine.push((
                    a["image"].as_str().unwrap().to_string(),
                    vote,
                    a["answer_id"].as_str().unwrap().to_string(),
                ));
            }
        }
        mine
    })
}

async fn no_answer_lost_or_duplicated(i: Install, labellers: usize, rounds: usize) {
    let ctx = i.context().await;
    let _w1 = Stop(i.worker());
    let _w2 = Stop(i.worker());
    let threads: Vec<_> = (0..labellers)
        .map(|l| label_process(&i, rounds, l))
        .collect();
    let mut submitted: HashMap<String, HashMap<String, Vote>> = HashMap::new();
    for t in threads {
        for (image, vote, id) in t.join().unwrap() {
            assert!(
                submitted
                    .entry(image)
                    .or_default()
                    .insert(id, vote)
                    .is_none(),
                "answer ids are unique"
            );
        }
    }
    let (total, found, lost, duplicated) = settle(&ctx, &submitted, Duration::from_secs(120)).await;
    eprintln!(
        "GUARANTEE 1 {:?}: submitted {total} found {found} lost {lost} duplicated {duplicated}",
        ctx.backend.kind
    );
    assert_eq!(total, labellers * rounds * IMAGES.len());
    // Where a lost answer might be: still queued, or dead-lettered.
    let queued = ctx.backend.queues.depth(&ctx.resources.labels).await;
    let dead = ctx.backend.queues.depth(&ctx.resources.labels_dlq).await;
    assert_eq!(
        (lost, duplicated, found),
        (0, 0, total),
        "label queue {queued:?}, its dead-letter queue {dead:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g1_no_answer_lost_or_duplicated_local() {
    no_answer_lost_or_duplicated(Install::local(), 8, 50).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g1_no_answer_lost_or_duplicated_aws() {
    // Moto serves ~100 round trips/s on one core: fewer rounds keep this to seconds.
    no_answer_lost_or_duplicated(Install::aws(), 8, 6).await;
}

/// Submits `rounds` rounds of the 4 images through the label queue (every `hot_every`-th
/// round votes hot dog) and records each answer id with its vote.
async fn submit_rounds(
    ctx: &AppContext,
    rounds: usize,
    hot_every: usize,
    into: &mut HashMap<String, HashMap<String, Vote>>,
) {
    for r in 0..rounds {
        let vote = if r % hot_every == 0 {
            Vote::HotDog
        } else {
            Vote::NotHotDog
        };
        let answers: Vec<(String, Vote)> =
            IMAGES.iter().map(|img| (img.to_string(), vote)).collect();
        let ids = hotdog_tui::service::labeller::submit_round(ctx, &answers)
            .await
            .unwrap();
        for ((image, vote), id) in answers.into_iter().zip(ids) {
            into.entry(image).or_default().insert(id, vote);
        }
    }
}

fn kill9(child: &mut std::process::Child) {
    let _ = Command::new("kill")
        .arg("-9")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
}

async fn count_logs(ctx: &AppContext) -> usize {
    ctx.backend.store.list_all(keys::LOGS).await.unwrap().len()
}

/// `kill -9` a worker in the middle of its work, restart it, and check every request was
/// answered, with one log object each, and every answer is in its file exactly once.
async fn crash_safety(i: Install, requests: usize, rounds: usize) {
    let ctx = i.context().await;
    let mut client = ComputeClient::open(&ctx).await.unwrap();
    let mut replies = client.take_replies().unwrap();
    let mut expected: HashMap<String, String> = HashMap::new();
    let mut batch = Vec::new();
    for n in 0..requests {
        let id = format!("req-{n}");
        let body = format!("{n} {} {}", n * 2, n % 7);
        expected.insert(
            id.clone(),
            hotdog_tui::domain::numbers::compute(&body)
                .unwrap()
                .to_string(),
        );
        let mut attributes = BTreeMap::new();
        attributes.insert(ATTR_REPLY_TO.to_string(), client.reply_url().to_string());
        attributes.insert(ATTR_CORRELATION_ID.to_string(), id);
        batch.push(OutgoingMessage { body, attributes });
        if batch.len() == 10 {
            ctx.backend
                .queues
                .send_batch(&ctx.resources.requests, std::mem::take(&mut batch))
                .await
                .unwrap();
        }
    }
    let mut submitted = HashMap::new();
    submit_rounds(&ctx, rounds, 3, &mut submitted).await;
    let mut first = i.worker();
    let deadline = Instant::now() + Duration::from_secs(30);
    while count_logs(&ctx).await == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    kill9(&mut first);
    let logged_before = count_logs(&ctx).await;
    // The database and files are usable after the kill: a new worker takes over.
    let _second = Stop(i.worker());
    let mut answered: HashMap<String, String> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while answered.len() < requests && Instant::now() < deadline {
        if let Ok(Some(r)) = tokio::time::timeout(Duration::from_secs(1), replies.recv()).await {
            answered.insert(r.correlation_id.clone(), r.text);
        }
    }
    assert_eq!(
        answered, expected,
        "every request answered, each with its own right answer"
    );
    let (total, found, lost, duplicated) = settle(&ctx, &submitted, Duration::from_secs(120)).await;
    // Logs are written beside the replies: the last may land just after its reply.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut logs = count_logs(&ctx).await;
    while logs < requests && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        logs = count_logs(&ctx).await;
    }
    eprintln!(
        "GUARANTEE 2 {:?}: killed the worker after {logged_before}/{requests} logs; answered {}/{requests}; logs {logs}; answers submitted {total} found {found} lost {lost} duplicated {duplicated}",
        ctx.backend.kind,
        answered.len()
    );
    assert_eq!(logs, requests, "exactly one log object per request");
    assert_eq!((lost, duplicated), (0, 0));
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g2_worker_killed_mid_batch_local() {
    let i = Install::local();
    crash_safety(i, 3000, 200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g2_worker_killed_mid_batch_aws() {
    crash_safety(Install::aws(), 60, 10).await;
}

/// Kills workers at random moments while they write, many times; the database must stay
/// consistent and unlocked and no label file may be torn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g2_local_store_survives_kill_at_any_moment() {
    let i = Install::local();
    let ctx = i.context().await;
    let mut submitted: HashMap<String, HashMap<String, Vote>> = HashMap::new();
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..8 {
        submit_rounds(&ctx, 40, 2, &mut submitted).await;
        let mut w = i.worker();
        std::thread::sleep(Duration::from_millis(rng.u64(5..120)));
        kill9(&mut w);
        let db = rusqlite::Connection::open(i.data_dir().join("queues.sqlite3")).unwrap();
        let check: String = db
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        db.execute_batch("BEGIN IMMEDIATE; COMMIT;").unwrap(); // not left locked
        for image in IMAGES {
            if let Some(o) = ctx
                .backend
                .store
                .get(&keys::label_file(image))
                .await
                .unwrap()
            {
                assert_eq!(
                    LabelFile::parse(&o.bytes).malformed,
                    0,
                    "torn write in {image}"
                );
            }
        }
    }
    let _last = Stop(i.worker());
    let (total, found, lost, duplicated) = settle(&ctx, &submitted, Duration::from_secs(60)).await;
    eprintln!(
        "GUARANTEE 2b: 8 kills; answers submitted {total} found {found} lost {lost} duplicated {duplicated}"
    );
    assert_eq!((lost, duplicated, found), (0, 0, total));
    let listed = ctx.backend.store.list_all("").await.unwrap();
    assert!(
        listed.iter().all(|m| !m.key.contains(".tmp-")),
        "temp files never show as objects"
    );
}

/// A labeller killed right after sending a round: the round is in the queue and lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g2_labeller_killed_after_sending_loses_nothing() {
    let i = Install::local();
    let ctx = i.context().await;
    let out = i.run(&["label", "--json", "hotdog-01.jpg=1", "other-01.jpg=0"]);
    assert!(out.status.success(), "{:?}", text(&out));
    // (the process has exited; nothing of the round lives in it any more)
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut submitted: HashMap<String, HashMap<String, Vote>> = HashMap::new();
    for a in v["answers"].as_array().unwrap() {
        let vote = if a["vote"] == "1" {
            Vote::HotDog
        } else {
            Vote::NotHotDog
        };
        submitted
            .entry(a["image"].as_str().unwrap().into())
            .or_default()
            .insert(a["answer_id"].as_str().unwrap().into(), vote);
    }
    for img in IMAGES {
        submitted.entry(img.to_string()).or_default();
    }
    let _w = Stop(i.worker());
    let (total, found, lost, duplicated) = settle(&ctx, &submitted, Duration::from_secs(30)).await;
    assert_eq!((total, found, lost, duplicated), (2, 2, 0, 0));
}

/// Garbage, empty, oversized, non-numeric, foreign and badly-shaped messages: the worker
/// answers with an error where it can, dead-letters what it cannot read, and keeps serving.
async fn poison_messages(i: Install) {
    let ctx = i.context().await;
    let q = &ctx.backend.queues;
    let _w = Stop(i.worker());
    let big = "7 ".repeat(120 * 1024);
    let mut plain = vec!["garbage\u{1b}[2J", "", "not numbers", "1,-1", big.as_str()];
    if matches!(
        ctx.backend.kind,
        hotdog_tui::backend::BackendKind::Aws { .. }
    ) {
        plain.retain(|b| !b.is_empty()); // real SQS refuses empty bodies
    }
    for body in &plain {
        q.send(&ctx.resources.requests, OutgoingMessage::plain(*body))
            .await
            .unwrap();
    }
    // A ReplyTo that does not exist, and one that is not a reply queue at all.
    for reply_to in [
        format!(
            "{}-gone",
            ctx.resources.requests.replace("requests", "hotdog-reply-x")
        ),
        ctx.resources.labels.clone(),
    ] {
        let mut attributes = BTreeMap::new();
        attributes.insert(ATTR_REPLY_TO.to_string(), reply_to);
        attributes.insert(ATTR_CORRELATION_ID.to_string(), "c".to_string());
        q.send(
            &ctx.resources.requests,
            OutgoingMessage {
                body: "1 2".into(),
                attributes,
            },
        )
        .await
        .unwrap();
    }
    let bad_labels = [
        "garbage",
        "",
        r#"{"v":1,"labeller":"x","answers":[{"image":"hotdog-01.jpg","vote":5,"answer_id":"a","at":"t"}]}"#,
        r#"{"v":9,"labeller":"x","answers":[]}"#,
    ];
    for body in bad_labels.iter().filter(|b| {
        !b.is_empty()
            || matches!(
                ctx.backend.kind,
                hotdog_tui::backend::BackendKind::Local { .. }
            )
    }) {
        q.send(&ctx.resources.labels, OutgoingMessage::plain(*body))
            .await
            .unwrap();
    }
    // An answer for an unknown image beside a good one: the good one still lands.
    let (body, ids) = hotdog_tui::service::labeller::submission_body(
        "x",
        &[
            ("no-such.jpg".into(), Vote::HotDog),
            ("hotdog-01.jpg".into(), Vote::HotDog),
        ],
    );
    q.send(&ctx.resources.labels, OutgoingMessage::plain(body))
        .await
        .unwrap();
    // Meanwhile everyone else is served.
    let client = ComputeClient::open(&ctx).await.unwrap();
    let good = client.call("3 4 5", Duration::from_secs(60)).await.unwrap();
    assert_eq!(
        good.text,
        "minimum is 3 maximum is 5 average is 4 median is 4"
    );
    client.close().await;
    // SQS delivers at least once: with several receive loops a request can be received
    // twice (moto has no lock around a receive, real standard queues say so outright), and
    // a plain-text reply on the shared queue carries nothing to drop the second copy by.
    // So every distinct reply must come, and no other.
    let mut replies = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while distinct(&replies).len() < plain.len() && Instant::now() < deadline {
        for m in q
            .receive(
                &ctx.resources.responses,
                10,
                Duration::from_secs(1),
                Duration::from_secs(30),
            )
            .await
            .unwrap()
        {
            replies.push(m.body);
        }
    }
    let replies = distinct(&replies);
    assert_eq!(replies.len(), plain.len(), "{replies:?}");
    assert!(
        replies
            .iter()
            .any(|r| r.starts_with("\"garbage�[2J\" is not a whole number")),
        "{replies:?}"
    );
    assert!(
        replies
            .iter()
            .any(|r| r.starts_with("\"not\" is not a whole number"))
    );
    assert!(
        replies
            .iter()
            .any(|r| r == "-1 is a negative number: only whole numbers of 0 or more are accepted.")
    );
    assert!(
        replies
            .iter()
            .any(|r| r == "122880 numbers were given, but at most 10 are accepted."),
        "{replies:?}"
    );
    let expected_dead = bad_labels.len()
        - usize::from(matches!(
            ctx.backend.kind,
            hotdog_tui::backend::BackendKind::Aws { .. }
        ));
    let mut dead = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while distinct(&dead).len() < expected_dead && Instant::now() < deadline {
        dead.extend(
            q.receive(
                &ctx.resources.labels_dlq,
                10,
                Duration::from_secs(1),
                Duration::from_secs(30),
            )
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.body),
        );
    }
    assert_eq!(
        distinct(&dead).len(),
        expected_dead,
        "bad label messages are dead-lettered: {dead:?}"
    );
    let mut wanted = HashMap::new();
    wanted.insert(
        "hotdog-01.jpg".to_string(),
        HashMap::from([(ids[1].clone(), Vote::HotDog)]),
    );
    for img in &IMAGES[1..] {
        wanted.insert(img.to_string(), HashMap::new());
    }
    let (_, _, lost, duplicated) = settle(&ctx, &wanted, Duration::from_secs(30)).await;
    assert_eq!((lost, duplicated), (0, 0));
    assert!(
        ctx.backend
            .store
            .get(&keys::label_file("no-such.jpg"))
            .await
            .unwrap()
            .is_none()
    );
    // A request is deleted once its reply and its log are both written; the log may finish
    // after the reply arrived.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut requests = q.depth(&ctx.resources.requests).await.unwrap();
    while requests.visible + requests.in_flight > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        requests = q.depth(&ctx.resources.requests).await.unwrap();
    }
    assert_eq!(
        requests.visible + requests.in_flight,
        0,
        "every request was handled and deleted"
    );
    eprintln!(
        "GUARANTEE 4 {:?}: {} poison requests, {} bad label messages, 1 unknown image: all handled",
        ctx.backend.kind,
        plain.len() + 2,
        expected_dead
    );
}

/// The bodies, each once, sorted.
fn distinct(bodies: &[String]) -> Vec<String> {
    let mut bodies = bodies.to_vec();
    bodies.sort();
    bodies.dedup();
    bodies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g4_poison_messages_local() {
    poison_messages(Install::local()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g4_poison_messages_aws() {
    poison_messages(Install::aws()).await;
}

/// No credentials, session tokens or signatures in the log after an aws run.
#[test]
fn g7_no_secrets_in_logs() {
    let i = Install::aws();
    let key_id = "AKIAHOTDOGDUMMY12345";
    let secret = "hotdogDummySecret/abcdefghijklmnopqrstuv";
    let token = "hotdogDummySessionToken0123456789";
    let log = i.dir.path().join("log.txt");
    let _ = std::fs::remove_file(&log);
    for args in [
        &["stats"][..],
        &["label", "hotdog-01.jpg=1"],
        &["compute", "--timeout", "1", "1 2"],
        &["--bucket", "no-such-bucket-x", "stats"],
    ] {
        let out = i
            .command(args)
            .env("AWS_ACCESS_KEY_ID", key_id)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_SESSION_TOKEN", token)
            .env("RUST_LOG", "trace")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for s in [key_id, secret, token, "X-Amz-Signature", "Signature="] {
            assert!(!all.contains(s), "{s} appeared on screen");
        }
    }
    let written = std::fs::read_to_string(&log).unwrap();
    assert!(written.len() > 200, "the debug log was written");
    for s in [
        key_id,
        secret,
        token,
        "X-Amz-Signature",
        "Signature=",
        "x-amz-security-token",
    ] {
        assert!(!written.contains(s), "{s} appeared in the log");
    }
}

#[test]
fn g7_local_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let i = Install::local();
    assert!(i.run(&["stats"]).status.success());
    let mut checked = 0;
    let mut stack = vec![i.data_dir()];
    while let Some(p) = stack.pop() {
        let meta = std::fs::metadata(&p).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        if meta.is_dir() {
            assert_eq!(mode, 0o700, "{}", p.display());
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else {
            assert_eq!(mode, 0o600, "{}", p.display());
        }
        checked += 1;
    }
    assert!(checked > 20);
}

#[test]
fn g5_upload_rejects_bad_images_with_reasons_and_writes_nothing() {
    let i = Install::local();
    let d = i.dir.path().join("bad");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("zero.png"), b"").unwrap();
    let png = common::png(64, 64, [1, 2, 3]);
    std::fs::write(d.join("truncated.png"), &png[..png.len() / 2]).unwrap();
    std::fs::write(d.join("wrong.jpg"), &png).unwrap();
    let bomb = common::png_claiming(200_000, 200_000);
    std::fs::write(d.join("bomb.png"), &bomb).unwrap();
    let huge = std::fs::File::create(d.join("huge.png")).unwrap();
    huge.set_len(50 * 1024 * 1024).unwrap();
    let before = i.stats()["totals"]["images"].as_u64().unwrap();
    let out = i.run(&["upload", d.to_str().unwrap()]);
    let (stdout, _) = text(&out);
    assert!(!out.status.success());
    for (name, reason) in [
        ("zero.png", "the file is empty"),
        ("truncated.png", "cannot decode"),
        ("wrong.jpg", "the name ends in .jpg but the content is PNG"),
        ("bomb.png", "too large"),
        ("huge.png", "the file is 50.0 MiB but the limit is 10.0 MiB"),
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.contains(name) && l.contains("rejected") && l.contains(reason)),
            "{name}: {stdout}"
        );
    }
    assert_eq!(
        i.stats()["totals"]["images"].as_u64().unwrap(),
        before,
        "nothing was written"
    );
}
