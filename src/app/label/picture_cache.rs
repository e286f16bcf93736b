//! What the Label tab knows about its images: decoded (downscaled) pictures per name and
//! protocols encoded per (name, tile size). Decoding and encoding happen in effects; this
//! only records requests and results, so `draw` finds a ready protocol or a placeholder.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use image::DynamicImage;
use ratatui::layout::Size;

use super::Effect;
use crate::backend::BackendError;

/// Why a tile cannot show its picture (the tile says so, with this text).
#[derive(Debug, Clone, thiserror::Error)]
pub enum PictureError {
    #[error("cannot download: {0}")]
    Download(#[from] BackendError),
    /// The image checks refused the bytes (their sentence names why).
    #[error("{0}")]
    Undecodable(String),
    #[error("cannot encode for this terminal: {0}")]
    Encode(String),
    #[error("the {0} crashed")]
    Crashed(&'static str),
}
use crate::graphics::Picture;

/// An encoded, ready-to-draw image (shared: the same picture is drawn frame after frame).
#[derive(Clone)]
pub struct Encoded(pub Arc<Picture>);

impl fmt::Debug for Encoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Encoded({:?})", self.0)
    }
}

#[derive(Debug, Clone)]
enum Decode {
    Loading,
    Ready(Arc<DynamicImage>),
    Failed(String),
}

#[derive(Debug, Clone)]
enum Encode {
    Encoding,
    Ready(Encoded),
    Failed(String),
}

/// What a tile shows.
pub enum TileImage<'a> {
    Loading,
    Ready(&'a Picture),
    Failed(&'a str),
}

#[derive(Debug, Default, Clone)]
pub struct TileImages {
    decoded: HashMap<String, Decode>,
    encoded: HashMap<(String, Size), Encode>,
}

impl TileImages {
    /// Effects that bring `names` to "ready at `size`": fetch what is not loaded, encode
    /// what is decoded but not encoded at this size. Nothing is requested twice.
    pub fn want(&mut self, names: &[String], size: Option<Size>) -> Vec<Effect> {
        let mut effects = Vec::new();
        for name in names {
            match self.decoded.get(name) {
                None => {
                    self.decoded.insert(name.clone(), Decode::Loading);
                    effects.push(Effect::FetchImage { name: name.clone() });
                }
                Some(Decode::Ready(image)) => {
                    if let Some(size) = size.filter(|s| s.width > 0 && s.height > 0)
                        && let Entry::Vacant(slot) = self.encoded.entry((name.clone(), size))
                    {
                        slot.insert(Encode::Encoding);
                        effects.push(Effect::EncodeImage {
                            name: name.clone(),
                            image: image.clone(),
                            size,
                        });
                    }
                }
                Some(Decode::Loading | Decode::Failed(_)) => {}
            }
        }
        effects
    }

    /// Records a decode result; ignored for names nobody asked for (dropped meanwhile).
    pub fn decoded(&mut self, name: &str, result: Result<Arc<DynamicImage>, PictureError>) -> bool {
        match self.decoded.get_mut(name) {
            Some(slot) => {
                *slot = match result {
                    Ok(image) => Decode::Ready(image),
                    Err(reason) => Decode::Failed(reason.to_string()),
                };
                true
            }
            None => false,
        }
    }

    /// Records an encode result; a stale one (size no longer wanted) is dropped.
    pub fn encoded(
        &mut self,
        name: &str,
        size: Size,
        result: Result<Encoded, PictureError>,
    ) -> bool {
        match self.encoded.get_mut(&(name.to_string(), size)) {
            Some(slot) => {
                *slot = match result {
                    Ok(p) => Encode::Ready(p),
                    Err(reason) => Encode::Failed(reason.to_string()),
                };
                true
            }
            None => false,
        }
    }

    /// Keeps only `names`, and only pictures at `sizes` (the tile size, and the zoomed
    /// size while zoomed): memory stays bounded by two rounds.
    pub fn retain(&mut self, names: &HashSet<String>, sizes: &[Size]) {
        self.decoded.retain(|n, _| names.contains(n));
        self.encoded
            .retain(|(n, s), _| names.contains(n) && sizes.contains(s));
    }

    pub fn view(&self, name: &str, size: Size) -> TileImage<'_> {
        match self.decoded.get(name) {
            Some(Decode::Failed(reason)) => return TileImage::Failed(reason),
            Some(Decode::Ready(_)) => {}
            _ => return TileImage::Loading,
        }
        match self.encoded.get(&(name.to_string(), size)) {
            Some(Encode::Ready(p)) => TileImage::Ready(&p.0),
            Some(Encode::Failed(reason)) => TileImage::Failed(reason),
            _ => TileImage::Loading,
        }
    }

    pub fn is_decoded(&self, name: &str) -> bool {
        matches!(self.decoded.get(name), Some(Decode::Ready(_)))
    }
}
