//! Colours and text helpers shared by every view.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::{Block, BorderType, Clear};

use super::layout;

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

/// A box of `w`×`h` centred in `body`, cleared first.
pub fn popup(frame: &mut Frame, body: Rect, w: u16, h: u16, title: &str) -> Rect {
    let rect = layout::centered(body, w, h);
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(Span::styled(format!(" {title} "), accent()))
        .style(Style::new().bg(Color::Rgb(20, 20, 24)));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    inner
}
