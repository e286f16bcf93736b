//! The review view: the contested images on the left (most doubtful first, with why each
//! is listed and decisions on their way); the selected one large on the right, over every
//! current vote and the consensus confidence, and what 1 / 0 do — or why this user may
//! only look.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Cell, Clear, Paragraph, Row, Table, TableState, Wrap};

use super::{ShownImage, areas};
use crate::app::State;
use crate::app::detail::view::short_time;
use crate::app::layout;
use crate::app::theme::{accent, bad, dim, good, truncate};
use crate::domain::label_file::{AnswerKind, Standing, Vote};
use crate::domain::names::display_safe;

fn vote_span(v: Vote) -> Span<'static> {
    match v {
        Vote::HotDog => Span::styled("hot dog", good()),
        Vote::NotHotDog => Span::styled("not hot dog", bad()),
    }
}

pub fn draw(frame: &mut Frame, state: &State) {
    let (list_area, picture_area, votes_area) = areas(state.screen);
    let bg = Style::new().bg(Color::Rgb(20, 20, 24));
    for a in [list_area, picture_area, votes_area] {
        frame.render_widget(Clear, a);
    }
    draw_list(frame, state, list_area, bg);
    let shown = state.review.shown.as_ref();
    draw_picture(frame, shown, picture_area, bg);
    draw_votes(frame, state, shown, votes_area, bg);
}

fn draw_list(frame: &mut Frame, state: &State, area: ratatui::layout::Rect, bg: Style) {
    let r = &state.review;
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(Span::styled(
            format!(" Contested ({}) ", r.items.len()),
            accent(),
        ))
        .style(bg);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if r.items.is_empty() {
        let text = vec![
            Line::styled("Nothing to review.", accent()),
            Line::raw(""),
            Line::raw(format!(
                "No ties, and no consensus under confidence {:.2} (--review-below).",
                r.below
            )),
        ];
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), inner);
        return;
    }
    let name_width = usize::from(inner.width.saturating_sub(14)).max(6);
    // The header takes a row.
    let in_view = r.rows_in_view(usize::from(inner.height.saturating_sub(1)));
    let first = in_view.start;
    let rows: Vec<Row> = r
        .items
        .get(in_view)
        .unwrap_or_default()
        .iter()
        .map(|c| {
            let why = match r.decided.get(&c.image) {
                Some(Vote::HotDog) => Span::styled("→ hot dog", good()),
                Some(Vote::NotHotDog) => Span::styled("→ not", bad()),
                None if c.tie => Span::styled("tie", accent()),
                None => Span::raw(
                    c.confidence
                        .map(|v| format!("{v:.2}"))
                        .unwrap_or_else(|| "—".into()),
                ),
            };
            Row::new(vec![
                Cell::from(truncate(&display_safe(&c.image), name_width)),
                Cell::from(format!("{}–{}", c.hotdog, c.not_hotdog)),
                Cell::from(why),
            ])
        })
        .collect();
    let header =
        Row::new(vec!["Image", "1–0", "Conf."]).style(Style::new().add_modifier(Modifier::BOLD));
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(5),
        Constraint::Length(9),
    ];
    let table = Table::new(rows, widths)
        .header(header)
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut selection = TableState::default().with_selected(r.selected.checked_sub(first));
    frame.render_stateful_widget(table, inner, &mut selection);
}

