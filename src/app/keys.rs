//! Turning a key press into a state change: overlays first, then the global keys, then the
//! visible tab's table (and plain characters into whichever text input is focused).

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::keymap::{self, Command};
use super::label::Move;
use super::upload::{self, PathEntry, UploadPhase, UploadPrompt};
use super::{Effect, Overlay, State, Tab};

/// Handles one key event (presses only: releases and repeats would double a vote).
pub fn update_key(state: &mut State, ev: KeyEvent) -> Vec<Effect> {
    if ev.kind != KeyEventKind::Press {
        state.dirty = false;
        return Vec::new();
    }
    match &state.overlay {
        Overlay::Help { .. } | Overlay::ErrorLog { .. } => return overlay_key(state, &ev),
        Overlay::Upload(_) => return upload_key(state, &ev),
        Overlay::None => {}
    }
    if let Some(cmd) = keymap::lookup(keymap::GLOBAL, &ev) {
        return run(state, cmd);
    }
    let table = keymap::for_tab(state.tab);
    if state.tab == Tab::Label
        && state.label.images_in_store.is_none()
        && is_round_key(keymap::lookup(table, &ev))
    {
        // No round before the first listing: keep round keys (typed ahead while the session
        // started) and replay them when it arrives, so an early vote is not lost. Other
        // keys (q, a) act at once, so a backend that never answers cannot trap the user.
        if state.early_keys.len() < super::EARLY_KEYS {
            state.early_keys.push(ev);
        }
        state.dirty = false;
        return Vec::new();
    }
    if state.tab == Tab::Compute && !state.compute.input_focused {
        // Out of the input: Esc dismisses, arrows scroll, anything else goes back to typing.
        return match keymap::lookup(table, &ev) {
            Some(Command::LeaveInput) => run(state, Command::Dismiss),
            Some(cmd @ (Command::ScrollUp | Command::ScrollDown)) => run(state, cmd),
            _ => {
                state.compute.input_focused = true;
                if let Some(c) = typed_char(&ev) {
                    state.compute.insert(c);
                }
                Vec::new()
            }
        };
    }
    match keymap::lookup(table, &ev) {
        Some(cmd) => run(state, cmd),
        None => {
            if state.tab == Tab::Compute
                && let Some(c) = typed_char(&ev)
            {
                state.compute.insert(c);
            } else {
                state.dirty = false;
            }
            Vec::new()
        }
    }
}

fn is_round_key(cmd: Option<Command>) -> bool {
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
        )
    )
}

/// A character typed into an input (no Ctrl/Alt chords).
fn typed_char(ev: &KeyEvent) -> Option<char> {
    match ev.code {
        KeyCode::Char(c)
            if !ev
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            Some(c)
        }
        _ => None,
    }
}

fn overlay_key(state: &mut State, ev: &KeyEvent) -> Vec<Effect> {
    let cmd = keymap::lookup(keymap::OVERLAY, ev);
    match (&mut state.overlay, cmd) {
        (_, Some(Command::ForceQuit)) => return state.force_quit(),
        (_, Some(Command::Close)) => state.overlay = Overlay::None,
        (Overlay::Help { scroll } | Overlay::ErrorLog { scroll }, Some(Command::ScrollUp)) => {
            *scroll = scroll.saturating_sub(1);
        }
        (Overlay::Help { scroll } | Overlay::ErrorLog { scroll }, Some(Command::ScrollDown)) => {
            *scroll += 1
        }
        _ => state.dirty = false,
    }
    Vec::new()
}

fn upload_key(state: &mut State, ev: &KeyEvent) -> Vec<Effect> {
    let cmd = keymap::lookup(keymap::UPLOAD, ev);
    if cmd == Some(Command::ForceQuit) {
        return state.force_quit();
    }
    let Overlay::Upload(prompt) = &mut state.overlay else {
        return Vec::new();
    };
    match cmd {
        Some(Command::Close) => {
            if prompt.is_running() {
                state.status.info(
                    "The upload continues in the background; its result shows here when done.",
                );
            }
            state.overlay = Overlay::None;
        }
        Some(Command::StartUpload) => match &prompt.phase {
            UploadPhase::Editing if !prompt.input.trim().is_empty() => {
                prompt.phase = UploadPhase::Running {
                    done: 0,
                    total: 0,
                    current: String::new(),
                };
                prompt.candidates.clear();
                return vec![Effect::Upload {
                    upload: prompt.upload,
                    path: prompt.input.trim().to_string(),
                }];
            }
            UploadPhase::Done { .. } => state.overlay = Overlay::None,
            _ => state.dirty = false,
        },
        Some(Command::ScrollUp) => prompt.scroll = prompt.scroll.saturating_sub(1),
        Some(Command::ScrollDown) => {
            let max = match &prompt.phase {
                UploadPhase::Done { lines, .. } => lines.len(),
                _ => 0,
            };
            prompt.scroll = (prompt.scroll + 1).min(max);
        }
        _ if prompt.phase != UploadPhase::Editing => state.dirty = false,
        Some(Command::Complete) => {
            prompt.completion += 1;
            return vec![Effect::CompletePath {
                request: prompt.completion,
                input: prompt.input.clone(),
            }];
        }
        Some(Command::DeleteBack) => {
            prompt.input.pop();
            prompt.candidates.clear();
        }
        Some(Command::ClearInput) => {
            prompt.input.clear();
            prompt.candidates.clear();
        }
        _ => match typed_char(ev) {
            Some(c) => {
                prompt.input.push(c);
                prompt.candidates.clear();
            }
            None => state.dirty = false,
        },
    }
    Vec::new()
}

