//! The Label tab's background work: downloading and decoding an image (few at a time),
//! and encoding it for one tile size in this terminal's protocol.

use std::sync::Arc;

use image::DynamicImage;
use ratatui::layout::Size;
use tokio::sync::{Semaphore, mpsc};

use super::picture_cache::{Encoded, PictureError};
use crate::app::Action;
use crate::app::send;
use crate::graphics::Renderer;
use crate::service::context::AppContext;

/// Longest side images are kept at once decoded: enough for a large tile in a pixel
/// protocol, and a bounded ~4 MiB per image whatever was uploaded.
pub const DISPLAY_MAX_SIDE: u32 = 1024;

pub(crate) async fn fetch_and_decode(
    ctx: AppContext,
    tx: mpsc::UnboundedSender<Action>,
    slots: Arc<Semaphore>,
    name: String,
) {
    let result = match crate::service::labeller::fetch_image(&ctx, &name).await {
        Ok(bytes) => {
            // A 12-megapixel photo needs ~36 MB while decoding: few at a time.
            let _slot = slots.acquire_owned().await;
            tokio::task::spawn_blocking(move || {
                crate::service::image_check::decode_for_display(&bytes, DISPLAY_MAX_SIDE)
                    .map(Arc::new)
                    .map_err(PictureError::Undecodable)
            })
            .await
            .unwrap_or(Err(PictureError::Crashed("decoder")))
        }
        Err(e) => Err(PictureError::Download(e)),
    };
    send(&tx, Action::ImageDecoded { name, result });
}

pub(crate) async fn encode_for_tile(
    tx: mpsc::UnboundedSender<Action>,
    renderer: Renderer,
    name: String,
    image: Arc<DynamicImage>,
    size: Size,
) {
    let result = encode_off_thread(renderer, image, size).await;
    send(&tx, Action::ImageEncoded { name, size, result });
}

/// `encode` on a blocking thread (resizing a photo must not stall the UI task).
pub(crate) async fn encode_off_thread(
    renderer: Renderer,
    image: Arc<DynamicImage>,
    size: Size,
) -> Result<Encoded, PictureError> {
    tokio::task::spawn_blocking(move || encode(&renderer, &image, size))
        .await
        .unwrap_or(Err(PictureError::Crashed("encoder")))
}

/// Resizes and encodes an image for one tile size (blocking: run it off the UI thread).
/// Small images grow to fill the tile; see `Renderer::encode` for how edges are kept clean.
pub fn encode(
    renderer: &Renderer,
    image: &DynamicImage,
    size: Size,
) -> Result<Encoded, PictureError> {
    renderer
        .encode(image, size)
        .map(|p| Encoded(Arc::new(p)))
        .map_err(|e| PictureError::Encode(e.to_string()))
}
