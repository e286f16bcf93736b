//! The Label tab's state: the round on screen (tiles with her answers), the last rounds
//! she can go back to and correct, the prefetched next round, and every answer on its way
//! to the label files — in the outbox, sent, or (if the outbox cannot be written) sent
//! straight — so none is dropped and the status line can count them.
//!
//! An answer is given on its key press: the effect runner writes it to the outbox before
//! the next frame, so whatever the screen shows as given survives a `kill -9`. Changing an
//! answer gives a new one, which supersedes the earlier in the label file.

pub mod keys;
pub mod picture_cache;
pub mod tasks;
pub mod view;

use std::collections::{HashMap, HashSet, VecDeque};

use ratatui::layout::Size;

use super::Effect;
use crate::domain::label_file::AnswerKind;
use crate::domain::messages::ImageAnswer;
use crate::domain::sampling::{NothingLeft, RoundChoice};
use crate::domain::stats::{DEFAULT_VOTES_PER_IMAGE, ImageStats};
use picture_cache::TileImages;

/// Rounds kept to go back to (`u`), at least the 10 the product promises.
pub const HISTORY: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tile {
    pub image: String,
    /// Her latest answer given in this session.
    pub answer: Option<AnswerKind>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRound {
    /// 1 for the session's first round.
    pub number: u64,
    pub tiles: Vec<Tile>,
}

impl LabelRound {
    pub fn answered(&self) -> usize {
        self.tiles.iter().filter(|t| t.answer.is_some()).count()
    }

    pub fn images(&self) -> Vec<String> {
        self.tiles.iter().map(|t| t.image.clone()).collect()
    }

    fn complete(&self) -> bool {
        self.answered() == self.tiles.len()
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

/// What the outbox is doing, as last reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxState {
    /// Not known yet (the session is starting).
    Opening,
    /// Answers are kept at `path` until the queue accepts them.
    Ready { path: String },
    /// The outbox cannot be written: answers go straight to the queue.
    Unavailable { error: String },
}

#[derive(Debug)]
pub struct LabelState {
    /// The newest round (the one new answers go to unless she went back).
    pub round: Option<LabelRound>,
    /// Earlier rounds, oldest first, at most `HISTORY`.
    pub history: VecDeque<LabelRound>,
    /// While she looks at an earlier round: its index in `history`.
    pub reviewing: Option<usize>,
    pub focus: usize,
    /// Images of the next round, picked (and claimed) early so they are fetched before
    /// they are needed; `None` until a pick arrives.
    pub next: Option<Vec<String>>,
    /// The round pick in flight, by request id; results for others are stale.
    pub picking: Option<u64>,
    next_request: u64,
    /// Why there is no round for her, in figures.
    pub nothing_left: Option<NothingLeft>,
    /// The last pick failed (the backend is unreachable): why.
    pub pick_error: Option<String>,
    /// `None` until the first listing arrives.
    pub images_in_store: Option<usize>,
    /// (done, total): images with the votes they need.
    pub progress: Option<(usize, usize)>,
    pub votes_per_image: u64,
    /// Images of the prefetched round that got the votes they need since it was picked
    /// (left out when it is shown).
    done: HashSet<String>,
    /// Gold images (known answers): never left out for having their votes.
    pub gold: HashSet<String>,
    /// Images she answered in this session (the files may not show them yet).
    pub answered: HashSet<String>,
    pub answers_this_session: u64,
    pub rounds_started: u64,
    pub outbox: OutboxState,
    /// Answers in the outbox, as last reported (plus those recorded since).
    pub kept: usize,
    /// Why the last send failed, while answers are kept.
    pub send_error: Option<String>,
    /// Answers the outbox could not take, being sent straight to the queue.
    pub unkept: Vec<ImageAnswer>,
    /// Answer ids the queue accepted and the label files do not show yet.
    pub unwritten: HashMap<String, String>,
    pub images: TileImages,
    /// Image area of one tile and the grid's columns, from the layout (set on resize).
    pub tile_size: Option<Size>,
    pub grid_cols: usize,
    /// The focused image is shown alone, as large as the terminal allows.
    pub zoomed: bool,
    /// Image area of the zoomed view, from the layout.
    pub zoom_size: Option<Size>,
}

impl LabelState {
    pub fn new() -> LabelState {
        LabelState {
            round: None,
            history: VecDeque::new(),
            reviewing: None,
            focus: 0,
            next: None,
            picking: None,
            next_request: 1,
            nothing_left: None,
            pick_error: None,
            images_in_store: None,
            progress: None,
            votes_per_image: DEFAULT_VOTES_PER_IMAGE,
            done: HashSet::new(),
            gold: HashSet::new(),
            answered: HashSet::new(),
            answers_this_session: 0,
            rounds_started: 0,
            outbox: OutboxState::Opening,
            kept: 0,
            send_error: None,
            unkept: Vec::new(),
            unwritten: HashMap::new(),
            images: TileImages::default(),
            tile_size: None,
            grid_cols: 2,
            zoomed: false,
            zoom_size: None,
        }
    }

    /// Nothing to act on yet, and no answer yet on why: the session is starting.
    pub fn waiting_for_first_round(&self) -> bool {
        self.rounds_started == 0
            && self.nothing_left.is_none()
            && self.pick_error.is_none()
            && self.images_in_store != Some(0)
    }

    /// The round on screen: an earlier one while she reviews, else the newest.
    pub fn shown(&self) -> Option<&LabelRound> {
        match self.reviewing {
            Some(i) => self.history.get(i),
            None => self.round.as_ref(),
        }
    }

    fn shown_mut(&mut self) -> Option<&mut LabelRound> {
        match self.reviewing {
            Some(i) => self.history.get_mut(i),
            None => self.round.as_mut(),
        }
    }

    /// Answers not yet in the label files: kept in the outbox, being sent straight, or
    /// accepted by the queue and not written yet.
    pub fn waiting(&self) -> usize {
        self.kept + self.unkept.len() + self.unwritten.len()
    }

    /// New statistics: the store's images, dataset progress, and which are done.
    pub fn store_listed(&mut self, images: &[ImageStats], names: &[String]) -> Vec<Effect> {
        self.images_in_store = Some(names.len());
        let listed: HashSet<&str> = names.iter().map(String::as_str).collect();
        let done = images
            .iter()
            .filter(|s| s.done && listed.contains(s.image.as_str()))
            .count();
        // Only the prefetched round needs the flag: a later pick is made from a view at
        // least as fresh as this one (at 100,000 images the whole set took 7 MB).
        let prefetched: HashSet<&str> = self.next.iter().flatten().map(String::as_str).collect();
        self.done = images
            .iter()
            .filter(|s| s.done && prefetched.contains(s.image.as_str()))
            .map(|s| s.image.clone())
            .collect();
        self.progress = Some((done, names.len()));
        let nothing_shown = self.round.is_none() && self.reviewing.is_none();
        // Something may have opened up (uploads, others' claims expiring, more votes
        // wanted): ask again when she has nothing, or when the prefetch came back empty.
        let want_pick = self.picking.is_none()
            && (nothing_shown || self.next.as_ref().is_some_and(Vec::is_empty))
            && !names.is_empty();
        if want_pick {
            return self.pick();
        }
        Vec::new()
    }

    /// The session's first round, asked for before the image list is in.
    pub fn first_pick(&mut self) -> Vec<Effect> {
        match self.picking.is_none() && self.round.is_none() {
            true => self.pick(),
            false => Vec::new(),
        }
    }

    /// Asks for a round: the next one to show if none is shown, else the one after.
    fn pick(&mut self) -> Vec<Effect> {
        let request = self.next_request;
        self.next_request += 1;
        self.picking = Some(request);
        let on_screen: Vec<String> = self
            .round
            .as_ref()
            .map(LabelRound::images)
            .unwrap_or_default();
        // What is on screen stays claimed; unanswered tiles are left out of the pick.
        let keep: Vec<String> = self
            .round
            .iter()
            .flat_map(|r| r.tiles.iter().filter(|t| t.answer.is_none()))
            .map(|t| t.image.clone())
            .collect();
        let mut answered: Vec<String> = self.answered.iter().cloned().collect();
        answered.sort();
        vec![Effect::PickRound {
            request,
            exclude: on_screen,
            keep,
            answered,
        }]
    }

    /// A pick's result: the round to show (if she has none) or the prefetched next one.
    pub fn picked(&mut self, request: u64, result: Result<RoundChoice, String>) -> Vec<Effect> {
        if self.picking != Some(request) {
            return Vec::new();
        }
        self.picking = None;
        let choice = match result {
            Ok(c) => c,
            Err(e) => {
                self.pick_error = Some(e);
                return Vec::new();
            }
        };
        self.pick_error = None;
        let images = match choice {
            RoundChoice::Round(images) => {
                self.nothing_left = None;
                images
            }
            RoundChoice::NothingLeft(left) => {
                if self.round.is_none() {
                    self.nothing_left = Some(left);
                }
                Vec::new()
            }
        };
        if self.round.is_none() {
            let images: Vec<String> = images.into_iter().filter(|i| self.still_open(i)).collect();
            if images.is_empty() {
                self.next = None;
                return self.want_images();
            }
            self.start_round(images);
            let mut effects = self.pick();
            effects.extend(self.want_images());
            return effects;
        }
        self.next = Some(images);
        self.want_images()
    }

    /// A picked image she may still be shown: not answered this session, and not done
    /// meanwhile (a gold image is never done for her until she answers it).
    fn still_open(&self, image: &String) -> bool {
        !self.answered.contains(image) && (self.gold.contains(image) || !self.done.contains(image))
    }

    fn start_round(&mut self, images: Vec<String>) {
        self.rounds_started += 1;
        self.round = Some(LabelRound {
            number: self.rounds_started,
            tiles: images
                .into_iter()
                .map(|image| Tile {
                    image,
                    answer: None,
                })
                .collect(),
        });
        self.focus = 0;
    }

    /// Moves on from the newest round: it joins the history, the prefetched round shows
    /// (without images that got their votes meanwhile), and the one after is picked.
    fn advance(&mut self) -> Vec<Effect> {
        if let Some(done) = self.round.take() {
            self.history.push_back(done);
            while self.history.len() > HISTORY {
                self.history.pop_front();
            }
        }
        self.reviewing = None;
        self.focus = 0;
        let next: Vec<String> = self
            .next
            .take()
            .unwrap_or_default()
            .into_iter()
            .filter(|i| self.still_open(i))
            .collect();
        let mut effects = Vec::new();
        if !next.is_empty() {
            self.start_round(next);
        }
        // A pick still on its way (for the slot after the old round) now fills the next
        // empty slot: this one if nothing was prefetched, else the one after.
        if self.picking.is_none() {
            effects.extend(self.pick());
        }
        effects.extend(self.want_images());
        effects
    }

    /// Fetch / encode requests for the round on screen, the newest and the next one (and,
    /// while zoomed, the round on screen at the zoomed size); drops older images and sizes.
    pub fn want_images(&mut self) -> Vec<Effect> {
        let current: Vec<String> = self.shown().map(LabelRound::images).unwrap_or_default();
        let mut names = current.clone();
        if self.reviewing.is_some() {
            names.extend(self.round.iter().flat_map(LabelRound::images));
        }
        names.extend(self.next.iter().flatten().cloned());
        let mut seen = HashSet::new();
        names.retain(|n| seen.insert(n.clone()));
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
        if self.shown().is_none() && !self.zoomed {
            return Vec::new();
        }
        self.zoomed = !self.zoomed;
        self.want_images()
    }

    /// Her answer for the focused tile: given now (unless it is the answer she already
    /// gave). On the newest round, a round with every tile answered moves on.
    pub fn answer(&mut self, kind: AnswerKind) -> Vec<Effect> {
        let focus = self.focus;
        let reviewing = self.reviewing.is_some();
        let Some(round) = self.shown_mut() else {
            return Vec::new();
        };
        let Some(tile) = round.tiles.get_mut(focus) else {
            return Vec::new();
        };
        if tile.answer == Some(kind) {
            return Vec::new();
        }
        tile.answer = Some(kind);
        let image = tile.image.clone();
        let n = round.tiles.len();
        let complete = round.complete();
        let next_open = (1..n)
            .map(|d| (focus + d) % n)
            .find(|&i| round.tiles[i].answer.is_none());
        self.answered.insert(image.clone());
        let mut effects = vec![Effect::GiveAnswer { image, kind }];
        if complete && !reviewing {
            effects.extend(self.advance());
        } else if let Some(i) = next_open {
            self.focus = i;
        }
        effects
    }

    /// `u` / Backspace: back to the round before the one on screen.
    pub fn back(&mut self) -> bool {
        let target = match self.reviewing {
            Some(0) => return false,
            Some(i) => i - 1,
            None if self.history.is_empty() => return false,
            None => self.history.len() - 1,
        };
        self.reviewing = Some(target);
        self.focus = 0;
        true
    }

    /// `n` / Enter: forward to the next round; on the newest, leave what is unanswered and
    /// load a new one.
    pub fn forward(&mut self) -> Vec<Effect> {
        match self.reviewing {
            Some(i) if i + 1 < self.history.len() => {
                self.reviewing = Some(i + 1);
                self.focus = 0;
                self.want_images()
            }
            Some(_) => {
                self.reviewing = None;
                self.focus = 0;
                self.want_images()
            }
            None if self.round.is_some() => self.advance(),
            None => Vec::new(),
        }
    }

    pub fn move_focus(&mut self, m: Move) {
        let Some(round) = self.shown() else {
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

    /// The runner wrote (or could not write) an answer to the outbox.
    pub fn recorded(&mut self, answer: ImageAnswer, result: Result<(), String>) -> Vec<Effect> {
        // Her labelling answers; a reviewer's decision travels the same way but is not one.
        if answer.answer.kind.adjudication().is_none() {
            self.answers_this_session += 1;
        }
        match result {
            Ok(()) => {
                self.kept += 1;
                Vec::new()
            }
            Err(_) => {
                self.unkept.push(answer.clone());
                vec![Effect::SendUnkept(vec![answer])]
            }
        }
    }

    /// The queue accepted these answers (from the outbox, or sent straight).
    pub fn sent(&mut self, answers: &[(String, String)], kept: Option<usize>) -> Vec<Effect> {
        if let Some(k) = kept {
            self.kept = k;
            self.send_error = None;
        }
        let ids: HashSet<&str> = answers.iter().map(|(_, id)| id.as_str()).collect();
        self.unkept
            .retain(|a| !ids.contains(a.answer.answer_id.as_str()));
        for (image, id) in answers {
            self.unwritten.insert(id.clone(), image.clone());
        }
        if answers.is_empty() {
            return Vec::new();
        }
        vec![Effect::WatchAnswers(answers.to_vec())]
    }

    pub fn written(&mut self, ids: &[String]) -> bool {
        let before = self.unwritten.len();
        for id in ids {
            self.unwritten.remove(id);
        }
        before != self.unwritten.len()
    }
}

impl Default for LabelState {
    fn default() -> Self {
        LabelState::new()
    }
}
