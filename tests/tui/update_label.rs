//! `update` on the Label tab: rounds, votes, focus, submission, the answers pipeline and
//! the image requests (action in, state and effects out).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::support as tui_support;

use std::collections::HashSet;
use std::sync::Arc;

use crossterm::event::KeyCode;
use hotdog_tui::app::label::picture_cache::PictureError;
use hotdog_tui::app::{Action, Effect, update};
use hotdog_tui::backend::BackendError;
use hotdog_tui::domain::label_file::Vote;
use hotdog_tui::domain::sampling::ROUND_SIZE;
use ratatui::layout::Size;
use tui_support::*;

fn submitted(effects: &[Effect]) -> Option<(u64, Vec<(String, Vote)>)> {
    effects.iter().find_map(|e| match e {
        Effect::SubmitAnswers { batch, answers } => Some((*batch, answers.clone())),
        _ => None,
    })
}

fn votes(state: &hotdog_tui::app::State) -> Vec<Option<Vote>> {
    state
        .label
        .round
        .as_ref()
        .map(|r| r.tiles.iter().map(|t| t.vote).collect())
        .unwrap_or_default()
}

#[test]
fn first_listing_starts_round_one_and_fetches_this_and_the_next_round() {
    let mut s = state();
    let effects = listed(&mut s, 20);
    let round = s.label.round.as_ref().expect("a round");
    assert_eq!(round.number, 1);
    assert_eq!(round.tiles.len(), ROUND_SIZE);
    let fetches = fetched(&effects);
    assert_eq!(
        fetches.len(),
        8,
        "4 for this round, 4 prefetched: {fetches:?}"
    );
    assert_eq!(
        fetches.iter().collect::<HashSet<_>>().len(),
        8,
        "all distinct"
    );
    assert_eq!(&fetches[..4], round_images(&s).as_slice());
    assert_eq!(s.label.images_in_store, Some(20));
}

#[test]
fn an_empty_store_has_no_round_and_keys_do_nothing() {
    let mut s = state();
    assert!(listed(&mut s, 0).is_empty());
    assert_eq!(s.label.images_in_store, Some(0));
    assert!(s.label.round.is_none());
    assert!(ch(&mut s, '1').is_empty());
    assert!(ch(&mut s, 'n').is_empty());
}

#[test]
fn rounds_prefer_images_i_have_not_labelled() {
    let mut s = state();
    let mine: HashSet<String> = names(6).into_iter().take(4).collect();
    listed_with(&mut s, names(6), mine.clone());
    let round = round_images(&s);
    assert!(round.contains(&"5.jpg".to_string()) && round.contains(&"6.jpg".to_string()));
}

#[test]
fn one_and_zero_vote_and_move_focus_to_the_next_unlabelled_tile() {
    let mut s = state();
    listed(&mut s, 20);
    assert!(ch(&mut s, '1').is_empty());
    assert_eq!(votes(&s), vec![Some(Vote::HotDog), None, None, None]);
    assert_eq!(s.label.focus, 1);
    ch(&mut s, '0');
    assert_eq!(votes(&s)[1], Some(Vote::NotHotDog));
    assert_eq!(s.label.focus, 2);
    // Voting on the last unlabelled-but-one wraps to the earlier gap.
    press(&mut s, KeyCode::Right);
    ch(&mut s, '1');
    assert_eq!(s.label.focus, 2);
    assert_eq!(s.answers_waiting(), 3);
}

