//! The two ports the app talks to — a message queue and an object store — and the two
//! implementations behind them: `local` (files + SQLite, the zero-setup default) and `aws`
//! (SQS + S3 through the AWS SDK). Nothing above this module knows which one runs.

pub mod aws;
pub mod counted;
pub mod local;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

/// Why a backend call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BackendError {
    /// A conditional write lost the race (HTTP 412 / 409): someone else wrote first.
    #[error("the object changed or already exists (conditional write lost the race)")]
    PreconditionFailed,
    #[error("{what} does not exist")]
    NotFound { what: Missing },
    #[error(
        "access denied to {what}: {detail}. Check the credentials and the IAM policy (see README, \"IAM policies\")"
    )]
    AccessDenied { what: String, detail: String },
    #[error(
        "cannot reach the {service}: {detail}. Check the endpoint and network; retrying may help"
    )]
    Unavailable {
        service: &'static str,
        detail: String,
    },
    #[error("invalid request: {0}")]
    Invalid(String),
    /// A read-modify-write that kept losing to other writers and gave up.
    #[error(
        "gave up writing {key} after {attempts} conflicting writes: too many writers on one file"
    )]
    Contended { key: String, attempts: u32 },
    #[error("{0}")]
    Other(String),
}

/// What a `NotFound` is missing: callers branch on the kind (a missing bucket or queue is
/// a set-up problem; a missing object is data), never on message text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    Bucket(String),
    Queue(String),
    Object(String),
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Missing::Bucket(name) => write!(f, "bucket {name}"),
            Missing::Queue(name) => write!(f, "queue {name}"),
            Missing::Object(key) => write!(f, "{key}"),
        }
    }
}

impl BackendError {
    /// Worth retrying later (outage, throttling) rather than a permanent refusal.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            BackendError::Unavailable { .. } | BackendError::Other(_)
        )
    }
}

pub type Result<T> = std::result::Result<T, BackendError>;

/// An entity tag: opaque, compared only with tags from the same backend.
pub type ETag = String;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub key: String,
    pub etag: ETag,
    pub size: u64,
}

#[derive(Debug, Clone)]
pub struct Object {
    pub bytes: Bytes,
    pub etag: ETag,
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutCondition {
    /// Overwrite whatever is there.
    None,
    /// Create-only (`If-None-Match: *`).
    IfAbsent,
    /// Replace only this version (`If-Match: <etag>`).
    IfMatch(ETag),
}

#[derive(Debug, Clone)]
pub enum Fetched {
    Changed(Object),
    /// The object still has the given ETag (HTTP 304).
    Unchanged,
    Missing,
}

#[derive(Debug, Clone, Default)]
pub struct ListPage {
    pub objects: Vec<ObjectMeta>,
    /// Pass back to get the next page; `None` on the last page.
    pub next: Option<String>,
}

/// The object-store port (S3 semantics).
#[async_trait]
pub trait ObjectStore: Send + Sync {
    async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
        condition: PutCondition,
    ) -> Result<ETag>;
    async fn get(&self, key: &str) -> Result<Option<Object>>;
    /// Fetches the object only if its ETag differs from `etag`.
    async fn get_if_changed(&self, key: &str, etag: &str) -> Result<Fetched>;
    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>>;
    /// One page of keys under `prefix`, in key order.
    async fn list_page(&self, prefix: &str, continuation: Option<String>) -> Result<ListPage>;
    async fn delete(&self, key: &str) -> Result<()>;
    /// Creates the bucket if missing; `true` when it was created.
    async fn ensure_bucket(&self) -> Result<bool>;

    /// Every key under `prefix`, following pagination.
    async fn list_all(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        let mut all = Vec::new();
        let mut next = None;
        loop {
            let page = self.list_page(prefix, next).await?;
            all.extend(page.objects);
            match page.next {
                Some(n) => next = Some(n),
                None => return Ok(all),
            }
        }
    }
}

/// A message to send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub body: String,
    pub attributes: BTreeMap<String, String>,
}

