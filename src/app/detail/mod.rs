//! The detail overlay (Enter on a Stats row): one image large, with every answer in its
//! label file — who, when, vote or skip, and whether a later answer by the same labeller
//! superseded it (the rule in `domain::label_file::resolve`).

pub mod keys;
pub mod tasks;
pub mod view;

use std::sync::Arc;

use image::DynamicImage;
use ratatui::layout::{Constraint, Layout, Rect, Size};

use super::label::picture_cache::{Encoded, PictureError};
use super::{Effect, Overlay, State, layout};
use crate::backend::BackendError;
use crate::domain::label_file::{AnswerKind, ImageSummary, Standing};

/// One line of the label file, as the overlay lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerRow {
    /// `None`: an anonymous vote (the original system's).
    pub labeller: Option<String>,
    pub at: Option<String>,
    pub kind: AnswerKind,
    pub standing: Standing,
}

/// What loading found.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub summary: ImageSummary,
    pub rows: Vec<AnswerRow>,
    /// The picture decoded for display, or why not.
    pub picture: Result<Arc<DynamicImage>, PictureError>,
}

#[derive(Debug, Clone)]
pub struct DetailView {
    pub request: u64,
    pub image: String,
    pub loaded: Option<Result<Loaded, BackendError>>,
    pub encoded: Option<(Size, Result<Encoded, PictureError>)>,
    pub scroll: usize,
}

impl PartialEq for DetailView {
    fn eq(&self, other: &Self) -> bool {
        self.request == other.request && self.scroll == other.scroll
    }
}
impl Eq for DetailView {}

/// The overlay's rectangles in the body: the picture on the left, the answers on the right.
pub fn areas(screen: Size) -> (Rect, Rect) {
    let body = layout::screen(Rect::new(0, 0, screen.width, screen.height)).body;
    let [picture, answers] =
        Layout::horizontal([Constraint::Percentage(38), Constraint::Percentage(62)]).areas(body);
    (picture, answers)
}

/// The picture's drawing area (inside the frame).
pub fn picture_size(screen: Size) -> Size {
    let (picture, _) = areas(screen);
    Size::new(
        picture.width.saturating_sub(2),
        picture.height.saturating_sub(2),
    )
}

/// The effect that encodes a loaded picture for the screen (`make` names whose), if one was
/// decoded. The detail and review views both show what `tasks::read` loaded.
pub fn encode_loaded(
    result: &Result<Loaded, BackendError>,
    make: impl FnOnce(Arc<DynamicImage>) -> Effect,
) -> Option<Effect> {
    match result {
        Ok(Loaded {
            picture: Ok(image), ..
        }) => Some(make(image.clone())),
        _ => None,
    }
}

/// Opens the overlay on an image and asks for its answers and picture.
pub fn open(state: &mut State, image: String) -> Vec<Effect> {
    let request = state.stats.next_detail;
    state.stats.next_detail += 1;
    state.overlay = Overlay::Detail(Box::new(DetailView {
        request,
        image: image.clone(),
        loaded: None,
        encoded: None,
        scroll: 0,
    }));
    vec![Effect::LoadDetail { request, image }]
}

pub(crate) fn loaded(
    state: &mut State,
    request: u64,
    result: Result<Loaded, BackendError>,
) -> Vec<Effect> {
    let size = picture_size(state.screen);
    let Overlay::Detail(view) = &mut state.overlay else {
        state.dirty = false;
        return Vec::new();
    };
    if view.request != request {
        state.dirty = false;
        return Vec::new();
    }
    let effect = encode_loaded(&result, |image| Effect::EncodeDetail {
        request,
        image,
        size,
    });
    view.loaded = Some(result);
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
    match &mut state.overlay {
        Overlay::Detail(view) if view.request == request && size == want => {
            view.encoded = Some((size, result));
            true
        }
        _ => false,
    }
}

/// The terminal changed size: encode the picture again for the new area.
pub(crate) fn resized(state: &mut State) -> Vec<Effect> {
    let size = picture_size(state.screen);
    let Overlay::Detail(view) = &state.overlay else {
        return Vec::new();
    };
    match (&view.loaded, &view.encoded) {
        (
            Some(Ok(Loaded {
                picture: Ok(image), ..
            })),
            encoded,
        ) if encoded.as_ref().is_none_or(|(s, _)| *s != size) => {
            vec![Effect::EncodeDetail {
                request: view.request,
                image: image.clone(),
                size,
            }]
        }
        _ => Vec::new(),
    }
}
