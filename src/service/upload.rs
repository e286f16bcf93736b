//! Uploading images: each file is checked (format, size, decodable) before anything is
//! written; accepted files go to `images/<name>` create-only. Identical content already
//! there is reported and skipped; a different image with a taken name becomes `name-2.jpg`.

use std::fmt;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::backend::{BackendError, PutCondition};
use crate::domain::keys;
use crate::domain::label_index::IndexUpdate;
use crate::domain::names::{display_safe, image_name_from_file_name, numbered_name};
use crate::service::context::AppContext;
use crate::service::image_check;
use crate::service::label_index::IndexWriter;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadResult {
    Stored {
        name: String,
    },
    /// The name was taken by a different image.
    Renamed {
        name: String,
    },
    /// The same content is already stored under this name.
    Duplicate {
        name: String,
    },
    Rejected {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadOutcome {
    pub source: String,
    pub result: UploadResult,
}

impl UploadOutcome {
    pub fn is_rejected(&self) -> bool {
        matches!(self.result, UploadResult::Rejected { .. })
    }
    /// A new image in the store (under its own name or a free one).
    pub fn is_stored(&self) -> bool {
        matches!(
            self.result,
            UploadResult::Stored { .. } | UploadResult::Renamed { .. }
        )
    }
}

impl fmt::Display for UploadOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let src = display_safe(&self.source);
        match &self.result {
            UploadResult::Stored { name } => {
                write!(f, "stored   {src} as images/{}", display_safe(name))
            }
            UploadResult::Renamed { name } => write!(
                f,
                "renamed  {src} to images/{} (another image had its name)",
                display_safe(name)
            ),
            UploadResult::Duplicate { name } => write!(
                f,
                "skipped  {src}: the same image is already stored as images/{}",
                display_safe(name)
            ),
            UploadResult::Rejected { reason } => write!(f, "rejected {src}: {reason}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadProgress {
    pub done: usize,
    pub total: usize,
    pub current: String,
}

/// Files named by `paths`; directories contribute their files (recursively, hidden ones skipped).
pub fn expand_paths(paths: &[PathBuf]) -> Vec<Result<PathBuf, (PathBuf, String)>> {
    let mut out = Vec::new();
    for p in paths {
        collect(p, &mut out, true);
    }
    out
}

fn collect(p: &Path, out: &mut Vec<Result<PathBuf, (PathBuf, String)>>, explicit: bool) {
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => match std::fs::read_dir(p) {
            Ok(entries) => {
                let mut children: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
                children.sort();
                for c in children {
                    let hidden = c
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with('.'));
                    if !hidden {
                        collect(&c, out, false);
                    }
                }
            }
            Err(e) => out.push(Err((
                p.to_path_buf(),
                format!("cannot read the folder: {e}"),
            ))),
        },
        Ok(m) if m.is_file() => out.push(Ok(p.to_path_buf())),
        Ok(_) if explicit => out.push(Err((p.to_path_buf(), "not a regular file".into()))),
        Ok(_) => {}
        Err(e) => out.push(Err((p.to_path_buf(), format!("cannot open: {e}")))),
    }
}

/// Uploads files and folders, reporting progress after each file.
pub async fn upload_paths(
    ctx: &AppContext,
    paths: Vec<PathBuf>,
    progress: impl Fn(UploadProgress) + Send + Sync,
) -> Vec<UploadOutcome> {
    let files = expand_paths(&paths);
    let total = files.len();
    let mut outcomes = Vec::with_capacity(total);
    for (i, f) in files.into_iter().enumerate() {
        let outcome = match f {
            Ok(path) => {
                progress(UploadProgress {
                    done: i,
                    total,
                    current: path.display().to_string(),
                });
                upload_file(ctx, &path).await
            }
            Err((path, reason)) => UploadOutcome {
                source: path.display().to_string(),
                result: UploadResult::Rejected { reason },
            },
        };
        outcomes.push(outcome);
    }
    progress(UploadProgress {
        done: total,
        total,
        current: String::new(),
    });
    outcomes
}

async fn upload_file(ctx: &AppContext, path: &Path) -> UploadOutcome {
    let source = path.display().to_string();
    let rejected = |reason: String| UploadOutcome {
        source: source.clone(),
        result: UploadResult::Rejected { reason },
    };
    // Check the size before reading, so a huge file is refused without loading it.
    match tokio::fs::metadata(path).await {
        Ok(m) if m.len() > ctx.max_image_bytes => {
            return rejected(
                image_check::ImageRejection::TooBig {
                    size: m.len(),
                    limit: ctx.max_image_bytes,
                }
                .to_string(),
            );
        }
        Ok(_) => {}
        Err(e) => return rejected(format!("cannot open: {e}")),
    }
    let bytes = match tokio::fs::read(path).await {
        Ok(b) => b,
        Err(e) => return rejected(format!("cannot read: {e}")),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    UploadOutcome {
        source,
        result: upload_bytes(ctx, &file_name, Bytes::from(bytes)).await,
    }
}

/// Checks and stores one image under a free name, and adds it to the label index.
pub async fn upload_bytes(ctx: &AppContext, file_name: &str, bytes: Bytes) -> UploadResult {
    let result = store_image(ctx, file_name, bytes).await;
    if let Some(name) = result.stored_name()
        && let Err(e) = IndexWriter::new(ctx.backend.store.clone())
            .record(vec![IndexUpdate::ImageAdded {
                image: name.to_string(),
            }])
            .await
    {
        // The image is stored; only the index lags. The worker's periodic check or
        // `hotdog-tui index verify` adds it.
        tracing::warn!(
            "stored {} but could not add it to the label index: {e}; run `hotdog-tui index verify`",
            display_safe(name)
        );
    }
    result
}

impl UploadResult {
    /// The name the image is stored under, unless it was rejected.
    pub fn stored_name(&self) -> Option<&str> {
        match self {
            UploadResult::Stored { name }
            | UploadResult::Renamed { name }
            | UploadResult::Duplicate { name } => Some(name),
            UploadResult::Rejected { .. } => None,
        }
    }
}

/// Checks and stores one image under a free name, without telling the label index: for
/// callers that record many images in the index at once (`IndexWriter::record`).
pub async fn store_image(ctx: &AppContext, file_name: &str, bytes: Bytes) -> UploadResult {
    let name = match image_name_from_file_name(file_name) {
        Ok(n) => n,
        Err(e) => {
            return UploadResult::Rejected {
                reason: e.to_string(),
            };
        }
    };
    let max = ctx.max_image_bytes;
    let check_name = name.clone();
    let check_bytes = bytes.clone();
    let info = match tokio::task::spawn_blocking(move || {
        image_check::validate(&check_name, &check_bytes, max)
    })
    .await
    {
        Ok(Ok(info)) => info,
        Ok(Err(e)) => {
            return UploadResult::Rejected {
                reason: e.to_string(),
            };
        }
        Err(e) => {
            return UploadResult::Rejected {
                reason: format!("the check failed: {e}"),
            };
        }
    };
    match store_under_free_name(ctx, &name, bytes, image_check::content_type(info.format)).await {
        Ok(r) => r,
        Err(e) => UploadResult::Rejected {
            reason: format!("could not store it: {e}"),
        },
    }
}

async fn store_under_free_name(
    ctx: &AppContext,
    name: &str,
    bytes: Bytes,
    content_type: &str,
) -> Result<UploadResult, BackendError> {
    for n in 1..=1000u32 {
        let candidate = if n == 1 {
            name.to_string()
        } else {
            numbered_name(name, n)
        };
        let key = keys::image(&candidate);
        match ctx
            .backend
            .store
            .put(&key, bytes.clone(), content_type, PutCondition::IfAbsent)
            .await
        {
            Ok(_) if n == 1 => return Ok(UploadResult::Stored { name: candidate }),
            Ok(_) => return Ok(UploadResult::Renamed { name: candidate }),
            Err(BackendError::PreconditionFailed) => {
                if let Some(existing) = ctx.backend.store.get(&key).await?
                    && existing.bytes == bytes
                {
                    return Ok(UploadResult::Duplicate { name: candidate });
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(BackendError::Invalid(format!(
        "no free name found for {}",
        display_safe(name)
    )))
}
