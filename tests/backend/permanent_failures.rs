//! A failure that retrying cannot fix (here: the store refuses every write as access
//! denied) must not hold a worker's poller for ever: the message goes to the dead-letter
//! queue with an event that says why, and the poller goes on serving. Transient failures
//! (outages) are still held and retried in place: see `outages.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use hotdog_tui::backend::{
    Backend, BackendError, ETag, Fetched, ListPage, Object, ObjectMeta, ObjectStore,
    OutgoingMessage, PutCondition,
};
use hotdog_tui::domain::label_file::Vote;
use hotdog_tui::service::context::AppContext;
use hotdog_tui::worker::{self, WorkerConfig};

use crate::common;

/// Delegates to a real store but, while `deny` is set, refuses writes under `logs/` and
/// `labels/`.
struct DenyingStore(Arc<dyn ObjectStore>, Arc<AtomicBool>);

#[async_trait]
impl ObjectStore for DenyingStore {
    async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
        condition: PutCondition,
    ) -> Result<ETag, BackendError> {
        let denied = key.starts_with("logs/") || key.starts_with("labels/");
        if denied && self.1.load(Ordering::SeqCst) {
            return Err(BackendError::AccessDenied {
                what: key.to_string(),
                detail: "s3:PutObject refused by the test's policy".into(),
            });
        }
        self.0.put(key, bytes, content_type, condition).await
    }
    async fn get(&self, key: &str) -> Result<Option<Object>, BackendError> {
        self.0.get(key).await
    }
    async fn get_if_changed(&self, key: &str, etag: &str) -> Result<Fetched, BackendError> {
        self.0.get_if_changed(key, etag).await
    }
    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, BackendError> {
        self.0.head(key).await
    }
    async fn list_page(
        &self,
        prefix: &str,
        continuation: Option<String>,
    ) -> Result<ListPage, BackendError> {
        self.0.list_page(prefix, continuation).await
    }
    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        self.0.delete(key).await
    }
    async fn ensure_bucket(&self) -> Result<bool, BackendError> {
        self.0.ensure_bucket().await
    }
}

async fn wait_for_dead_letters(ctx: &AppContext, dlq: &str, queue: &str, want: u64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let dead = ctx.backend.queues.depth(dlq).await.unwrap();
        let left = ctx.backend.queues.depth(queue).await.unwrap();
        if dead.visible == want && left.visible + left.in_flight == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still held after 20 s: dead-letter {dead:?}, queue {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn permanent_failures_reach_the_dead_letter_queue(b: Backend) {
    let real = b.store.clone();
    real.put(
        "images/a.png",
        Bytes::from(common::png(4, 4, [200, 0, 0])),
        "image/png",
        PutCondition::IfAbsent,
    )
    .await
    .unwrap();
    let deny = Arc::new(AtomicBool::new(true));
    let denied = Backend {
        store: Arc::new(DenyingStore(real.clone(), deny.clone())),
        ..b
    };
    let ctx = common::app_context(denied, "ann").await;
    let worker = worker::spawn(
        ctx.clone(),
        WorkerConfig {
            pollers: 1,
            wait: Duration::from_secs(1),
            ..Default::default()
        },
    );
    let mut events = worker.events();
    hotdog_tui::service::labeller::submit_round(&ctx, &[("a.png".into(), Vote::HotDog)])
        .await
        .unwrap();
    ctx.backend
        .queues
        .send(&ctx.resources.requests, OutgoingMessage::plain("1 2 3"))
        .await
        .unwrap();
    wait_for_dead_letters(&ctx, &ctx.resources.labels_dlq, &ctx.resources.labels, 1).await;
    wait_for_dead_letters(
        &ctx,
        &ctx.resources.requests_dlq,
        &ctx.resources.requests,
        1,
    )
    .await;
    // The worker counts and reports a dead letter after moving it: wait for both.
    let mut said: Vec<String> = Vec::new();
    let told = |said: &[String]| {
        said.iter()
            .any(|t| t.contains("access denied") && t.contains("-labels-dlq"))
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while (!told(&said) || worker.status.borrow().dead_lettered < 2) && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(200), events.recv()).await {
            Ok(Ok(e)) => said.push(e.text),
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) | Err(_) => {}
            Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => break,
        }
    }
    assert!(told(&said), "{said:#?}");
    assert_eq!(worker.status.borrow().dead_lettered, 2);
    // The single poller is free again: once writes are allowed, the next answer lands.
    deny.store(false, Ordering::SeqCst);
    hotdog_tui::service::labeller::submit_round(&ctx, &[("a.png".into(), Vote::NotHotDog)])
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while real.get("labels/a.png.txt").await.unwrap().is_none() {
        assert!(Instant::now() < deadline, "the poller is still stuck");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_permanent_failures_reach_the_dead_letter_queue() {
    let (b, _dir) = common::local_backend();
    permanent_failures_reach_the_dead_letter_queue(b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_permanent_failures_reach_the_dead_letter_queue() {
    permanent_failures_reach_the_dead_letter_queue(common::aws_backend().await).await;
}
