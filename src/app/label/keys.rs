//! Keys of the Label tab: votes, focus, zoom, submitting the round.

use super::Move;
use crate::app::keymap::Command;
use crate::app::{Effect, State};

/// Keys that act on the round (kept and replayed when pressed before the first listing).
pub(crate) fn is_round_key(cmd: Option<Command>) -> bool {
    matches!(
        cmd,
        Some(
            Command::Vote(_)
                | Command::ClearVote
                | Command::FocusLeft
                | Command::FocusRight
                | Command::FocusUp
                | Command::FocusDown
                | Command::SubmitRound
                | Command::Zoom
        )
    )
}

pub(crate) fn on_command(state: &mut State, cmd: Command) -> Vec<Effect> {
    let label = &mut state.label;
    match cmd {
        Command::Vote(v) => return label.vote(v),
        Command::ClearVote => label.clear_vote(),
        Command::FocusLeft => label.move_focus(Move::Left),
        Command::FocusRight => label.move_focus(Move::Right),
        Command::FocusUp => label.move_focus(Move::Up),
        Command::FocusDown => label.move_focus(Move::Down),
        Command::SubmitRound => return label.submit_round(),
        Command::Zoom => return label.toggle_zoom(),
        _ => state.dirty = false,
    }
    Vec::new()
}
