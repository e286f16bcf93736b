//! The Label tab's state: the current round of up to 4 tiles, the prefetched next round,
//! and every answer on its way to the label files (voted, queued, in flight, submitted but
//! not yet seen written), so none is dropped and the status line can count them.

pub mod keys;
pub mod picture_cache;
pub mod tasks;
pub mod view;

use std::collections::{BTreeMap, HashSet};

use ratatui::layout::Size;

use super::Effect;
use crate::domain::label_file::Vote;
use crate::domain::sampling::{ROUND_SIZE, pick_round};
use picture_cache::TileImages;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tile {
    pub image: String,
    pub vote: Option<Vote>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRound {
    /// 1 for the session's first round.
    pub number: u64,
    pub tiles: Vec<Tile>,
}

impl LabelRound {
    pub fn voted(&self) -> usize {
        self.tiles.iter().filter(|t| t.vote.is_some()).count()
    }
    pub fn answers(&self) -> Vec<(String, Vote)> {
        self.tiles
            .iter()
            .filter_map(|t| t.vote.map(|v| (t.image.clone(), v)))
            .collect()
    }
}

/// Where a focus move goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Left,
    Right,
    Up,
    Down,
}

/// How long kept answers wait before they are sent again by themselves.
pub const OUTBOX_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Debug)]
pub struct LabelState {
    pub round: Option<LabelRound>,
    pub focus: usize,
    /// Images of the next round, picked early so they are fetched before they are needed.
    pub next: Vec<String>,
    pub answers_this_session: u64,
    /// `None` until the first listing arrives.
    pub images_in_store: Option<usize>,
    pub image_names: Vec<String>,
    pub labelled_by_me: HashSet<String>,
    /// Images voted on in this session (the store may not show them yet).
    pub voted_this_session: HashSet<String>,
    /// Answers to send with the next submission (a failed one comes back here).
    pub outbox: Vec<(String, Vote)>,
    /// When the outbox is next retried on its own (the backend may be back by then).
    pub outbox_retry_at: Option<std::time::Instant>,
    pub in_flight: BTreeMap<u64, Vec<(String, Vote)>>,
    /// Answer ids sent to the queue and not yet seen in the label files.
    pub unwritten: HashSet<String>,
    pub next_batch: u64,
    pub rounds_started: u64,
    pub auto_advance: bool,
    pub images: TileImages,
    /// Image area of one tile and the grid's columns, from the layout (set on resize).
    pub tile_size: Option<Size>,
    pub grid_cols: usize,
    /// The focused image is shown alone, as large as the terminal allows.
    pub zoomed: bool,
    /// Image area of the zoomed view, from the layout.
    pub zoom_size: Option<Size>,
    rng: fastrand::Rng,
}

