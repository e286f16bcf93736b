//! The review view's background work: reading the selected image's label file and
//! picture (as the detail view does), then encoding the picture for the view's area.

use std::sync::Arc;

use image::DynamicImage;
use ratatui::layout::Size;
use tokio::sync::mpsc;

use crate::app::label::tasks::encode_off_thread;
use crate::app::{Action, send};
use crate::graphics::Renderer;
use crate::service::context::AppContext;

pub(crate) async fn load(
    ctx: AppContext,
    tx: mpsc::UnboundedSender<Action>,
    request: u64,
    image: String,
) {
    let result = crate::app::detail::tasks::read(&ctx, &image).await;
    send(&tx, Action::ReviewLoaded { request, result });
}

pub(crate) async fn encode(
    tx: mpsc::UnboundedSender<Action>,
    renderer: Renderer,
    request: u64,
    image: Arc<DynamicImage>,
    size: Size,
) {
    let result = encode_off_thread(renderer, image, size).await;
    send(
        &tx,
        Action::ReviewEncoded {
            request,
            size,
            result,
        },
    );
}