#[test]
fn the_fourth_vote_submits_and_shows_the_prefetched_round() {
    let mut s = state();
    let first = listed(&mut s, 20);
    let prefetched: Vec<String> = fetched(&first)[4..].to_vec();
    let round_one = round_images(&s);
    for c in ['1', '0', '1'] {
        assert!(ch(&mut s, c).is_empty());
    }
    let effects = ch(&mut s, '0');
    let (batch, answers) = submitted(&effects).expect("submitted");
    assert_eq!(batch, 1);
    let expected: Vec<(String, Vote)> = round_one
        .iter()
        .cloned()
        .zip([Vote::HotDog, Vote::NotHotDog, Vote::HotDog, Vote::NotHotDog])
        .collect();
    assert_eq!(answers, expected);
    assert_eq!(s.label.round.as_ref().map(|r| r.number), Some(2));
    assert_eq!(round_images(&s), prefetched);
    // The shown round is already being fetched: no second request for it.
    assert!(fetched(&effects).iter().all(|n| !prefetched.contains(n)));
    assert_eq!(s.label.focus, 0);
    assert_eq!(s.answers_waiting(), 4, "in flight");
}

#[test]
fn arrows_and_hjkl_move_focus_in_the_grid_and_stop_at_its_edges() {
    let mut s = state();
    listed(&mut s, 20);
    assert_eq!(s.label.grid_cols, 2);
    let moves = [
        (KeyCode::Right, 1),
        (KeyCode::Right, 1),
        (KeyCode::Down, 3),
        (KeyCode::Down, 3),
        (KeyCode::Left, 2),
        (KeyCode::Left, 2),
        (KeyCode::Up, 0),
        (KeyCode::Up, 0),
        (KeyCode::Char('l'), 1),
        (KeyCode::Char('j'), 3),
        (KeyCode::Char('h'), 2),
        (KeyCode::Char('k'), 0),
    ];
    for (key, focus) in moves {
        press(&mut s, key);
        assert_eq!(s.label.focus, focus, "after {key:?}");
    }
}

#[test]
fn u_and_backspace_clear_the_focused_vote() {
    let mut s = state();
    listed(&mut s, 20);
    ch(&mut s, '1');
    press(&mut s, KeyCode::Left);
    ch(&mut s, 'u');
    assert_eq!(votes(&s)[0], None);
    ch(&mut s, '0');
    press(&mut s, KeyCode::Left);
    press(&mut s, KeyCode::Backspace);
    assert_eq!(votes(&s)[0], None);
    assert_eq!(s.answers_waiting(), 0);
}

#[test]
fn n_and_enter_submit_what_is_labelled_and_load_a_new_round() {
    let mut s = state();
    listed(&mut s, 20);
    ch(&mut s, '1');
    let effects = ch(&mut s, 'n');
    let (_, answers) = submitted(&effects).expect("submitted");
    assert_eq!(answers.len(), 1);
    assert_eq!(s.label.round.as_ref().map(|r| r.number), Some(2));
    // Nothing labelled: a new round, nothing sent.
    let effects = press(&mut s, KeyCode::Enter);
    assert!(submitted(&effects).is_none());
    assert_eq!(s.label.round.as_ref().map(|r| r.number), Some(3));
}

#[test]
fn submitted_answers_wait_until_seen_in_the_label_files() {
    let mut s = state();
    listed(&mut s, 20);
    for c in ['1', '1', '0', '0'] {
        ch(&mut s, c);
    }
    let images = s.label.in_flight[&1]
        .iter()
        .map(|(i, _)| i.clone())
        .collect::<Vec<_>>();
    let ids: Vec<String> = (1..=4).map(|i| format!("id{i}")).collect();
    let effects = update(
        &mut s,
        Action::AnswersSubmitted {
            batch: 1,
            result: Ok(ids.clone()),
        },
    );
    let pairs: Vec<(String, String)> = images.into_iter().zip(ids.iter().cloned()).collect();
    assert_eq!(effects, vec![Effect::WatchAnswers(pairs)]);
    assert_eq!(s.label.answers_this_session, 4);
    assert_eq!(s.answers_waiting(), 4);
    update(&mut s, Action::AnswersWritten(ids[..3].to_vec()));
    assert_eq!(s.answers_waiting(), 1);
    // A stale or repeated result changes nothing.
    assert!(
        update(
            &mut s,
            Action::AnswersSubmitted {
                batch: 1,
                result: Ok(ids)
            }
        )
        .is_empty()
    );
    assert_eq!(s.label.answers_this_session, 4);
}

