//! The shell around the tabs: tab bar, key footer and status line, and the overlays
//! (help generated from the keymap tables, the error log, the upload prompt).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Gauge, Paragraph, Wrap};

use super::{accent, bad, dim, good, truncate};
use crate::app::keymap::{self, Binding};
use crate::app::layout;
use crate::app::status::{Level, ago};
use crate::app::upload::UploadPhase;
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
        Overlay::Help { .. } | Overlay::ErrorLog { .. } => keymap::OVERLAY,
        Overlay::None => keymap::for_tab(state.tab),
    };
    let mut entries = keymap::footer(table);
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

pub fn draw_status(frame: &mut Frame, area: Rect, state: &State) {
    let s = &state.status;
    let worker = state.worker.mode();
    let waiting = state.answers_waiting();
    let sep = || Span::styled(" │ ", dim());
    let user = format!("user {}", truncate(&s.user, 16));
    let worker = format!("worker {}", worker.label());
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

/// A box of `w`×`h` centred in `body`, cleared first.
fn popup(frame: &mut Frame, body: Rect, w: u16, h: u16, title: &str) -> Rect {
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

pub fn draw_overlay(frame: &mut Frame, body: Rect, state: &State) {
    match &state.overlay {
        Overlay::None => {}
        Overlay::Help { scroll } => draw_help(frame, body, state, *scroll),
        Overlay::ErrorLog { scroll } => draw_error_log(frame, body, state, *scroll),
        Overlay::Upload(_) => draw_upload(frame, body, state),
    }
}

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

fn draw_help(frame: &mut Frame, body: Rect, state: &State, scroll: usize) {
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
    let scroll = scroll.min(lines.len().saturating_sub(1)) as u16;
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}

fn draw_error_log(frame: &mut Frame, body: Rect, state: &State, scroll: usize) {
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

fn draw_upload(frame: &mut Frame, body: Rect, state: &State) {
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
        UploadPhase::Done {
            lines,
            stored,
            rejected,
        } => {
            frame.render_widget(
                Gauge::default()
                    .ratio(1.0)
                    .label(format!("done: {stored} stored, {rejected} rejected"))
                    .gauge_style(good()),
                gauge,
            );
            lines
                .iter()
                .map(|l| {
                    let style = if l.starts_with("rejected") {
                        bad()
                    } else {
                        Style::new()
                    };
                    Line::styled(l.clone(), style)
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
