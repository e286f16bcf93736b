//! `update` on the Label tab: rounds picked and prefetched, answers (votes and skips) given
//! on the key press, going back to earlier rounds and correcting them, the "nothing left"
//! state, the answers pipeline through the outbox, and the image requests (action in,
//! state and effects out).

use crate::support as tui_support;

use std::collections::HashSet;
use std::sync::Arc;

use crossterm::event::KeyCode;
use hotdog_tui::app::label::HISTORY;
use hotdog_tui::app::label::picture_cache::PictureError;
use hotdog_tui::app::{Action, Effect, update};
use hotdog_tui::domain::label_file::{Answer, AnswerKind, Vote};
use hotdog_tui::domain::messages::ImageAnswer;
use hotdog_tui::domain::sampling::{ROUND_SIZE, RoundChoice};
use ratatui::layout::Size;
use tui_support::*;

const HOT: AnswerKind = AnswerKind::Vote(Vote::HotDog);
const NOT: AnswerKind = AnswerKind::Vote(Vote::NotHotDog);
const SKIP: AnswerKind = AnswerKind::Skip;

fn answers(state: &hotdog_tui::app::State) -> Vec<Option<AnswerKind>> {
    state
        .label
        .shown()
        .map(|r| r.tiles.iter().map(|t| t.answer).collect())
        .unwrap_or_default()
}

fn pick(effects: &[Effect]) -> Option<(u64, Vec<String>, Vec<String>)> {
    effects.iter().find_map(|e| match e {
        Effect::PickRound {
            request,
            exclude,
            answered,
            ..
        } => Some((*request, exclude.clone(), answered.clone())),
        _ => None,
    })
}

fn names_of(range: std::ops::RangeInclusive<usize>) -> Vec<String> {
    range.map(|i| format!("{i}.jpg")).collect()
}

/// Answers the round on screen with `keys` and serves the picks that asks for from a
/// store of `pool` images.
fn answer_round(s: &mut hotdog_tui::app::State, keys: &str, pool: usize) -> Vec<Effect> {
    let mut effects = Vec::new();
    for c in keys.chars() {
        effects.extend(ch(s, c));
    }
    serve_picks(s, effects, &names(pool))
}

#[test]
fn the_first_listing_asks_for_a_round_then_prefetches_the_next() {
    let mut s = state();
    let at = s.now;
    let listing = update(
        &mut s,
        Action::StatsRefreshed {
            images: Vec::new(),
            image_names: names(20),
            changed: true,
            at,
        },
    );
    let (request, exclude, answered) = pick(&listing).expect("a pick");
    assert!(exclude.is_empty() && answered.is_empty());
    assert!(s.label.round.is_none(), "nothing until the pick answers");
    let effects = update(
        &mut s,
        Action::RoundPicked {
            request,
            result: Ok(RoundChoice::Round(names_of(1..=4))),
        },
    );
    let round = s.label.round.as_ref().expect("a round");
    assert_eq!((round.number, round.tiles.len()), (1, ROUND_SIZE));
    let (next, exclude, _) = pick(&effects).expect("prefetch pick");
    assert_eq!(exclude, names_of(1..=4), "the round on screen is left out");
    assert_eq!(fetched(&effects), names_of(1..=4));
    let effects = update(
        &mut s,
        Action::RoundPicked {
            request: next,
            result: Ok(RoundChoice::Round(names_of(5..=8))),
        },
    );
    assert_eq!(fetched(&effects), names_of(5..=8), "prefetched");
    assert_eq!(s.label.next, Some(names_of(5..=8)));
    assert_eq!(s.label.images_in_store, Some(20));
}

