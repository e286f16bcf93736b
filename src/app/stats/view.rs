//! The Stats tab: totals and dataset progress, the per-image table (sorted by the chosen
//! key; Enter opens the selected image's answers) and bar charts of the overall split and
//! of votes per image. Votes are current votes: one per labeller per image.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, Block, BorderType, Cell, Row, Table, TableState};

use crate::app::State;
use crate::app::status::ago;
use crate::app::theme::{accent, bad, dim, good, truncate};
use crate::domain::names::display_safe;
use crate::domain::stats::{ImageStats, Majority};

fn pct(votes: u64, value: f64) -> String {
    if votes == 0 {
        "—".into()
    } else {
        format!("{value:.0}%")
    }
}

fn majority_cell(s: &ImageStats) -> Span<'static> {
    let style = match s.majority {
        Majority::HotDog => good(),
        Majority::NotHotDog => bad(),
        _ => dim(),
    };
    Span::styled(s.majority.label().to_string(), style)
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let st = &state.stats;
    let wide = area.width >= 110;
    let [summary, main] =
        Layout::vertical([Constraint::Length(2), Constraint::Fill(1)]).areas(area);
    let (table_area, charts_area) = if wide {
        let [t, c] = Layout::horizontal([Constraint::Fill(3), Constraint::Fill(2)]).areas(main);
        (t, c)
    } else {
        let [t, c] = Layout::vertical([Constraint::Fill(1), Constraint::Length(8)]).areas(main);
        (t, c)
    };

    let t = &st.totals;
    let refreshed = match (st.refreshed_at, &st.refresh_error) {
        (_, Some(e)) => Span::styled(truncate(e, 60), bad()),
        (Some(at), None) => Span::styled(
            format!("live, last change {}", ago(state.status.now, at)),
            dim(),
        ),
        (None, None) => Span::styled("loading…", dim()),
    };
    let export = match &st.last_export {
        _ if st.exporting => Span::styled("exporting…".to_string(), accent()),
        Some(Ok(done)) => Span::styled(done.to_string(), good()),
        Some(Err(e)) => Span::styled(format!("export failed: {e}"), bad()),
        None => Span::styled("nothing exported yet".to_string(), dim()),
    };
    let progress = match st.progress {
        Some((done, total)) => format!(
            " · {done}/{total} done ({} votes each)",
            state.label.votes_per_image
        ),
        None => String::new(),
    };
    let lines = vec![
        Line::from(vec![
            Span::styled(format!(" {} images", t.images), accent()),
            Span::styled(progress, accent()),
            Span::raw(format!(
                " · {} labelled · {} votes · {} skips · hot dog {} · not {}",
                t.labelled_images,
                t.votes,
                t.skips,
                pct(t.votes, t.hotdog_pct),
                pct(t.votes, t.not_hotdog_pct),
            )),
        ]),
        Line::from(vec![
            Span::raw(format!(" sort: {} · ", st.sort.label())),
            refreshed,
            Span::raw(format!(
                " · e exports {} (f switches) · ",
                st.export_format.extension().to_uppercase()
            )),
            export,
        ]),
    ];
    frame.render_widget(ratatui::widgets::Paragraph::new(lines), summary);

    let name_width = usize::from(table_area.width.saturating_sub(2 + 7 + 8 + 8 + 13 + 10 + 6));
    let rows: Vec<Row> = st
        .images
        .iter()
        .map(|s| {
            Row::new(vec![
                Cell::from(truncate(&display_safe(&s.image), name_width.max(8))),
                Cell::from(Line::from(vec![
                    Span::raw(format!("{:>5}", s.votes)),
                    if s.done {
                        Span::styled("✔", good())
                    } else {
                        Span::raw(" ")
                    },
                ])),
                Cell::from(format!("{:>7}", pct(s.votes, s.hotdog_pct))),
                Cell::from(format!("{:>7}", pct(s.votes, s.not_hotdog_pct))),
                Cell::from(majority_cell(s)),
                Cell::from(format!("{:>9}", pct(s.votes, s.agreement * 100.0))),
            ])
        })
        .collect();
    let header = Row::new(vec![
        "Image",
        "Votes",
        "Hot dog",
        "    Not",
        "Majority",
        "Agreement",
    ])
    .style(Style::new().add_modifier(Modifier::BOLD));
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(7),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(13),
        Constraint::Length(10),
    ];
    let title = format!(
        " Images ({}/{}) ",
        (st.scroll + 1).min(st.images.len()),
        st.images.len()
    );
    let table = Table::new(rows, widths)
        .header(header)
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED))
        .block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .title(title),
        );
    // Scrolls just enough to keep the selected row in view.
    let mut selection = TableState::default().with_selected(Some(st.scroll));
    frame.render_stateful_widget(table, table_area, &mut selection);

    draw_charts(frame, charts_area, state, wide);
}

fn draw_charts(frame: &mut Frame, area: Rect, state: &State, stacked: bool) {
    let st = &state.stats;
    let (split_area, per_image_area) = if stacked {
        let [a, b] = Layout::vertical([Constraint::Length(5), Constraint::Fill(1)]).areas(area);
        (a, b)
    } else {
        let [a, b] = Layout::horizontal([Constraint::Length(36), Constraint::Fill(1)]).areas(area);
        (a, b)
    };
    let split = BarChart::horizontal(vec![
        Bar::with_label("hot dog", st.totals.hotdog).style(good()),
        Bar::with_label("not    ", st.totals.not_hotdog).style(bad()),
    ])
    .bar_gap(0)
    .block(
        Block::bordered()
            .border_type(BorderType::Rounded)
            .title(" Overall split "),
    );
    frame.render_widget(split, split_area);

    // The most-voted images: as many bars as there are rows.
    let rows = usize::from(per_image_area.height.saturating_sub(2));
    let mut by_votes: Vec<&ImageStats> = st.images.iter().collect();
    by_votes.sort_by(|a, b| b.votes.cmp(&a.votes).then_with(|| a.image.cmp(&b.image)));
    let bars: Vec<Bar> = by_votes
        .into_iter()
        .take(rows)
        .map(|s| Bar::with_label(truncate(&display_safe(&s.image), 14), s.votes).style(accent()))
        .collect();
    let chart = BarChart::horizontal(bars).bar_gap(0).block(
        Block::bordered()
            .border_type(BorderType::Rounded)
            .title(" Votes per image (most voted) "),
    );
    frame.render_widget(chart, per_image_area);
}
