//! The gold answers in the bucket (`domain::gold`, one object): reading them, changing
//! them without losing a concurrent editor's change (read with the ETag, write if-match —
//! create-only when there is none yet — and on a lost race read again and redo the change).
//! The cache the statistics and the round picker refresh by ETag is `statistics::GoldCache`.

use std::time::Duration;

use bytes::Bytes;

use crate::backend::{BackendError, ObjectStore, PutCondition};
use crate::domain::gold::{GoldParseError, GoldSet};
use crate::domain::keys;

const MAX_ATTEMPTS: u32 = 30;

#[derive(Debug, Clone, thiserror::Error)]
pub enum GoldError {
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The object is there but cannot be read: nothing is overwritten.
    #[error("{0}")]
    Unreadable(#[from] GoldParseError),
}

/// The gold answers and the ETag they were read at (`None`: there is no gold object yet).
pub async fn read(store: &dyn ObjectStore) -> Result<(GoldSet, Option<String>), GoldError> {
    match store.get(keys::GOLD_SET).await? {
        Some(o) => Ok((GoldSet::parse(&o.bytes)?, Some(o.etag))),
        None => Ok((GoldSet::new(), None)),
    }
}

/// Applies `change` to the gold answers and writes them back, conditionally: another
/// editor's write in between makes this one read again and apply `change` to theirs, so
/// neither change is lost. `change` returns what the caller wants to report, or an error
/// that stops everything before anything is written. Nothing is written when the change
/// leaves the answers as they were.
pub async fn edit<T, E>(
    store: &dyn ObjectStore,
    mut change: impl FnMut(&mut GoldSet) -> Result<T, E>,
) -> Result<Result<(T, GoldSet), E>, GoldError> {
    let mut backoff = Duration::from_millis(5);
    let mut attempts = 0;
    loop {
        let (mut gold, etag) = read(store).await?;
        let before = gold.clone();
        let outcome = match change(&mut gold) {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        };
        if gold == before && etag.is_some() {
            return Ok(Ok((outcome, gold)));
        }
        let condition = match etag {
            Some(e) => PutCondition::IfMatch(e),
            None => PutCondition::IfAbsent,
        };
        match store
            .put(
                keys::GOLD_SET,
                Bytes::from(gold.to_bytes()),
                "text/plain; charset=utf-8",
                condition,
            )
            .await
        {
            Ok(_) => return Ok(Ok((outcome, gold))),
            // Someone else wrote first (or removed it): read theirs and redo the change.
            Err(BackendError::PreconditionFailed | BackendError::NotFound { .. }) => {
                attempts += 1;
                if attempts >= MAX_ATTEMPTS {
                    return Err(BackendError::Contended {
                        key: keys::GOLD_SET.to_string(),
                        attempts,
                    }
                    .into());
                }
                tokio::time::sleep(backoff.mul_f64(0.5 + fastrand::f64())).await;
                backoff = (backoff * 2).min(Duration::from_millis(500));
            }
            Err(e) => return Err(e.into()),
        }
    }
}
