//! Fixtures shared by the TUI tests: a state on a fixed screen, key presses, store
//! listings, deterministic images encoded as half-blocks, and buffer-to-text.
#![allow(dead_code)]

use std::collections::HashSet;
use std::sync::Arc;

use hotdog_tui::domain::sampling::{NothingLeft, RoundChoice};
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use hotdog_tui::app::{Action, Effect, State, update};
use hotdog_tui::domain::stats::ImageStats;
use hotdog_tui::graphics::{ColourDepth, Renderer};
use image::{DynamicImage, Rgb, RgbImage};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Size;

pub fn state_at(width: u16, height: u16, worker: bool) -> State {
    let now = Instant::now();
    State::new(
        "local /data/hotdog",
        "alice",
        worker,
        Size::new(width, height),
        now,
    )
}

pub fn state() -> State {
    state_at(100, 30, true)
}

pub fn press(state: &mut State, code: KeyCode) -> Vec<Effect> {
    update(state, Action::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

pub fn ch(state: &mut State, c: char) -> Vec<Effect> {
    press(state, KeyCode::Char(c))
}

pub fn ctrl(state: &mut State, c: char) -> Vec<Effect> {
    update(
        state,
        Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
    )
}

pub fn release(state: &mut State, code: KeyCode) -> Vec<Effect> {
    let mut ev = KeyEvent::new(code, KeyModifiers::NONE);
    ev.kind = KeyEventKind::Release;
    update(state, Action::Key(ev))
}

pub fn names(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{i}.jpg")).collect()
}

/// A store listing of `n` images without votes, with the round picks it asks for served
/// as the picker would (see `serve_picks`): round 1 is 1–4.jpg, the prefetched one 5–8.jpg.
pub fn listed(state: &mut State, n: usize) -> Vec<Effect> {
    listed_with(state, names(n), HashSet::new())
}

/// A listing where `done` images have the votes they need; picks are served from the rest.
pub fn listed_with(
    state: &mut State,
    image_names: Vec<String>,
    done: HashSet<String>,
) -> Vec<Effect> {
    let images = image_names
        .iter()
        .map(|n| {
            let mut s = ImageStats::no_votes(n);
            s.done = done.contains(n);
            s
        })
        .collect();
    let at = state.now;
    let effects = update(
        state,
        Action::StatsRefreshed {
            images,
            image_names: image_names.clone(),
            changed: true,
            at,
        },
    );
    let open: Vec<String> = image_names
        .into_iter()
        .filter(|n| !done.contains(n))
        .collect();
    serve_picks(state, effects, &open)
}

/// Answers every `PickRound` among `effects` (and those that answering asks for) as the
/// picker does with nobody else labelling: the first 4 of `pool` not on screen and not
/// answered by her, or nothing left. Returns every other effect, in order.
pub fn serve_picks(state: &mut State, effects: Vec<Effect>, pool: &[String]) -> Vec<Effect> {
    let mut out = Vec::new();
    let mut queue: std::collections::VecDeque<Effect> = effects.into();
    while let Some(e) = queue.pop_front() {
        match e {
            Effect::PickRound {
                request,
                exclude,
                answered,
                ..
            } => {
                let round: Vec<String> = pool
                    .iter()
                    .filter(|n| !exclude.contains(n) && !answered.contains(n))
                    .take(4)
                    .cloned()
                    .collect();
                let result = Ok(if round.is_empty() {
                    RoundChoice::NothingLeft(NothingLeft {
                        done: 0,
                        total: pool.len(),
                        answered_by_me: answered.len(),
                        held_by_others: 0,
                        votes_per_image: 3,
                    })
                } else {
                    RoundChoice::Round(round)
                });
                queue.extend(update(state, Action::RoundPicked { request, result }));
            }
            other => out.push(other),
        }
    }
    out
}

/// The outbox opened (as the runner reports at start).
pub fn outbox_ready(state: &mut State) {
    update(
        state,
        Action::OutboxReady(Ok("/state/outbox/0123456789abcdef.jsonl".into())),
    );
}

/// The (image, kind) answers among effects.
pub fn given(effects: &[Effect]) -> Vec<(String, hotdog_tui::domain::label_file::AnswerKind)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::GiveAnswer { image, kind } => Some((image.clone(), *kind)),
            _ => None,
        })
        .collect()
}

pub fn fetched(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::FetchImage { name } => Some(name.clone()),
            _ => None,
        })
        .collect()
}

/// The images of the round on screen.
pub fn round_images(state: &State) -> Vec<String> {
    state
        .label
        .shown()
        .map(|r| r.tiles.iter().map(|t| t.image.clone()).collect())
        .unwrap_or_default()
}

/// A small deterministic picture: a diagonal gradient tinted per `seed`.
pub fn picture(seed: u8, w: u32, h: u32) -> DynamicImage {
    let img = RgbImage::from_fn(w, h, |x, y| {
        let v = ((x * 255 / w.max(1)) as u8, (y * 255 / h.max(1)) as u8);
        Rgb([
            v.0.wrapping_add(seed.wrapping_mul(60)),
            v.1,
            seed.wrapping_mul(90),
        ])
    });
    DynamicImage::ImageRgb8(img)
}

/// Half-blocks in 24-bit colour with the assumed 1:2 cell, so snapshots do not depend on
/// the terminal the tests run in.
pub fn picker() -> Renderer {
    Renderer::halfblocks(ColourDepth::TrueColor, hotdog_tui::app::theme::TILE_BG_RGB)
}

/// Decodes and encodes every image the effects ask for, as the runner would.
pub fn load_images(state: &mut State, effects: Vec<Effect>) {
    let picker = picker();
    let mut queue = effects;
    while let Some(effect) = queue.pop() {
        let next = match effect {
            Effect::FetchImage { name } => {
                let seed = name.bytes().next().unwrap_or(b'0');
                let result = Ok(Arc::new(picture(seed, 64, 48)));
                update(state, Action::ImageDecoded { name, result })
            }
            Effect::EncodeImage { name, image, size } => {
                let result = hotdog_tui::app::label::tasks::encode(&picker, &image, size);
                update(state, Action::ImageEncoded { name, size, result })
            }
            _ => Vec::new(),
        };
        queue.extend(next);
    }
}

pub fn render(state: &State) -> Buffer {
    let (w, h) = (state.screen.width, state.screen.height);
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    terminal
        .draw(|f| hotdog_tui::app::draw::draw(f, state))
        .expect("draw");
    terminal.backend().buffer().clone()
}

/// The buffer as text, one line per row (trailing spaces trimmed so snapshots read well).
pub fn text(buf: &Buffer) -> String {
    let area = buf.area;
    (0..area.height)
        .map(|y| {
            let row: String = (0..area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect();
            row.trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn screen_text(state: &State) -> String {
    text(&render(state))
}
