//! The outbox: every answer a labeller gives is appended to a local journal before it
//! counts as given, and leaves it only once the label queue accepted it, so neither a
//! `kill -9` nor a backend outage loses one. One journal per destination (backend and
//! label queue), `<state dir>/outbox/<hash>.jsonl`, mode 0600, in a 0700 folder; a lock
//! file beside it serialises writers across processes (two terminals, a CLI command).
//!
//! The journal is JSON lines: a header naming the destination, then `add` records (one
//! answer each) and `sent` records (answer ids the queue accepted). Pending = added − sent.
//! A line torn by a crash is skipped when read; once nothing is pending the journal is
//! rewritten to its header.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::{Notify, mpsc, watch};

use crate::backend::{BackendError, OutgoingMessage};
use crate::domain::messages::{ImageAnswer, LabelSubmission};
use crate::service::context::AppContext;

/// Answers per queue message when the outbox is sent.
const ANSWERS_PER_MESSAGE: usize = 50;
/// Journal size past which it is rewritten with only what is pending.
const COMPACT_BYTES: u64 = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("cannot {what} the outbox {}: {source}; answers cannot be kept on disk (check the state dir's permissions and free space, or pass --state-dir)", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Record {
    For { destination: String },
    Add(ImageAnswer),
    Sent { ids: Vec<String> },
}

/// A journal of answers on their way to one label queue.
#[derive(Debug, Clone)]
pub struct Outbox {
    path: PathBuf,
    lock: PathBuf,
    send_lock: PathBuf,
    destination: String,
}

/// What is in one journal, for `outbox show`.
#[derive(Debug, Clone)]
pub struct JournalContents {
    pub path: PathBuf,
    pub destination: String,
    pub pending: Vec<ImageAnswer>,
}

impl Outbox {
    /// The journal for answers to `ctx`'s label queue.
    pub fn for_context(ctx: &AppContext) -> Result<Outbox, OutboxError> {
        Outbox::open(&ctx.state_dir, &destination(ctx))
    }

    /// Opens (creating if needed) the journal for `destination` under `state_dir`.
    pub fn open(state_dir: &Path, destination: &str) -> Result<Outbox, OutboxError> {
        let dir = state_dir.join("outbox");
        let hash: String = Sha256::digest(destination.as_bytes())
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        let outbox = Outbox {
            path: dir.join(format!("{hash}.jsonl")),
            lock: dir.join(format!("{hash}.lock")),
            send_lock: dir.join(format!("{hash}.sending")),
            destination: destination.to_string(),
        };
        private_dir(&dir).map_err(|source| OutboxError::Io {
            what: "create the folder of",
            path: dir.clone(),
            source,
        })?;
        let _lock = outbox.locked()?;
        if !outbox.path.exists() {
            outbox.rewrite(&[])?;
        }
        Ok(outbox)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn destination(&self) -> &str {
        &self.destination
    }

    fn io(&self, what: &'static str) -> impl FnOnce(std::io::Error) -> OutboxError + '_ {
        move |source| OutboxError::Io {
            what,
            path: self.path.clone(),
            source,
        }
    }

    fn locked(&self) -> Result<File, OutboxError> {
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&self.lock)
            .map_err(self.io("lock"))?;
        f.lock().map_err(self.io("lock"))?;
        Ok(f) // unlocked when dropped
    }

    /// Appends answers and returns once they are on disk (`fsync`ed).
    pub fn record(&self, answers: &[ImageAnswer]) -> Result<(), OutboxError> {
        self.record_unsynced(answers)?;
        self.sync()
    }

    /// Appends answers and returns once the bytes are in the file: a `kill -9` after this
    /// loses nothing (the kernel has them). Microseconds, so the TUI does it before it draws
    /// the answer; `sync` then makes them survive a power cut too.
    pub fn record_unsynced(&self, answers: &[ImageAnswer]) -> Result<(), OutboxError> {
        if answers.is_empty() {
            return Ok(());
        }
        let mut text = String::new();
        for a in answers {
            text.push_str(&line(&Record::Add(a.clone())));
        }
        let _lock = self.locked()?;
        self.append(&text)
    }

    /// Flushes the journal to the disk (a few ms: run it off the UI thread).
    pub fn sync(&self) -> Result<(), OutboxError> {
        match File::open(&self.path) {
            Ok(f) => f.sync_data().map_err(self.io("sync")),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io("sync")(e)),
        }
    }

    fn append(&self, text: &str) -> Result<(), OutboxError> {
        let mut f = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)
            .map_err(self.io("open"))?;
        // A crash may have torn the last line: start on a line of our own.
        let len = f.metadata().map_err(self.io("read"))?.len();
        let mut out = Vec::with_capacity(text.len() + 1);
        if len > 0 {
            use std::io::{Seek, SeekFrom};
            let mut last = [0u8; 1];
            f.seek(SeekFrom::Start(len - 1))
                .and_then(|_| f.read_exact(&mut last))
                .map_err(self.io("read"))?;
            if last[0] != b'\n' {
                out.push(b'\n');
            }
        }
        out.extend_from_slice(text.as_bytes());
        f.write_all(&out).map_err(self.io("write to"))
    }

    /// The answers not yet accepted by the queue, oldest first.
    pub fn pending(&self) -> Result<Vec<ImageAnswer>, OutboxError> {
        let _lock = self.locked()?;
        Ok(self.read()?.1)
    }

    /// (journal size, pending answers), read under the caller's lock.
    fn read(&self) -> Result<(u64, Vec<ImageAnswer>), OutboxError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok((0, Vec::new())),
            Err(e) => return Err(self.io("read")(e)),
        };
        Ok((bytes.len() as u64, replay(&bytes).1))
    }

    /// Records that the queue accepted these answers; compacts the journal when it can.
    pub fn mark_sent(&self, ids: &[String]) -> Result<(), OutboxError> {
        if ids.is_empty() {
            return Ok(());
        }
        let _lock = self.locked()?;
        self.append(&line(&Record::Sent { ids: ids.to_vec() }))?;
        self.sync()?;
        let (size, pending) = self.read()?;
        if pending.is_empty() || size > COMPACT_BYTES {
            self.rewrite(&pending)?;
        }
        Ok(())
    }

    /// Replaces the journal (under the caller's lock) with the header and `pending`.
    fn rewrite(&self, pending: &[ImageAnswer]) -> Result<(), OutboxError> {
        let mut text = line(&Record::For {
            destination: self.destination.clone(),
        });
        for a in pending {
            text.push_str(&line(&Record::Add(a.clone())));
        }
        let tmp = self.path.with_extension("jsonl.tmp");
        let write = || -> std::io::Result<()> {
            let mut f = OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_data()?;
            std::fs::rename(&tmp, &self.path)
        };
        write().map_err(self.io("rewrite"))
    }

    /// Sends what is pending to the label queue, one message per labeller and up to 50
    /// answers, marking each message's answers as sent once the queue accepted it. Another
    /// process already sending this outbox makes this a no-op (it sends them).
    pub async fn send_pending(&self, ctx: &AppContext) -> Result<SendReport, SendError> {
        let me = self.clone();
        let guard = tokio::task::spawn_blocking(move || me.try_sending())
            .await
            .map_err(|e| SendError::Outbox(format!("the outbox task failed: {e}")))?
            .map_err(|e| SendError::Outbox(e.to_string()))?;
        let Some(_guard) = guard else {
            return Ok(SendReport {
                sent: Vec::new(),
                busy: true,
            });
        };
        let me = self.clone();
        let pending = tokio::task::spawn_blocking(move || me.pending())
            .await
            .map_err(|e| SendError::Outbox(format!("the outbox task failed: {e}")))?
            .map_err(|e| SendError::Outbox(e.to_string()))?;
        let mut report = SendReport::default();
        let mut by_labeller: Vec<(String, Vec<ImageAnswer>)> = Vec::new();
        for a in pending {
            match by_labeller
                .iter_mut()
                .find(|(l, _)| *l == a.answer.labeller)
            {
                Some((_, list)) => list.push(a),
                None => by_labeller.push((a.answer.labeller.clone(), vec![a])),
            }
        }
        let total: usize = by_labeller.iter().map(|(_, l)| l.len()).sum();
        for (labeller, answers) in by_labeller {
            for chunk in answers.chunks(ANSWERS_PER_MESSAGE) {
                let body = match serde_json::to_string(&LabelSubmission::new(&labeller, chunk)) {
                    Ok(b) => b,
                    Err(e) => return Err(SendError::Outbox(format!("cannot encode answers: {e}"))),
                };
                if let Err(error) = ctx
                    .backend
                    .queues
                    .send(&ctx.resources.labels, OutgoingMessage::plain(body))
                    .await
                {
                    return Err(SendError::Queue {
                        error,
                        sent: report.sent.len(),
                        kept: total - report.sent.len(),
                    });
                }
                let ids: Vec<String> = chunk.iter().map(|a| a.answer.answer_id.clone()).collect();
                let me = self.clone();
                tokio::task::spawn_blocking(move || me.mark_sent(&ids))
                    .await
                    .map_err(|e| SendError::Outbox(format!("the outbox task failed: {e}")))?
                    .map_err(|e| SendError::Outbox(e.to_string()))?;
                report.sent.extend(chunk.iter().cloned());
            }
        }
        Ok(report)
    }

    /// The sending lock, if no other process holds it.
    fn try_sending(&self) -> Result<Option<File>, OutboxError> {
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&self.send_lock)
            .map_err(self.io("lock"))?;
        match f.try_lock() {
            Ok(()) => Ok(Some(f)),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(self.io("lock")(e)),
        }
    }
}

