//! The detail overlay's background work: reading the image's label file (every answer with
//! its standing under the one rule) and its picture, then encoding the picture large.

use std::sync::Arc;

use image::DynamicImage;
use ratatui::layout::Size;
use tokio::sync::mpsc;

use super::{AnswerRow, Loaded};
use crate::app::label::picture_cache::PictureError;
use crate::app::label::tasks::{DISPLAY_MAX_SIDE, encode_off_thread};
use crate::app::{Action, send};
use crate::backend::BackendError;
use crate::domain::keys;
use crate::domain::label_file::{ImageSummary, LabelFile, resolve};
use crate::graphics::Renderer;
use crate::service::context::AppContext;

pub(crate) async fn load(
    ctx: AppContext,
    tx: mpsc::UnboundedSender<Action>,
    request: u64,
    image: String,
) {
    let result = read(&ctx, &image).await;
    send(&tx, Action::DetailLoaded { request, result });
}

/// An image's label file (every answer with its standing) and its picture, decoded for
/// display; the review view reads its images through here too.
pub(crate) async fn read(ctx: &AppContext, image: &str) -> Result<Loaded, BackendError> {
    let file = match ctx.backend.store.get(&keys::label_file(image)).await? {
        Some(o) => LabelFile::parse(&o.bytes),
        None => LabelFile::default(),
    };
    let rows = file
        .lines
        .iter()
        .zip(resolve(&file))
        .map(|(line, standing)| AnswerRow {
            labeller: line.labeller().map(str::to_string),
            at: line.at().map(str::to_string),
            kind: line.kind(),
            standing,
        })
        .collect();
    let summary = ImageSummary::from_file(&file);
    let picture = match crate::service::labeller::fetch_image(ctx, image).await {
        Ok(bytes) => tokio::task::spawn_blocking(move || {
            crate::service::image_check::decode_for_display(&bytes, DISPLAY_MAX_SIDE)
                .map(Arc::new)
                .map_err(PictureError::Undecodable)
        })
        .await
        .unwrap_or(Err(PictureError::Crashed("decoder"))),
        Err(e) => Err(PictureError::Download(e)),
    };
    Ok(Loaded {
        summary,
        rows,
        picture,
    })
}

pub(crate) async fn encode_large(
    tx: mpsc::UnboundedSender<Action>,
    renderer: Renderer,
    request: u64,
    image: Arc<DynamicImage>,
    size: Size,
) {
    let result = encode_off_thread(renderer, image, size).await;
    send(
        &tx,
        Action::DetailEncoded {
            request,
            size,
            result,
        },
    );
}
