//! The AWS backend (S3 + SQS ports) against a real moto server: conditional writes,
//! conditional reads, listing, queues with dead-lettering, batches and error mapping.
//! Needs `HOTDOG_TEST_MOTO_ENDPOINT` (scripts/test starts moto and sets it).
// A failed unwrap is a failed test, which is what these should do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::moto;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hotdog_tui::backend::aws::{AwsOptions, connect};
use hotdog_tui::backend::{
    BackendError, Fetched, MAX_RECEIVES, MessageQueue, Missing, ObjectStore, OutgoingMessage,
    PutCondition, QueueSpec,
};
use moto::{aws_backend, aws_backend_without_bucket, moto_endpoint, moto_options, unique_name};

const JSON: &str = "application/json";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn spec(name: &str, dead_letter: Option<(String, u32)>) -> QueueSpec {
    QueueSpec {
        name: name.to_string(),
        dead_letter,
        visibility_timeout: Duration::from_secs(30),
    }
}

#[tokio::test]
async fn connect_reports_region_and_endpoint() {
    let opts = moto_options(&unique_name("hd-conn"));
    let (_s, _q, region, endpoint) = connect(&opts).await.unwrap();
    assert_eq!(region, "us-east-1");
    assert_eq!(endpoint.as_deref(), Some(moto_endpoint().as_str()));
    let err = connect(&AwsOptions::default()).await.unwrap_err();
    assert!(matches!(err, BackendError::Invalid(_)), "{err:?}");
}

#[tokio::test]
async fn ensure_bucket_is_idempotent() {
    let bucket = unique_name("hd-bucket");
    let (store, _q) = aws_backend_without_bucket(&bucket).await;
    assert!(store.ensure_bucket().await.unwrap(), "first call creates");
    assert!(
        !store.ensure_bucket().await.unwrap(),
        "second call finds it"
    );
}

#[tokio::test]
async fn ensure_bucket_outside_us_east_1_passes_a_location_constraint() {
    let mut opts = moto_options(&unique_name("hd-eu"));
    opts.region = Some("eu-west-1".into());
    let (store, _q, region, _) = connect(&opts).await.unwrap();
    assert_eq!(region, "eu-west-1");
    assert!(store.ensure_bucket().await.unwrap());
    assert!(!store.ensure_bucket().await.unwrap());
    store
        .put("k", Bytes::from_static(b"x"), JSON, PutCondition::IfAbsent)
        .await
        .unwrap();
    assert_eq!(
        store.get("k").await.unwrap().unwrap().bytes,
        Bytes::from_static(b"x")
    );
}

#[tokio::test]
async fn put_if_absent_fails_when_the_key_exists() {
    let (store, _q) = aws_backend(&unique_name("hd-absent")).await;
    let etag = store
        .put(
            "a/one.json",
            Bytes::from_static(b"1"),
            JSON,
            PutCondition::IfAbsent,
        )
        .await
        .unwrap();
    assert!(!etag.is_empty());
    let err = store
        .put(
            "a/one.json",
            Bytes::from_static(b"2"),
            JSON,
            PutCondition::IfAbsent,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, BackendError::PreconditionFailed), "{err:?}");
    let obj = store.get("a/one.json").await.unwrap().unwrap();
    assert_eq!(
        obj.bytes,
        Bytes::from_static(b"1"),
        "the loser did not overwrite"
    );
    assert_eq!(obj.etag, etag);
    assert_eq!(obj.content_type.as_deref(), Some(JSON));
    // An unconditional put still overwrites.
    store
        .put(
            "a/one.json",
            Bytes::from_static(b"3"),
            JSON,
            PutCondition::None,
        )
        .await
        .unwrap();
    assert_eq!(
        store.get("a/one.json").await.unwrap().unwrap().bytes,
        Bytes::from_static(b"3")
    );
}

#[tokio::test]
async fn put_if_match_with_a_stale_etag_fails() {
    let (store, _q) = aws_backend(&unique_name("hd-match")).await;
    let e1 = store
        .put("k", Bytes::from_static(b"v1"), JSON, PutCondition::None)
        .await
        .unwrap();
    let e2 = store
        .put(
            "k",
            Bytes::from_static(b"v2"),
            JSON,
            PutCondition::IfMatch(e1.clone()),
        )
        .await
        .unwrap();
    assert_ne!(e1, e2);
    let err = store
        .put(
            "k",
            Bytes::from_static(b"v3"),
            JSON,
            PutCondition::IfMatch(e1),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, BackendError::PreconditionFailed), "{err:?}");
    let obj = store.get("k").await.unwrap().unwrap();
    assert_eq!((obj.bytes, obj.etag), (Bytes::from_static(b"v2"), e2));
    // Replacing a version that no longer exists also loses.
    let err = store
        .put(
            "gone",
            Bytes::from_static(b"x"),
            JSON,
            PutCondition::IfMatch("\"abc\"".into()),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, BackendError::PreconditionFailed), "{err:?}");
}

