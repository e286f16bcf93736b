//! The gold answers against both backends (local, and moto): the object round-trips,
//! concurrent editors lose nothing (conditional writes), an unreadable object is never
//! overwritten (and the cache uses none of it), and rounds mix in the gold images a labeller has not answered — even when
//! they have all the votes they need — until she has.

use crate::common;

use std::collections::HashSet;

use bytes::Bytes;
use hotdog_tui::backend::{Backend, PutCondition};
use hotdog_tui::domain::gold::GoldSet;
use hotdog_tui::domain::keys;
use hotdog_tui::domain::label_file::{Answer, AnswerKind, Vote};
use hotdog_tui::domain::sampling::RoundChoice;
use hotdog_tui::service::context::AppContext;
use hotdog_tui::service::gold::{self, GoldError};
use hotdog_tui::service::label_index::IndexWriter;
use hotdog_tui::service::rounds::RoundPicker;
use hotdog_tui::service::statistics::GoldCache;
use hotdog_tui::worker::append_with_retry;

on_both_backends!(
    gold_answers_round_trip,
    concurrent_gold_edits_lose_nothing,
    an_unreadable_gold_object_is_never_overwritten,
    rounds_mix_in_gold_until_she_answers_it,
);

async fn set(b: &Backend, answers: &[(&str, Vote)]) -> GoldSet {
    let (changes, now) = gold::edit(b.store.as_ref(), |g: &mut GoldSet| {
        for (image, vote) in answers {
            g.set(image, *vote).map_err(|e| e.to_string())?;
        }
        Ok::<_, String>(answers.len())
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(changes, answers.len());
    now
}

async fn gold_answers_round_trip(b: Backend) {
    let (empty, etag) = gold::read(b.store.as_ref()).await.unwrap();
    assert!(empty.is_empty() && etag.is_none());
    let mut cache = GoldCache::default();
    cache.refresh(b.store.as_ref()).await.unwrap();
    assert!(cache.gold().is_empty());

    set(&b, &[("a.png", Vote::HotDog), ("b.png", Vote::NotHotDog)]).await;
    let (back, etag) = gold::read(b.store.as_ref()).await.unwrap();
    assert!(etag.is_some());
    assert_eq!(
        back.iter().collect::<Vec<_>>(),
        vec![("a.png", Vote::HotDog), ("b.png", Vote::NotHotDog)]
    );
    cache.refresh(b.store.as_ref()).await.unwrap();
    assert_eq!(cache.gold(), &back);

    // A change nobody needs writes nothing (the ETag stays).
    set(&b, &[("a.png", Vote::HotDog)]).await;
    assert_eq!(gold::read(b.store.as_ref()).await.unwrap().1, etag);

    let (removed, now) = gold::edit(b.store.as_ref(), |g: &mut GoldSet| {
        Ok::<_, ()>(g.remove("a.png"))
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!((removed, now.len()), (Some(Vote::HotDog), 1));
    cache.refresh(b.store.as_ref()).await.unwrap();
    assert_eq!(cache.gold().get("a.png"), None);
    assert_eq!(cache.gold().get("b.png"), Some(Vote::NotHotDog));

    // A refused change writes nothing.
    let refused = gold::edit(b.store.as_ref(), |g: &mut GoldSet| {
        g.remove("b.png");
        Err::<(), _>("no")
    })
    .await
    .unwrap();
    assert_eq!(refused.unwrap_err(), "no");
    assert_eq!(gold::read(b.store.as_ref()).await.unwrap().0.len(), 1);
}

async fn concurrent_gold_edits_lose_nothing(b: Backend) {
    let editors: Vec<_> = (0..8)
        .map(|i| {
            let b = b.clone();
            tokio::spawn(async move {
                let image = format!("{i}.png");
                let vote = if i % 2 == 0 {
                    Vote::HotDog
                } else {
                    Vote::NotHotDog
                };
                set(&b, &[(image.as_str(), vote)]).await;
            })
        })
        .collect();
    for e in editors {
        e.await.unwrap();
    }
    let (gold, _) = gold::read(b.store.as_ref()).await.unwrap();
    assert_eq!(gold.len(), 8, "{gold:?}");
    for i in 0..8 {
        let want = if i % 2 == 0 {
            Vote::HotDog
        } else {
            Vote::NotHotDog
        };
        assert_eq!(gold.get(&format!("{i}.png")), Some(want));
    }
}

async fn an_unreadable_gold_object_is_never_overwritten(b: Backend) {
    set(&b, &[("a.png", Vote::HotDog)]).await;
    let mut cache = GoldCache::default();
    cache.refresh(b.store.as_ref()).await.unwrap();
    let hand_edited = b"a.png\t1\nb.png\tyes\n";
    b.store
        .put(
            keys::GOLD_SET,
            Bytes::from_static(hand_edited),
            "text/plain",
            PutCondition::None,
        )
        .await
        .unwrap();
    let e = gold::edit(b.store.as_ref(), |g: &mut GoldSet| {
        g.set("c.png", Vote::HotDog).map(|_| ())
    })
    .await
    .unwrap_err();
    assert!(matches!(e, GoldError::Unreadable(_)), "{e}");
    assert!(e.to_string().contains("line 2"), "{e}");
    let stored = b.store.get(keys::GOLD_SET).await.unwrap().unwrap();
    assert_eq!(&stored.bytes[..], hand_edited);
    // The cache says why and uses no gold answers (rounds mix none in).
    cache.refresh(b.store.as_ref()).await.unwrap();
    assert!(cache.problem().unwrap().contains("line 2"));
    assert!(cache.gold().is_empty());
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

/// Written as the worker writes: the label file, then the label index.
async fn vote(ctx: &AppContext, image: &str, who: &str, kind: AnswerKind) {
    let written = append_with_retry(
        ctx.backend.store.as_ref(),
        &keys::label_file(image),
        &[Answer {
            kind,
            at: "2026-12-01T07:00:00.000Z".into(),
            labeller: who.into(),
            answer_id: format!("{who}-{image}"),
        }],
    )
    .await
    .unwrap();
    IndexWriter::new(ctx.backend.store.clone())
        .record(written.index_update(image).into_iter().collect())
        .await
        .unwrap();
}

fn round(choice: RoundChoice) -> Vec<String> {
    match choice {
        RoundChoice::Round(r) => r,
        RoundChoice::NothingLeft(n) => panic!("nothing left: {n}"),
    }
}

async fn rounds_mix_in_gold_until_she_answers_it(b: Backend) {
    let mut ann = common::app_context(b, "ann").await;
    ann.gold_rate = 1.0;
    let images = ["a.png", "b.png", "c.png", "d.png", "e.png", "gold.png"];
    seed(&ann, &images).await;
    // gold.png has all the votes it needs: it is done for the pool, not for ann.
    for who in ["x", "y", "z"] {
        vote(&ann, "gold.png", who, AnswerKind::Vote(Vote::HotDog)).await;
    }
    let none = HashSet::new();
    let mut picker = RoundPicker::new(3);
    let before = round(picker.next_round(&ann, &none, &none, &[]).await.unwrap());
    assert!(!before.contains(&"gold.png".to_string()), "{before:?}");

    set(&ann.backend, &[("gold.png", Vote::HotDog)]).await;
    let with_gold = round(picker.next_round(&ann, &none, &none, &[]).await.unwrap());
    assert_eq!(with_gold.len(), 4);
    assert!(with_gold.contains(&"gold.png".to_string()), "{with_gold:?}");
    assert!(picker.gold().contains("gold.png"));

    // Answered (sent, not yet written): no longer offered to her.
    let sent = HashSet::from(["gold.png".to_string()]);
    let r = round(picker.next_round(&ann, &none, &sent, &[]).await.unwrap());
    assert!(!r.contains(&"gold.png".to_string()), "{r:?}");
    // Written: the same.
    vote(&ann, "gold.png", "ann", AnswerKind::Vote(Vote::NotHotDog)).await;
    let r = round(picker.next_round(&ann, &none, &none, &[]).await.unwrap());
    assert!(!r.contains(&"gold.png".to_string()), "{r:?}");
    // Bob has not answered it: he gets it.
    let mut bob = ann.clone();
    bob.user = "bob".into();
    let mut bobs = RoundPicker::new(4);
    let r = round(bobs.next_round(&bob, &none, &none, &[]).await.unwrap());
    assert!(r.contains(&"gold.png".to_string()), "{r:?}");
    // With the rate at 0, nobody does.
    bob.gold_rate = 0.0;
    let mut off = RoundPicker::new(5);
    let r = round(off.next_round(&bob, &none, &none, &[]).await.unwrap());
    assert!(!r.contains(&"gold.png".to_string()), "{r:?}");
}
