//! The status line: backend, user, worker state, answers waiting, errors.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::State;
use crate::app::theme::{accent, bad, dim, truncate};

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let s = &state.status;
    let waiting = state.answers_waiting();
    let sep = || Span::styled(" │ ", dim());
    let user = format!("user {}", truncate(&s.user, 16));
    let worker = format!("worker {}", state.worker.mode_label());
    let waiting_text = format!("{waiting} waiting to be written");
    let errors = (!s.errors.is_empty()).then(|| format!("{} error(s): ! log", s.errors.len()));
    // The backend gets what the other items leave (its end says the most: the data dir).
    let fixed = user.chars().count()
        + worker.chars().count()
        + waiting_text.chars().count()
        + errors.as_ref().map_or(0, |e| e.chars().count() + 3)
        + 3 * 3
        + 1;
    let backend = truncate_front(
        &s.backend,
        usize::from(area.width).saturating_sub(fixed).max(12),
    );
    let mut spans = vec![
        Span::raw(format!(" {backend}")),
        sep(),
        Span::raw(user),
        sep(),
        Span::raw(worker),
        sep(),
        Span::styled(
            waiting_text,
            if waiting > 0 { accent() } else { Style::new() },
        ),
    ];
    if let Some(e) = errors {
        spans.push(sep());
        spans.push(Span::styled(e, bad()));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(Style::new().bg(Color::Rgb(40, 40, 48))),
        area,
    );
}

/// Keeps the end of `s` within `width` characters: `…/hdtui/data`.
fn truncate_front(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width {
        return s.to_string();
    }
    let tail: String = s.chars().skip(n + 1 - width.max(1)).collect();
    format!("…{tail}")
}
