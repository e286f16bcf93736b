//! The `!` overlay: this session's errors, newest first, with how long ago each happened.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::State;
use crate::app::status::ago;
use crate::app::theme::{bad, dim, good, popup};

pub fn draw(frame: &mut Frame, body: Rect, state: &State, scroll: usize) {
    let inner = popup(
        frame,
        body,
        body.width.saturating_sub(8),
        body.height.saturating_sub(2),
        "Errors (Esc to close)",
    );
    let errors = &state.status.errors;
    let lines: Vec<Line> = if errors.is_empty() {
        vec![Line::styled("No errors in this session.", good())]
    } else {
        errors
            .iter()
            .rev()
            .map(|(at, text)| {
                Line::from(vec![
                    Span::styled(format!("{:>8}  ", ago(state.status.now, *at)), dim()),
                    Span::styled(text.clone(), bad()),
                ])
            })
            .collect()
    };
    let scroll = scroll.min(lines.len().saturating_sub(1)) as u16;
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        inner,
    );
}