impl LabelState {
    pub fn new(seed: u64) -> LabelState {
        LabelState {
            round: None,
            focus: 0,
            next: Vec::new(),
            answers_this_session: 0,
            images_in_store: None,
            image_names: Vec::new(),
            labelled_by_me: HashSet::new(),
            voted_this_session: HashSet::new(),
            outbox: Vec::new(),
            outbox_retry_at: None,
            in_flight: BTreeMap::new(),
            unwritten: HashSet::new(),
            next_batch: 1,
            rounds_started: 0,
            auto_advance: true,
            images: TileImages::default(),
            tile_size: None,
            grid_cols: 2,
            zoomed: false,
            zoom_size: None,
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// Answers not yet in the label files: voted this round, queued, in flight, unwritten.
    pub fn waiting(&self) -> usize {
        let current = self.round.as_ref().map_or(0, LabelRound::voted);
        current
            + self.outbox.len()
            + self.in_flight.values().map(Vec::len).sum::<usize>()
            + self.unwritten.len()
    }

    /// Answers that would be lost if the process ended now (not yet in the queue).
    pub fn unsent(&self) -> usize {
        let current = self.round.as_ref().map_or(0, LabelRound::voted);
        current + self.outbox.len() + self.in_flight.values().map(Vec::len).sum::<usize>()
    }

    /// New listing from the store: start a round if there was none.
    pub fn store_listed(
        &mut self,
        names: Vec<String>,
        labelled_by_me: HashSet<String>,
    ) -> Vec<Effect> {
        self.images_in_store = Some(names.len());
        let changed = names != self.image_names;
        self.image_names = names;
        self.labelled_by_me = labelled_by_me;
        if self.round.is_none() && !self.image_names.is_empty() {
            return self.advance();
        }
        if changed && self.next.is_empty() && !self.image_names.is_empty() {
            self.next = self.pick_next();
            return self.want_images();
        }
        Vec::new()
    }

    fn pick_next(&mut self) -> Vec<String> {
        let current: HashSet<String> = self
            .round
            .as_ref()
            .map(|r| r.tiles.iter().map(|t| t.image.clone()).collect())
            .unwrap_or_default();
        // The current round's images will be labelled by the time the next one shows.
        let mut mine: HashSet<String> = self
            .labelled_by_me
            .union(&self.voted_this_session)
            .cloned()
            .collect();
        mine.extend(current.iter().cloned());
        pick_round(
            &self.image_names,
            &mine,
            &current,
            ROUND_SIZE,
            &mut self.rng,
        )
    }

    /// Moves to the next round (the prefetched one if any) and prefetches the one after.
    fn advance(&mut self) -> Vec<Effect> {
        let names =
            if self.next.is_empty() || !self.next.iter().all(|n| self.image_names.contains(n)) {
                self.pick_next()
            } else {
                std::mem::take(&mut self.next)
            };
        if !names.is_empty() {
            self.rounds_started += 1;
        }
        let number = self.rounds_started;
        self.round = (!names.is_empty()).then(|| LabelRound {
            number,
            tiles: names
                .into_iter()
                .map(|image| Tile { image, vote: None })
                .collect(),
        });
        self.focus = 0;
        self.next = self.pick_next();
        self.want_images()
    }

    /// Fetch / encode requests for the current and next rounds (and, while zoomed, the
    /// current round at the zoomed size); drops older images and sizes.
    pub fn want_images(&mut self) -> Vec<Effect> {
        let current: Vec<String> = self
            .round
            .iter()
            .flat_map(|r| r.tiles.iter().map(|t| t.image.clone()))
            .collect();
        let mut names = current.clone();
        names.extend(self.next.iter().cloned());
        let keep: HashSet<String> = names.iter().cloned().collect();
        let zoom = self.zoom_size.filter(|_| self.zoomed);
        let sizes: Vec<Size> = self.tile_size.into_iter().chain(zoom).collect();
        self.images.retain(&keep, &sizes);
        let mut effects = Vec::new();
        if zoom.is_some() {
            // The focused image first: it is the one on screen.
            let mut order = current;
            let first = self.focus.min(order.len().saturating_sub(1));
            order.rotate_left(first);
            effects.extend(self.images.want(&order, zoom));
        }
        effects.extend(self.images.want(&names, self.tile_size));
        effects
    }

    /// `z`: the focused image alone, as large as possible, or back to the grid.
    pub fn toggle_zoom(&mut self) -> Vec<Effect> {
        if self.round.is_none() && !self.zoomed {
            return Vec::new();
        }
        self.zoomed = !self.zoomed;
        self.want_images()
    }

    pub fn vote(&mut self, vote: Vote) -> Vec<Effect> {
        let Some(round) = self.round.as_mut() else {
            return Vec::new();
        };
        let Some(tile) = round.tiles.get_mut(self.focus) else {
            return Vec::new();
        };
        tile.vote = Some(vote);
        self.voted_this_session.insert(tile.image.clone());
        if round.voted() == round.tiles.len() && self.auto_advance {
            return self.submit_round();
        }
        let n = round.tiles.len();
        if let Some(next) = (1..n)
            .map(|d| (self.focus + d) % n)
            .find(|&i| round.tiles[i].vote.is_none())
        {
            self.focus = next;
        }
        Vec::new()
    }

    pub fn clear_vote(&mut self) {
        if let Some(tile) = self
            .round
            .as_mut()
            .and_then(|r| r.tiles.get_mut(self.focus))
        {
            tile.vote = None;
        }
    }

    pub fn move_focus(&mut self, m: Move) {
        let Some(round) = self.round.as_ref() else {
            return;
        };
        let n = round.tiles.len();
        let cols = self.grid_cols.max(1);
        let (row, col) = (self.focus / cols, self.focus % cols);
        let target = match m {
            Move::Left if col > 0 => self.focus - 1,
            Move::Right if col + 1 < cols => self.focus + 1,
            Move::Up if row > 0 => self.focus - cols,
            Move::Down => self.focus + cols,
            _ => self.focus,
        };
        if target < n {
            self.focus = target;
        }
    }

    /// Submits what this round has (plus anything queued) and loads the next round.
    pub fn submit_round(&mut self) -> Vec<Effect> {
        let answers = self
            .round
            .as_ref()
            .map(LabelRound::answers)
            .unwrap_or_default();
        let mut effects = self.send(answers);
        effects.extend(self.advance());
        effects
    }

    /// Queues answers with the outbox and sends them as one submission.
    pub fn send(&mut self, answers: Vec<(String, Vote)>) -> Vec<Effect> {
        let mut batch_answers = std::mem::take(&mut self.outbox);
        batch_answers.extend(answers);
        if batch_answers.is_empty() {
            return Vec::new();
        }
        let batch = self.next_batch;
        self.next_batch += 1;
        self.in_flight.insert(batch, batch_answers.clone());
        vec![Effect::SubmitAnswers {
            batch,
            answers: batch_answers,
        }]
    }

    /// On a tick: answers kept after a failed submission are sent again every
    /// `OUTBOX_RETRY`, without waiting for the labeller to finish another round.
    pub fn retry_outbox(&mut self, now: std::time::Instant) -> Vec<Effect> {
        if self.outbox.is_empty() || !self.in_flight.is_empty() {
            return Vec::new();
        }
        match self.outbox_retry_at {
            None => {
                self.outbox_retry_at = Some(now + OUTBOX_RETRY);
                Vec::new()
            }
            Some(at) if now >= at => {
                self.outbox_retry_at = None;
                self.send(Vec::new())
            }
            Some(_) => Vec::new(),
        }
    }

    /// Everything not yet sent, for quitting: the round's votes and the outbox.
    pub fn flush(&mut self) -> Vec<Effect> {
        let answers = self
            .round
            .as_ref()
            .map(LabelRound::answers)
            .unwrap_or_default();
        if let Some(r) = self.round.as_mut() {
            r.tiles.iter_mut().for_each(|t| t.vote = None);
        }
        self.send(answers)
    }

    /// A submission's result. `Ok` holds the answer ids, one per answer, in order.
    pub fn submitted(
        &mut self,
        batch: u64,
        result: Result<Vec<String>, String>,
    ) -> (Vec<Effect>, Option<String>) {
        let Some(answers) = self.in_flight.remove(&batch) else {
            return (Vec::new(), None);
        };
        match result {
            Ok(ids) => {
                self.answers_this_session += answers.len() as u64;
                let pairs: Vec<(String, String)> = answers
                    .iter()
                    .map(|(image, _)| image.clone())
                    .zip(ids.iter().cloned())
                    .collect();
                self.unwritten.extend(ids);
                (vec![Effect::WatchAnswers(pairs)], None)
            }
            Err(e) => {
                let n = answers.len();
                self.outbox.extend(answers);
                let msg = format!(
                    "Could not submit {n} answer(s): {e}. They are kept and sent with the next round (or on quit)."
                );
                (Vec::new(), Some(msg))
            }
        }
    }

    pub fn written(&mut self, ids: &[String]) -> bool {
        let before = self.unwritten.len();
        for id in ids {
            self.unwritten.remove(id);
        }
        before != self.unwritten.len()
    }
}
