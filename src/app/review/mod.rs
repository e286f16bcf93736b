//! The review view (`r` on the Stats tab): the contested images — ties, and consensus
//! under `--review-below` confidence — most doubtful first; the selected one large with
//! every current vote and the confidence. A reviewer decides with 1 / 0: the decision is
//! given like any answer (outbox → label queue → the worker appends it to the label file)
//! as an adjudication, and the image leaves the list once the label files show it. Who
//! may decide: the configured `reviewers` (everyone when none are); others see the view
//! read-only.

pub mod keys;
pub mod tasks;
pub mod view;

use std::collections::{HashMap, HashSet};

use ratatui::layout::{Constraint, Layout, Rect, Size};

use super::detail::{Loaded, encode_loaded};
use super::label::picture_cache::{Encoded, PictureError};
use super::{Effect, Overlay, State, layout};
use crate::backend::BackendError;
use crate::domain::label_file::Vote;
use crate::domain::review::{Contested, contested};
use crate::domain::stats::ImageStats;

/// The selected image as loaded: its label file and picture, then the picture encoded.
#[derive(Debug, Clone)]
pub struct ShownImage {
    pub request: u64,
    pub image: String,
    pub loaded: Option<Result<Loaded, BackendError>>,
    pub encoded: Option<(Size, Result<Encoded, PictureError>)>,
}

#[derive(Debug, Clone)]
pub struct ReviewState {
    /// Contested images, most doubtful first.
    pub items: Vec<Contested>,
    pub selected: usize,
    /// The confidence under which an image is listed.
    pub below: f64,
    /// Who may decide; empty: everyone.
    pub reviewers: Vec<String>,
    /// Who is reviewing (the session's labeller name).
    pub user: String,
    pub shown: Option<ShownImage>,
    /// Decisions given in this session, by image, until the label files show them.
    pub decided: HashMap<String, Vote>,
    next_request: u64,
    /// The first list row on screen, as last drawn: only the rows in view are built.
    pub first_shown: std::cell::Cell<usize>,
}

impl ReviewState {
    pub fn new(user: &str) -> ReviewState {
        ReviewState {
            items: Vec::new(),
            selected: 0,
            below: crate::config::DEFAULT_REVIEW_BELOW,
            reviewers: Vec::new(),
            user: user.to_string(),
            shown: None,
            decided: HashMap::new(),
            next_request: 1,
            first_shown: std::cell::Cell::new(0),
        }
    }

    /// Whether this user may decide (everyone when no reviewers are configured).
    pub fn may_decide(&self) -> bool {
        crate::service::context::may_decide(&self.reviewers, &self.user)
    }

    /// Why she may not decide, for the read-only line.
    pub fn read_only_reason(&self) -> Option<String> {
        (!self.may_decide()).then(|| {
            format!(
                "Read-only: only the reviewers in the config ({}) may decide; you are {}.",
                self.reviewers.join(", "),
                self.user
            )
        })
    }

    /// Whether a key of the review view can do anything now: deciding needs a listed
    /// image and a reviewer, selecting needs a second image.
    pub fn key_does_something(&self, command: &crate::app::keymap::Command) -> bool {
        use crate::app::keymap::Command;
        match command {
            Command::Decide(_) => !self.items.is_empty() && self.may_decide(),
            Command::ScrollUp | Command::ScrollDown | Command::PageUp | Command::PageDown => {
                self.items.len() > 1
            }
            _ => true,
        }
    }

    /// Lets go of the list while the view is closed: on a store where most images are
    /// contested it is one entry per image (10 MB at 100,000). Decisions on their way stay.
    pub fn close(&mut self) {
        self.items = Vec::new();
        self.shown = None;
    }

    /// The list rows to build for a list `rows` high (see `layout::rows_in_view`).
    pub fn rows_in_view(&self, rows: usize) -> std::ops::Range<usize> {
        super::layout::rows_in_view(self.items.len(), rows, self.selected, &self.first_shown)
    }

    pub fn selected_item(&self) -> Option<&Contested> {
        self.items.get(self.selected)
    }

    /// Rebuilds the list from the latest statistics, keeping the selected image selected
    /// while it is listed. Decisions the files now show are forgotten (the image left).
    pub fn set_images(&mut self, images: &[ImageStats]) {
        let keep = self.selected_item().map(|c| c.image.clone());
        let adjudicated: HashSet<&str> = images
            .iter()
            .filter(|s| s.adjudicated)
            .map(|s| s.image.as_str())
            .collect();
        self.decided
            .retain(|image, _| !adjudicated.contains(image.as_str()));
        self.items = contested(images, self.below);
        self.selected = keep
            .and_then(|k| self.items.iter().position(|c| c.image == k))
            .unwrap_or(self.selected)
            .min(self.items.len().saturating_sub(1));
    }

