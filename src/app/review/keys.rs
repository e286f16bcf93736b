//! Keys of the review view: select an image, decide it (reviewers only), close.

use crossterm::event::KeyEvent;

use crate::app::keymap::{self, Command};
use crate::app::{Effect, Overlay, State};
use crate::domain::label_file::{AnswerKind, Vote};

pub(crate) fn on_key(state: &mut State, ev: &KeyEvent) -> Vec<Effect> {
    match keymap::lookup(keymap::REVIEW, ev) {
        Some(Command::ForceQuit) => state.force_quit(),
        Some(Command::Close) => {
            state.overlay = Overlay::None;
            state.review.close();
            Vec::new()
        }
        Some(Command::ScrollUp) => state.review.select_by(-1),
        Some(Command::ScrollDown) => state.review.select_by(1),
        Some(Command::PageUp) => state.review.select_by(-10),
        Some(Command::PageDown) => state.review.select_by(10),
        Some(Command::Decide(vote)) => decide(state, vote),
        _ => {
            state.dirty = false;
            Vec::new()
        }
    }
}

/// The reviewer's decision on the selected image: given as an adjudication (the same way
/// as any answer), remembered until the label files show it, and the next undecided
/// image selected.
fn decide(state: &mut State, vote: Vote) -> Vec<Effect> {
    if let Some(why) = state.review.read_only_reason() {
        state.error(why);
        return Vec::new();
    }
    let review = &mut state.review;
    let Some(item) = review.selected_item() else {
        state.dirty = false;
        return Vec::new();
    };
    let image = item.image.clone();
    if review.decided.get(&image) == Some(&vote) {
        state.dirty = false;
        return Vec::new();
    }
    review.decided.insert(image.clone(), vote);
    let mut effects = vec![Effect::GiveAnswer {
        image,
        kind: AnswerKind::Adjudication(vote),
    }];
    let n = review.items.len();
    let next = (1..n)
        .map(|d| (review.selected + d) % n)
        .find(|&i| !review.decided.contains_key(&review.items[i].image));
    if let Some(i) = next {
        review.selected = i;
        effects.extend(review.want_selected());
    }
    effects
}
