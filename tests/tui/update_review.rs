//! `update` on the review view (`r` on the Stats tab): the contested images most doubtful
//! first, loading the selected one (stale results dropped), deciding with 1 / 0 through
//! the answer path, the image leaving once the label files show the decision, and the
//! read-only view for those who are not reviewers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::support as tui_support;

use std::sync::Arc;

use crossterm::event::KeyCode;
use hotdog_tui::app::detail::Loaded;
use hotdog_tui::app::{Action, Effect, Overlay, State, update};
use hotdog_tui::domain::label_file::{AnswerKind, ImageSummary, LabelFile, Vote, VoteCounts};
use hotdog_tui::domain::stats::ImageStats;
use tui_support::*;

fn stats(name: &str, hotdog: u64, not_hotdog: u64) -> ImageStats {
    ImageStats::from_counts(name, VoteCounts { hotdog, not_hotdog }, 0)
}

fn refresh(s: &mut State, images: Vec<ImageStats>) -> Vec<Effect> {
    let image_names = images.iter().map(|i| i.image.clone()).collect();
    let at = s.now;
    update(
        s,
        Action::StatsRefreshed {
            images,
            image_names,
            changed: true,
            at,
        },
    )
}

fn contested_images() -> Vec<ImageStats> {
    vec![
        stats("clear.jpg", 3, 0),
        stats("tie-a.jpg", 1, 1),
        stats("tie-b.jpg", 2, 2),
        stats("none.jpg", 0, 0),
    ]
}

/// On the Stats tab, with a clear image, two ties and an unlabelled one; `reviewers` set.
fn on_stats(reviewers: &[&str]) -> State {
    let mut s = state();
    s.review.reviewers = reviewers.iter().map(|r| r.to_string()).collect();
    press(&mut s, KeyCode::F(3));
    refresh(&mut s, contested_images());
    s
}

fn listed(s: &State) -> Vec<&str> {
    s.review.items.iter().map(|c| c.image.as_str()).collect()
}

fn loaded_ok(file: &[u8]) -> Loaded {
    let parsed = LabelFile::parse(file);
    Loaded {
        summary: ImageSummary::from_file(&parsed),
        rows: Vec::new(),
        picture: Ok(Arc::new(picture(2, 32, 24))),
    }
}

#[test]
fn r_opens_the_contested_images_most_doubtful_first() {
    let mut s = on_stats(&[]);
    let effects = ch(&mut s, 'r');
    assert_eq!(s.overlay, Overlay::Review);
    assert_eq!(listed(&s), ["tie-b.jpg", "tie-a.jpg"]);
    assert_eq!(
        effects,
        vec![Effect::LoadReview {
            request: 1,
            image: "tie-b.jpg".into()
        }]
    );
    // Esc closes; keys go to the Stats tab again.
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.overlay, Overlay::None);
    assert!(matches!(
        ch(&mut s, 'e').first(),
        Some(Effect::Export { .. })
    ));
}

#[test]
fn selecting_loads_the_image_and_stale_results_are_dropped() {
    let mut s = on_stats(&[]);
    ch(&mut s, 'r');
    let effects = press(&mut s, KeyCode::Down);
    assert_eq!(
        effects,
        vec![Effect::LoadReview {
            request: 2,
            image: "tie-a.jpg".into()
        }]
    );
    // The first image's answer arrives late: dropped.
    let late = update(
        &mut s,
        Action::ReviewLoaded {
            request: 1,
            result: Ok(loaded_ok(b"1\n0\n")),
        },
    );
    assert!(late.is_empty());
    assert!(s.review.shown.as_ref().unwrap().loaded.is_none());
    let effects = update(
        &mut s,
        Action::ReviewLoaded {
            request: 2,
            result: Ok(loaded_ok(b"1\n0\n")),
        },
    );
    let Some(Effect::EncodeReview {
        request: 2, size, ..
    }) = effects.first().cloned()
    else {
        panic!("encodes the picture: {effects:?}");
    };
    assert_eq!(size, hotdog_tui::app::review::picture_size(s.screen));
    // Down at the end stays; the same image is not loaded twice.
    assert!(press(&mut s, KeyCode::Down).is_empty());
}

