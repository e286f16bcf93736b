//! The shell around the tabs: tab bar, key footer, the "too small" screen, and the
//! overlays' frame (help and error log here; the upload prompt in `upload`).

pub mod error_log;
pub mod help;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::keymap::{self, Binding};
use crate::app::layout;
use crate::app::status::Level;
use crate::app::theme::{accent, bad, dim, good};
use crate::app::{Overlay, State, Tab};

pub fn draw_too_small(frame: &mut Frame, area: Rect) {
    let text = vec![
        Line::from("terminal too small"),
        Line::from(format!(
            "need {}×{}, have {}×{}",
            layout::MIN_WIDTH,
            layout::MIN_HEIGHT,
            area.width,
            area.height
        )),
        Line::from("enlarge the window, or press Ctrl-C to quit"),
    ];
    let h = (text.len() as u16).min(area.height);
    let rect = Rect::new(
        area.x,
        area.y + area.height.saturating_sub(h) / 2,
        area.width,
        h,
    );
    frame.render_widget(
        Paragraph::new(text).centered().wrap(Wrap { trim: true }),
        rect,
    );
}

pub fn draw_tabs(frame: &mut Frame, area: Rect, state: &State) {
    let mut spans = vec![
        Span::styled(" hotdog-tui ", Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(" "),
    ];
    for (i, tab) in Tab::ALL.iter().enumerate() {
        let text = format!(" F{} {} ", i + 1, tab.title());
        let style = if *tab == state.tab {
            Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        spans.push(Span::styled(text, style));
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Line::from(spans), area);
}

/// The key footer, or the current notice while one is shown: a whole row, so an error
/// and what to do about it fit (the keys are always in `?`).
pub fn draw_footer(frame: &mut Frame, area: Rect, state: &State) {
    if let Some(n) = &state.status.notice {
        let line = if n.level == Level::Error {
            Line::from(vec![
                Span::styled(format!(" ✘ {}", n.text), bad().add_modifier(Modifier::BOLD)),
                Span::styled("  (Esc dismisses, ! shows the log)", dim()),
            ])
        } else {
            Line::styled(format!(" {}", n.text), good())
        };
        frame.render_widget(line, area);
        return;
    }
    let table: &[Binding] = match &state.overlay {
        Overlay::Upload(_) => keymap::UPLOAD,
        Overlay::Detail(_) => keymap::DETAIL,
        Overlay::Review => keymap::REVIEW,
        Overlay::Help { .. } | Overlay::ErrorLog { .. } => keymap::OVERLAY,
        Overlay::None => keymap::for_tab(state.tab),
    };
    let mut entries = match &state.overlay {
        Overlay::Review => keymap::footer_where(table, |c| state.review.key_does_something(c)),
        _ => keymap::footer(table),
    };
    if state.overlay == Overlay::None {
        entries.extend(keymap::footer(keymap::GLOBAL));
    }
    let mut spans = Vec::new();
    for (k, text) in entries {
        spans.push(Span::styled(format!(" {k}"), accent()));
        spans.push(Span::raw(format!(" {text} ")));
    }
    frame.render_widget(Line::from(spans).style(dim()), area);
}

/// Keys of the help and error-log overlays: close, scroll, force quit.
pub(crate) fn overlay_key(
    state: &mut State,
    ev: &crossterm::event::KeyEvent,
) -> Vec<crate::app::Effect> {
    let cmd = keymap::lookup(keymap::OVERLAY, ev);
    match (&mut state.overlay, cmd) {
        (_, Some(keymap::Command::ForceQuit)) => return state.force_quit(),
        (_, Some(keymap::Command::Close)) => state.overlay = Overlay::None,
        (
            Overlay::Help { scroll } | Overlay::ErrorLog { scroll },
            Some(keymap::Command::ScrollUp),
        ) => {
            *scroll = scroll.saturating_sub(1);
        }
        (
            Overlay::Help { scroll } | Overlay::ErrorLog { scroll },
            Some(keymap::Command::ScrollDown),
        ) => *scroll += 1,
        _ => state.dirty = false,
    }
    Vec::new()
}