#[test]
fn stale_pick_results_are_dropped() {
    let mut s = state();
    listed(&mut s, 20);
    let before = s.label.round.clone();
    let effects = update(
        &mut s,
        Action::RoundPicked {
            request: 99,
            result: Ok(RoundChoice::Round(names_of(9..=12))),
        },
    );
    assert!(effects.is_empty());
    assert_eq!(s.label.round, before);
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
fn each_key_gives_an_answer_at_once_and_moves_focus_to_the_next_open_tile() {
    let mut s = state();
    listed(&mut s, 20);
    assert_eq!(given(&ch(&mut s, '1')), vec![("1.jpg".into(), HOT)]);
    assert_eq!(s.label.focus, 1);
    assert_eq!(given(&ch(&mut s, 's')), vec![("2.jpg".into(), SKIP)]);
    assert_eq!(answers(&s), vec![Some(HOT), Some(SKIP), None, None]);
    // The same answer again is not a new answer; a different one is.
    press(&mut s, KeyCode::Up);
    press(&mut s, KeyCode::Right);
    assert_eq!(s.label.focus, 1);
    assert!(ch(&mut s, 'x').is_empty(), "x is skip too, already given");
    assert_eq!(given(&ch(&mut s, '0')), vec![("2.jpg".into(), NOT)]);
    assert_eq!(s.label.focus, 2);
    assert!(s.label.answered.contains("1.jpg") && s.label.answered.contains("2.jpg"));
}

#[test]
fn the_fourth_answer_moves_on_to_the_prefetched_round() {
    let mut s = state();
    listed(&mut s, 20);
    for c in ['1', '0', 's'] {
        ch(&mut s, c);
    }
    let effects = ch(&mut s, '0');
    assert_eq!(given(&effects), vec![("4.jpg".into(), NOT)]);
    assert_eq!(s.label.round.as_ref().map(|r| r.number), Some(2));
    assert_eq!(round_images(&s), names_of(5..=8));
    assert_eq!(s.label.history.len(), 1);
    let (_, exclude, answered) = pick(&effects).expect("the round after is picked");
    assert_eq!(exclude, names_of(5..=8));
    let answered: HashSet<String> = answered.into_iter().collect();
    assert_eq!(answered, names_of(1..=4).into_iter().collect());
    // The shown round is already fetched: no second request for it.
    assert!(
        fetched(&effects)
            .iter()
            .all(|n| !names_of(5..=8).contains(n))
    );
    assert_eq!(s.label.focus, 0);
}

#[test]
fn prefetched_images_that_got_their_votes_meanwhile_are_not_shown() {
    let mut s = state();
    listed(&mut s, 20);
    // Meanwhile 5.jpg and 7.jpg got their votes from others.
    let done: HashSet<String> = ["5.jpg".to_string(), "7.jpg".to_string()].into();
    let effects = listed_with(&mut s, names(20), done);
    assert!(
        pick(&effects).is_none(),
        "a round is on screen: nothing to ask"
    );
    answer_round(&mut s, "1111", 20);
    assert_eq!(
        round_images(&s),
        vec!["6.jpg".to_string(), "8.jpg".to_string()]
    );
}

#[test]
fn u_goes_back_to_earlier_rounds_where_answers_can_be_changed() {
    let mut s = state();
    listed(&mut s, 100);
    answer_round(&mut s, "1111", 100);
    answer_round(&mut s, "0000", 100);
    assert_eq!(s.label.round.as_ref().map(|r| r.number), Some(3));
    // Back one round, then another: her answers are there.
    ch(&mut s, 'u');
    assert_eq!(s.label.reviewing, Some(1));
    assert_eq!(answers(&s), vec![Some(NOT); 4]);
    press(&mut s, KeyCode::Backspace);
    assert_eq!(s.label.reviewing, Some(0));
    assert_eq!(round_images(&s), names_of(1..=4));
    assert!(ch(&mut s, 'u').is_empty(), "no round before the first");
    // A correction is a new answer; the round does not move on although it is complete.
    press(&mut s, KeyCode::Right);
    let effects = ch(&mut s, '0');
    assert_eq!(given(&effects), vec![("2.jpg".into(), NOT)]);
    assert!(pick(&effects).is_none());
    assert_eq!(s.label.reviewing, Some(0));
    assert_eq!(answers(&s)[1], Some(NOT));
    // Forward again, to the newest round, which is as it was.
    ch(&mut s, 'n');
    assert_eq!(s.label.reviewing, Some(1));
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.label.reviewing, None);
    assert_eq!(s.label.round.as_ref().map(|r| r.number), Some(3));
    assert_eq!(answers(&s), vec![None; 4]);
}

