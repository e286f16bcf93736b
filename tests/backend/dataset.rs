//! The dataset rules against both backends (local, and moto): the outbox hands answers to
//! the label queue and keeps them until it does; claims keep labellers working at the same
//! time off the last votes; the statistics count each labeller once; an import of the
//! original system's data run twice writes nothing twice.

use crate::common;

use std::collections::HashSet;
use std::time::Duration;

use bytes::Bytes;
use hotdog_tui::backend::{Backend, PutCondition};
use hotdog_tui::domain::keys;
use hotdog_tui::domain::label_file::{Answer, AnswerKind, Vote};
use hotdog_tui::domain::messages::{ImageAnswer, LabelSubmission};
use hotdog_tui::domain::sampling::RoundChoice;
use hotdog_tui::service::context::AppContext;
use hotdog_tui::service::label_index::IndexWriter;
use hotdog_tui::service::original_import::{ImportLayout, OriginalSource, import};
use hotdog_tui::service::outbox::{Outbox, OutboxSender, SenderEvent};
use hotdog_tui::service::rounds::RoundPicker;
use hotdog_tui::service::statistics::StatsCache;
use hotdog_tui::worker::append_with_retry;

on_both_backends!(
    the_outbox_keeps_answers_until_the_queue_accepts_them,
    a_flush_is_reported_after_what_it_sent,
    claims_keep_labellers_off_the_last_votes,
    statistics_count_each_labeller_once,
    importing_the_original_twice_writes_nothing_twice,
);

async fn context(backend: Backend, user: &str, state: &tempfile::TempDir) -> AppContext {
    let mut ctx = common::app_context(backend, user).await;
    ctx.state_dir = state.path().to_path_buf();
    ctx
}

async fn seed(ctx: &AppContext, names: &[&str]) {
    for n in names {
        ctx.backend
            .store
            .put(
                &keys::image(n),
                Bytes::from(common::png(3, 3, [10, 20, 30])),
                "image/png",
                PutCondition::None,
            )
            .await
            .unwrap();
    }
}

fn given(image: &str, who: &str, kind: AnswerKind, id: &str) -> ImageAnswer {
    ImageAnswer {
        image: image.into(),
        answer: Answer {
            kind,
            at: "2026-12-01T07:00:00.000Z".into(),
            labeller: who.into(),
            answer_id: id.into(),
        },
    }
}

async fn the_outbox_keeps_answers_until_the_queue_accepts_them(b: Backend) {
    let state = tempfile::tempdir().unwrap();
    let ctx = context(b, "ann", &state).await;
    let outbox = Outbox::for_context(&ctx).unwrap();
    let answers = vec![
        given("1.jpg", "ann", AnswerKind::Vote(Vote::HotDog), "a1"),
        given("2.jpg", "ann", AnswerKind::Skip, "a2"),
        // Kept from an earlier session under another name: its own message.
        given("1.jpg", "bob", AnswerKind::Vote(Vote::NotHotDog), "b1"),
    ];
    outbox.record(&answers).unwrap();
    assert_eq!(outbox.pending().unwrap().len(), 3);
    let report = outbox.send_pending(&ctx).await.unwrap();
    assert_eq!(report.sent.len(), 3);
    assert!(
        outbox.pending().unwrap().is_empty(),
        "removed once accepted"
    );
    // What reached the queue: two messages, every answer once, with its kind.
    let mut got = Vec::new();
    for _ in 0..10 {
        let batch = ctx
            .backend
            .queues
            .receive(
                &ctx.resources.labels,
                10,
                Duration::from_secs(1),
                Duration::from_secs(30),
            )
            .await
            .unwrap();
        for m in batch {
            got.extend(LabelSubmission::decode(&m.body).unwrap());
        }
        if got.len() >= 3 {
            break;
        }
    }
    got.sort_by(|a, b| a.answer.answer_id.cmp(&b.answer.answer_id));
    assert_eq!(got, {
        let mut a = answers.clone();
        a.sort_by(|x, y| x.answer.answer_id.cmp(&y.answer.answer_id));
        a
    });
    // Nothing pending: sending again sends nothing.
    assert!(outbox.send_pending(&ctx).await.unwrap().sent.is_empty());
}

