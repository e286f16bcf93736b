//! Request counting on the ports: a `Backend` seen through `counted` tallies every call it
//! passes on, per operation, so a bench can say how many requests an operation took instead
//! of inferring it from timings. Each call of a port method is one request to SQS or S3
//! (`list_all` counts its pages).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use super::{
    Backend, ETag, Fetched, ListPage, MessageQueue, Object, ObjectMeta, ObjectStore,
    OutgoingMessage, PutCondition, QueueDepth, QueueInfo, QueueSpec, ReceivedMessage, Result,
};

/// One kind of request to the store or the queue service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Request {
    Put,
    Get,
    GetIfChanged,
    Head,
    List,
    Delete,
    EnsureBucket,
    EnsureQueue,
    QueueUrl,
    DeleteQueue,
    ListQueues,
    TouchQueue,
    Send,
    SendBatch,
    Receive,
    ExtendVisibility,
    DeleteBatch,
    Depth,
}

impl Request {
    const ALL: [Request; 18] = [
        Request::Put,
        Request::Get,
        Request::GetIfChanged,
        Request::Head,
        Request::List,
        Request::Delete,
        Request::EnsureBucket,
        Request::EnsureQueue,
        Request::QueueUrl,
        Request::DeleteQueue,
        Request::ListQueues,
        Request::TouchQueue,
        Request::Send,
        Request::SendBatch,
        Request::Receive,
        Request::ExtendVisibility,
        Request::DeleteBatch,
        Request::Depth,
    ];

    /// The name `bench --json` uses (the S3/SQS action it stands for, in snake case).
    pub fn name(self) -> &'static str {
        match self {
            Request::Put => "put_object",
            Request::Get => "get_object",
            Request::GetIfChanged => "get_object_if_changed",
            Request::Head => "head_object",
            Request::List => "list_objects",
            Request::Delete => "delete_object",
            Request::EnsureBucket => "ensure_bucket",
            Request::EnsureQueue => "ensure_queue",
            Request::QueueUrl => "get_queue_url",
            Request::DeleteQueue => "delete_queue",
            Request::ListQueues => "list_queues",
            Request::TouchQueue => "touch_queue",
            Request::Send => "send_message",
            Request::SendBatch => "send_message_batch",
            Request::Receive => "receive_message",
            Request::ExtendVisibility => "change_message_visibility",
            Request::DeleteBatch => "delete_message_batch",
            Request::Depth => "get_queue_attributes",
        }
    }
}

/// Requests made through one counted backend, per kind. Cheap to clone (shared counts).
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    counts: Arc<[AtomicU64; Request::ALL.len()]>,
}

impl RequestCounter {
    fn add(&self, r: Request) {
        self.counts[r as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The counts so far.
    pub fn snapshot(&self) -> RequestCounts {
        let mut by_request = BTreeMap::new();
        for r in Request::ALL {
            let n = self.counts[r as usize].load(Ordering::Relaxed);
            if n > 0 {
                by_request.insert(r.name(), n);
            }
        }
        RequestCounts { by_request }
    }
}

/// A snapshot of a counter: how many of each request, and their total.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestCounts {
    pub by_request: BTreeMap<&'static str, u64>,
}

impl RequestCounts {
    pub fn total(&self) -> u64 {
        self.by_request.values().sum()
    }

    pub fn of(&self, r: Request) -> u64 {
        self.by_request.get(r.name()).copied().unwrap_or(0)
    }

    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &RequestCounts) -> RequestCounts {
        let by_request = self
            .by_request
            .iter()
            .map(|(k, v)| {
                (
                    *k,
                    v.saturating_sub(earlier.by_request.get(k).copied().unwrap_or(0)),
                )
            })
            .filter(|(_, v)| *v > 0)
            .collect();
        RequestCounts { by_request }
    }

    /// `{"total": n, "put_object": n, …}` for `bench --json`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        map.insert("total".into(), self.total().into());
        for (k, v) in &self.by_request {
            map.insert((*k).into(), (*v).into());
        }
        serde_json::Value::Object(map)
    }
}

impl Backend {
    /// The same backend, with every request it makes counted on the returned counter.
    pub fn counted(&self) -> (Backend, RequestCounter) {
        let counter = RequestCounter::default();
        let backend = Backend {
            kind: self.kind.clone(),
            store: Arc::new(CountedStore {
                inner: self.store.clone(),
                counter: counter.clone(),
            }),
            queues: Arc::new(CountedQueue {
                inner: self.queues.clone(),
                counter: counter.clone(),
            }),
        };
        (backend, counter)
    }
}

struct CountedStore {
    inner: Arc<dyn ObjectStore>,
    counter: RequestCounter,
}

