//! Queues as tables in one SQLite database (WAL), with SQS semantics: visibility timeouts,
//! receive counts, a dead-letter queue after the receive limit, batches of 10. A send wakes
//! receivers in the same process at once; other processes' sends are noticed by one watcher
//! task per database that `stat`s its files every 20 ms (no query, so idle costs little).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tokio::sync::Notify;

use crate::backend::{
    BackendError, MessageQueue, Missing, OutgoingMessage, QueueDepth, QueueInfo, QueueSpec,
    ReceivedMessage, Result,
};

/// SQS's largest message body.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
const CROSS_PROCESS_POLL: Duration = Duration::from_millis(20);
/// Visibility timeouts expire without any write, so look again at least this often.
const REQUERY_EVERY: Duration = Duration::from_millis(500);

#[derive(Clone)]
pub struct LocalQueues {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// Jobs for the one thread that owns the connection (see `with_conn`).
    jobs: std::sync::mpsc::Sender<Job>,
}

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// Wakers shared by every `LocalQueues` of this process, keyed by (database, queue).
/// (database, queue) → the receivers' wake-up.
type Wakers = Mutex<HashMap<(PathBuf, String), Arc<Notify>>>;

static WAKERS: LazyLock<Wakers> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn waker(path: &Path, queue: &str) -> Arc<Notify> {
    match WAKERS.lock() {
        Ok(mut map) => map
            .entry((path.to_path_buf(), queue.to_string()))
            .or_insert_with(|| Arc::new(Notify::new()))
            .clone(),
        Err(_) => Arc::new(Notify::new()),
    }
}

/// Change stamp of the database files: differs after any process commits.
type Stamp = (Option<SystemTime>, u64, Option<SystemTime>, u64);

fn file_stamp(db: &Path) -> Stamp {
    let wal = db.with_extension("sqlite3-wal");
    let m = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| (m.modified().ok(), m.len()))
    };
    let (a, b) = m(&wal).unwrap_or((None, 0));
    let (c, d) = m(db).unwrap_or((None, 0));
    (a, b, c, d)
}

/// One watcher task per database in this process: it `stat`s the files every 20 ms and wakes
/// every receiver of that database when another process committed, so idle receivers cost
/// one `stat` per tick in total instead of one each.
static WATCHERS: LazyLock<Mutex<HashMap<PathBuf, tokio::task::JoinHandle<()>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn ensure_watcher(db: &Path) {
    let Ok(mut watchers) = WATCHERS.lock() else {
        return;
    };
    if watchers.get(db).is_some_and(|h| !h.is_finished()) {
        return;
    }
    let path = db.to_path_buf();
    let handle = tokio::spawn(async move {
        let mut stamp = file_stamp(&path);
        loop {
            tokio::time::sleep(CROSS_PROCESS_POLL).await;
            let current = file_stamp(&path);
            if current != stamp {
                stamp = current;
                let wakers: Vec<Arc<Notify>> = match WAKERS.lock() {
                    Ok(map) => map
                        .iter()
                        .filter(|((p, _), _)| *p == path)
                        .map(|(_, n)| n.clone())
                        .collect(),
                    Err(_) => Vec::new(),
                };
                for w in wakers {
                    w.notify_waiters();
                }
            }
        }
    });
    watchers.insert(db.to_path_buf(), handle);
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn db_error(e: rusqlite::Error) -> BackendError {
    use rusqlite::ErrorCode;
    let detail = e.to_string();
    let hint = match e.sqlite_error_code() {
        Some(ErrorCode::ReadOnly) => " (is the data dir read-only?)",
        Some(ErrorCode::DiskFull) => " (the disk is full; free some space)",
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            " (another process holds the database; it will be retried)"
        }
        _ => "",
    };
    BackendError::Unavailable {
        service: "local queue database",
        detail: format!("{detail}{hint}"),
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queues(
    name TEXT PRIMARY KEY,
    dlq TEXT,
    max_receives INTEGER NOT NULL DEFAULT 0,
    visibility_ms INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages(
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    attributes TEXT NOT NULL,
    sent_ms INTEGER NOT NULL,
    visible_ms INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT
);
CREATE INDEX IF NOT EXISTS messages_ready ON messages(queue, visible_ms);
";

impl LocalQueues {
    pub fn open(path: &Path) -> Result<LocalQueues> {
        // Create the file 0600 first: SQLite gives its -wal and -shm files the same mode.
        if !path.exists() {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| super::io_error("create the queue database", &e))?;
        }
        let conn = Connection::open(path).map_err(db_error)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(db_error)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_error)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db_error)?;
        conn.execute_batch(SCHEMA).map_err(db_error)?;
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let mut conn = conn;
        std::thread::Builder::new()
            .name("hotdog-queue-db".into())
            .spawn(move || {
                // Ends when the last `LocalQueues` clone (and so the sender) is dropped. A
                // panicking job loses only its own answer (its caller sees an error).
                for job in queue {
                    let run = std::panic::AssertUnwindSafe(|| job(&mut conn));
                    let _ = std::panic::catch_unwind(run);
                }
            })
            .map_err(|e| BackendError::Other(format!("cannot start the queue thread: {e}")))?;
        Ok(LocalQueues {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                jobs,
            }),
        })
    }

    async fn with_conn<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T> {
        // One thread owns the connection and runs the jobs in order: no lock to contend
        // for and no blocking-pool hand-off per call, which dominated under load.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            // The caller may have gone (cancelled receive): nothing to tell then.
            let _ = tx.send(f(conn).map_err(db_error));
        });
        if self.inner.jobs.send(job).is_err() {
            return Err(BackendError::Other("the queue thread has stopped".into()));
        }
        rx.await
            .map_err(|_| BackendError::Other("the queue thread dropped a job".into()))?
    }

    fn try_receive(
        conn: &mut Connection,
        queue: &str,
        max: usize,
        visibility: Duration,
    ) -> rusqlite::Result<Option<Vec<ReceivedMessage>>> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let q: Option<(Option<String>, u32, i64)> = tx
            .query_row(
                "SELECT dlq, max_receives, visibility_ms FROM queues WHERE name = ?1",
                params![queue],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((dlq, max_receives, default_visibility)) = q else {
            return Ok(None);
        };
        let now = now_ms();
        let visibility_ms = if visibility.is_zero() {
            default_visibility
        } else {
            visibility.as_millis() as i64
        };
        let mut out = Vec::new();
        {
            let mut select = tx.prepare_cached(
                "SELECT seq, message_id, body, attributes, sent_ms, receive_count FROM messages
                 WHERE queue = ?1 AND visible_ms <= ?2 ORDER BY visible_ms LIMIT ?3",
            )?;
            let rows: Vec<(i64, String, String, String, i64, u32)> = select
                .query_map(params![queue, now, (max * 2) as i64], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut to_dlq = tx.prepare_cached(
                "UPDATE messages SET queue = ?2, receive_count = 0, visible_ms = ?3, receipt = NULL WHERE seq = ?1",
            )?;
            let mut take = tx.prepare_cached(
                "UPDATE messages SET visible_ms = ?2, receive_count = receive_count + 1, receipt = ?3 WHERE seq = ?1",
            )?;
            for (seq, message_id, body, attrs, sent_ms, count) in rows {
                if out.len() == max {
                    break;
                }
                if let Some(dlq) = &dlq
                    && max_receives > 0
                    && count >= max_receives
                {
                    to_dlq.execute(params![seq, dlq, now])?;
                    continue;
                }
                let receipt = format!("{seq}.{}", uuid::Uuid::new_v4().simple());
                take.execute(params![seq, now + visibility_ms, receipt])?;
                out.push(ReceivedMessage {
                    message_id,
                    body,
                    attributes: serde_json::from_str(&attrs).unwrap_or_default(),
                    receipt,
                    receive_count: count + 1,
                    sent_at_ms: sent_ms,
                });
            }
        }
        tx.commit()?;
        Ok(Some(out))
    }
}