/// Quitting waits for a flush and then for the answers it sent to be written: the TUI must
/// hear what was sent before it hears that the flush is done, so both come on one channel.
async fn a_flush_is_reported_after_what_it_sent(b: Backend) {
    let state = tempfile::tempdir().unwrap();
    let ctx = context(b, "ann", &state).await;
    let outbox = Outbox::for_context(&ctx).unwrap();
    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let sender = OutboxSender::spawn(ctx.clone(), outbox.clone(), events_tx);
    let wait_next = async |events: &mut tokio::sync::mpsc::UnboundedReceiver<SenderEvent>| {
        tokio::time::timeout(Duration::from_secs(30), events.recv())
            .await
            .expect("an event within 30 s")
            .expect("the sender is running")
    };
    // Nothing kept: the flush says so, and nothing was sent before it.
    sender.flush().unwrap();
    let first = wait_next(&mut events).await;
    assert!(matches!(first, SenderEvent::Flushed(Ok(0))), "{first:?}");
    outbox
        .record(&[
            given("1.jpg", "ann", AnswerKind::Vote(Vote::HotDog), "a1"),
            given("2.jpg", "ann", AnswerKind::Vote(Vote::NotHotDog), "a2"),
        ])
        .unwrap();
    sender.flush().unwrap();
    let sent = wait_next(&mut events).await;
    match &sent {
        SenderEvent::Sent { answers, kept: 0 } => {
            let ids: HashSet<&str> = answers
                .iter()
                .map(|a| a.answer.answer_id.as_str())
                .collect();
            assert_eq!(ids, HashSet::from(["a1", "a2"]));
        }
        other => panic!("expected what was sent first, got {other:?}"),
    }
    let flushed = wait_next(&mut events).await;
    assert!(
        matches!(flushed, SenderEvent::Flushed(Ok(0))),
        "{flushed:?}"
    );
    let after = events.try_recv();
    assert!(
        matches!(after, Err(tokio::sync::mpsc::error::TryRecvError::Empty)),
        "{after:?}"
    );
    sender.stop();
}

async fn claims_keep_labellers_off_the_last_votes(b: Backend) {
    let state = tempfile::tempdir().unwrap();
    let mut ann = context(b.clone(), "ann", &state).await;
    let mut bob = ann.clone();
    bob.user = "bob".into();
    ann.votes_per_image = 1;
    bob.votes_per_image = 1;
    let images = ["a.png", "b.png", "c.png", "d.png", "e.png"];
    seed(&ann, &images).await;
    let none = HashSet::new();
    let mut ann_picker = RoundPicker::new(1);
    let mut bob_picker = RoundPicker::new(2);
    let RoundChoice::Round(first) = ann_picker
        .next_round(&ann, &none, &none, &[])
        .await
        .unwrap()
    else {
        panic!("ann gets a round");
    };
    assert_eq!(first.len(), 4);
    // Bob is left the one image ann does not hold.
    let RoundChoice::Round(bobs) = bob_picker
        .next_round(&bob, &none, &none, &[])
        .await
        .unwrap()
    else {
        panic!("bob gets what is left");
    };
    let left: Vec<&str> = images
        .iter()
        .copied()
        .filter(|i| !first.iter().any(|f| f == i))
        .collect();
    assert_eq!(bobs, vec![left[0].to_string()]);
    let again = bob_picker
        .next_round(&bob, &bobs.iter().cloned().collect(), &none, &bobs)
        .await
        .unwrap();
    let RoundChoice::NothingLeft(n) = again else {
        panic!("nothing left for bob: {again:?}");
    };
    assert_eq!((n.held_by_others, n.total, n.done), (4, 5, 0));
    assert!(n.to_string().contains("being labelled by others"), "{n}");
    // Ann answers two and walks away (her claims released): bob gets the other two.
    // Written as the worker writes: the file, then the label index.
    for (i, image) in first.iter().take(2).enumerate() {
        let written = append_with_retry(
            ann.backend.store.as_ref(),
            &keys::label_file(image),
            &[given(
                image,
                "ann",
                AnswerKind::Vote(Vote::HotDog),
                &format!("a{i}"),
            )
            .answer],
        )
        .await
        .unwrap();
        IndexWriter::new(ann.backend.store.clone())
            .record(written.index_update(image).into_iter().collect())
            .await
            .unwrap();
    }
    ann_picker.claim(&ann, Vec::new()).await.unwrap();
    let RoundChoice::Round(rest) = bob_picker
        .next_round(&bob, &none, &bobs.iter().cloned().collect(), &[])
        .await
        .unwrap()
    else {
        panic!("bob gets the released images");
    };
    let rest: HashSet<String> = rest.into_iter().collect();
    assert_eq!(rest, first[2..].iter().cloned().collect::<HashSet<_>>());
}

