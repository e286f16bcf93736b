//! Drawing: a pure function of `app::State`. One file per tab plus the shell (tab bar,
//! footer, status line, overlays). Nothing here does I/O, decodes or encodes images.

pub mod compute;
pub mod label;
pub mod shell;
pub mod stats;
pub mod worker;

use ratatui::Frame;
use ratatui::style::{Color, Modifier, Style};

use crate::app::{State, Tab, layout};

/// Background of the image tiles; also the colour images are padded with, so the padding
/// left by aspect-ratio fitting blends into the tile instead of showing as dark seams.
pub const TILE_BG: Color = Color::Rgb(28, 28, 32);
pub const TILE_BG_RGB: [u8; 3] = [28, 28, 32];

pub fn accent() -> Style {
    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
}
pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}
pub fn good() -> Style {
    Style::new().fg(Color::Green)
}
pub fn bad() -> Style {
    Style::new().fg(Color::Red)
}

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
        Tab::Compute => compute::draw(frame, screen.body, state),
        Tab::Label => label::draw(frame, area, state),
        Tab::Stats => stats::draw(frame, screen.body, state),
        Tab::Worker => worker::draw(frame, screen.body, state),
    }
    shell::draw_footer(frame, screen.footer, state);
    shell::draw_status(frame, screen.status, state);
    shell::draw_overlay(frame, screen.body, state);
}

/// Shortens `s` to `width` columns with an ellipsis (by characters; names are sanitised).
pub fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(width - 1).collect();
    out.push('…');
    out
}