#[async_trait]
impl ObjectStore for CountedStore {
    async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
        condition: PutCondition,
    ) -> Result<ETag> {
        self.counter.add(Request::Put);
        self.inner.put(key, bytes, content_type, condition).await
    }

    async fn get(&self, key: &str) -> Result<Option<Object>> {
        self.counter.add(Request::Get);
        self.inner.get(key).await
    }

    async fn get_if_changed(&self, key: &str, etag: &str) -> Result<Fetched> {
        self.counter.add(Request::GetIfChanged);
        self.inner.get_if_changed(key, etag).await
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>> {
        self.counter.add(Request::Head);
        self.inner.head(key).await
    }

    async fn list_page(&self, prefix: &str, continuation: Option<String>) -> Result<ListPage> {
        self.counter.add(Request::List);
        self.inner.list_page(prefix, continuation).await
    }

    // `list_all` is left to the default, page by page, so every page is counted.

    async fn delete(&self, key: &str) -> Result<()> {
        self.counter.add(Request::Delete);
        self.inner.delete(key).await
    }

    async fn ensure_bucket(&self) -> Result<bool> {
        self.counter.add(Request::EnsureBucket);
        self.inner.ensure_bucket().await
    }
}

struct CountedQueue {
    inner: Arc<dyn MessageQueue>,
    counter: RequestCounter,
}

#[async_trait]
impl MessageQueue for CountedQueue {
    async fn ensure_queue(&self, spec: &QueueSpec) -> Result<(String, bool)> {
        self.counter.add(Request::EnsureQueue);
        self.inner.ensure_queue(spec).await
    }

    async fn queue_url(&self, name: &str) -> Result<Option<String>> {
        self.counter.add(Request::QueueUrl);
        self.inner.queue_url(name).await
    }

    async fn delete_queue(&self, url: &str) -> Result<()> {
        self.counter.add(Request::DeleteQueue);
        self.inner.delete_queue(url).await
    }

    async fn list_queues(&self, prefix: &str) -> Result<Vec<QueueInfo>> {
        self.counter.add(Request::ListQueues);
        self.inner.list_queues(prefix).await
    }

    async fn touch_queue(&self, url: &str) -> Result<()> {
        self.counter.add(Request::TouchQueue);
        self.inner.touch_queue(url).await
    }

    async fn send(&self, url: &str, message: OutgoingMessage) -> Result<String> {
        self.counter.add(Request::Send);
        self.inner.send(url, message).await
    }

    async fn send_batch(
        &self,
        url: &str,
        messages: Vec<OutgoingMessage>,
    ) -> Result<Vec<Result<String>>> {
        self.counter.add(Request::SendBatch);
        self.inner.send_batch(url, messages).await
    }

    async fn receive(
        &self,
        url: &str,
        max: usize,
        wait: Duration,
        visibility: Duration,
    ) -> Result<Vec<ReceivedMessage>> {
        self.counter.add(Request::Receive);
        self.inner.receive(url, max, wait, visibility).await
    }

    async fn extend_visibility(
        &self,
        url: &str,
        receipt: &str,
        visibility: Duration,
    ) -> Result<()> {
        self.counter.add(Request::ExtendVisibility);
        self.inner.extend_visibility(url, receipt, visibility).await
    }

    async fn delete_batch(&self, url: &str, receipts: &[String]) -> Result<()> {
        self.counter.add(Request::DeleteBatch);
        self.inner.delete_batch(url, receipts).await
    }

    async fn depth(&self, url: &str) -> Result<QueueDepth> {
        self.counter.add(Request::Depth);
        self.inner.depth(url).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::local;

    #[tokio::test]
    async fn every_port_call_is_counted_once_per_request() {
        let dir = tempfile::tempdir().unwrap();
        let (store, queues, _seeding) = local::open(dir.path()).unwrap();
        let backend = Backend {
            kind: crate::backend::BackendKind::Local {
                data_dir: dir.path().to_path_buf(),
            },
            store: Arc::new(store),
            queues: Arc::new(queues),
        };
        let (counted, counter) = backend.counted();
        counted
            .store
            .put(
                "a",
                Bytes::from_static(b"x"),
                "text/plain",
                PutCondition::None,
            )
            .await
            .unwrap();
        counted.store.get("a").await.unwrap();
        counted.store.get("missing").await.unwrap();
        counted.store.list_all("").await.unwrap();
        let before = counter.snapshot();
        let (url, _) = counted
            .queues
            .ensure_queue(&QueueSpec {
                name: "q".into(),
                dead_letter: None,
                visibility_timeout: Duration::from_secs(30),
            })
            .await
            .unwrap();
        counted
            .queues
            .send(&url, OutgoingMessage::plain("m"))
            .await
            .unwrap();
        let after = counter.snapshot();
        assert_eq!(before.of(Request::Put), 1);
        assert_eq!(before.of(Request::Get), 2);
        assert_eq!(before.of(Request::List), 1);
        assert_eq!(before.total(), 4);
        let queue_part = after.since(&before);
        assert_eq!(queue_part.total(), 2);
        assert_eq!(queue_part.of(Request::Send), 1);
        assert_eq!(
            after.to_json()["total"],
            serde_json::json!(6),
            "{:?}",
            after.to_json()
        );
    }
}