#[test]
fn at_least_the_last_ten_rounds_can_be_corrected() {
    let mut s = state();
    listed(&mut s, 200);
    for _ in 0..25 {
        answer_round(&mut s, "1010", 200);
    }
    assert_eq!(s.label.round.as_ref().map(|r| r.number), Some(26));
    assert_eq!(s.label.history.len(), HISTORY);
    const { assert!(HISTORY >= 10) };
    for _ in 0..HISTORY {
        ch(&mut s, 'u');
    }
    assert_eq!(s.label.reviewing, Some(0));
    assert_eq!(s.label.shown().map(|r| r.number), Some(26 - HISTORY as u64));
    assert_eq!(
        answers(&s),
        vec![Some(HOT), Some(NOT), Some(HOT), Some(NOT)]
    );
    ch(&mut s, 'u');
    assert_eq!(s.label.reviewing, Some(0), "stops at the oldest kept round");
    assert_eq!(given(&ch(&mut s, '0')).len(), 1, "still correctable");
}

#[test]
fn n_on_the_newest_round_leaves_open_tiles_and_loads_the_next() {
    let mut s = state();
    listed(&mut s, 20);
    ch(&mut s, '1');
    let effects = ch(&mut s, 'n');
    assert!(given(&effects).is_empty(), "n gives no answer");
    assert_eq!(s.label.round.as_ref().map(|r| r.number), Some(2));
    assert_eq!(s.label.history.back().map(|r| r.answered()), Some(1));
    assert!(
        !s.label.answered.contains("2.jpg"),
        "left open, may come back"
    );
}