#[tokio::test]
async fn get_if_changed_head_and_missing_keys() {
    let (store, _q) = aws_backend(&unique_name("hd-cond")).await;
    let e1 = store
        .put(
            "doc",
            Bytes::from_static(b"hello"),
            "text/plain",
            PutCondition::None,
        )
        .await
        .unwrap();
    assert!(matches!(
        store.get_if_changed("doc", &e1).await.unwrap(),
        Fetched::Unchanged
    ));
    let e2 = store
        .put(
            "doc",
            Bytes::from_static(b"hello!"),
            "text/plain",
            PutCondition::None,
        )
        .await
        .unwrap();
    match store.get_if_changed("doc", &e1).await.unwrap() {
        Fetched::Changed(obj) => {
            assert_eq!(obj.bytes, Bytes::from_static(b"hello!"));
            assert_eq!(obj.etag, e2);
        }
        other => panic!("expected Changed, got {other:?}"),
    }
    assert!(matches!(
        store.get_if_changed("nope", &e1).await.unwrap(),
        Fetched::Missing
    ));
    assert!(store.get("nope").await.unwrap().is_none());
    assert!(store.head("nope").await.unwrap().is_none());
    let meta = store.head("doc").await.unwrap().unwrap();
    assert_eq!(
        (meta.key.as_str(), meta.etag.as_str(), meta.size),
        ("doc", e2.as_str(), 6)
    );
    store.delete("doc").await.unwrap();
    assert!(store.get("doc").await.unwrap().is_none());
    store.delete("doc").await.unwrap(); // deleting a missing key is fine
}