/// A completion answer; dropped if the input was edited or completed again since.
pub fn path_completed(
    state: &mut State,
    request: u64,
    input: &str,
    entries: Result<Vec<PathEntry>, String>,
) -> Vec<Effect> {
    let Overlay::Upload(prompt) = &mut state.overlay else {
        return Vec::new();
    };
    if prompt.completion != request || prompt.input != input || prompt.phase != UploadPhase::Editing
    {
        state.dirty = false;
        return Vec::new();
    }
    match entries {
        Ok(entries) => {
            let (completed, candidates) = upload::complete(input, &entries);
            prompt.input = completed;
            prompt.candidates = candidates;
        }
        Err(e) => prompt.candidates = vec![e],
    }
    Vec::new()
}

/// Runs a command from a keymap table.
fn run(state: &mut State, cmd: Command) -> Vec<Effect> {
    let label = &mut state.label;
    match cmd {
        Command::Quit => return state.begin_quit(),
        Command::ForceQuit => return state.force_quit(),
        Command::NextTab => return state.show_tab(state.tab.next()),
        Command::PrevTab => return state.show_tab(state.tab.prev()),
        Command::GoTab(tab) => return state.show_tab(tab),
        Command::Help => state.overlay = Overlay::Help { scroll: 0 },
        Command::ErrorLog => state.overlay = Overlay::ErrorLog { scroll: 0 },
        Command::Dismiss => state.dirty = state.status.dismiss(),
        Command::Vote(v) => return label.vote(v),
        Command::ClearVote => label.clear_vote(),
        Command::FocusLeft => label.move_focus(Move::Left),
        Command::FocusRight => label.move_focus(Move::Right),
        Command::FocusUp => label.move_focus(Move::Up),
        Command::FocusDown => label.move_focus(Move::Down),
        Command::SubmitRound => return label.submit_round(),
        Command::OpenUpload => {
            state.overlay = Overlay::Upload(UploadPrompt::new(state.next_upload));
            state.next_upload += 1;
        }
        Command::SendNumbers => return send_numbers(state),
        Command::LeaveInput => state.compute.input_focused = false,
        Command::CursorLeft => state.compute.move_cursor(-1),
        Command::CursorRight => state.compute.move_cursor(1),
        Command::CursorHome => state.compute.cursor_home(),
        Command::CursorEnd => state.compute.cursor_end(),
        Command::DeleteBack => state.compute.delete_back(),
        Command::DeleteForward => state.compute.delete_forward(),
        Command::ClearInput => state.compute.clear(),
        Command::ScrollUp | Command::ScrollDown | Command::PageUp | Command::PageDown => {
            scroll(state, cmd)
        }
        Command::CycleSort => state.stats.cycle_sort(),
        Command::CycleExportFormat => state.stats.cycle_format(),
        Command::Export => {
            if state.stats.exporting {
                state.dirty = false;
                return Vec::new();
            }
            state.stats.exporting = true;
            return vec![Effect::Export {
                format: state.stats.export_format,
                images: state.stats.images.clone(),
            }];
        }
        Command::TogglePause => {
            if !state.worker.enabled {
                state
                    .status
                    .info("The worker is off (--no-worker); run `hotdog-tui worker` elsewhere.");
                return Vec::new();
            }
            let paused = state.worker.mode() == super::status::WorkerMode::Paused;
            return vec![Effect::SetWorkerPaused(!paused)];
        }
        // Upload-prompt and overlay commands are handled where those are open.
        Command::Complete | Command::StartUpload | Command::Close => state.dirty = false,
    }
    Vec::new()
}

fn send_numbers(state: &mut State) -> Vec<Effect> {
    if let super::compute::ClientState::Failed(e) = &state.compute.client {
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

fn scroll(state: &mut State, cmd: Command) {
    let delta: isize = match cmd {
        Command::ScrollUp => -1,
        Command::ScrollDown => 1,
        Command::PageUp => -10,
        _ => 10,
    };
    match state.tab {
        // History and the log count from the newest entry upwards.
        Tab::Compute => {
            let max = state.compute.history.len().saturating_sub(1);
            state.compute.scroll = state.compute.scroll.saturating_add_signed(-delta).min(max);
        }
        Tab::Stats => state.stats.scroll_by(delta),
        Tab::Worker => state.worker.scroll_by(-delta),
        Tab::Label => state.dirty = false,
    }
}
