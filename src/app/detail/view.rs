//! The detail overlay: the picture large on the left; on the right what counts (current
//! votes, skips, done or not) and every answer in the file, superseded ones marked.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Cell, Clear, Paragraph, Row, Table, Wrap};

use super::{DetailView, areas};
use crate::app::State;
use crate::app::layout;
use crate::app::theme::{accent, bad, dim, good, truncate};
use crate::domain::label_file::{AnswerKind, Standing, Vote};
use crate::domain::names::display_safe;

/// `2026-12-01T07:22:21.123Z` → `2026-12-01 07:22:21`; anything else as it is.
pub(crate) fn short_time(at: &str) -> String {
    let safe = display_safe(at);
    match (safe.get(..10), safe.get(11..19), safe.as_bytes().get(10)) {
        (Some(day), Some(time), Some(b'T')) => format!("{day} {time}"),
        _ => safe,
    }
}

pub fn draw(frame: &mut Frame, state: &State, view: &DetailView) {
    let (picture_area, answers_area) = areas(state.screen);
    let bg = Style::new().bg(Color::Rgb(20, 20, 24));
    frame.render_widget(Clear, picture_area);
    frame.render_widget(Clear, answers_area);
    let name = display_safe(&view.image);
    let picture = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(Span::styled(
            format!(
                " {} ",
                truncate(&name, usize::from(picture_area.width.saturating_sub(4)))
            ),
            accent(),
        ))
        .style(bg);
    let inner = picture.inner(picture_area);
    frame.render_widget(picture, picture_area);
    let placeholder = |frame: &mut Frame, text: Vec<Line<'static>>| {
        let rect = layout::centered(inner, inner.width, 3.min(inner.height));
        frame.render_widget(
            Paragraph::new(text).centered().wrap(Wrap { trim: true }),
            rect,
        );
    };
    match (&view.loaded, &view.encoded) {
        (_, Some((_, Ok(encoded)))) => {
            let picture = encoded.0.as_ref();
            let s = picture.size();
            frame.render_widget(picture, layout::centered(inner, s.width, s.height));
        }
        (Some(Ok(l)), _) if l.picture.is_err() => {
            let reason = l
                .picture
                .as_ref()
                .err()
                .map(ToString::to_string)
                .unwrap_or_default();
            placeholder(
                frame,
                vec![
                    Line::styled("cannot display this image", bad()),
                    Line::styled(display_safe(&reason), dim()),
                ],
            );
        }
        (_, Some((_, Err(e)))) => placeholder(
            frame,
            vec![
                Line::styled("cannot display this image", bad()),
                Line::styled(display_safe(&e.to_string()), dim()),
            ],
        ),
        _ => placeholder(frame, vec![Line::styled("loading…", dim())]),
    }

    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(Span::styled(" Answers (Esc closes, ↑↓ scroll) ", accent()))
        .style(bg);
    let inner = block.inner(answers_area);
    frame.render_widget(block, answers_area);
    let loaded = match &view.loaded {
        None => {
            frame.render_widget(Paragraph::new(Line::styled("loading…", dim())), inner);
            return;
        }
        Some(Err(e)) => {
            let text = format!("cannot read the label file: {e}");
            frame.render_widget(
                Paragraph::new(Line::styled(display_safe(&text), bad())).wrap(Wrap { trim: true }),
                inner,
            );
            return;
        }
        Some(Ok(l)) => l,
    };
    let s = &loaded.summary;
    let n = state.label.votes_per_image;
    let done = if s.is_done(n) {
        Span::styled(format!("done ({n} votes needed)"), good())
    } else {
        Span::styled(
            format!(
                "needs {} more vote(s) of {n}",
                n.saturating_sub(s.vote_count())
            ),
            accent(),
        )
    };
    let summary = vec![
        Line::raw(format!(
            "{} current vote(s): {} hot dog, {} not · {} skip(s)",
            s.vote_count(),
            s.votes.hotdog,
            s.votes.not_hotdog,
            s.skips
        )),
        Line::from(done),
        Line::styled(
            format!(
                "{} answer(s) in the file, {} superseded by a later one{}",
                s.answers,
                s.superseded,
                if s.malformed > 0 {
                    format!(", {} unreadable", s.malformed)
                } else {
                    String::new()
                }
            ),
            dim(),
        ),
    ];
    let [head, table_area] =
        Layout::vertical([Constraint::Length(4), Constraint::Fill(1)]).areas(inner);
    frame.render_widget(Paragraph::new(summary).wrap(Wrap { trim: true }), head);
    if loaded.rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no answers yet", dim())),
            table_area,
        );
        return;
    }
    let rows: Vec<Row> = loaded
        .rows
        .iter()
        .skip(view.scroll)
        .map(|r| {
            let current = r.standing == Standing::Current;
            let answer = if current {
                match r.kind {
                    AnswerKind::Vote(Vote::HotDog) => Span::styled("hot dog", good()),
                    AnswerKind::Vote(Vote::NotHotDog) => Span::styled("not hot dog", bad()),
                    AnswerKind::Skip => Span::styled("skip", accent()),
                    AnswerKind::Adjudication(_) => {
                        Span::styled(r.kind.label(), accent().add_modifier(Modifier::BOLD))
                    }
                }
            } else {
                Span::styled(format!("{} (superseded)", r.kind.label()), dim())
            };
            let who = match &r.labeller {
                Some(l) => display_safe(l),
                None => "anonymous".to_string(),
            };
            let style = if current { Style::new() } else { dim() };
            Row::new(vec![
                Cell::from(Span::styled(
                    r.at.as_deref()
                        .map(short_time)
                        .unwrap_or_else(|| "—".into()),
                    style,
                )),
                Cell::from(answer),
                Cell::from(Span::styled(who, style)),
            ])
        })
        .collect();
    let header = Row::new(vec!["Time (UTC)", "Answer", "Labeller"])
        .style(Style::new().add_modifier(Modifier::BOLD));
    let widths = [
        Constraint::Length(19),
        Constraint::Length(24),
        Constraint::Fill(1),
    ];
    frame.render_widget(Table::new(rows, widths).header(header), table_area);
}
