//! The Label tab: a progress line (the round, her answers, the dataset's progress, answers
//! kept offline) and the round's tiles (image, sanitised name, her answer), the focused one
//! highlighted, or the focused tile alone when zoomed; or why there is no round for her.
//! Pictures come ready-encoded from the state; a tile without one shows a placeholder or
//! why it cannot be displayed.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Wrap};

use super::picture_cache::TileImage;
use crate::app::label::Tile;
use crate::app::layout;
use crate::app::theme::{TILE_BG, accent, bad, dim, good, truncate};
use crate::app::{Overlay, State};
use crate::domain::label_file::{AnswerKind, Vote};
use crate::domain::names::display_safe;
use crate::domain::sampling::ROUND_SIZE;

/// `screen` is the whole terminal: the grid is computed exactly as `app` computes it.
pub fn draw(frame: &mut Frame, screen: Rect, state: &State) {
    let grid = layout::label_grid(screen, ROUND_SIZE);
    let body = layout::screen(screen).body;
    let label = &state.label;
    frame.render_widget(progress_line(state), grid.progress);
    match (label.images_in_store, label.shown()) {
        // The first round can come before the whole image list (it is picked from a
        // sample of the index on a large store): show it at once.
        (_, Some(round)) if label.zoomed => {
            if let Some(tile) = round.tiles.get(label.focus) {
                let area = layout::zoom_area(screen);
                draw_tile(frame, state, label.focus, tile, area.outer, area.image);
            }
        }
        (_, Some(round)) => {
            for (i, (tile, area)) in round.tiles.iter().zip(&grid.tiles).enumerate() {
                draw_tile(frame, state, i, tile, area.outer, area.image);
            }
        }
        (None, None) => message(frame, body, vec![Line::raw("Loading the image list…")]),
        (Some(0), None) => message(
            frame,
            body,
            vec![
                Line::styled("No images yet.", accent()),
                Line::raw(""),
                Line::raw(
                    "Press a to add images: a file or a folder of JPEG, PNG, GIF or WebP images.",
                ),
                Line::styled(
                    "(or run `hotdog-tui upload PATH…` or `hotdog-tui seed` in a shell)",
                    dim(),
                ),
            ],
        ),
        (Some(_), None) => match (&label.nothing_left, &label.pick_error) {
            (Some(left), _) => message(
                frame,
                body,
                vec![
                    Line::styled("Nothing left for you to label.", accent()),
                    Line::raw(""),
                    Line::raw(upper_first(&left.to_string()) + "."),
                    Line::raw(""),
                    Line::styled(
                        "a adds images · u goes back to your last rounds · this screen updates by itself",
                        dim(),
                    ),
                ],
            ),
            (None, Some(e)) => message(
                frame,
                body,
                vec![
                    Line::styled("Cannot pick a round.", bad()),
                    Line::styled(display_safe(e), dim()),
                    Line::raw("It is asked for again with the next refresh."),
                ],
            ),
            (None, None) => message(frame, body, vec![Line::raw("Picking a round…")]),
        },
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn progress_line(state: &State) -> Line<'static> {
    let l = &state.label;
    let sep = || Span::styled(" · ", dim());
    let mut spans = match (l.shown(), l.reviewing) {
        (Some(r), Some(_)) => vec![Span::styled(
            format!(
                " Round {}, earlier: change answers · u back · n on",
                r.number
            ),
            accent(),
        )],
        (Some(r), None) => vec![
            Span::styled(format!(" Round {}", r.number), accent()),
            sep(),
            Span::raw(format!("answered {}/{}", r.answered(), r.tiles.len())),
        ],
        (None, _) => vec![Span::styled(" No round", dim())],
    };
    if l.send_error.is_some() && l.kept > 0 {
        spans.extend([
            sep(),
            Span::styled(format!("{} kept offline", l.kept), bad()),
        ]);
    }
    spans.push(sep());
    match l.progress {
        Some((done, total)) => spans.push(Span::raw(format!(
            "dataset {done}/{total} done ({} votes each)",
            l.votes_per_image
        ))),
        None => spans.push(Span::styled("dataset …", dim())),
    }
    spans.extend([
        sep(),
        Span::raw(format!("{} answers this session", l.answers_this_session)),
    ]);
    Line::from(spans)
}

fn message(frame: &mut Frame, body: Rect, lines: Vec<Line<'static>>) {
    // Rows once wrapped (a long sentence takes two or three).
    let width = usize::from(body.width.max(1));
    let h = lines
        .iter()
        .map(|l| l.width().div_ceil(width).max(1) as u16)
        .sum::<u16>();
    let rect = Rect::new(
        body.x,
        body.y + body.height.saturating_sub(h) / 2,
        body.width,
        h.min(body.height),
    );
    frame.render_widget(
        Paragraph::new(lines).centered().wrap(Wrap { trim: true }),
        rect,
    );
}

fn answer_mark(answer: Option<AnswerKind>) -> Span<'static> {
    match answer {
        Some(AnswerKind::Vote(Vote::HotDog)) => {
            Span::styled(" ✔ HOT DOG ", good().add_modifier(Modifier::BOLD))
        }
        Some(AnswerKind::Vote(Vote::NotHotDog)) => {
            Span::styled(" ✘ NOT HOT DOG ", bad().add_modifier(Modifier::BOLD))
        }
        Some(AnswerKind::Skip) => Span::styled(" ? SKIPPED ", accent()),
        // A labelling round never gives one; shown plainly should one arrive.
        Some(AnswerKind::Adjudication(v)) => Span::styled(
            format!(" DECIDED: {} ", v.label().to_uppercase()),
            accent().add_modifier(Modifier::BOLD),
        ),
        None => Span::styled(" 1 hot dog · 0 not · s skip ", dim()),
    }
}

fn draw_tile(
    frame: &mut Frame,
    state: &State,
    index: usize,
    tile: &Tile,
    outer: Rect,
    image: Rect,
) {
    let focused = index == state.label.focus;
    let border = if focused {
        Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
    } else {
        Style::new().fg(Color::Gray)
    };
    let name_width = usize::from(outer.width.saturating_sub(8));
    let name = truncate(&display_safe(&tile.image), name_width);
    let title = Line::from(vec![
        Span::styled(format!(" {} ", index + 1), border),
        Span::styled(format!("{name} "), border),
    ]);
    let block = Block::bordered()
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
        .border_style(border)
        .title(title)
        .title_bottom(Line::from(answer_mark(tile.answer)).centered())
        .style(Style::new().bg(TILE_BG));
    frame.render_widget(block, outer);
    let size = ratatui::layout::Size::new(image.width, image.height);
    match state.label.images.view(&tile.image, size) {
        // Pixel pictures (sixel, kitty direct, iTerm2) can show through or stay on top of an
        // overlay's text, so they are left out while one is open; text pictures stay.
        TileImage::Ready(picture) if state.overlay == Overlay::None || picture.is_text() => {
            let s = picture.size();
            frame.render_widget(picture, layout::centered(image, s.width, s.height));
        }
        TileImage::Ready(_) => {}
        TileImage::Loading => {
            let rect = layout::centered(image, image.width, 1);
            frame.render_widget(Paragraph::new("loading…").centered().style(dim()), rect);
        }
        TileImage::Failed(reason) => {
            let text = vec![
                Line::styled("cannot display this image", bad()),
                Line::styled(display_safe(reason), dim()),
            ];
            let rect = layout::centered(image, image.width, 4.min(image.height));
            frame.render_widget(
                Paragraph::new(text).centered().wrap(Wrap { trim: true }),
                rect,
            );
        }
    }
}
