//! Turning a key press into a state change: overlays first, then the global keys, then the
//! visible tab's own key handling (each tab's `keys` module).

use crossterm::event::{KeyEvent, KeyEventKind};

use super::keymap::{self, Command};
use super::upload::UploadPrompt;
use super::{
    Effect, Overlay, State, Tab, compute, detail, label, review, shell, stats, upload, worker,
};

/// Handles one key event (presses only: releases and repeats would double a vote).
pub fn update_key(state: &mut State, ev: KeyEvent) -> Vec<Effect> {
    if ev.kind != KeyEventKind::Press {
        state.dirty = false;
        return Vec::new();
    }
    match &state.overlay {
        Overlay::Help { .. } | Overlay::ErrorLog { .. } => return shell::overlay_key(state, &ev),
        Overlay::Upload(_) => return upload::keys::on_key(state, &ev),
        Overlay::Detail(_) => return detail::keys::on_key(state, &ev),
        Overlay::Review => return review::keys::on_key(state, &ev),
        Overlay::None => {}
    }
    if let Some(cmd) = keymap::lookup(keymap::GLOBAL, &ev) {
        return run(state, cmd);
    }
    let table = keymap::for_tab(state.tab);
    if state.tab == Tab::Label
        && state.label.waiting_for_first_round()
        && label::keys::is_round_key(keymap::lookup(table, &ev))
    {
        // No round yet: keep round keys (typed ahead while the session started) and replay
        // them when it arrives, so an early vote is not lost. Other keys (q, a) act at
        // once, so a backend that never answers cannot trap the user.
        if state.early_keys.len() < super::EARLY_KEYS {
            state.early_keys.push(ev);
        }
        state.dirty = false;
        return Vec::new();
    }
    if state.tab == Tab::Compute && !state.compute.input_focused {
        return compute::keys::outside_input(state, &ev);
    }
    match keymap::lookup(table, &ev) {
        Some(cmd) => run(state, cmd),
        None if state.tab == Tab::Compute => {
            compute::keys::unbound(state, &ev);
            Vec::new()
        }
        None => {
            state.dirty = false;
            Vec::new()
        }
    }
}

/// Runs a command from a keymap table: the global ones here, the rest in the visible tab.
fn run(state: &mut State, cmd: Command) -> Vec<Effect> {
    match cmd {
        Command::Quit => return state.begin_quit(),
        Command::ForceQuit => return state.force_quit(),
        Command::NextTab => return state.show_tab(state.tab.next()),
        Command::PrevTab => return state.show_tab(state.tab.prev()),
        Command::GoTab(tab) => return state.show_tab(tab),
        Command::Help => state.overlay = Overlay::Help { scroll: 0 },
        Command::ErrorLog => state.overlay = Overlay::ErrorLog { scroll: 0 },
        Command::Dismiss => {
            let dismissed = state.status.dismiss();
            if !dismissed && state.tab == Tab::Label && state.label.zoomed {
                return state.label.toggle_zoom();
            }
            state.dirty = dismissed;
        }
        Command::OpenUpload => {
            state.overlay = Overlay::Upload(UploadPrompt::new(state.next_upload));
            state.next_upload += 1;
        }
        Command::ScrollUp | Command::ScrollDown | Command::PageUp | Command::PageDown => {
            scroll(state, cmd)
        }
        cmd => {
            return match state.tab {
                Tab::Compute => compute::keys::on_command(state, cmd),
                Tab::Label => label::keys::on_command(state, cmd),
                Tab::Stats => stats::keys::on_command(state, cmd),
                Tab::Worker => worker::keys::on_command(state, cmd),
            };
        }
    }
    Vec::new()
}

fn scroll(state: &mut State, cmd: Command) {
    let delta: isize = match cmd {
        Command::ScrollUp => -1,
        Command::ScrollDown => 1,
        Command::PageUp => -10,
        _ => 10,
    };
    match state.tab {
        Tab::Compute => compute::keys::scroll(state, delta),
        Tab::Stats => state.stats.scroll_by(delta),
        // The log counts from the newest entry upwards.
        Tab::Worker => state.worker.scroll_by(-delta),
        Tab::Label => state.dirty = false,
    }
}
