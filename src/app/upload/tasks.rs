//! The upload prompt's background work: listing a folder for path completion, and
//! uploading what the user chose with progress.

use std::path::{Path, PathBuf};

use tokio::sync::mpsc;

use super::{PathEntry, split_path};
use crate::app::Action;
use crate::app::send;
use crate::service::context::AppContext;
use crate::service::upload::{UploadProgress, upload_paths};

/// Entries listed for path completion at most (a huge folder must not stall anything).
const MAX_COMPLETIONS: usize = 2000;

pub(crate) async fn complete_path(tx: mpsc::UnboundedSender<Action>, request: u64, input: String) {
    let probe = input.clone();
    let entries = tokio::task::spawn_blocking(move || list_for_completion(&probe))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    send(
        &tx,
        Action::PathCompleted {
            request,
            input,
            entries,
        },
    );
}

pub(crate) async fn upload(
    ctx: AppContext,
    tx: mpsc::UnboundedSender<Action>,
    upload: u64,
    path: String,
) {
    let progress_tx = tx.clone();
    let progress = move |p: UploadProgress| {
        send(
            &progress_tx,
            Action::UploadProgress {
                upload,
                done: p.done,
                total: p.total,
                current: p.current,
            },
        );
    };
    let outcomes = upload_paths(&ctx, vec![expand_home(&path)], progress).await;
    send(&tx, Action::UploadFinished { upload, outcomes });
}

/// `~/x` → `$HOME/x`, as a shell would.
fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ if path == "~" => {
            std::env::var_os("HOME").map_or_else(|| PathBuf::from(path), PathBuf::from)
        }
        _ => PathBuf::from(path),
    }
}

fn list_for_completion(input: &str) -> Result<Vec<PathEntry>, String> {
    let (dir, _) = split_path(input);
    let dir_path = if dir.is_empty() {
        PathBuf::from(".")
    } else {
        expand_home(dir)
    };
    let read = std::fs::read_dir(&dir_path)
        .map_err(|e| format!("cannot list {}: {e}", dir_path.display()))?;
    Ok(read
        .flatten()
        .take(MAX_COMPLETIONS)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            // Follow symlinks, so a link to a folder completes with `/`.
            let is_dir = std::fs::metadata(e.path()).is_ok_and(|m| m.is_dir());
            Some(PathEntry { name, is_dir })
        })
        .collect())
}
