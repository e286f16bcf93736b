//! Keys of the detail overlay: close, scroll the answers, force quit.

use crossterm::event::KeyEvent;

use crate::app::keymap::{self, Command};
use crate::app::{Effect, Overlay, State};

pub(crate) fn on_key(state: &mut State, ev: &KeyEvent) -> Vec<Effect> {
    let cmd = keymap::lookup(keymap::DETAIL, ev);
    if cmd == Some(Command::ForceQuit) {
        return state.force_quit();
    }
    let Overlay::Detail(view) = &mut state.overlay else {
        return Vec::new();
    };
    let rows = match &view.loaded {
        Some(Ok(l)) => l.rows.len(),
        _ => 0,
    };
    match cmd {
        Some(Command::Close) => state.overlay = Overlay::None,
        Some(Command::ScrollUp) => view.scroll = view.scroll.saturating_sub(1),
        Some(Command::ScrollDown) => view.scroll = (view.scroll + 1).min(rows.saturating_sub(1)),
        _ => state.dirty = false,
    }
    Vec::new()
}