impl OutgoingMessage {
    pub fn plain(body: impl Into<String>) -> Self {
        OutgoingMessage {
            body: body.into(),
            attributes: BTreeMap::new(),
        }
    }
}

/// A message as received: delete it with its receipt when done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub message_id: String,
    pub body: String,
    pub attributes: BTreeMap<String, String>,
    pub receipt: String,
    /// 1 on the first delivery.
    pub receive_count: u32,
    /// When the message was first sent, in milliseconds since the Unix epoch.
    pub sent_at_ms: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepth {
    /// Waiting to be received.
    pub visible: u64,
    /// Received and not yet deleted.
    pub in_flight: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueInfo {
    pub name: String,
    pub url: String,
    /// Milliseconds since the Unix epoch of the last change to the queue's attributes.
    pub last_modified_ms: i64,
}

/// How a queue is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    pub name: String,
    /// Dead-letter queue (by URL) and the receive count after which messages move there.
    pub dead_letter: Option<(String, u32)>,
    pub visibility_timeout: Duration,
}

/// Receive count after which a message moves to its dead-letter queue.
pub const MAX_RECEIVES: u32 = 5;
/// SQS allows at most 10 messages per receive and per batch.
pub const MAX_BATCH: usize = 10;
/// Longest long poll SQS allows.
pub const LONG_POLL: Duration = Duration::from_secs(20);

/// The queue port (SQS semantics: at-least-once, visibility timeouts, batches of 10).
#[async_trait]
pub trait MessageQueue: Send + Sync {
    /// Creates the queue if missing (idempotent); returns its URL and whether it was created.
    async fn ensure_queue(&self, spec: &QueueSpec) -> Result<(String, bool)>;
    /// The URL of an existing queue, `None` if missing.
    async fn queue_url(&self, name: &str) -> Result<Option<String>>;
    async fn delete_queue(&self, url: &str) -> Result<()>;
    async fn list_queues(&self, prefix: &str) -> Result<Vec<QueueInfo>>;
    /// Marks the queue as in use (updates its last-modified time), so pruning spares it.
    async fn touch_queue(&self, url: &str) -> Result<()>;
    async fn send(&self, url: &str, message: OutgoingMessage) -> Result<String>;
    /// Sends up to 10 messages; returns, per message, its id or why it failed.
    async fn send_batch(
        &self,
        url: &str,
        messages: Vec<OutgoingMessage>,
    ) -> Result<Vec<Result<String>>>;
    /// Long-polls up to `wait` for up to `max` (≤ 10) messages.
    async fn receive(
        &self,
        url: &str,
        max: usize,
        wait: Duration,
        visibility: Duration,
    ) -> Result<Vec<ReceivedMessage>>;
    /// Keeps a received message hidden for `visibility` from now (SQS
    /// ChangeMessageVisibility): a worker retrying through an outage holds on to its work.
    async fn extend_visibility(&self, url: &str, receipt: &str, visibility: Duration)
    -> Result<()>;
    /// Deletes up to 10 received messages by receipt.
    async fn delete_batch(&self, url: &str, receipts: &[String]) -> Result<()>;
    async fn depth(&self, url: &str) -> Result<QueueDepth>;
}

/// Which backend runs, and how to describe it on the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendKind {
    Local {
        data_dir: std::path::PathBuf,
    },
    Aws {
        region: String,
        endpoint: Option<String>,
        bucket: String,
    },
}

impl BackendKind {
    pub fn describe(&self) -> String {
        match self {
            BackendKind::Local { data_dir } => format!("local {}", data_dir.display()),
            BackendKind::Aws {
                region,
                endpoint,
                bucket,
            } => match endpoint {
                Some(e) => format!("aws {region} {e} s3://{bucket}"),
                None => format!("aws {region} s3://{bucket}"),
            },
        }
    }
}

/// One backend: both ports plus what it is.
#[derive(Clone)]
pub struct Backend {
    pub kind: BackendKind,
    pub store: Arc<dyn ObjectStore>,
    pub queues: Arc<dyn MessageQueue>,
}
