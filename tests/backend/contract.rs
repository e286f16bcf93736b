//! One contract suite, run against both backends: the local one on a temp dir and the aws
//! one against the moto server that `scripts/test` starts. Each case is written once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hotdog_tui::backend::{
    Backend, BackendError, Fetched, MAX_RECEIVES, OutgoingMessage, PutCondition, QueueSpec,
};
use hotdog_tui::domain::keys;
use hotdog_tui::domain::label_file::{Answer, LabelFile, Vote};
use hotdog_tui::service::compute_client::ComputeClient;
use hotdog_tui::service::statistics::StatsCache;
use hotdog_tui::worker::{self, WorkerConfig};

on_both_backends!(
    objects_round_trip_with_etags,
    conditional_puts_lose_the_race_cleanly,
    get_if_changed_reports_unchanged,
    listing_is_by_prefix_and_sorted,
    queues_deliver_with_attributes_and_visibility,
    failing_messages_move_to_the_dead_letter_queue,
    sending_to_a_missing_queue_is_not_found,
    long_poll_wakes_on_send,
    concurrent_appends_lose_nothing,
    compute_clients_each_get_their_own_answers,
    plain_requests_get_plain_replies,
    redelivered_requests_write_one_log,
    labels_pipeline_writes_every_answer_once,
);

fn spec(name: &str, dead_letter: Option<(String, u32)>, visibility: Duration) -> QueueSpec {
    QueueSpec {
        name: name.to_string(),
        dead_letter,
        visibility_timeout: visibility,
    }
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

async fn objects_round_trip_with_etags(b: Backend) {
    let s = &b.store;
    let e1 = s
        .put(
            "images/a.txt",
            Bytes::from_static(b"one"),
            "text/plain",
            PutCondition::None,
        )
        .await
        .unwrap();
    let got = s.get("images/a.txt").await.unwrap().unwrap();
    assert_eq!(&got.bytes[..], b"one");
    assert_eq!(got.etag, e1);
    let head = s.head("images/a.txt").await.unwrap().unwrap();
    assert_eq!((head.size, head.etag.clone()), (3, e1.clone()));
    let e2 = s
        .put(
            "images/a.txt",
            Bytes::from_static(b"two"),
            "text/plain",
            PutCondition::None,
        )
        .await
        .unwrap();
    assert_ne!(e1, e2);
    s.delete("images/a.txt").await.unwrap();
    assert!(s.get("images/a.txt").await.unwrap().is_none());
    assert!(s.head("images/a.txt").await.unwrap().is_none());
    s.delete("images/a.txt").await.unwrap(); // deleting a missing key is fine
}

async fn conditional_puts_lose_the_race_cleanly(b: Backend) {
    let s = &b.store;
    let k = "labels/x.txt";
    let e1 = s
        .put(
            k,
            Bytes::from_static(b"1\n"),
            "text/plain",
            PutCondition::IfAbsent,
        )
        .await
        .unwrap();
    let again = s
        .put(
            k,
            Bytes::from_static(b"0\n"),
            "text/plain",
            PutCondition::IfAbsent,
        )
        .await;
    assert!(
        matches!(again, Err(BackendError::PreconditionFailed)),
        "{again:?}"
    );
    let e2 = s
        .put(
            k,
            Bytes::from_static(b"1\n1\n"),
            "text/plain",
            PutCondition::IfMatch(e1.clone()),
        )
        .await
        .unwrap();
    let stale = s
        .put(
            k,
            Bytes::from_static(b"lost\n"),
            "text/plain",
            PutCondition::IfMatch(e1),
        )
        .await;
    assert!(
        matches!(stale, Err(BackendError::PreconditionFailed)),
        "{stale:?}"
    );
    let got = s.get(k).await.unwrap().unwrap();
    assert_eq!((&got.bytes[..], got.etag), (&b"1\n1\n"[..], e2));
}

async fn get_if_changed_reports_unchanged(b: Backend) {
    let s = &b.store;
    let e = s
        .put(
            "labels/c.txt",
            Bytes::from_static(b"1\n"),
            "text/plain",
            PutCondition::None,
        )
        .await
        .unwrap();
    assert!(matches!(
        s.get_if_changed("labels/c.txt", &e).await.unwrap(),
        Fetched::Unchanged
    ));
    s.put(
        "labels/c.txt",
        Bytes::from_static(b"0\n"),
        "text/plain",
        PutCondition::None,
    )
    .await
    .unwrap();
    match s.get_if_changed("labels/c.txt", &e).await.unwrap() {
        Fetched::Changed(o) => assert_eq!(&o.bytes[..], b"0\n"),
        other => panic!("expected a change, got {other:?}"),
    }
    assert!(matches!(
        s.get_if_changed("labels/none.txt", &e).await.unwrap(),
        Fetched::Missing
    ));
}

async fn listing_is_by_prefix_and_sorted(b: Backend) {
    let s = &b.store;
    for k in [
        "images/b.png",
        "images/a.png",
        "labels/a.png.txt",
        "images/sub/c.png",
        "imagesx/d.png",
    ] {
        s.put(
            k,
            Bytes::from(k.as_bytes().to_vec()),
            "image/png",
            PutCondition::None,
        )
        .await
        .unwrap();
    }
    let keys: Vec<String> = s
        .list_all("images/")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.key)
        .collect();
    assert_eq!(keys, ["images/a.png", "images/b.png", "images/sub/c.png"]);
    let listed = s.list_all("labels/").await.unwrap();
    let head = s.head("labels/a.png.txt").await.unwrap().unwrap();
    assert_eq!(
        listed[0].etag, head.etag,
        "listing carries the same ETags as head"
    );
    let page = s.list_page("images/", None).await.unwrap();
    assert_eq!(page.objects.len(), 3);
    assert!(page.next.is_none());
}