/// Where a context's answers go: the backend (a local data dir by its full path) and the
/// label queue. Answers kept for one destination are never sent to another.
pub fn destination(ctx: &AppContext) -> String {
    let backend = match &ctx.backend.kind {
        crate::backend::BackendKind::Local { data_dir } => {
            let full = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.clone());
            format!("local {}", full.display())
        }
        other => other.describe(),
    };
    format!("{backend} label queue {}", ctx.resources.labels)
}

fn line(r: &Record) -> String {
    // Serialising these plain structs cannot fail; an empty line would be skipped on read.
    let mut s = serde_json::to_string(r).unwrap_or_default();
    s.push('\n');
    s
}

/// (destination, pending answers in the order given) from a journal's bytes; torn or
/// unreadable lines are skipped.
fn replay(bytes: &[u8]) -> (Option<String>, Vec<ImageAnswer>) {
    let mut destination = None;
    let mut added: Vec<ImageAnswer> = Vec::new();
    let mut sent: HashSet<String> = HashSet::new();
    for raw in bytes.split(|b| *b == b'\n') {
        let Ok(record) = serde_json::from_slice::<Record>(raw) else {
            continue;
        };
        match record {
            Record::For { destination: d } => destination = Some(d),
            Record::Add(a) => added.push(a),
            Record::Sent { ids } => sent.extend(ids),
        }
    }
    let mut seen = HashSet::new();
    let pending = added
        .into_iter()
        .filter(|a| !sent.contains(&a.answer.answer_id) && seen.insert(a.answer.answer_id.clone()))
        .collect();
    (destination, pending)
}

