//! Appending answers to a label file without losing anyone's: read the file with its ETag,
//! append the answers whose ids are not there yet, and put it back if-match (create-only
//! for a new file), retrying with jittered backoff when another writer won. The worker
//! writes through here, and so does `import-original`.

use std::time::Duration;

use bytes::Bytes;

use crate::backend::{BackendError, ObjectStore, PutCondition};
use crate::domain::label_file::{Answer, append_answers};

const MAX_ATTEMPTS: u32 = 30;

fn jitter(d: Duration) -> Duration {
    d.mul_f64(0.5 + fastrand::f64())
}

/// What one append did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppendOutcome {
    pub added: usize,
    pub already_there: usize,
    /// Conditional writes lost to another writer before this one won.
    pub conflicts: u32,
}

/// Appends `answers` to `key` without losing any concurrent writer's answers.
pub async fn append_with_retry(
    store: &dyn ObjectStore,
    key: &str,
    answers: &[Answer],
) -> Result<AppendOutcome, BackendError> {
    let mut conflicts = 0;
    let mut backoff = Duration::from_millis(2);
    loop {
        let current = store.get(key).await?;
        let (existing, condition) = match &current {
            Some(o) => (o.bytes.as_ref(), PutCondition::IfMatch(o.etag.clone())),
            None => (&[][..], PutCondition::IfAbsent),
        };
        let (bytes, added) = append_answers(existing, answers);
        let outcome = AppendOutcome {
            added,
            already_there: answers.len() - added,
            conflicts,
        };
        if added == 0 {
            return Ok(outcome);
        }
        match store
            .put(
                key,
                Bytes::from(bytes),
                "text/plain; charset=utf-8",
                condition,
            )
            .await
        {
            Ok(_) => return Ok(outcome),
            // Lost the race (or the file vanished under an if-match): read again and retry.
            Err(BackendError::PreconditionFailed | BackendError::NotFound { .. }) => {
                conflicts += 1;
                if conflicts >= MAX_ATTEMPTS {
                    return Err(BackendError::Contended {
                        key: key.to_string(),
                        attempts: conflicts,
                    });
                }
                tokio::time::sleep(jitter(backoff)).await;
                backoff = (backoff * 2).min(Duration::from_millis(500));
            }
            Err(e) => return Err(e),
        }
    }
}
