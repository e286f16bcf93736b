//! The "Add images" prompt: path input with completions, the progress gauge, and each
//! file's outcome.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph, Wrap};

use super::UploadPhase;
use crate::app::theme::{accent, bad, dim, good, popup};
use crate::app::{Overlay, State};

pub fn draw(frame: &mut Frame, body: Rect, state: &State) {
    let Overlay::Upload(prompt) = &state.overlay else {
        return;
    };
    let inner = popup(
        frame,
        body,
        body.width.saturating_sub(10).min(90),
        body.height.saturating_sub(4),
        "Add images",
    )
    .inner(ratatui::layout::Margin::new(1, 0));
    let [hint, input, gauge, rest] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Fill(1),
    ])
    .areas(inner);
    frame.render_widget(
        Paragraph::new("Path to an image file or a folder of images (JPEG, PNG, GIF, WebP). Tab completes, Enter uploads.")
            .wrap(Wrap { trim: true })
            .style(dim()),
        hint,
    );
    let shown = crate::domain::names::display_safe(&prompt.input);
    let width = usize::from(input.width.saturating_sub(3));
    // Show the end of a long path: that is where the user is typing.
    let tail: String = {
        let n = shown.chars().count();
        shown.chars().skip(n.saturating_sub(width)).collect()
    };
    frame.render_widget(
        Line::from(vec![Span::styled("> ", accent()), Span::raw(tail.clone())]),
        input,
    );
    if prompt.phase == UploadPhase::Editing {
        let x = input.x + 2 + tail.chars().count() as u16;
        frame.set_cursor_position((x.min(input.right().saturating_sub(1)), input.y));
    }
    let lines: Vec<Line> = match &prompt.phase {
        UploadPhase::Editing => prompt
            .candidates
            .iter()
            .map(|c| Line::raw(c.clone()))
            .collect(),
        UploadPhase::Running {
            done,
            total,
            current,
        } => {
            let ratio = if *total == 0 {
                0.0
            } else {
                *done as f64 / *total as f64
            };
            let label = format!("{done}/{total}");
            frame.render_widget(
                Gauge::default()
                    .ratio(ratio.clamp(0.0, 1.0))
                    .label(label)
                    .gauge_style(good()),
                gauge,
            );
            vec![Line::raw(format!("uploading {current}"))]
        }
        UploadPhase::Done { outcomes } => {
            let (stored, rejected) = super::counts(outcomes);
            frame.render_widget(
                Gauge::default()
                    .ratio(1.0)
                    .label(format!("done: {stored} stored, {rejected} rejected"))
                    .gauge_style(good()),
                gauge,
            );
            outcomes
                .iter()
                .map(|o| {
                    let style = if o.is_rejected() { bad() } else { Style::new() };
                    Line::styled(o.to_string(), style)
                })
                .chain(std::iter::once(Line::styled("Enter or Esc closes.", dim())))
                .collect()
        }
    };
    let scroll = prompt.scroll.min(lines.len().saturating_sub(1)) as u16;
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        rest,
    );
}