/// Every journal in `state_dir` (any destination), for `outbox show`.
pub fn all_journals(state_dir: &Path) -> Result<Vec<JournalContents>, OutboxError> {
    let dir = state_dir.join("outbox");
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(OutboxError::Io {
                what: "list",
                path: dir,
                source,
            });
        }
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "jsonl") {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|source| OutboxError::Io {
            what: "read",
            path: path.clone(),
            source,
        })?;
        let (destination, pending) = replay(&bytes);
        out.push(JournalContents {
            path,
            destination: destination.unwrap_or_else(|| "(unknown destination)".into()),
            pending,
        });
    }
    out.sort_by(|a, b| a.destination.cmp(&b.destination));
    Ok(out)
}

fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// What a send did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendReport {
    /// Answers the queue accepted, in the order sent.
    pub sent: Vec<ImageAnswer>,
    /// Another process was sending this outbox: it sends what is pending.
    pub busy: bool,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    #[error(
        "could not reach the label queue ({error}); {kept} answer(s) are kept in the outbox and sent when it is back"
    )]
    Queue {
        error: BackendError,
        /// Accepted before the failure.
        sent: usize,
        kept: usize,
    },
    #[error("{0}")]
    Outbox(String),
}

/// What the background sender reports.
#[derive(Debug, Clone)]
pub enum SenderEvent {
    /// The queue accepted these answers; `kept` are still in the outbox.
    Sent {
        answers: Vec<ImageAnswer>,
        kept: usize,
    },
    /// Sending failed (why: the backend's own words); `kept` answers wait in the outbox
    /// and are retried in `retry_in`.
    Failed {
        error: String,
        kept: usize,
        retry_in: Duration,
    },
    /// A flush asked for with [`OutboxSender::flush`] is done: how many answers are still
    /// kept, or why the outbox cannot be read. It comes after the `Sent` or `Failed` of the
    /// same attempt, on the same channel, so whoever reads it has seen what was sent.
    Flushed(Result<usize, String>),
}

