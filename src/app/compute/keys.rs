//! Keys of the Compute tab: editing the input, sending, scrolling the history.

use crossterm::event::KeyEvent;

use super::ClientState;
use crate::app::keymap::{self, Command, typed_char};
use crate::app::{Effect, State};

/// A key while the input is not focused: Esc dismisses, arrows scroll, anything else
/// goes back to typing.
pub(crate) fn outside_input(state: &mut State, ev: &KeyEvent) -> Vec<Effect> {
    match keymap::lookup(keymap::for_tab(state.tab), ev) {
        Some(Command::LeaveInput) => state.dirty = state.status.dismiss(),
        Some(Command::ScrollUp) => scroll(state, -1),
        Some(Command::ScrollDown) => scroll(state, 1),
        _ => {
            state.compute.input_focused = true;
            if let Some(c) = typed_char(ev) {
                state.compute.insert(c);
            }
        }
    }
    Vec::new()
}

/// A key no table binds: a character typed into the input.
pub(crate) fn unbound(state: &mut State, ev: &KeyEvent) {
    match typed_char(ev) {
        Some(c) => state.compute.insert(c),
        None => state.dirty = false,
    }
}

pub(crate) fn on_command(state: &mut State, cmd: Command) -> Vec<Effect> {
    let compute = &mut state.compute;
    match cmd {
        Command::SendNumbers => return send_numbers(state),
        Command::LeaveInput => compute.input_focused = false,
        Command::CursorLeft => compute.move_cursor(-1),
        Command::CursorRight => compute.move_cursor(1),
        Command::CursorHome => compute.cursor_home(),
        Command::CursorEnd => compute.cursor_end(),
        Command::DeleteBack => compute.delete_back(),
        Command::DeleteForward => compute.delete_forward(),
        Command::ClearInput => compute.clear(),
        _ => state.dirty = false,
    }
    Vec::new()
}

/// History counts from the newest entry upwards.
pub(crate) fn scroll(state: &mut State, delta: isize) {
    let max = state.compute.history.len().saturating_sub(1);
    state.compute.scroll = state.compute.scroll.saturating_add_signed(-delta).min(max);
}

fn send_numbers(state: &mut State) -> Vec<Effect> {
    if let ClientState::Failed(e) = &state.compute.client {
        let msg = format!("Compute is unavailable: {e}");
        state.error(msg);
        return Vec::new();
    }
    match state.compute.take_request(state.now) {
        Ok(request) => vec![Effect::SendCompute {
            local_id: request.local_id,
            correlation_id: request.correlation_id,
            text: request.text,
        }],
        // The message is already shown under the input; nothing is sent.
        Err(_) => Vec::new(),
    }
}
