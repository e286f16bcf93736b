//! Keys of the Stats tab: sorting, scrolling, export, opening an image's answers, and
//! switching between the image and labeller tables.

use crate::app::keymap::Command;
use crate::app::{Effect, State};

pub(crate) fn on_command(state: &mut State, cmd: Command) -> Vec<Effect> {
    match cmd {
        Command::OpenDetail if !state.stats.show_labellers => {
            if let Some(image) = state.stats.images.get(state.stats.scroll) {
                let image = image.image.clone();
                return crate::app::detail::open(state, image);
            }
            state.dirty = false;
        }
        Command::OpenReview => return crate::app::review::open(state),
        Command::CycleSort => state.stats.cycle_sort(),
        Command::CycleExportFormat => state.stats.cycle_format(),
        Command::ToggleLabellers => state.stats.show_labellers = !state.stats.show_labellers,
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