#[test]
fn a_failed_submission_is_kept_and_sent_with_the_next_round() {
    let mut s = state();
    listed(&mut s, 20);
    for c in ['1', '1', '0', '0'] {
        ch(&mut s, c);
    }
    update(
        &mut s,
        Action::AnswersSubmitted {
            batch: 1,
            result: Err(BackendError::Other("queue down".into())),
        },
    );
    assert_eq!(s.label.outbox.len(), 4);
    let notice = s.status.notice.as_ref().expect("error shown");
    assert!(
        notice.text.contains("queue down") && notice.text.contains("kept"),
        "{}",
        notice.text
    );
    assert_eq!(s.status.errors.len(), 1);
    ch(&mut s, '1');
    let (batch, answers) = submitted(&ch(&mut s, 'n')).expect("resubmitted");
    assert_eq!((batch, answers.len()), (2, 5));
    assert!(s.label.outbox.is_empty());
}

#[test]
fn decoded_images_are_encoded_at_the_tile_size_and_stale_results_dropped() {
    let mut s = state();
    let effects = listed(&mut s, 20);
    let name = fetched(&effects)[0].clone();
    let size = s.label.tile_size.expect("tile size");
    let image = Arc::new(picture(1, 32, 24));
    let effects = update(
        &mut s,
        Action::ImageDecoded {
            name: name.clone(),
            result: Ok(image.clone()),
        },
    );
    assert_eq!(
        effects,
        vec![Effect::EncodeImage {
            name: name.clone(),
            image: image.clone(),
            size
        }]
    );
    // A result for a size nobody wants any more is dropped without a redraw.
    s.dirty = false;
    let wrong = Size::new(size.width + 1, size.height);
    let encoded = hotdog_tui::app::label::tasks::encode(&picker(), &image, wrong);
    update(
        &mut s,
        Action::ImageEncoded {
            name: name.clone(),
            size: wrong,
            result: encoded,
        },
    );
    assert!(!s.dirty);
    // A resize asks again at the new size.
    let effects = update(
        &mut s,
        Action::Resize {
            width: 120,
            height: 40,
        },
    );
    let new_size = s.label.tile_size.expect("tile size");
    assert_ne!(new_size, size);
    assert!(effects.contains(&Effect::EncodeImage {
        name,
        image,
        size: new_size
    }));
}

#[test]
fn an_image_that_cannot_be_decoded_is_not_requested_again() {
    let mut s = state();
    let effects = listed(&mut s, 20);
    let name = fetched(&effects)[0].clone();
    update(
        &mut s,
        Action::ImageDecoded {
            name: name.clone(),
            result: Err(PictureError::Undecodable("not an image".into())),
        },
    );
    let again = update(
        &mut s,
        Action::Resize {
            width: 100,
            height: 30,
        },
    );
    assert!(!fetched(&again).contains(&name));
    let size = s.label.tile_size.expect("tile size");
    assert!(matches!(
        s.label.images.view(&name, size),
        hotdog_tui::app::label::picture_cache::TileImage::Failed("not an image")
    ));
}

#[test]
fn votes_typed_before_the_first_listing_are_replayed_when_it_arrives() {
    let mut s = state();
    // Typed ahead while the session starts (e.g. handed back by the terminal query).
    assert!(ch(&mut s, '1').is_empty());
    assert!(ch(&mut s, '0').is_empty());
    press(&mut s, KeyCode::F(3));
    assert_eq!(s.tab, hotdog_tui::app::Tab::Stats, "tab keys act at once");
    press(&mut s, KeyCode::F(2));
    ch(&mut s, '1');
    listed(&mut s, 20);
    assert_eq!(
        votes(&s),
        vec![
            Some(Vote::HotDog),
            Some(Vote::NotHotDog),
            Some(Vote::HotDog),
            None
        ]
    );
    assert!(s.early_keys.is_empty());
}