enum SenderCommand {
    /// Send now, then report [`SenderEvent::Flushed`].
    Flush,
}

/// The sender running in the background of a session: woken when answers are recorded,
/// it sends them, and after a failure retries with backoff (1 s doubling to 30 s, jittered).
pub struct OutboxSender {
    wake: Arc<Notify>,
    commands: mpsc::UnboundedSender<SenderCommand>,
    /// Answers kept in the outbox after the last attempt.
    pub kept: watch::Receiver<usize>,
    task: tokio::task::JoinHandle<()>,
}

/// How long a recorded answer may wait for others to share its message.
pub const LINGER: Duration = Duration::from_millis(300);
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LONGEST_RETRY: Duration = Duration::from_secs(30);

impl OutboxSender {
    /// Starts the sender; it first sends whatever an earlier session left.
    pub fn spawn(
        ctx: AppContext,
        outbox: Outbox,
        events: mpsc::UnboundedSender<SenderEvent>,
    ) -> OutboxSender {
        let wake = Arc::new(Notify::new());
        let (commands, mut rx) = mpsc::unbounded_channel();
        let (kept_tx, kept) = watch::channel(0usize);
        let woken = wake.clone();
        let task = tokio::spawn(async move {
            let mut retry = FIRST_RETRY;
            let mut wait: Option<Duration> = Some(Duration::ZERO);
            loop {
                let mut flushing = false;
                let timer = async {
                    match wait {
                        Some(d) => tokio::time::sleep(d).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = timer => {}
                    _ = woken.notified() => {
                        // Let the rest of a burst (a round's last key, a quick correction) join.
                        tokio::time::sleep(LINGER).await;
                    }
                    cmd = rx.recv() => match cmd {
                        Some(SenderCommand::Flush) => flushing = true,
                        None => return,
                    },
                }
                let result = outbox.send_pending(&ctx).await;
                let o = outbox.clone();
                let left: Result<usize, String> =
                    match tokio::task::spawn_blocking(move || o.pending().map(|p| p.len())).await {
                        Ok(Ok(n)) => Ok(n),
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(e) => Err(format!("the outbox task failed: {e}")),
                    };
                let kept_now = left.as_ref().copied().unwrap_or(0);
                kept_tx.send_replace(kept_now);
                match result {
                    Ok(report) => {
                        retry = FIRST_RETRY;
                        // Someone else's process may be sending them: look again soon.
                        wait = (kept_now > 0).then_some(FIRST_RETRY);
                        let sent = SenderEvent::Sent {
                            answers: report.sent,
                            kept: kept_now,
                        };
                        if matches!(&sent, SenderEvent::Sent { answers, .. } if !answers.is_empty())
                            && events.send(sent).is_err()
                        {
                            return;
                        }
                    }
                    Err(e) => {
                        let (kept, error) = match &e {
                            SendError::Queue { kept, error, .. } => (*kept, error.to_string()),
                            SendError::Outbox(why) => (kept_now, why.clone()),
                        };
                        let delay = jitter(retry);
                        wait = Some(delay);
                        retry = (retry * 2).min(LONGEST_RETRY);
                        let failed = SenderEvent::Failed {
                            error,
                            kept,
                            retry_in: delay,
                        };
                        if events.send(failed).is_err() {
                            return;
                        }
                    }
                }
                if flushing && events.send(SenderEvent::Flushed(left)).is_err() {
                    return;
                }
            }
        });
        OutboxSender {
            wake,
            commands,
            kept,
            task,
        }
    }

    /// Answers were recorded: send them soon.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Sends now; [`SenderEvent::Flushed`] reports the outcome.
    pub fn flush(&self) -> Result<(), String> {
        self.commands
            .send(SenderCommand::Flush)
            .map_err(|_| "the outbox sender has stopped".to_string())
    }

    pub fn stop(&self) {
        self.task.abort();
    }
}

/// ±50 % so many sessions coming back after an outage do not retry in lockstep.
fn jitter(d: Duration) -> Duration {
    d.mul_f64(0.5 + fastrand::f64())
}

/// Answers pending per destination other than `current`, for telling the user.
pub fn elsewhere(state_dir: &Path, current: &str) -> HashMap<String, usize> {
    all_journals(state_dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|j| j.destination != current && !j.pending.is_empty())
        .map(|j| (j.destination, j.pending.len()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::label_file::{Answer, AnswerKind, Vote};

    fn given(image: &str, id: &str) -> ImageAnswer {
        ImageAnswer {
            image: image.into(),
            answer: Answer {
                kind: AnswerKind::Vote(Vote::HotDog),
                at: "2026-12-01T07:00:00.000Z".into(),
                labeller: "ann".into(),
                answer_id: id.into(),
            },
        }
    }

    #[test]
    fn answers_stay_until_marked_sent() {
        let dir = tempfile::tempdir().unwrap();
        let o = Outbox::open(dir.path(), "local /x label queue q").unwrap();
        o.record(&[given("a.jpg", "1"), given("b.jpg", "2")])
            .unwrap();
        o.record(&[given("c.jpg", "3")]).unwrap();
        let again = Outbox::open(dir.path(), "local /x label queue q").unwrap();
        assert_eq!(again.pending().unwrap().len(), 3);
        again.mark_sent(&["2".into()]).unwrap();
        let ids: Vec<String> = o
            .pending()
            .unwrap()
            .into_iter()
            .map(|a| a.answer.answer_id)
            .collect();
        assert_eq!(ids, vec!["1".to_string(), "3".to_string()]);
        o.mark_sent(&["1".into(), "3".into()]).unwrap();
        assert!(o.pending().unwrap().is_empty());
        // Compacted to the header once empty.
        let text = std::fs::read_to_string(o.path()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        let mode = std::fs::metadata(o.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(dir.path().join("outbox"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
    }

    #[test]
    fn a_torn_last_line_loses_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let o = Outbox::open(dir.path(), "d").unwrap();
        o.record(&[given("a.jpg", "1")]).unwrap();
        // A crash in the middle of an append.
        let mut f = OpenOptions::new().append(true).open(o.path()).unwrap();
        f.write_all(br#"{"op":"add","image":"b.jp"#).unwrap();
        drop(f);
        o.record(&[given("c.jpg", "3")]).unwrap();
        let images: Vec<String> = o.pending().unwrap().into_iter().map(|a| a.image).collect();
        assert_eq!(images, vec!["a.jpg".to_string(), "c.jpg".to_string()]);
    }

    #[test]
    fn destinations_keep_their_own_answers() {
        let dir = tempfile::tempdir().unwrap();
        let a = Outbox::open(dir.path(), "aws one").unwrap();
        let b = Outbox::open(dir.path(), "aws two").unwrap();
        a.record(&[given("a.jpg", "1")]).unwrap();
        assert!(b.pending().unwrap().is_empty());
        let all = all_journals(dir.path()).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(
            elsewhere(dir.path(), "aws two"),
            HashMap::from([("aws one".to_string(), 1)])
        );
    }

    #[test]
    fn concurrent_writers_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let o = Outbox::open(dir.path(), "d").unwrap();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        o.record(&[given("x.jpg", &format!("{t}-{i}"))]).unwrap();
                        if i % 10 == 9 {
                            o.mark_sent(&[format!("{t}-{}", i - 9)]).unwrap();
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let o = Outbox::open(dir.path(), "d").unwrap();
        assert_eq!(o.pending().unwrap().len(), 4 * 50 - 4 * 5);
    }
}
