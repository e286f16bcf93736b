//! Keys of the Label tab: answers (vote, skip), focus, zoom, going back to earlier rounds
//! and forward again.

use super::Move;
use crate::app::keymap::Command;
use crate::app::{Effect, State};

/// Keys that act on the round (kept and replayed when pressed before the first round).
pub(crate) fn is_round_key(cmd: Option<Command>) -> bool {
    matches!(
        cmd,
        Some(
            Command::Answer(_)
                | Command::BackRound
                | Command::FocusLeft
                | Command::FocusRight
                | Command::FocusUp
                | Command::FocusDown
                | Command::NextRound
                | Command::Zoom
        )
    )
}

pub(crate) fn on_command(state: &mut State, cmd: Command) -> Vec<Effect> {
    let label = &mut state.label;
    match cmd {
        Command::Answer(kind) => {
            let effects = label.answer(kind);
            state.dirty = !effects.is_empty();
            return effects;
        }
        Command::BackRound => {
            if label.back() {
                return label.want_images();
            }
            state.dirty = false;
        }
        Command::FocusLeft => label.move_focus(Move::Left),
        Command::FocusRight => label.move_focus(Move::Right),
        Command::FocusUp => label.move_focus(Move::Up),
        Command::FocusDown => label.move_focus(Move::Down),
        Command::NextRound => return label.forward(),
        Command::Zoom => return label.toggle_zoom(),
        _ => state.dirty = false,
    }
    Vec::new()
}