async fn queues_deliver_with_attributes_and_visibility(b: Backend) {
    let q = &b.queues;
    let name = unique("contract-q");
    let (url, created) = q
        .ensure_queue(&spec(&name, None, Duration::from_secs(30)))
        .await
        .unwrap();
    assert!(created);
    let (url2, created2) = q
        .ensure_queue(&spec(&name, None, Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!((url2.as_str(), created2), (url.as_str(), false));
    assert_eq!(
        q.queue_url(&name).await.unwrap().as_deref(),
        Some(url.as_str())
    );
    let mut attributes = BTreeMap::new();
    attributes.insert("CorrelationId".to_string(), "c-1".to_string());
    let before = hotdog_ms();
    q.send(
        &url,
        OutgoingMessage {
            body: "1,2,3".into(),
            attributes,
        },
    )
    .await
    .unwrap();
    // Hidden long enough for the two checks below on a loaded machine (moto can take a
    // second or more per request then), short enough to wait for.
    let got = q
        .receive(&url, 10, Duration::from_secs(2), Duration::from_secs(4))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!((m.body.as_str(), m.receive_count), ("1,2,3", 1));
    assert_eq!(
        m.attributes.get("CorrelationId").map(String::as_str),
        Some("c-1")
    );
    assert!(
        (m.sent_at_ms - before).abs() < 5_000,
        "sent_at_ms {} vs {before}",
        m.sent_at_ms
    );
    // In flight: hidden from the next receive until the visibility timeout passes.
    assert!(
        q.receive(&url, 10, Duration::ZERO, Duration::from_secs(1))
            .await
            .unwrap()
            .is_empty()
    );
    let depth = q.depth(&url).await.unwrap();
    assert_eq!((depth.visible, depth.in_flight), (0, 1));
    let again = q
        .receive(&url, 10, Duration::from_secs(10), Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].receive_count, 2);
    q.delete_batch(&url, &[again[0].receipt.clone()])
        .await
        .unwrap();
    let depth = q.depth(&url).await.unwrap();
    assert_eq!((depth.visible, depth.in_flight), (0, 0));
    let batch: Vec<OutgoingMessage> = (0..10)
        .map(|i| OutgoingMessage::plain(format!("{i}")))
        .collect();
    let ids = q.send_batch(&url, batch).await.unwrap();
    assert!(ids.iter().all(Result::is_ok));
    let mut seen = HashSet::new();
    while seen.len() < 10 {
        let got = q
            .receive(&url, 10, Duration::from_secs(2), Duration::from_secs(30))
            .await
            .unwrap();
        assert!(!got.is_empty(), "messages went missing: {seen:?}");
        let receipts: Vec<String> = got.iter().map(|m| m.receipt.clone()).collect();
        seen.extend(got.into_iter().map(|m| m.body));
        q.delete_batch(&url, &receipts).await.unwrap();
    }
    assert!(
        q.list_queues(&name)
            .await
            .unwrap()
            .iter()
            .any(|i| i.name == name)
    );
    q.delete_queue(&url).await.unwrap();
    assert!(q.queue_url(&name).await.unwrap().is_none());
}

fn hotdog_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn failing_messages_move_to_the_dead_letter_queue(b: Backend) {
    let q = &b.queues;
    let (dlq, _) = q
        .ensure_queue(&spec(
            &unique("contract-dlq"),
            None,
            Duration::from_secs(30),
        ))
        .await
        .unwrap();
    let (url, _) = q
        .ensure_queue(&spec(
            &unique("contract-main"),
            Some((dlq.clone(), MAX_RECEIVES)),
            Duration::from_secs(1),
        ))
        .await
        .unwrap();
    q.send(&url, OutgoingMessage::plain("poison"))
        .await
        .unwrap();
    let mut receives = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let got = q
            .receive(&url, 1, Duration::from_secs(2), Duration::from_secs(1))
            .await
            .unwrap();
        receives += got.len();
        if receives as u32 >= MAX_RECEIVES {
            break;
        }
    }
    assert_eq!(receives as u32, MAX_RECEIVES);
    // The next receive attempt after the limit moves it to the DLQ instead of delivering it.
    let mut in_dlq = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while in_dlq.is_empty() && Instant::now() < deadline {
        assert!(
            q.receive(&url, 1, Duration::from_secs(2), Duration::from_secs(1))
                .await
                .unwrap()
                .is_empty()
        );
        in_dlq = q
            .receive(&dlq, 1, Duration::from_secs(1), Duration::from_secs(30))
            .await
            .unwrap();
    }
    assert_eq!(in_dlq.len(), 1);
    assert_eq!(in_dlq[0].body, "poison");
}

