//! The Stats tab: totals and dataset progress, the agreement figures, the per-image table
//! (sorted by the chosen key; Enter opens the selected image's answers) or the labeller
//! table (`l`), and bar charts of the overall split and of votes per image. Votes are
//! current votes: one per labeller per image.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, Block, BorderType, Cell, Row, Table, TableState};

use crate::app::State;
use crate::app::status::ago;
use crate::app::theme::{accent, bad, dim, good, truncate};
use crate::domain::names::display_safe;
use crate::domain::quality::agreement::{NOT_ENOUGH_DATA, shown};
use crate::domain::quality::labellers::LabellerRow;
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
        Layout::vertical([Constraint::Length(3), Constraint::Fill(1)]).areas(area);
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
        agreement_line(state),
    ];
    frame.render_widget(ratatui::widgets::Paragraph::new(lines), summary);
    if st.show_labellers {
        // The table takes the whole width: beside the charts its names were cut to a few
        // letters. The charts (which are about images) stay below where there is room.
        let [table, charts] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(8)]).areas(main);
        match main.height >= 24 {
            true => {
                draw_labellers(frame, table, state);
                draw_charts(frame, charts, state, false);
            }
            false => draw_labellers(frame, main, state),
        }
        return;
    }

    let name_width = usize::from(
        table_area
            .width
            .saturating_sub(2 + 7 + 8 + 8 + 13 + 10 + 9 + 7),
    );
    // Borders and the header row take 3 rows.
    let in_view = st.rows_in_view(usize::from(table_area.height.saturating_sub(3)));
    let first = in_view.start;
    let rows: Vec<Row> = st
        .images
        .get(in_view)
        .unwrap_or_default()
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
                Cell::from(confidence_cell(s)),
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
        " Confid.",
    ])
    .style(Style::new().add_modifier(Modifier::BOLD));
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(7),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(13),
        Constraint::Length(10),
        Constraint::Length(8),
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
    let mut selection = TableState::default().with_selected(st.scroll.checked_sub(first));
    frame.render_stateful_widget(table, table_area, &mut selection);

    draw_charts(frame, charts_area, state, wide);
}

/// The consensus's confidence; a reviewer's decision shows as such; coloured when the
/// consensus differs from the majority.
fn confidence_cell(s: &ImageStats) -> Span<'static> {
    let text = match (s.adjudicated, s.confidence) {
        (true, _) => "decided".to_string(),
        (false, Some(c)) => format!("{c:>7.3}"),
        (false, None) => format!("{:>7}", "—"),
    };
    let style = if s.adjudicated || s.consensus != s.majority {
        accent()
    } else if s.confidence.is_some_and(|c| c < 0.8) {
        bad()
    } else {
        Style::new()
    };
    Span::styled(text, style)
}

fn agreement_line(state: &State) -> Line<'static> {
    let Some(q) = &state.stats.quality else {
        return Line::styled(" agreement: computing…", dim());
    };
    let a = &q.report.agreement;
    let k = &a.fleiss_kappa;
    let images = |n: usize| {
        if n == 1 {
            "1 image".to_string()
        } else {
            format!("{n} images")
        }
    };
    let mut spans = vec![
        Span::styled(" agreement: ", accent()),
        Span::raw(format!(
            "α {} · κ {} ({} × {} votes) · AC1 {} · raw {} · over {}",
            shown(a.krippendorff_alpha.value),
            shown(k.value),
            images(k.images),
            k.votes_per_image,
            shown(a.gwet_ac1.value),
            a.percent_agreement.value.map_or_else(
                || NOT_ENOUGH_DATA.to_string(),
                |v| format!("{:.0}%", v * 100.0)
            ),
            images(a.krippendorff_alpha.images),
        )),
    ];
    if let Some(p) = &q.gold_problem {
        spans.push(Span::styled(
            format!(" · gold not used: {}", truncate(p, 60)),
            bad(),
        ));
    }
    Line::from(spans)
}

fn share(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), |v| format!("{:.0}%", v * 100.0))
}

fn rate(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), |v| format!("{v:.2}"))
}

