//! The labeller's side: listing the images, fetching one, and submitting a round of
//! answers as one message to the label queue (the worker writes them to the label files).

use bytes::Bytes;

use crate::backend::{BackendError, Missing, OutgoingMessage};
use crate::domain::keys;
use crate::domain::label_file::Vote;
use crate::domain::messages::LabelSubmission;
use crate::service::context::AppContext;

/// Names of all images in the store (without the `images/` prefix), sorted.
pub async fn list_images(ctx: &AppContext) -> Result<Vec<String>, BackendError> {
    let objects = ctx.backend.store.list_all(keys::IMAGES).await?;
    Ok(objects
        .into_iter()
        .filter_map(|o| o.key.strip_prefix(keys::IMAGES).map(str::to_string))
        .filter(|n| !n.is_empty() && !n.contains('/'))
        .collect())
}

pub async fn fetch_image(ctx: &AppContext, name: &str) -> Result<Bytes, BackendError> {
    match ctx.backend.store.get(&keys::image(name)).await? {
        Some(o) => Ok(o.bytes),
        None => Err(BackendError::NotFound {
            what: Missing::Object(format!(
                "image {}",
                crate::domain::names::display_safe(name)
            )),
        }),
    }
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

pub fn new_answer_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Builds the message body for a round; returns it with the answer ids.
pub fn submission_body(user: &str, answers: &[(String, Vote)]) -> (String, Vec<String>) {
    let at = now_rfc3339();
    let with_ids: Vec<(String, Vote, String, String)> = answers
        .iter()
        .map(|(image, vote)| (image.clone(), *vote, new_answer_id(), at.clone()))
        .collect();
    let ids = with_ids.iter().map(|a| a.2.clone()).collect();
    let body = serde_json::to_string(&LabelSubmission::new(user, with_ids)).unwrap_or_default();
    (body, ids)
}

/// Sends one round of answers; returns the answer ids (to see them land in the files).
pub async fn submit_round(
    ctx: &AppContext,
    answers: &[(String, Vote)],
) -> Result<Vec<String>, BackendError> {
    if answers.is_empty() {
        return Ok(Vec::new());
    }
    let (body, ids) = submission_body(&ctx.user, answers);
    ctx.backend
        .queues
        .send(&ctx.resources.labels, OutgoingMessage::plain(body))
        .await?;
    Ok(ids)
}
