//! The Compute tab: the numbers input with its live validation, and the history of
//! requests (input, state, round-trip time), newest first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Cell, Paragraph, Row, Table};

use crate::app::State;
use crate::app::compute::{ClientState, REPLY_TIMEOUT, RequestState};
use crate::app::theme::{accent, bad, dim, good, truncate};

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let c = &state.compute;
    let [input_area, check_area, history_area] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(2),
        Constraint::Fill(1),
    ])
    .areas(area);

    let border = if c.input_focused { accent() } else { dim() };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(border)
        .title(Span::styled(
            " Numbers: 1 to 10 whole numbers, e.g. 1,12,55,4 ",
            border,
        ));
    let inner = block.inner(input_area);
    frame.render_widget(block, input_area);
    frame.render_widget(
        Line::from(vec![
            Span::styled("> ", accent()),
            Span::raw(c.input.clone()),
        ]),
        inner,
    );
    if c.input_focused {
        let x = inner.x + 2 + c.cursor as u16;
        frame.set_cursor_position((x.min(inner.right().saturating_sub(1)), inner.y));
    }

    let check = match (c.validation(), c.input.trim().is_empty(), &c.client) {
        (_, _, ClientState::Failed(e)) => {
            Line::styled(format!(" Compute is unavailable: {e}"), bad())
        }
        (Some(msg), _, _) => Line::styled(format!(" ✘ {msg}"), bad()),
        (None, true, _) if !c.input_focused => {
            Line::styled(" Press any key to type numbers.", dim())
        }
        (None, true, _) => Line::styled(
            " Type numbers separated by commas or spaces; Enter sends them to the workers.",
            dim(),
        ),
        (None, false, ClientState::Opening) => {
            Line::styled(" ✔ valid: Enter sends (opening the reply queue…)", good())
        }
        (None, false, ClientState::Ready) => Line::styled(" ✔ valid: Enter sends", good()),
    };
    frame.render_widget(
        Paragraph::new(check).wrap(ratatui::widgets::Wrap { trim: true }),
        check_area,
    );

    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(format!(" History ({} in flight) ", c.in_flight()));
    let text_width = usize::from(history_area.width.saturating_sub(2 + 24 + 10 + 4));
    let rows: Vec<Row> = c
        .history
        .iter()
        .rev()
        .skip(c.scroll)
        .map(|r| {
            let (state_text, style) = match &r.state {
                RequestState::Sending => ("sending…".to_string(), dim()),
                RequestState::Waiting => ("waiting…".to_string(), accent()),
                RequestState::TimedOut => (
                    format!(
                        "no answer in {} s: is a worker running? still listening…",
                        REPLY_TIMEOUT.as_secs()
                    ),
                    bad(),
                ),
                RequestState::Answered {
                    text,
                    is_error: false,
                    ..
                } => (text.clone(), good()),
                RequestState::Answered {
                    text,
                    is_error: true,
                    ..
                } => (text.clone(), bad()),
                RequestState::Failed(e) => (format!("not sent: {e}"), bad()),
            };
            let rtt = match &r.state {
                RequestState::Answered { round_trip, .. } => {
                    format!("{} ms", round_trip.as_millis())
                }
                _ => "—".to_string(),
            };
            Row::new(vec![
                Cell::from(truncate(&r.input, 24)),
                Cell::from(Span::styled(
                    truncate(&state_text, text_width.max(10)),
                    style,
                )),
                Cell::from(rtt),
            ])
        })
        .collect();
    let header = Row::new(vec!["Input", "Result", "Round trip"])
        .style(Style::new().add_modifier(Modifier::BOLD));
    let table = Table::new(
        rows,
        [
            Constraint::Length(24),
            Constraint::Fill(1),
            Constraint::Length(10),
        ],
    )
    .header(header)
    .block(block);
    frame.render_widget(table, history_area);
    if c.history.is_empty() {
        let hint = Rect::new(
            history_area.x + 2,
            history_area.y + 2,
            history_area.width.saturating_sub(4),
            1,
        );
        frame.render_widget(Line::styled("No requests yet.", dim()), hint);
    }
}
