//! The embedded backend: objects are files under `<data>/objects/`, queues are tables in one
//! SQLite database. Correct across several processes on the same data dir: object writes are
//! atomic renames, conditional writes hold a file lock, queue changes are SQLite transactions.

mod queue;
mod store;

use std::fs::DirBuilder;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub use queue::LocalQueues;
pub use store::LocalStore;

use super::{BackendError, Result};

/// Creates `dir` (and parents) private to the user (0700); the log directory uses it too.
pub(crate) fn private_dir(dir: &Path) -> Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| io_error(&format!("create the directory {}", dir.display()), &e))
}

pub(crate) fn io_error(what: &str, e: &std::io::Error) -> BackendError {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => BackendError::Unavailable {
            service: "local data directory",
            detail: format!(
                "cannot {what}: {e} (is the data dir read-only or owned by someone else?)"
            ),
        },
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => BackendError::Unavailable {
            service: "local data directory",
            detail: format!("cannot {what}: the disk is full ({e}); free some space"),
        },
        _ => BackendError::Unavailable {
            service: "local data directory",
            detail: format!("cannot {what}: {e}"),
        },
    }
}

/// Opens (creating if needed) the data directory. Returns the two ports and whether the
/// directory was new, so the caller can seed it.
pub fn open(data_dir: &Path) -> Result<(LocalStore, LocalQueues, bool)> {
    let marker: PathBuf = data_dir.join("objects");
    let fresh = !marker.exists();
    private_dir(data_dir)?;
    // Tighten a pre-existing directory too: labels and credentials-free but still private.
    if let Ok(meta) = std::fs::metadata(data_dir)
        && meta.permissions().mode() & 0o077 != 0
    {
        let _ = std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700));
    }
    let store = LocalStore::open(data_dir)?;
    let queues = LocalQueues::open(&data_dir.join("queues.sqlite3"))?;
    Ok((store, queues, fresh))
}
