//! Drawing the whole screen: a pure function of `State`. Each tab and overlay draws itself
//! from its own `view` module; nothing here does I/O, decodes or encodes images.

use ratatui::Frame;

use ratatui::layout::Rect;

use super::{
    Overlay, State, Tab, compute, detail, label, layout, review, shell, stats, status, upload,
    worker,
};

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, state: &State) {
    let area = frame.area();
    if layout::too_small(area) {
        shell::draw_too_small(frame, area);
        return;
    }
    let screen = layout::screen(area);
    shell::draw_tabs(frame, screen.tabs, state);
    match state.tab {
        Tab::Compute => compute::view::draw(frame, screen.body, state),
        Tab::Label => label::view::draw(frame, area, state),
        Tab::Stats => stats::view::draw(frame, screen.body, state),
        Tab::Worker => worker::view::draw(frame, screen.body, state),
    }
    shell::draw_footer(frame, screen.footer, state);
    status::view::draw(frame, screen.status, state);
    draw_overlay(frame, screen.body, state);
}

fn draw_overlay(frame: &mut Frame, body: Rect, state: &State) {
    match &state.overlay {
        Overlay::None => {}
        Overlay::Help { scroll } => shell::help::draw(frame, body, state, *scroll),
        Overlay::ErrorLog { scroll } => shell::error_log::draw(frame, body, state, *scroll),
        Overlay::Upload(_) => upload::view::draw(frame, body, state),
        Overlay::Detail(view) => detail::view::draw(frame, state, view),
        Overlay::Review => review::view::draw(frame, state),
    }
}