/// `YYYY-MM-DD HH:MM` of an RFC 3339 time.
fn short(at: Option<&str>) -> String {
    at.map_or_else(
        || "—".to_string(),
        |t| t.get(..16).unwrap_or(t).replace('T', " "),
    )
}

/// The labeller's row: her name in `name_width`, then the first `cells` - 1 figures.
fn labeller_row(l: &LabellerRow, name_width: usize, cells: usize) -> Row<'static> {
    let name = if l.anonymous {
        Span::styled(truncate(&l.labeller, name_width), dim())
    } else {
        Span::raw(truncate(&display_safe(&l.labeller), name_width))
    };
    let with_n = |v: Option<f64>, n: usize| {
        if n == 0 {
            "—".to_string()
        } else {
            format!("{} /{n}", share(v))
        }
    };
    let mut row = vec![
        Cell::from(name),
        Cell::from(format!("{:>5}", l.votes)),
        Cell::from(format!("{:>5}", l.skips)),
        Cell::from(format!("{:>5}", share(l.hotdog_share))),
        Cell::from(format!(
            "{:>9}",
            with_n(
                l.agreement_with_others.value,
                l.agreement_with_others.images
            )
        )),
        Cell::from(format!("{:>5}", rate(l.sensitivity))),
        Cell::from(format!("{:>5}", rate(l.specificity))),
        Cell::from(format!(
            "{:>8}",
            with_n(l.gold_accuracy.value, l.gold_accuracy.images)
        )),
        Cell::from(format!(
            "{:>5}",
            l.votes_per_minute
                .map_or_else(|| "—".to_string(), |v| format!("{v:.1}"))
        )),
        Cell::from(short(l.first_answer.as_deref())),
        Cell::from(short(l.last_answer.as_deref())),
    ];
    row.truncate(cells);
    Row::new(row)
}

fn draw_labellers(frame: &mut Frame, area: Rect, state: &State) {
    let st = &state.stats;
    let block = Block::bordered().border_type(BorderType::Rounded);
    let Some(q) = &st.quality else {
        let p = ratatui::widgets::Paragraph::new(Line::styled(" computing…", dim()))
            .block(block.title(" Labellers "));
        frame.render_widget(p, area);
        return;
    };
    // Each column's title and width; the name column takes the rest. The first and last
    // answer times give way when the longest name (up to 20 columns) would not fit.
    let mut columns: Vec<(&str, u16)> = vec![
        ("Votes", 5),
        ("Skips", 5),
        ("  Hot", 5),
        ("vs others", 9),
        (" Sens", 5),
        (" Spec", 5),
        ("    Gold", 8),
        ("/min", 5),
        ("First", 16),
        ("Last", 16),
    ];
    let name_width = |columns: &[(&str, u16)]| {
        let fixed: u16 = columns.iter().map(|(_, w)| w + 1).sum::<u16>() + 2;
        usize::from(area.width.saturating_sub(fixed))
    };
    let longest = q
        .report
        .labellers
        .iter()
        .map(|l| display_safe(&l.labeller).chars().count())
        .max()
        .unwrap_or(0)
        .clamp(8, 20);
    if name_width(&columns) < longest {
        columns.truncate(columns.len() - 2);
    }
    let name_width = name_width(&columns).max(6);
    let widths: Vec<Constraint> = std::iter::once(Constraint::Fill(1))
        .chain(columns.iter().map(|(_, w)| Constraint::Length(*w)))
        .collect();
    let rows: Vec<Row> = q
        .report
        .labellers
        .iter()
        .map(|l| labeller_row(l, name_width, columns.len() + 1))
        .collect();
    let header = Row::new(
        std::iter::once("Labeller")
            .chain(columns.iter().map(|(title, _)| *title))
            .collect::<Vec<_>>(),
    )
    .style(Style::new().add_modifier(Modifier::BOLD));
    let title = format!(
        " Labellers ({}) · Dawid–Skene, {} iterations ",
        q.report.labellers.len(),
        q.report.model.iterations
    );
    let table = Table::new(rows, widths)
        .header(header)
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED))
        .block(block.title(title));
    let mut selection = TableState::default().with_selected(Some(st.labeller_scroll));
    frame.render_stateful_widget(table, area, &mut selection);
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
