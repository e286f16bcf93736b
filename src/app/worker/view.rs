//! The Worker tab: the embedded worker's state and counters, queue depths, a throughput
//! sparkline and the scrolling event log.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Cell, Paragraph, Row, Sparkline, Table, Wrap};

use super::WorkerPanel;
use crate::app::State;
use crate::app::theme::{accent, bad, dim, good, truncate};
use crate::backend::QueueDepth;
use crate::worker::WorkerState;

fn block(title: &str) -> Block<'static> {
    Block::bordered()
        .border_type(BorderType::Rounded)
        .title(format!(" {title} "))
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let w = &state.worker;
    let [top, spark, log] = Layout::vertical([
        Constraint::Length(8),
        Constraint::Length(5),
        Constraint::Fill(1),
    ])
    .areas(area);
    let [figures_area, depths_area] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(top);
    draw_figures(frame, figures_area, w);
    draw_depths(frame, depths_area, w);
    draw_throughput(frame, spark, w);
    draw_log(frame, log, w);
}

/// State and counters of the embedded worker.
fn draw_figures(frame: &mut Frame, area: Rect, w: &WorkerPanel) {
    let mode = w.mode();
    let mode_style = match mode {
        Some(WorkerState::Running) => good(),
        Some(WorkerState::Paused | WorkerState::Retrying) => accent(),
        Some(WorkerState::Stopped) => bad(),
        None => dim(),
    };
    let mut lines = vec![Line::from(vec![
        Span::raw("state  "),
        Span::styled(w.mode_label(), mode_style.add_modifier(Modifier::BOLD)),
    ])];
    match (&w.figures, w.enabled) {
        (_, false) => {
            lines.push(Line::raw("The embedded worker is off (--no-worker)."));
            lines.push(Line::styled(
                "Run `hotdog-tui worker` somewhere to answer requests and write labels.",
                dim(),
            ));
        }
        (None, true) => lines.push(Line::styled("starting…", dim())),
        (Some(f), true) => {
            lines.push(Line::raw(format!(
                "requests answered  {}",
                f.requests_answered
            )));
            lines.push(Line::raw(format!(
                "answers written    {}",
                f.answers_written
            )));
            lines.push(Line::raw(format!("errors             {}", f.errors)));
            lines.push(Line::raw(format!("retries            {}", f.retries)));
            if let Some(e) = &f.last_error {
                lines.push(Line::styled(
                    format!("last error: {}", truncate(e, 200)),
                    bad(),
                ));
            }
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(block("Embedded worker (p pause/resume)")),
        area,
    );
}

/// Waiting and in-flight messages per queue; a dead-letter queue with messages is red.
fn draw_depths(frame: &mut Frame, depths_area: Rect, w: &WorkerPanel) {
    let depth_cells = |d: &QueueDepth| {
        vec![
            Cell::from(format!("{:>8}", d.visible)),
            Cell::from(format!("{:>9}", d.in_flight)),
        ]
    };
    match &w.depths {
        Some(Ok(d)) => {
            let row = |name: &'static str, q: &QueueDepth, warn: bool| {
                let mut cells = vec![Cell::from(name)];
                cells.extend(depth_cells(q));
                let style = if warn && q.visible > 0 {
                    bad()
                } else {
                    Style::new()
                };
                Row::new(cells).style(style)
            };
            let rows = vec![
                row("requests", &d.requests, false),
                row("requests DLQ", &d.requests_dlq, true),
                row("labels", &d.labels, false),
                row("labels DLQ", &d.labels_dlq, true),
            ];
            let header = Row::new(vec!["queue", " waiting", "in flight"])
                .style(Style::new().add_modifier(Modifier::BOLD));
            let widths = [
                Constraint::Fill(1),
                Constraint::Length(8),
                Constraint::Length(9),
            ];
            frame.render_widget(
                Table::new(rows, widths)
                    .header(header)
                    .block(block("Queue depths")),
                depths_area,
            );
        }
        Some(Err(e)) => frame.render_widget(
            Paragraph::new(Line::styled(
                format!("cannot read queue depths: {e}"),
                bad(),
            ))
            .wrap(Wrap { trim: true })
            .block(block("Queue depths")),
            depths_area,
        ),
        None => frame.render_widget(
            Paragraph::new(Line::styled("loading…", dim())).block(block("Queue depths")),
            depths_area,
        ),
    }
}

/// The newest samples that fit, right-aligned like a scrolling chart.
fn draw_throughput(frame: &mut Frame, spark: Rect, w: &WorkerPanel) {
    let width = usize::from(spark.width.saturating_sub(2));
    let recent: Vec<u64> = w
        .throughput
        .iter()
        .rev()
        .take(width)
        .rev()
        .copied()
        .collect();
    let mut samples = vec![0; width.saturating_sub(recent.len())];
    samples.extend(&recent);
    let peak = recent.iter().copied().max().unwrap_or(0);
    let now = recent.last().copied().unwrap_or(0);
    let title = format!("Throughput: {now} /s now, peak {peak} /s (requests + answers)");
    frame.render_widget(
        Sparkline::default()
            .data(&samples)
            .style(good())
            .block(block(&title)),
        spark,
    );
}

/// The event log, newest at the bottom, scrolled up by `w.scroll` lines.
fn draw_log(frame: &mut Frame, log: Rect, w: &WorkerPanel) {
    let rows = usize::from(log.height.saturating_sub(2));
    let end = w.log.len().saturating_sub(w.scroll);
    let start = end.saturating_sub(rows);
    let lines: Vec<Line> = w
        .log
        .range(start..end)
        .map(|l| {
            let style = if l.is_error { bad() } else { Style::new() };
            Line::from(vec![
                Span::styled(format!("{} ", l.at), dim()),
                Span::styled(crate::domain::names::display_safe(&l.text), style),
            ])
        })
        .collect();
    let title = if w.scroll > 0 {
        format!("Events ({} lines up, ↓ to follow)", w.scroll)
    } else {
        "Events".to_string()
    };
    let body = if lines.is_empty() {
        vec![Line::styled("No events yet.", dim())]
    } else {
        lines
    };
    frame.render_widget(Paragraph::new(body).block(block(&title)), log);
}
