//! The `?` overlay: every key of the visible tab and the global ones, generated from the
//! keymap tables (the same ones the footer and the key handling use).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::keymap::{self, Binding};
use crate::app::theme::{accent, good, popup};
use crate::app::{State, Tab};

fn help_lines(title: &str, table: &[Binding]) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled(title.to_string(), accent())];
    for b in table {
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<22}", keymap::keys_label(b)), good()),
            Span::raw(b.desc),
        ]));
    }
    lines.push(Line::raw(""));
    lines
}

pub fn draw(frame: &mut Frame, body: Rect, state: &State, scroll: usize) {
    let inner = popup(
        frame,
        body,
        76,
        body.height.saturating_sub(2),
        "Help (Esc closes, ↓ scrolls)",
    );
    let mut lines = help_lines(
        &format!("{} tab", state.tab.title()),
        keymap::for_tab(state.tab),
    );
    if state.tab == Tab::Compute {
        lines.push(Line::raw(
            "  Type numbers into the input; Esc leaves it, any key returns.",
        ));
        lines.push(Line::raw(""));
    }
    lines.extend(help_lines("Everywhere", keymap::GLOBAL));
    if state.tab == Tab::Label {
        lines.extend(help_lines("Add-images prompt", keymap::UPLOAD));
    }
    if state.tab == Tab::Stats {
        lines.extend(help_lines("Review view (r)", keymap::REVIEW));
    }
    lines.push(Line::styled("Pictures", accent()));
    lines.push(Line::raw(format!("  {}", state.pictures)));
    lines.push(Line::raw(
        "  `hotdog-tui doctor` says why; --image-protocol and --colors force them.",
    ));
    let scroll = scroll.min(lines.len().saturating_sub(1)) as u16;
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}