#[test]
fn deciding_gives_an_adjudication_and_moves_to_the_next_image() {
    let mut s = on_stats(&["alice"]);
    ch(&mut s, 'r');
    let effects = ch(&mut s, '1');
    assert_eq!(
        effects,
        vec![
            Effect::GiveAnswer {
                image: "tie-b.jpg".into(),
                kind: AnswerKind::Adjudication(Vote::HotDog)
            },
            Effect::LoadReview {
                request: 2,
                image: "tie-a.jpg".into()
            }
        ]
    );
    assert_eq!(s.review.decided.get("tie-b.jpg"), Some(&Vote::HotDog));
    // Still listed (marked) until the label files show the decision.
    assert_eq!(listed(&s), ["tie-b.jpg", "tie-a.jpg"]);
    // Back up: the same decision again gives nothing; the other one gives a new answer.
    press(&mut s, KeyCode::Up);
    assert!(ch(&mut s, '1').is_empty());
    let effects = ch(&mut s, '0');
    assert_eq!(
        effects.first(),
        Some(&Effect::GiveAnswer {
            image: "tie-b.jpg".into(),
            kind: AnswerKind::Adjudication(Vote::NotHotDog)
        })
    );
    // It travels as any answer does: recorded in the outbox, counted as kept.
    let answer = hotdog_tui::service::labeller::new_answer(
        "alice",
        "tie-b.jpg",
        AnswerKind::Adjudication(Vote::NotHotDog),
    );
    update(
        &mut s,
        Action::AnswerRecorded {
            answer,
            result: Ok(()),
        },
    );
    assert_eq!(s.label.kept, 1);
    // A decision is not one of her labelling answers: the Label tab's count stays.
    assert_eq!(s.label.answers_this_session, 0);
}

#[test]
fn those_who_are_not_reviewers_only_look() {
    let mut s = on_stats(&["bob", "cat"]);
    ch(&mut s, 'r');
    assert!(ch(&mut s, '1').is_empty());
    assert!(s.review.decided.is_empty());
    let notice = s.status.notice.as_ref().unwrap().text.clone();
    assert!(
        notice.contains("only the reviewers in the config (bob, cat) may decide; you are alice"),
        "{notice}"
    );
    let screen = screen_text(&s);
    assert!(screen.contains("Read-only"), "{screen}");
}

#[test]
fn a_decided_image_leaves_once_the_label_files_show_it() {
    let mut s = on_stats(&[]);
    ch(&mut s, 'r');
    ch(&mut s, '0');
    assert_eq!(listed(&s), ["tie-b.jpg", "tie-a.jpg"]);
    // A refresh before the worker wrote it: still listed, still marked.
    refresh(&mut s, contested_images());
    assert_eq!(listed(&s), ["tie-b.jpg", "tie-a.jpg"]);
    assert_eq!(s.review.decided.get("tie-b.jpg"), Some(&Vote::NotHotDog));
    // The file shows the decision: it leaves, the selection stays on tie-a.jpg.
    let mut images = contested_images();
    images[2].adjudicated = true;
    let effects = refresh(&mut s, images);
    assert_eq!(listed(&s), ["tie-a.jpg"]);
    assert!(s.review.decided.is_empty());
    assert_eq!(s.review.selected_item().unwrap().image, "tie-a.jpg");
    assert!(
        effects.is_empty(),
        "tie-a.jpg is already loading: {effects:?}"
    );
    // Low confidence lists an image that is not a tie, most doubtful first.
    let mut images = contested_images();
    images[0].confidence = Some(0.4);
    images[2].adjudicated = true;
    refresh(&mut s, images);
    assert_eq!(listed(&s), ["clear.jpg", "tie-a.jpg"]);
}

/// A store where most images are contested: the list builds only the rows on screen, and
/// moving through it keeps the selected image in view.
#[test]
fn a_long_list_keeps_the_selected_image_in_view() {
    let mut s = state();
    press(&mut s, KeyCode::F(3));
    refresh(
        &mut s,
        (0..100_000)
            .map(|i| stats(&format!("{i:06}.jpg"), 1, 1))
            .collect(),
    );
    press(&mut s, KeyCode::Char('r'));
    assert_eq!(s.overlay, Overlay::Review);
    assert_eq!(s.review.items.len(), 100_000);
    let screen = screen_text(&s);
    assert!(screen.contains("Contested (100000)"), "{screen}");
    assert!(screen.contains("000000.jpg"), "{screen}");
    for _ in 0..300 {
        press(&mut s, KeyCode::Down);
    }
    let selected = s.review.selected_item().unwrap().image.clone();
    assert_eq!(selected, "000300.jpg");
    let screen = screen_text(&s);
    assert!(screen.contains(&selected), "{screen}");
    assert!(
        !screen.contains("000000.jpg"),
        "scrolled past the top: {screen}"
    );
    let shown = s.review.first_shown.get();
    assert!(
        shown <= 300 && 300 < shown + usize::from(s.screen.height),
        "{shown}"
    );
}

/// The list is held only while the view is open (on a store where most images are
/// contested it is one entry per image); it is built again, current, when the view opens.
#[test]
fn the_list_is_let_go_while_the_view_is_closed() {
    let mut s = on_stats(&[]);
    press(&mut s, KeyCode::Char('r'));
    assert_eq!(listed(&s), ["tie-b.jpg", "tie-a.jpg"]);
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.overlay, Overlay::None);
    assert!(s.review.items.is_empty());
    let mut images = contested_images();
    images.push(stats("tie-c.jpg", 3, 3));
    refresh(&mut s, images);
    assert!(s.review.items.is_empty());
    press(&mut s, KeyCode::Char('r'));
    assert_eq!(listed(&s), ["tie-c.jpg", "tie-b.jpg", "tie-a.jpg"]);
}
