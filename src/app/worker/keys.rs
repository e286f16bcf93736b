//! Keys of the Worker tab: pausing the embedded worker.

use crate::app::keymap::Command;
use crate::app::{Effect, State};
use crate::worker::WorkerState;

pub(crate) fn on_command(state: &mut State, cmd: Command) -> Vec<Effect> {
    match cmd {
        Command::TogglePause => {
            if !state.worker.enabled {
                state
                    .status
                    .info("The worker is off (--no-worker); run `hotdog-tui worker` elsewhere.");
                return Vec::new();
            }
            let paused = state.worker.mode() == Some(WorkerState::Paused);
            vec![Effect::SetWorkerPaused(!paused)]
        }
        _ => {
            state.dirty = false;
            Vec::new()
        }
    }
}