    /// Effects that show the selected image: load it unless it is the one loaded, or
    /// its votes changed since.
    pub(crate) fn want_selected(&mut self) -> Vec<Effect> {
        let Some(item) = self.selected_item() else {
            self.shown = None;
            return Vec::new();
        };
        let stale = match &self.shown {
            Some(s) if s.image == item.image => match &s.loaded {
                Some(Ok(l)) => {
                    l.summary.votes.hotdog != item.hotdog
                        || l.summary.votes.not_hotdog != item.not_hotdog
                }
                Some(Err(_)) | None => false,
            },
            _ => true,
        };
        if !stale {
            return Vec::new();
        }
        let image = item.image.clone();
        let request = self.next_request;
        self.next_request += 1;
        // The picture on screen stays until the new one is ready, if it is the same image.
        let encoded = self
            .shown
            .take()
            .filter(|s| s.image == image)
            .and_then(|s| s.encoded);
        self.shown = Some(ShownImage {
            request,
            image: image.clone(),
            loaded: None,
            encoded,
        });
        vec![Effect::LoadReview { request, image }]
    }

    pub(crate) fn select_by(&mut self, delta: isize) -> Vec<Effect> {
        let max = self.items.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(max);
        self.want_selected()
    }
}

/// The view's rectangles in the body: the list on the left; the picture over the votes.
pub fn areas(screen: Size) -> (Rect, Rect, Rect) {
    let body = layout::screen(Rect::new(0, 0, screen.width, screen.height)).body;
    let [list, right] =
        Layout::horizontal([Constraint::Percentage(34), Constraint::Fill(1)]).areas(body);
    let [picture, votes] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(12)]).areas(right);
    (list, picture, votes)
}

/// The picture's drawing area (inside its frame).
pub fn picture_size(screen: Size) -> Size {
    let (_, picture, _) = areas(screen);
    Size::new(
        picture.width.saturating_sub(2),
        picture.height.saturating_sub(2),
    )
}

/// Opens the view on the latest statistics and loads the most doubtful image.
pub fn open(state: &mut State) -> Vec<Effect> {
    state.review.set_images(&state.stats.images);
    state.review.selected = 0;
    state.overlay = Overlay::Review;
    state.review.want_selected()
}

/// New statistics: the list follows while the view is open (it is built again when the
/// view opens); the selected image is loaded again if it changed.
pub(crate) fn refreshed(state: &mut State) -> Vec<Effect> {
    if state.overlay != Overlay::Review {
        state.review.close();
        return Vec::new();
    }
    state.review.set_images(&state.stats.images);
    state.review.want_selected()
}

pub(crate) fn loaded(
    state: &mut State,
    request: u64,
    result: Result<Loaded, BackendError>,
) -> Vec<Effect> {
    let size = picture_size(state.screen);
    let Some(shown) = state.review.shown.as_mut().filter(|s| s.request == request) else {
        state.dirty = false;
        return Vec::new();
    };
    let effect = encode_loaded(&result, |image| Effect::EncodeReview {
        request,
        image,
        size,
    });
    shown.loaded = Some(result);
    state.dirty = state.overlay == Overlay::Review;
    effect.into_iter().collect()
}

/// An encoded picture arrived; `true` when it is the one on screen.
pub(crate) fn encoded(
    state: &mut State,
    request: u64,
    size: Size,
    result: Result<Encoded, PictureError>,
) -> bool {
    let want = picture_size(state.screen);
    match &mut state.review.shown {
        Some(s) if s.request == request && size == want => {
            s.encoded = Some((size, result));
            state.overlay == Overlay::Review
        }
        _ => false,
    }
}

/// The terminal changed size: encode the picture again for the new area.
pub(crate) fn resized(state: &mut State) -> Vec<Effect> {
    let size = picture_size(state.screen);
    if state.overlay != Overlay::Review {
        return Vec::new();
    }
    let Some(shown) = &state.review.shown else {
        return Vec::new();
    };
    match (&shown.loaded, &shown.encoded) {
        (
            Some(Ok(Loaded {
                picture: Ok(image), ..
            })),
            encoded,
        ) if encoded.as_ref().is_none_or(|(s, _)| *s != size) => vec![Effect::EncodeReview {
            request: shown.request,
            image: image.clone(),
            size,
        }],
        _ => Vec::new(),
    }
}
