//! The 20 sample images (10 hot dogs, 10 other things) drawn by `examples/gen_assets.rs`,
//! embedded in the binary so a fresh install has something to label.

use bytes::Bytes;

use crate::backend::BackendError;
use crate::service::context::{AppContext, SetupReport, SetupStep};
use crate::service::upload::{UploadResult, upload_bytes};

macro_rules! samples {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("../../assets/", $name)) as &[u8])),*]
    };
}

pub static SAMPLES: &[(&str, &[u8])] = samples!(
    "hotdog-01.jpg",
    "hotdog-02.jpg",
    "hotdog-03.jpg",
    "hotdog-04.jpg",
    "hotdog-05.jpg",
    "hotdog-06.jpg",
    "hotdog-07.jpg",
    "hotdog-08.jpg",
    "hotdog-09.jpg",
    "hotdog-10.jpg",
    "other-01.jpg",
    "other-02.jpg",
    "other-03.jpg",
    "other-04.jpg",
    "other-05.jpg",
    "other-06.jpg",
    "other-07.jpg",
    "other-08.jpg",
    "other-09.jpg",
    "other-10.jpg",
);

/// Uploads the samples that are not there yet; returns how many were stored. Idempotent:
/// samples already present (same content) are skipped.
pub async fn seed(ctx: &AppContext) -> Result<usize, BackendError> {
    let mut stored = 0;
    for (name, bytes) in SAMPLES {
        match upload_bytes(ctx, name, Bytes::from_static(bytes)).await {
            UploadResult::Stored { .. } | UploadResult::Renamed { .. } => stored += 1,
            UploadResult::Duplicate { .. } => {}
            UploadResult::Rejected { reason } => {
                return Err(BackendError::Other(format!(
                    "could not seed {name}: {reason}"
                )));
            }
        }
    }
    Ok(stored)
}

/// Seeds a store that `connect` reported as new, and records it in the report.
pub async fn seed_new_store(
    ctx: &AppContext,
    report: &mut SetupReport,
) -> Result<(), BackendError> {
    if report.new_store {
        // A new store: its (empty) label index is exact from the start.
        crate::service::label_index::start_empty(ctx.backend.store.as_ref()).await?;
        let n = seed(ctx).await?;
        report.steps.push(SetupStep::Seeded(n));
    }
    // Seeded: processes waiting to open the store may go on.
    report.seeding = None;
    Ok(())
}
