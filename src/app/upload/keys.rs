//! Keys of the "Add images" prompt, and the answers to its path completions.

use crossterm::event::KeyEvent;

use super::{PathEntry, UploadPhase, complete};
use crate::app::keymap::{self, Command, typed_char};
use crate::app::{Effect, Overlay, State};

pub(crate) fn on_key(state: &mut State, ev: &KeyEvent) -> Vec<Effect> {
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
                UploadPhase::Done { outcomes } => outcomes.len(),
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
            let (completed, candidates) = complete(input, &entries);
            prompt.input = completed;
            prompt.candidates = candidates;
        }
        Err(e) => prompt.candidates = vec![e],
    }
    Vec::new()
}