async fn sending_to_a_missing_queue_is_not_found(b: Backend) {
    let missing = match b.queues.queue_url("contract-exists").await.unwrap() {
        None => {
            let (url, _) = b
                .queues
                .ensure_queue(&spec(
                    &unique("contract-gone"),
                    None,
                    Duration::from_secs(30),
                ))
                .await
                .unwrap();
            b.queues.delete_queue(&url).await.unwrap();
            url
        }
        Some(u) => u,
    };
    let r = b.queues.send(&missing, OutgoingMessage::plain("x")).await;
    assert!(matches!(r, Err(BackendError::NotFound { .. })), "{r:?}");
}

async fn long_poll_wakes_on_send(b: Backend) {
    let (url, _) = b
        .queues
        .ensure_queue(&spec(
            &unique("contract-poll"),
            None,
            Duration::from_secs(30),
        ))
        .await
        .unwrap();
    let queues = b.queues.clone();
    let u = url.clone();
    let sender = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        queues
            .send(&u, OutgoingMessage::plain("wake"))
            .await
            .unwrap();
    });
    let start = Instant::now();
    let got = b
        .queues
        .receive(&url, 10, Duration::from_secs(10), Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "long poll did not wake: {:?}",
        start.elapsed()
    );
    sender.await.unwrap();
}

fn answer(i: usize, labeller: &str) -> Answer {
    let vote = if i.is_multiple_of(2) {
        Vote::HotDog
    } else {
        Vote::NotHotDog
    };
    Answer {
        kind: vote.into(),
        at: "2026-12-01T00:00:00Z".into(),
        labeller: labeller.into(),
        answer_id: format!("{labeller}-{i}"),
    }
}