#[test]
fn nothing_left_says_so_with_figures_and_asks_again_when_the_store_changes() {
    let mut s = state();
    listed(&mut s, 6);
    answer_round(&mut s, "1111", 6);
    // Round 2 holds 5 and 6; the pick after it finds nothing.
    assert_eq!(round_images(&s), names_of(5..=6));
    let effects = answer_round(&mut s, "01", 6);
    assert!(s.label.round.is_none());
    let left = s.label.nothing_left.expect("nothing left");
    assert_eq!((left.total, left.answered_by_me), (6, 6));
    assert!(pick(&effects).is_none(), "no busy asking");
    let text = screen_text(&s);
    assert!(
        text.contains("Nothing left for you to label.")
            && text.contains("You have voted on every image that still needs votes"),
        "{text}"
    );
    // New images arrive: a new pick.
    let at = s.now;
    let effects = update(
        &mut s,
        Action::StatsRefreshed {
            images: Vec::new(),
            image_names: names(10),
            changed: true,
            at,
        },
    );
    let (request, _, answered) = pick(&effects).expect("asks again");
    assert_eq!(answered.len(), 6);
    update(
        &mut s,
        Action::RoundPicked {
            request,
            result: Ok(RoundChoice::Round(names_of(7..=10))),
        },
    );
    assert!(s.label.nothing_left.is_none());
    assert_eq!(round_images(&s), names_of(7..=10));
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

fn recorded(s: &mut hotdog_tui::app::State, image: &str, id: &str, ok: bool) -> Vec<Effect> {
    let answer = ImageAnswer {
        image: image.into(),
        answer: Answer {
            kind: HOT,
            at: "2026-12-01T07:00:00.000Z".into(),
            labeller: "alice".into(),
            answer_id: id.into(),
        },
    };
    let result = if ok { Ok(()) } else { Err("disk full".into()) };
    update(s, Action::AnswerRecorded { answer, result })
}

#[test]
fn answers_wait_in_the_outbox_then_until_seen_in_the_label_files() {
    let mut s = state();
    outbox_ready(&mut s);
    listed(&mut s, 20);
    ch(&mut s, '1');
    ch(&mut s, '1');
    recorded(&mut s, "1.jpg", "a", true);
    recorded(&mut s, "2.jpg", "b", true);
    assert_eq!((s.label.kept, s.answers_waiting()), (2, 2));
    assert_eq!(s.label.answers_this_session, 2);
    let pairs = vec![
        ("1.jpg".to_string(), "a".to_string()),
        ("2.jpg".to_string(), "b".to_string()),
    ];
    let effects = update(
        &mut s,
        Action::AnswersSent {
            answers: pairs.clone(),
            kept: Some(0),
        },
    );
    assert_eq!(effects, vec![Effect::WatchAnswers(pairs)]);
    assert_eq!((s.label.kept, s.answers_waiting()), (0, 2));
    update(&mut s, Action::AnswersWritten(vec!["a".into()]));
    assert_eq!(s.answers_waiting(), 1);
}

#[test]
fn a_queue_outage_keeps_answers_and_says_so_once() {
    let mut s = state();
    outbox_ready(&mut s);
    listed(&mut s, 20);
    ch(&mut s, '1');
    recorded(&mut s, "1.jpg", "a", true);
    for _ in 0..3 {
        update(
            &mut s,
            Action::SendFailed {
                error: "cannot reach the queue".into(),
                kept: 1,
            },
        );
    }
    assert_eq!(s.status.errors.len(), 1, "one notice, not one per retry");
    let notice = s.status.notice.as_ref().expect("shown");
    assert!(notice.text.contains("kept on disk"), "{}", notice.text);
    assert!(s.wants_tick());
    assert!(screen_text(&s).contains("1 kept offline"));
}

#[test]
fn an_answer_the_outbox_cannot_take_goes_straight_to_the_queue() {
    let mut s = state();
    listed(&mut s, 20);
    ch(&mut s, '1');
    let effects = recorded(&mut s, "1.jpg", "a", false);
    assert!(matches!(effects.as_slice(), [Effect::SendUnkept(a)] if a.len() == 1));
    assert_eq!(s.answers_waiting(), 1);
    update(
        &mut s,
        Action::AnswersSent {
            answers: vec![("1.jpg".into(), "a".into())],
            kept: None,
        },
    );
    assert!(s.label.unkept.is_empty());
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
fn answers_typed_before_the_first_round_are_given_when_it_arrives() {
    let mut s = state();
    // Typed ahead while the session starts (e.g. handed back by the terminal query).
    assert!(ch(&mut s, '1').is_empty());
    assert!(ch(&mut s, '0').is_empty());
    press(&mut s, KeyCode::F(3));
    assert_eq!(s.tab, hotdog_tui::app::Tab::Stats, "tab keys act at once");
    press(&mut s, KeyCode::F(2));
    ch(&mut s, 's');
    let effects = listed(&mut s, 20);
    assert_eq!(
        given(&effects),
        vec![
            ("1.jpg".into(), HOT),
            ("2.jpg".into(), NOT),
            ("3.jpg".into(), SKIP)
        ]
    );
    assert_eq!(answers(&s), vec![Some(HOT), Some(NOT), Some(SKIP), None]);
    assert!(s.early_keys.is_empty());
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
    assert_eq!(answers(&s)[1], Some(HOT));
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
    assert_eq!(given(&effects).len(), 1);
    assert_eq!(s.label.round.as_ref().unwrap().number, 2);
    assert!(s.label.zoomed);
    assert_eq!(s.label.focus, 0);
    let zoom = s.label.zoom_size.unwrap();
    let first = round_images(&s)[0].clone();
    assert!(effects.iter().any(
        |e| matches!(e, Effect::EncodeImage { name, size, .. } if *name == first && *size == zoom)
    ));
}
