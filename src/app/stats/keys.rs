//! Keys of the Stats tab: sorting, scrolling, export, and opening an image's answers.

use crate::app::keymap::Command;
use crate::app::{Effect, State};

pub(crate) fn on_command(state: &mut State, cmd: Command) -> Vec<Effect> {
    match cmd {
        Command::OpenDetail => {
            if let Some(image) = state.stats.images.get(state.stats.scroll) {
                let image = image.image.clone();
                return crate::app::detail::open(state, image);
            }
            state.dirty = false;
        }
        Command::OpenReview => return crate::app::review::open(state),
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
        _ => state.dirty = false,
    }
    Vec::new()
}
