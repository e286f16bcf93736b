//! The labeller's side: listing the images, fetching one, and giving answers — each is
//! recorded in the outbox first (`service::outbox`), then sent to the label queue (the
//! worker writes them to the label files).

use bytes::Bytes;

use crate::backend::{BackendError, Missing, OutgoingMessage};
use crate::domain::keys;
use crate::domain::label_file::{Answer, AnswerKind, Vote};
use crate::domain::messages::{ImageAnswer, LabelSubmission};
use crate::service::context::AppContext;
use crate::service::outbox::{Outbox, OutboxError, SendError, SendReport};

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

/// Now, in UTC to the millisecond (`2026-12-01T07:22:21.123Z`): a labeller who corrects
/// herself within a second still has a later answer.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let t = now
        .replace_nanosecond(now.millisecond() as u32 * 1_000_000)
        .unwrap_or(now);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

pub fn new_answer_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A new answer by `user`, given now.
pub fn new_answer(user: &str, image: &str, kind: AnswerKind) -> ImageAnswer {
    ImageAnswer {
        image: image.to_string(),
        answer: Answer {
            kind,
            at: now_rfc3339(),
            labeller: user.to_string(),
            answer_id: new_answer_id(),
        },
    }
}

/// Builds the message body for a round; returns it with the answer ids.
pub fn submission_body(user: &str, answers: &[(String, Vote)]) -> (String, Vec<String>) {
    let given: Vec<ImageAnswer> = answers
        .iter()
        .map(|(image, vote)| new_answer(user, image, AnswerKind::Vote(*vote)))
        .collect();
    let ids = given.iter().map(|a| a.answer.answer_id.clone()).collect();
    let body = serde_json::to_string(&LabelSubmission::new(user, &given)).unwrap_or_default();
    (body, ids)
}

/// What `give` did: the answers (kept in the outbox, whatever happened next) and the send.
pub struct Given {
    pub answers: Vec<ImageAnswer>,
    pub sent: Result<SendReport, SendError>,
}

/// Gives answers as the CLI does: records them in the outbox (so they are never lost),
/// then sends everything pending. A send that fails leaves them in the outbox.
pub async fn give(
    ctx: &AppContext,
    outbox: &Outbox,
    answers: &[(String, AnswerKind)],
) -> Result<Given, OutboxError> {
    let given: Vec<ImageAnswer> = answers
        .iter()
        .map(|(image, kind)| new_answer(&ctx.user, image, *kind))
        .collect();
    let o = outbox.clone();
    let record = given.clone();
    tokio::task::spawn_blocking(move || o.record(&record))
        .await
        .map_err(|e| OutboxError::Io {
            what: "write to",
            path: outbox.path().to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })??;
    // Another process on this machine (a session of the same labeller) may be sending this
    // outbox right now: let it finish, then send ours, rather than report them sent.
    let mut sent = outbox.send_pending(ctx).await;
    for _ in 0..50 {
        if !matches!(&sent, Ok(r) if r.busy) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        sent = outbox.send_pending(ctx).await;
    }
    Ok(Given {
        answers: given,
        sent,
    })
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