async fn statistics_count_each_labeller_once(b: Backend) {
    let state = tempfile::tempdir().unwrap();
    let ctx = context(b, "ann", &state).await;
    seed(&ctx, &["x.png"]).await;
    let key = keys::label_file("x.png");
    let store = ctx.backend.store.as_ref();
    let answers = [
        (
            "ann",
            AnswerKind::Vote(Vote::HotDog),
            "2026-12-01T07:00:00Z",
        ),
        (
            "ann",
            AnswerKind::Vote(Vote::HotDog),
            "2026-12-01T07:00:01Z",
        ),
        (
            "ann",
            AnswerKind::Vote(Vote::NotHotDog),
            "2026-12-01T07:00:02Z",
        ),
        ("bob", AnswerKind::Skip, "2026-12-01T07:00:03Z"),
        (
            "cat",
            AnswerKind::Vote(Vote::NotHotDog),
            "2026-12-01T07:00:04Z",
        ),
    ];
    for (i, (who, kind, at)) in answers.iter().enumerate() {
        let mut a = given("x.png", who, *kind, &format!("id{i}")).answer;
        a.at = (*at).into();
        append_with_retry(store, &key, &[a]).await.unwrap();
    }
    // The original system's bare line is one more anonymous vote.
    let mut bytes = store.get(&key).await.unwrap().unwrap().bytes.to_vec();
    bytes.extend_from_slice(b"1\n");
    store
        .put(&key, bytes.into(), "text/plain", PutCondition::None)
        .await
        .unwrap();
    let mut cache = StatsCache::new();
    cache.refresh(&ctx).await.unwrap();
    let s = &cache.images()[0];
    assert_eq!(
        (s.votes, s.hotdog, s.not_hotdog, s.skips, s.answers),
        (3, 1, 2, 1, 6),
        "ann once (not), bob's skip, cat, one bare line: {s:?}"
    );
    assert!(s.done, "3 votes of 3");
    assert_eq!(cache.progress(), (1, 1));
    assert_eq!(cache.labelled_by("ann").len(), 1);
}

async fn importing_the_original_twice_writes_nothing_twice(b: Backend) {
    let state = tempfile::tempdir().unwrap();
    let ctx = context(b, "admin", &state).await;
    let old = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(old.path().join("files")).unwrap();
    std::fs::write(old.path().join("dog.png"), common::png(4, 4, [200, 100, 0])).unwrap();
    std::fs::write(old.path().join("files/dog.txt"), b"1\n0\n1\n1\n").unwrap();
    let source = OriginalSource::Dir(old.path().to_path_buf());
    let layout = ImportLayout {
        images_prefix: String::new(),
        labels_prefix: "files/".into(),
    };
    let first = import(&ctx, &source, &layout, |_, _, _| {}).await.unwrap();
    assert_eq!((first.votes_imported, first.votes_already_there), (4, 0));
    assert!(!first.has_problems(), "{first}");
    let second = import(&ctx, &source, &layout, |_, _, _| {}).await.unwrap();
    assert_eq!((second.votes_imported, second.votes_already_there), (0, 4));
    let mut cache = StatsCache::new();
    cache.refresh(&ctx).await.unwrap();
    let s = cache
        .images()
        .into_iter()
        .find(|s| s.image == "dog.png")
        .unwrap();
    assert_eq!(
        (s.votes, s.hotdog, s.answers),
        (4, 3, 4),
        "four anonymous votes: {s:?}"
    );
}