#[tokio::test]
async fn list_all_returns_keys_under_the_prefix_in_order_with_etags() {
    let (store, _q) = aws_backend(&unique_name("hd-list")).await;
    let mut expected = BTreeMap::new();
    for i in 0..30 {
        let key = format!("labels/{i:03}.json");
        let etag = store
            .put(
                &key,
                Bytes::from(format!("{{\"n\":{i}}}")),
                JSON,
                PutCondition::None,
            )
            .await
            .unwrap();
        expected.insert(key, etag);
    }
    store
        .put(
            "other/x.json",
            Bytes::from_static(b"{}"),
            JSON,
            PutCondition::None,
        )
        .await
        .unwrap();
    let listed = store.list_all("labels/").await.unwrap();
    let keys: Vec<&str> = listed.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(
        keys,
        expected.keys().map(String::as_str).collect::<Vec<_>>()
    );
    for m in &listed {
        assert_eq!(Some(&m.etag), expected.get(&m.key), "{}", m.key);
        assert!(m.size > 0);
    }
    let page = store.list_page("labels/", None).await.unwrap();
    assert_eq!(page.objects.len(), 30);
    assert!(page.next.is_none());
    assert!(store.list_all("empty/").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_missing_bucket_is_not_found() {
    let bucket = unique_name("hd-missing");
    let (store, _q) = aws_backend_without_bucket(&bucket).await;
    let err = store
        .put("k", Bytes::from_static(b"x"), JSON, PutCondition::None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, BackendError::NotFound { ref what } if *what == Missing::Bucket(bucket.clone())),
        "{err:?}"
    );
    let err = store.list_all("").await.unwrap_err();
    assert!(matches!(err, BackendError::NotFound { .. }), "{err:?}");
    let err = store.get("k").await.unwrap_err();
    assert!(matches!(err, BackendError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn an_unreachable_endpoint_is_unavailable() {
    // Port 9 (discard) on loopback: nothing listens, so connections are refused at once.
    let mut opts = moto_options(&unique_name("hd-down"));
    opts.endpoint_url = Some("http://127.0.0.1:9".into());
    let (store, queues, _, _) = connect(&opts).await.unwrap();
    let err = store.get("k").await.unwrap_err();
    assert!(
        matches!(
            err,
            BackendError::Unavailable {
                service: "object store (S3)",
                ..
            }
        ),
        "{err:?}"
    );
    let err = queues.queue_url("q").await.unwrap_err();
    assert!(
        matches!(
            err,
            BackendError::Unavailable {
                service: "queue (SQS)",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn queue_lifecycle_send_receive_delete_depth() {
    let (_s, queues) = aws_backend_without_bucket("unused").await;
    let name = unique_name("hd-q");
    let (dlq, created) = queues
        .ensure_queue(&spec(&format!("{name}-dlq"), None))
        .await
        .unwrap();
    assert!(created);
    let (url, created) = queues
        .ensure_queue(&spec(&name, Some((dlq.clone(), MAX_RECEIVES))))
        .await
        .unwrap();
    assert!(created);
    assert!(url.ends_with(&format!("/{name}")), "{url}");
    let (again, created) = queues
        .ensure_queue(&spec(&name, Some((dlq.clone(), MAX_RECEIVES))))
        .await
        .unwrap();
    assert_eq!((again.as_str(), created), (url.as_str(), false));
    assert_eq!(
        queues.queue_url(&name).await.unwrap().as_deref(),
        Some(url.as_str())
    );
    assert_eq!(
        queues.queue_url(&unique_name("hd-none")).await.unwrap(),
        None
    );

    let listed = queues.list_queues(&name).await.unwrap();
    let names: Vec<&str> = listed.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(names, vec![name.clone(), format!("{name}-dlq")]);
    for q in &listed {
        assert!((q.last_modified_ms - now_ms()).abs() < 120_000, "{q:?}");
    }

    let before = now_ms();
    let mut msg = OutgoingMessage::plain("job-1");
    msg.attributes.insert("kind".into(), "classify".into());
    msg.attributes.insert("reply-to".into(), "replies-x".into());
    let id = queues.send(&url, msg.clone()).await.unwrap();
    let got = queues
        .receive(&url, 10, Duration::from_secs(1), Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(
        (m.message_id.as_str(), m.body.as_str()),
        (id.as_str(), "job-1")
    );
    assert_eq!(m.attributes, msg.attributes);
    assert_eq!(m.receive_count, 1);
    assert!(
        m.sent_at_ms >= before - 2_000 && m.sent_at_ms <= now_ms() + 2_000,
        "{} vs {before}",
        m.sent_at_ms
    );
    assert_eq!(queues.depth(&url).await.unwrap().in_flight, 1);

    let batch: Vec<OutgoingMessage> = (0..10)
        .map(|i| OutgoingMessage::plain(format!("b{i}")))
        .collect();
    let results = queues.send_batch(&url, batch).await.unwrap();
    assert_eq!(results.len(), 10);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let depth = queues.depth(&url).await.unwrap();
    assert_eq!((depth.visible, depth.in_flight), (10, 1));

    let mut receipts = vec![m.receipt.clone()];
    let mut bodies = BTreeSet::new();
    while bodies.len() < 10 {
        let got = queues
            .receive(&url, 10, Duration::from_secs(1), Duration::from_secs(30))
            .await
            .unwrap();
        assert!(!got.is_empty(), "messages went missing; have {bodies:?}");
        for m in got {
            bodies.insert(m.body);
            receipts.push(m.receipt);
        }
    }
    assert_eq!(receipts.len(), 11, "more than one batch of deletes");
    queues.delete_batch(&url, &receipts).await.unwrap();
    let depth = queues.depth(&url).await.unwrap();
    assert_eq!((depth.visible, depth.in_flight), (0, 0));
    assert!(
        queues
            .receive(&url, 10, Duration::ZERO, Duration::from_secs(30))
            .await
            .unwrap()
            .is_empty()
    );

    queues.delete_queue(&url).await.unwrap();
    queues.delete_queue(&dlq).await.unwrap();
    assert_eq!(queues.queue_url(&name).await.unwrap(), None);
    queues.delete_queue(&url).await.unwrap(); // already gone is fine
    let err = queues
        .send(&url, OutgoingMessage::plain("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, BackendError::NotFound { ref what } if *what == Missing::Queue(name.clone())),
        "{err:?}"
    );
    let err = queues.depth(&url).await.unwrap_err();
    assert!(matches!(err, BackendError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn concurrent_ensure_queue_with_different_attributes_agrees_on_one_queue() {
    let (_s, queues) = aws_backend_without_bucket("unused").await;
    let name = unique_name("hd-race");
    let tasks: Vec<_> = (1..=4u64)
        .map(|i| {
            let queues = queues.clone();
            let spec = QueueSpec {
                visibility_timeout: Duration::from_secs(10 * i),
                ..spec(&name, None)
            };
            tokio::spawn(async move { queues.ensure_queue(&spec).await })
        })
        .collect();
    let mut urls = BTreeSet::new();
    let mut created = 0;
    for t in tasks {
        let (url, c) = t.await.unwrap().unwrap();
        urls.insert(url);
        created += usize::from(c);
    }
    assert_eq!(urls.len(), 1, "{urls:?}");
    assert!(created >= 1);
}

#[tokio::test]
async fn a_message_received_too_often_moves_to_the_dead_letter_queue() {
    let (_s, queues) = aws_backend_without_bucket("unused").await;
    let name = unique_name("hd-redrive");
    let (dlq, _) = queues
        .ensure_queue(&spec(&format!("{name}-dlq"), None))
        .await
        .unwrap();
    let (url, _) = queues
        .ensure_queue(&spec(&name, Some((dlq.clone(), MAX_RECEIVES))))
        .await
        .unwrap();
    queues
        .send(&url, OutgoingMessage::plain("poison"))
        .await
        .unwrap();
    let mut counts = Vec::new();
    for _ in 0..(MAX_RECEIVES + 3) {
        // Visibility 0: the message is visible again right away, as if the worker crashed.
        let got = queues
            .receive(&url, 1, Duration::ZERO, Duration::ZERO)
            .await
            .unwrap();
        match got.first() {
            Some(m) => counts.push(m.receive_count),
            None => break,
        }
    }
    assert_eq!(counts, (1..=MAX_RECEIVES).collect::<Vec<_>>());
    let dead = queues
        .receive(&dlq, 10, Duration::from_secs(1), Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, "poison");
    assert_eq!(queues.depth(&url).await.unwrap().visible, 0);
}

#[tokio::test]
async fn touch_queue_updates_last_modified() {
    let (_s, queues) = aws_backend_without_bucket("unused").await;
    let name = unique_name("hd-touch");
    let (url, _) = queues.ensure_queue(&spec(&name, None)).await.unwrap();
    let before = queues.list_queues(&name).await.unwrap()[0].last_modified_ms;
    // LastModifiedTimestamp has one-second resolution.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    queues.touch_queue(&url).await.unwrap();
    let after = queues.list_queues(&name).await.unwrap()[0].last_modified_ms;
    assert!(after > before, "{after} <= {before}");
}

#[tokio::test]
async fn batch_send_reports_entry_failures_and_invalid_input() {
    let (_s, queues) = aws_backend_without_bucket("unused").await;
    let (url, _) = queues
        .ensure_queue(&spec(&unique_name("hd-batch"), None))
        .await
        .unwrap();
    assert!(
        queues
            .send_batch(&url, Vec::new())
            .await
            .unwrap()
            .is_empty()
    );
    // More than 10 are chunked, results stay in input order.
    let msgs: Vec<OutgoingMessage> = (0..13)
        .map(|i| OutgoingMessage::plain(format!("m{i}")))
        .collect();
    let ids = queues.send_batch(&url, msgs).await.unwrap();
    assert_eq!(ids.len(), 13);
    assert!(ids.iter().all(Result::is_ok), "{ids:?}");
    assert_eq!(queues.depth(&url).await.unwrap().visible, 13);
    let err = queues
        .delete_batch(&url, &["not-a-receipt".to_string()])
        .await
        .unwrap_err();
    assert!(matches!(err, BackendError::Invalid(_)), "{err:?}");
}

#[tokio::test]
async fn concurrent_read_modify_write_appends_lose_nothing() {
    const TASKS: usize = 8;
    const APPENDS: usize = 4;
    let (store, _q) = aws_backend(&unique_name("hd-rmw")).await;
    let store = Arc::new(store);
    store
        .put(
            "log.json",
            Bytes::from_static(b"[]"),
            JSON,
            PutCondition::IfAbsent,
        )
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0usize;
            for a in 0..APPENDS {
                loop {
                    let obj = store.get("log.json").await.unwrap().unwrap();
                    let mut items: Vec<String> = serde_json::from_slice(&obj.bytes).unwrap();
                    items.push(format!("{t}-{a}"));
                    let body = Bytes::from(serde_json::to_vec(&items).unwrap());
                    match store
                        .put("log.json", body, JSON, PutCondition::IfMatch(obj.etag))
                        .await
                    {
                        Ok(_) => break,
                        Err(BackendError::PreconditionFailed) => conflicts += 1,
                        Err(e) => panic!("append failed: {e}"),
                    }
                }
            }
            conflicts
        }));
    }
    let mut conflicts = 0;
    for t in tasks {
        conflicts += t.await.unwrap();
    }
    let items: Vec<String> =
        serde_json::from_slice(&store.get("log.json").await.unwrap().unwrap().bytes).unwrap();
    let unique: BTreeSet<&String> = items.iter().collect();
    assert_eq!(items.len(), TASKS * APPENDS, "{items:?}");
    assert_eq!(unique.len(), TASKS * APPENDS);
    eprintln!("{conflicts} conditional-write conflicts retried");
}