#[test]
fn kept_answers_are_sent_again_by_themselves_after_a_while() {
    let mut s = state();
    listed(&mut s, 20);
    for c in ['1', '0', '1', '0'] {
        ch(&mut s, c);
    }
    update(
        &mut s,
        Action::AnswersSubmitted {
            batch: 1,
            result: Err(BackendError::Other("queue down".into())),
        },
    );
    assert_eq!(s.label.outbox.len(), 4);
    assert!(s.wants_tick(), "ticks keep coming while answers wait");
    let t0 = std::time::Instant::now();
    assert!(
        submitted(&update(&mut s, Action::Tick(t0))).is_none(),
        "not at once"
    );
    assert!(
        submitted(&update(
            &mut s,
            Action::Tick(t0 + std::time::Duration::from_secs(2))
        ))
        .is_none()
    );
    let later = t0 + hotdog_tui::app::label::OUTBOX_RETRY + std::time::Duration::from_millis(10);
    let (batch, answers) = submitted(&update(&mut s, Action::Tick(later))).expect("retried");
    assert_eq!((batch, answers.len()), (2, 4));
    assert!(s.label.outbox.is_empty());
}

#[test]
fn z_zooms_the_focused_image_which_stays_votable_and_esc_goes_back() {
    let mut s = state();
    let effects = listed(&mut s, 20);
    load_images(&mut s, effects);
    let tile = s.label.tile_size.expect("tile size");
    let zoom = s.label.zoom_size.expect("zoom size");
    assert!(zoom.width > 2 * tile.width && zoom.height > 2 * tile.height);
    ch(&mut s, 'l');
    assert_eq!(s.label.focus, 1);
    // z asks for the round's images at the zoomed size, the focused one first.
    let effects = ch(&mut s, 'z');
    assert!(s.label.zoomed);
    let encodes: Vec<(String, Size)> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::EncodeImage { name, size, .. } => Some((name.clone(), *size)),
            _ => None,
        })
        .collect();
    let images = round_images(&s);
    assert_eq!(encodes.len(), ROUND_SIZE, "{encodes:?}");
    assert_eq!(encodes[0], (images[1].clone(), zoom));
    assert!(encodes.iter().all(|(_, size)| *size == zoom));
    load_images(&mut s, effects);
    // 1 votes on the zoomed image and moves on to the next unlabelled one, still zoomed.
    ch(&mut s, '1');
    assert_eq!(votes(&s)[1], Some(Vote::HotDog));
    assert_eq!(s.label.focus, 2);
    assert!(s.label.zoomed);
    // Esc goes back to the grid; the zoomed pictures are let go.
    let effects = press(&mut s, KeyCode::Esc);
    assert!(!s.label.zoomed);
    assert!(effects.is_empty(), "{effects:?}");
    assert!(s.round_fully_drawable());
    // z again, and z again: back to the grid as well.
    let _ = ch(&mut s, 'z');
    assert!(s.label.zoomed);
    let _ = ch(&mut s, 'z');
    assert!(!s.label.zoomed);
}

#[test]
fn zoom_stays_on_for_the_next_round() {
    let mut s = state();
    let effects = listed(&mut s, 20);
    load_images(&mut s, effects);
    let effects = ch(&mut s, 'z');
    load_images(&mut s, effects);
    for c in ['1', '0', '1'] {
        ch(&mut s, c);
    }
    let effects = ch(&mut s, '0');
    assert!(submitted(&effects).is_some());
    assert_eq!(s.label.round.as_ref().unwrap().number, 2);
    assert!(s.label.zoomed);
    assert_eq!(s.label.focus, 0);
    let zoom = s.label.zoom_size.unwrap();
    let first = round_images(&s)[0].clone();
    assert!(effects.iter().any(
        |e| matches!(e, Effect::EncodeImage { name, size, .. } if *name == first && *size == zoom)
    ));
}
