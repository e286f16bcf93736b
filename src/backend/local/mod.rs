//! The embedded backend: objects are files under `<data>/objects/`, queues are tables in one
//! SQLite database. Correct across several processes on the same data dir: object writes are
//! atomic renames, conditional writes hold a file lock, queue changes are SQLite transactions.

mod queue;
mod store;

use std::fs::DirBuilder;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

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

/// Held by the process that created a data dir until it has seeded it: every other
/// process opening the dir meanwhile waits in `open`, so none sees a half-seeded store
/// (a `label` naming a sample image the seeder has not stored yet). Dropped, it lets them in.
#[derive(Debug)]
pub struct SeedingLock {
    _file: std::fs::File,
}

/// How long `open` waits for another process to finish seeding before going on anyway (a
/// seeder that hangs must not block every other command for ever).
const SEEDING_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Opens (creating if needed) the data directory. Returns the two ports and, when the
/// directory was new, the lock that keeps other processes out until the caller has seeded it.
pub fn open(data_dir: &Path) -> Result<(LocalStore, LocalQueues, Option<SeedingLock>)> {
    private_dir(data_dir)?;
    // Tighten a pre-existing directory too: labels and credentials-free but still private.
    if let Ok(meta) = std::fs::metadata(data_dir)
        && meta.permissions().mode() & 0o077 != 0
    {
        let _ = std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700));
    }
    let lock = seeding_lock(data_dir)?;
    // Decided under the lock: of two processes opening a new dir at once, one seeds it.
    let fresh = !data_dir.join("objects").exists();
    let store = LocalStore::open(data_dir)?;
    let queues = LocalQueues::open(&data_dir.join("queues.sqlite3"))?;
    Ok((store, queues, fresh.then_some(lock).flatten()))
}

/// Takes the data dir's seeding lock, waiting while another process seeds (at most
/// `SEEDING_WAIT`; then `None`, and the store is opened as it is).
fn seeding_lock(data_dir: &Path) -> Result<Option<SeedingLock>> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = data_dir.join("seeding.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| io_error("open the seeding lock", &e))?;
    let deadline = std::time::Instant::now() + SEEDING_WAIT;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(SeedingLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                tracing::warn!(
                    "another process has been seeding {} for over {} s; opening it as it is",
                    data_dir.display(),
                    SEEDING_WAIT.as_secs()
                );
                return Ok(None);
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(io_error("take the seeding lock", &e));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    /// Whoever creates a data dir seeds it before anyone else gets in: a second open waits
    /// for the creator's lock, then finds the store not new (nothing to seed twice).
    #[test]
    fn a_second_open_waits_for_the_seeding() {
        let dir = tempfile::tempdir().unwrap();
        let (_store, _queues, seeding) = open(dir.path()).unwrap();
        assert!(seeding.is_some(), "a new dir is the caller's to seed");
        let seeded = Arc::new(AtomicBool::new(false));
        let other = {
            let (path, seeded) = (dir.path().to_path_buf(), seeded.clone());
            std::thread::spawn(move || {
                let (_store, _queues, seeding) = open(&path).unwrap();
                (seeded.load(Ordering::SeqCst), seeding.is_some())
            })
        };
        std::thread::sleep(Duration::from_millis(300));
        seeded.store(true, Ordering::SeqCst);
        drop(seeding);
        assert_eq!(
            other.join().unwrap(),
            (true, false),
            "it got in only after the seeding, and did not seed"
        );
        // Later opens neither wait nor seed.
        assert!(open(dir.path()).unwrap().2.is_none());
    }
}