fn draw_picture(
    frame: &mut Frame,
    shown: Option<&ShownImage>,
    area: ratatui::layout::Rect,
    bg: Style,
) {
    let mut block = Block::bordered().border_type(BorderType::Rounded).style(bg);
    if let Some(s) = shown {
        let name = truncate(
            &display_safe(&s.image),
            usize::from(area.width.saturating_sub(4)),
        );
        block = block.title(Span::styled(format!(" {name} "), accent()));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let placeholder = |frame: &mut Frame, text: Vec<Line<'static>>| {
        let rect = layout::centered(inner, inner.width, 3.min(inner.height));
        frame.render_widget(
            Paragraph::new(text).centered().wrap(Wrap { trim: true }),
            rect,
        );
    };
    let Some(shown) = shown else {
        return;
    };
    let failed = |why: String| {
        vec![
            Line::styled("cannot display this image", bad()),
            Line::styled(display_safe(&why), dim()),
        ]
    };
    match (&shown.loaded, &shown.encoded) {
        (_, Some((_, Ok(encoded)))) => {
            let picture = encoded.0.as_ref();
            let s = picture.size();
            frame.render_widget(picture, layout::centered(inner, s.width, s.height));
        }
        (Some(Ok(l)), _) if l.picture.is_err() => {
            let why = l
                .picture
                .as_ref()
                .err()
                .map(ToString::to_string)
                .unwrap_or_default();
            placeholder(frame, failed(why));
        }
        (_, Some((_, Err(e)))) => placeholder(frame, failed(e.to_string())),
        _ => placeholder(frame, vec![Line::styled("loading…", dim())]),
    }
}

fn draw_votes(
    frame: &mut Frame,
    state: &State,
    shown: Option<&ShownImage>,
    area: ratatui::layout::Rect,
    bg: Style,
) {
    let r = &state.review;
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(Span::styled(" Current votes ", accent()))
        .style(bg);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [head, table_area, foot] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Fill(1),
        Constraint::Length(2),
    ])
    .areas(inner);
    let footer = match r.read_only_reason() {
        Some(why) => Line::styled(display_safe(&why), bad()),
        None if r.items.is_empty() => Line::styled("Nothing to decide. Esc closes.", dim()),
        None => Line::from(vec![
            Span::styled("1", accent()),
            Span::raw(" hot dog · "),
            Span::styled("0", accent()),
            Span::raw(format!(
                " not: your decision ({}) wins over the votes",
                display_safe(&r.user)
            )),
        ]),
    };
    frame.render_widget(Paragraph::new(footer).wrap(Wrap { trim: true }), foot);
    let Some(item) = r.selected_item() else {
        return;
    };
    let mut counts = vec![Span::raw(format!(
        "{} hot dog, {} not · ",
        item.hotdog, item.not_hotdog
    ))];
    counts.push(match (item.confidence, item.tie) {
        (Some(c), true) => Span::styled(format!("tie · confidence {c:.2}"), accent()),
        (Some(c), false) => Span::styled(format!("confidence {c:.2}"), accent()),
        (None, _) => Span::styled("tie, no consensus", accent()),
    });
    let mut lines = vec![Line::from(counts)];
    if let Some(v) = r.decided.get(&item.image) {
        lines.push(Line::from(vec![
            Span::raw("you decided "),
            vote_span(*v),
            Span::styled(" · waiting for the label file", dim()),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), head);
    let loaded = match shown.and_then(|s| s.loaded.as_ref()) {
        None => {
            frame.render_widget(Line::styled("loading…", dim()), table_area);
            return;
        }
        Some(Err(e)) => {
            let text = format!("cannot read the label file: {e}");
            frame.render_widget(
                Paragraph::new(Line::styled(display_safe(&text), bad())).wrap(Wrap { trim: true }),
                table_area,
            );
            return;
        }
        Some(Ok(l)) => l,
    };
    let rows: Vec<Row> = loaded
        .rows
        .iter()
        .filter(|row| row.standing == Standing::Current)
        .filter_map(|row| match row.kind {
            AnswerKind::Vote(v) => Some((row, v)),
            _ => None,
        })
        .map(|(row, v)| {
            Row::new(vec![
                Cell::from(
                    row.at
                        .as_deref()
                        .map(short_time)
                        .unwrap_or_else(|| "—".into()),
                ),
                Cell::from(vote_span(v)),
                Cell::from(
                    row.labeller
                        .as_deref()
                        .map(display_safe)
                        .unwrap_or_else(|| "anonymous".into()),
                ),
            ])
        })
        .collect();
    let header = Row::new(vec!["Time (UTC)", "Vote", "Labeller"])
        .style(Style::new().add_modifier(Modifier::BOLD));
    let widths = [
        Constraint::Length(19),
        Constraint::Length(12),
        Constraint::Fill(1),
    ];
    frame.render_widget(Table::new(rows, widths).header(header), table_area);
}