async fn concurrent_appends_lose_nothing(b: Backend) {
    let key = "labels/race.jpg.txt";
    let mut tasks = Vec::new();
    for t in 0..8 {
        let store = b.store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..4 {
                let a = [answer(i, &format!("w{t}"))];
                worker::append_with_retry(store.as_ref(), key, &a)
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let file = LabelFile::parse(&b.store.get(key).await.unwrap().unwrap().bytes);
    let ids = file.answer_ids();
    assert_eq!(file.lines.len(), 32, "every answer exactly once");
    assert_eq!(ids.len(), 32);
    assert_eq!(file.malformed, 0);
}

async fn compute_clients_each_get_their_own_answers(b: Backend) {
    let ctx = common::app_context(b, "tester").await;
    let worker = worker::spawn(
        ctx.clone(),
        WorkerConfig {
            pollers: 2,
            ..Default::default()
        },
    );
    let mut tasks = Vec::new();
    for c in 0..3u64 {
        let ctx = ctx.clone();
        tasks.push(tokio::spawn(async move {
            let client = ComputeClient::open(&ctx).await.unwrap();
            let inputs: Vec<String> = (0..4u64)
                .map(|i| format!("{c} {i} {}", c * 100 + i))
                .collect();
            let replies = client
                .call_many(&inputs, Duration::from_secs(30))
                .await
                .unwrap();
            for (input, reply) in inputs.iter().zip(replies) {
                let reply = reply.unwrap();
                assert_eq!(
                    reply.text,
                    hotdog_tui::domain::numbers::compute(input)
                        .unwrap()
                        .to_string()
                );
            }
            let bad = client.call("1,-5", Duration::from_secs(30)).await.unwrap();
            assert_eq!(
                bad.error.as_deref(),
                Some("-5 is a negative number: only whole numbers of 0 or more are accepted.")
            );
            let reply_queue = client.reply_url().rsplit('/').next().unwrap().to_string();
            client.close().await;
            reply_queue
        }));
    }
    let mut reply_queues = Vec::new();
    for t in tasks {
        reply_queues.push(t.await.unwrap());
    }
    // A log is written beside its reply, not before it: a client can hold every reply while
    // the last logs are still being written. Shutting down waits for the batches in hand.
    let status = worker.status.clone();
    worker.shutdown().await;
    // One log object per request: 3 clients × (4 + 1).
    let logs = ctx.backend.store.list_all(keys::LOGS).await.unwrap();
    assert_eq!(
        logs.len(),
        15,
        "{:?}",
        logs.iter().map(|l| &l.key).collect::<Vec<_>>()
    );
    // Delivery is at least once: a request whose delete (or log write) failed under load is
    // answered again when it comes back, and counted again; the log objects above are the
    // exactly-once proof. So the counts are at least, never below, one per request.
    let status = status.borrow().clone();
    assert!(
        status.requests_answered >= 15 && status.requests_refused >= 3,
        "{} answered, {} refused",
        status.requests_answered,
        status.requests_refused
    );
    assert!(status.requests_answered - status.requests_refused >= 12);
    // Reply queues of clients that closed are gone.
    for name in reply_queues {
        assert!(name.starts_with("hotdog-reply-"), "{name}");
        assert!(
            ctx.backend.queues.queue_url(&name).await.unwrap().is_none(),
            "{name} was not deleted"
        );
    }
}

async fn plain_requests_get_plain_replies(b: Backend) {
    let ctx = common::app_context(b, "tester").await;
    let worker = worker::spawn(
        ctx.clone(),
        WorkerConfig {
            pollers: 1,
            ..Default::default()
        },
    );
    ctx.backend
        .queues
        .send(&ctx.resources.requests, OutgoingMessage::plain("1,12,55,4"))
        .await
        .unwrap();
    ctx.backend
        .queues
        .send(&ctx.resources.requests, OutgoingMessage::plain("banana"))
        .await
        .unwrap();
    let mut bodies = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while bodies.len() < 2 && Instant::now() < deadline {
        for m in ctx
            .backend
            .queues
            .receive(
                &ctx.resources.responses,
                10,
                Duration::from_secs(2),
                Duration::from_secs(30),
            )
            .await
            .unwrap()
        {
            bodies.push(m.body);
        }
    }
    bodies.sort();
    assert_eq!(
        bodies,
        [
            "\"banana\" is not a whole number: use only the digits 0-9, separated by commas or spaces.",
            "minimum is 1 maximum is 55 average is 18 median is 8",
        ]
    );
    worker.shutdown().await;
}

async fn redelivered_requests_write_one_log(b: Backend) {
    let ctx = common::app_context(b, "tester").await;
    ctx.backend
        .queues
        .send(&ctx.resources.requests, OutgoingMessage::plain("4 5"))
        .await
        .unwrap();
    let batch = ctx
        .backend
        .queues
        .receive(
            &ctx.resources.requests,
            10,
            Duration::from_secs(5),
            Duration::from_secs(1),
        )
        .await
        .unwrap();
    assert_eq!(batch.len(), 1);
    // The same message handled twice (a worker died before deleting it, say).
    worker::process_received(&ctx, false, batch.clone()).await;
    // The first handling answered and deleted it; a redelivery brings the same message
    // (same id, same send time) back, as SQS does after a worker dies before deleting.
    let depth = ctx
        .backend
        .queues
        .depth(&ctx.resources.requests)
        .await
        .unwrap();
    assert_eq!(depth.visible + depth.in_flight, 0);
    let redelivered = batch.clone();
    worker::process_received(&ctx, false, redelivered).await;
    let logs = ctx.backend.store.list_all(keys::LOGS).await.unwrap();
    assert_eq!(logs.len(), 1);
    let text = ctx.backend.store.get(&logs[0].key).await.unwrap().unwrap();
    assert_eq!(
        &text.bytes[..],
        b"minimum is 4 maximum is 5 average is 4.5 median is 4.5\n"
    );
}

async fn labels_pipeline_writes_every_answer_once(b: Backend) {
    let ctx = common::app_context(b, "tester").await;
    let images: Vec<String> = (0..4).map(|i| format!("img-{i}.png")).collect();
    for (i, name) in images.iter().enumerate() {
        let bytes = common::png(4, 4, [i as u8 * 40, 0, 0]);
        ctx.backend
            .store
            .put(
                &keys::image(name),
                Bytes::from(bytes),
                "image/png",
                PutCondition::IfAbsent,
            )
            .await
            .unwrap();
    }
    let worker = worker::spawn(
        ctx.clone(),
        WorkerConfig {
            pollers: 2,
            ..Default::default()
        },
    );
    let mut submitted: HashMap<String, HashSet<String>> = HashMap::new();
    let mut tasks = Vec::new();
    for l in 0..4 {
        let mut c = ctx.clone();
        c.user = format!("labeller\t{l}");
        let images = images.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            for round in 0..3 {
                let answers: Vec<(String, Vote)> = images
                    .iter()
                    .map(|i| {
                        (
                            i.clone(),
                            if round % 2 == 0 {
                                Vote::HotDog
                            } else {
                                Vote::NotHotDog
                            },
                        )
                    })
                    .collect();
                let ids = hotdog_tui::service::labeller::submit_round(&c, &answers)
                    .await
                    .unwrap();
                mine.extend(images.iter().cloned().zip(ids));
            }
            mine
        }));
    }
    for t in tasks {
        for (image, id) in t.await.unwrap() {
            submitted.entry(image).or_default().insert(id);
        }
    }
    // Also an answer for an image that does not exist: dropped, not written.
    hotdog_tui::service::labeller::submit_round(&ctx, &[("ghost.png".into(), Vote::HotDog)])
        .await
        .unwrap();
    let mut cache = StatsCache::new();
    cache.watch(submitted.keys().cloned());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        cache.refresh(&ctx).await.unwrap();
        let all_in = submitted
            .iter()
            .all(|(img, ids)| ids.iter().all(|id| cache.has_answer(img, id)));
        if all_in || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    worker.shutdown().await;
    for image in &images {
        let file = LabelFile::parse(
            &ctx.backend
                .store
                .get(&keys::label_file(image))
                .await
                .unwrap()
                .unwrap()
                .bytes,
        );
        let ids = file.answer_ids();
        assert_eq!(
            file.lines.len(),
            12,
            "{image}: 4 labellers × 3 rounds, each once"
        );
        assert_eq!(ids.len(), 12);
        assert_eq!(
            ids,
            submitted[image]
                .iter()
                .map(String::as_str)
                .collect::<HashSet<_>>()
        );
    }
    assert!(
        ctx.backend
            .store
            .get(&keys::label_file("ghost.png"))
            .await
            .unwrap()
            .is_none()
    );
    // The label index is written after the files (the stopped worker has written it all).
    cache.refresh(&ctx).await.unwrap();
    let stats = cache.images();
    assert_eq!(stats.len(), 4);
    // Every answer is in the file; each labeller counts once (her latest round).
    assert!(
        stats.iter().all(|s| s.answers == 12 && s.votes == 4),
        "{stats:?}"
    );
    assert_eq!(
        cache.labelled_by("labeller 0").len(),
        4,
        "labeller names are cleaned of tabs"
    );
}