#[async_trait]
impl MessageQueue for LocalQueues {
    async fn ensure_queue(&self, spec: &QueueSpec) -> Result<(String, bool)> {
        let spec = spec.clone();
        self.with_conn(move |c| {
            let now = now_ms();
            let (dlq, max) = match &spec.dead_letter {
                Some((d, m)) => (Some(d.clone()), *m),
                None => (None, 0),
            };
            let n = c.execute(
                "INSERT OR IGNORE INTO queues(name, dlq, max_receives, visibility_ms, created_ms, modified_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![spec.name, dlq, max, spec.visibility_timeout.as_millis() as i64, now],
            )?;
            Ok((spec.name.clone(), n == 1))
        })
        .await
    }

    async fn queue_url(&self, name: &str) -> Result<Option<String>> {
        let name = name.to_string();
        self.with_conn(move |c| {
            c.query_row(
                "SELECT name FROM queues WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()
        })
        .await
    }

    async fn delete_queue(&self, url: &str) -> Result<()> {
        let name = url.to_string();
        self.with_conn(move |c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM messages WHERE queue = ?1", params![name])?;
            tx.execute("DELETE FROM queues WHERE name = ?1", params![name])?;
            tx.commit()
        })
        .await
    }

    async fn list_queues(&self, prefix: &str) -> Result<Vec<QueueInfo>> {
        let prefix = prefix.to_string();
        self.with_conn(move |c| {
            let mut s = c.prepare(
                "SELECT name, modified_ms FROM queues WHERE substr(name, 1, length(?1)) = ?1 ORDER BY name",
            )?;
            let rows = s
                .query_map(params![prefix], |r| {
                    let name: String = r.get(0)?;
                    Ok(QueueInfo {
                        url: name.clone(),
                        name,
                        last_modified_ms: r.get(1)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn touch_queue(&self, url: &str) -> Result<()> {
        let name = url.to_string();
        self.with_conn(move |c| {
            c.execute(
                "UPDATE queues SET modified_ms = ?2 WHERE name = ?1",
                params![name, now_ms()],
            )
            .map(|_| ())
        })
        .await
    }

    async fn send(&self, url: &str, message: OutgoingMessage) -> Result<String> {
        let mut ids = self.send_batch(url, vec![message]).await?;
        ids.pop()
            .unwrap_or_else(|| Err(BackendError::Other("send returned nothing".into())))
    }

    async fn send_batch(
        &self,
        url: &str,
        messages: Vec<OutgoingMessage>,
    ) -> Result<Vec<Result<String>>> {
        if messages.len() > crate::backend::MAX_BATCH {
            return Err(BackendError::Invalid(format!(
                "at most {} messages per batch",
                crate::backend::MAX_BATCH
            )));
        }
        let queue = url.to_string();
        let q = queue.clone();
        let sent = self
            .with_conn(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let exists: bool = tx.query_row(
                    "SELECT EXISTS(SELECT 1 FROM queues WHERE name = ?1)",
                    params![q],
                    |r| r.get(0),
                )?;
                if !exists {
                    return Ok(None);
                }
                let now = now_ms();
                let mut results = Vec::with_capacity(messages.len());
                {
                    let mut insert = tx.prepare_cached(
                        "INSERT INTO messages(queue, message_id, body, attributes, sent_ms, visible_ms)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                    )?;
                    for m in messages {
                        let size = m.body.len()
                            + m.attributes.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
                        if size > MAX_MESSAGE_BYTES {
                            results.push(Err(BackendError::Invalid(format!(
                                "message of {size} bytes is larger than the 256 KiB limit"
                            ))));
                            continue;
                        }
                        let id = uuid::Uuid::new_v4().to_string();
                        let attrs = serde_json::to_string(&m.attributes).unwrap_or_else(|_| "{}".into());
                        insert.execute(params![q, id, m.body, attrs, now])?;
                        results.push(Ok(id));
                    }
                }
                tx.commit()?;
                Ok(Some(results))
            })
            .await?;
        match sent {
            Some(results) => {
                waker(&self.inner.path, &queue).notify_waiters();
                Ok(results)
            }
            None => Err(BackendError::NotFound {
                what: Missing::Queue(queue),
            }),
        }
    }

    async fn receive(
        &self,
        url: &str,
        max: usize,
        wait: Duration,
        visibility: Duration,
    ) -> Result<Vec<ReceivedMessage>> {
        let max = max.clamp(1, crate::backend::MAX_BATCH);
        let deadline = Instant::now() + wait;
        let notify = waker(&self.inner.path, url);
        ensure_watcher(&self.inner.path);
        loop {
            // Register for wake-ups before looking, so a send in between is not missed.
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let queue = url.to_string();
            let got = self
                .with_conn(move |c| Self::try_receive(c, &queue, max, visibility))
                .await?;
            match got {
                None => {
                    return Err(BackendError::NotFound {
                        what: Missing::Queue(url.to_string()),
                    });
                }
                Some(messages) if !messages.is_empty() => return Ok(messages),
                Some(_) => {}
            }
            // Wait for a send (this process, or another one seen by the watcher), or look
            // again after a while: visibility timeouts expire without any write.
            let now = Instant::now();
            if now >= deadline {
                return Ok(Vec::new());
            }
            let nap = REQUERY_EVERY.min(deadline - now);
            let _ = tokio::time::timeout(nap, notified.as_mut()).await;
        }
    }

    async fn extend_visibility(
        &self,
        url: &str,
        receipt: &str,
        visibility: Duration,
    ) -> Result<()> {
        let (queue, receipt) = (url.to_string(), receipt.to_string());
        let until = now_ms() + visibility.as_millis() as i64;
        self.with_conn(move |c| {
            c.execute(
                "UPDATE messages SET visible_ms = ?3 WHERE queue = ?1 AND receipt = ?2",
                params![queue, receipt, until],
            )
            .map(|_| ())
        })
        .await
    }

    async fn delete_batch(&self, url: &str, receipts: &[String]) -> Result<()> {
        let queue = url.to_string();
        let receipts = receipts.to_vec();
        self.with_conn(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut del = tx.prepare_cached(
                    "DELETE FROM messages WHERE seq = ?1 AND queue = ?2 AND receipt = ?3",
                )?;
                for r in &receipts {
                    let Some(seq) = r.split('.').next().and_then(|s| s.parse::<i64>().ok()) else {
                        continue;
                    };
                    del.execute(params![seq, queue, r])?;
                }
            }
            tx.commit()
        })
        .await
    }

    async fn depth(&self, url: &str) -> Result<QueueDepth> {
        let queue = url.to_string();
        self.with_conn(move |c| {
            let now = now_ms();
            c.query_row(
                "SELECT COALESCE(SUM(visible_ms <= ?2), 0), COALESCE(SUM(visible_ms > ?2), 0) FROM messages WHERE queue = ?1",
                params![queue, now],
                |r| {
                    Ok(QueueDepth {
                        visible: r.get::<_, i64>(0)? as u64,
                        in_flight: r.get::<_, i64>(1)? as u64,
                    })
                },
            )
        })
        .await
    }
}
