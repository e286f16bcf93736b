//! Scratch resources for one bench run: its own queues (`hotdog-bench-<id>-…`) and an object
//! store view confined to `bench-<id>/` in the same bucket, so the user's images, labels and
//! logs are never touched. `Scratch::cleanup` deletes every queue and object the run made.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;

use crate::backend::{
    Backend, BackendError, BackendKind, ETag, Fetched, ListPage, Object, ObjectMeta, ObjectStore,
    PutCondition, Result,
};
use crate::config::ResourceNames;
use crate::service::context::{self, AppContext, SetupReport};

/// Deletes in flight at once during cleanup (moto and S3 both dislike hundreds).
const DELETE_CONCURRENCY: usize = 16;

/// An object store seen through a key prefix: every key is `<prefix><key>` underneath, and
/// listings strip the prefix again. The worker and the clients run on it unchanged.
#[derive(Clone)]
pub struct PrefixedStore {
    inner: Arc<dyn ObjectStore>,
    prefix: String,
}

impl PrefixedStore {
    pub fn new(inner: Arc<dyn ObjectStore>, prefix: String) -> PrefixedStore {
        PrefixedStore { inner, prefix }
    }

    fn full(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn strip(&self, mut meta: ObjectMeta) -> Option<ObjectMeta> {
        meta.key = meta.key.strip_prefix(&self.prefix)?.to_string();
        Some(meta)
    }
}

#[async_trait]
impl ObjectStore for PrefixedStore {
    async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
        condition: PutCondition,
    ) -> Result<ETag> {
        self.inner
            .put(&self.full(key), bytes, content_type, condition)
            .await
    }

    async fn get(&self, key: &str) -> Result<Option<Object>> {
        self.inner.get(&self.full(key)).await
    }

    async fn get_if_changed(&self, key: &str, etag: &str) -> Result<Fetched> {
        self.inner.get_if_changed(&self.full(key), etag).await
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>> {
        Ok(self
            .inner
            .head(&self.full(key))
            .await?
            .and_then(|m| self.strip(m)))
    }

    async fn list_page(&self, prefix: &str, continuation: Option<String>) -> Result<ListPage> {
        // Continuation tokens are opaque and already refer to the inner store's keys.
        let page = self
            .inner
            .list_page(&self.full(prefix), continuation)
            .await?;
        Ok(ListPage {
            objects: page
                .objects
                .into_iter()
                .filter_map(|m| self.strip(m))
                .collect(),
            next: page.next,
        })
    }

    async fn list_all(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        // The inner store's own `list_all` may be faster than paging (the local one is).
        let all = self.inner.list_all(&self.full(prefix)).await?;
        Ok(all.into_iter().filter_map(|m| self.strip(m)).collect())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.inner.delete(&self.full(key)).await
    }

    async fn ensure_bucket(&self) -> Result<bool> {
        self.inner.ensure_bucket().await
    }
}

/// One run's scratch world. Queues made outside `open` (clients' reply queues) are
/// registered with `track_queue` so cleanup finds them even when the run fails half-way.
pub struct Scratch {
    /// Short random id in every scratch name.
    pub id: String,
    /// The user's context, untouched.
    pub user_ctx: AppContext,
    /// The same backend with scratch queues and the `bench-<id>/` store view.
    pub ctx: AppContext,
    /// Key prefix of the scratch objects in the real store.
    pub prefix: String,
    queues: Mutex<Vec<String>>,
}

impl Scratch {
    pub async fn open(user_ctx: &AppContext) -> Result<Scratch> {
        let id: String = uuid::Uuid::new_v4()
            .simple()
            .to_string()
            .chars()
            .take(8)
            .collect();
        let prefix = format!("bench-{id}/");
        // A missing bucket is named now, not after the worker's retries (one cheap listing).
        user_ctx.backend.store.list_page(&prefix, None).await?;
        let names = ResourceNames {
            bucket: user_ctx.names.bucket.clone(),
            request_queue: format!("hotdog-bench-{id}-requests"),
            response_queue: format!("hotdog-bench-{id}-responses"),
            label_queue: format!("hotdog-bench-{id}-labels"),
        };
        let backend = Backend {
            kind: user_ctx.backend.kind.clone(),
            store: Arc::new(PrefixedStore::new(
                user_ctx.backend.store.clone(),
                prefix.clone(),
            )),
            queues: user_ctx.backend.queues.clone(),
        };
        let scratch = Scratch {
            id,
            user_ctx: user_ctx.clone(),
            ctx: AppContext {
                backend: backend.clone(),
                resources: user_ctx.resources.clone(),
                names: names.clone(),
                ..user_ctx.clone()
            },
            prefix,
            queues: Mutex::new(Vec::new()),
        };
        let mut report = SetupReport::default();
        let resources = context::ensure_queues(&backend, &names, &mut report).await;
        // Register what exists whatever happened, so a half-made set is still removed.
        for name in [
            &names.request_queue,
            &names.response_queue,
            &names.label_queue,
        ] {
            for n in [name.clone(), ResourceNames::dlq(name)] {
                if let Ok(Some(url)) = backend.queues.queue_url(&n).await {
                    scratch.track_queue(url);
                }
            }
        }
        let mut scratch = scratch;
        match resources {
            Ok(r) => {
                scratch.ctx.resources = r;
                Ok(scratch)
            }
            Err(e) => {
                scratch.cleanup().await;
                Err(e)
            }
        }
    }

    pub fn track_queue(&self, url: String) {
        if let Ok(mut q) = self.queues.lock() {
            q.push(url);
        }
    }

    /// Deletes every tracked queue and every object under the scratch prefix. Best effort:
    /// a failure is reported on stderr with what is left, and the rest still goes.
    pub async fn cleanup(&self) {
        let queues: Vec<String> = self.queues.lock().map(|q| q.clone()).unwrap_or_default();
        let mut left = Vec::new();
        for url in queues {
            match self.ctx.backend.queues.delete_queue(&url).await {
                Ok(()) | Err(BackendError::NotFound { .. }) => {}
                Err(e) => left.push(format!("queue {url} ({e})")),
            }
        }
        let store = &self.user_ctx.backend.store;
        match store.list_all(&self.prefix).await {
            Ok(objects) => {
                let failed: Vec<String> = futures::stream::iter(objects)
                    .map(|o| async move {
                        store
                            .delete(&o.key)
                            .await
                            .err()
                            .map(|e| format!("object {} ({e})", o.key))
                    })
                    .buffer_unordered(DELETE_CONCURRENCY)
                    .filter_map(|r| async move { r })
                    .collect()
                    .await;
                left.extend(failed);
            }
            Err(e) => left.push(format!("objects under {} ({e})", self.prefix)),
        }
        if let BackendKind::Local { data_dir } = &self.ctx.backend.kind {
            // The local store keeps the (now empty) directories of deleted keys; the scratch
            // prefix is one plain path component under `objects/`, so remove its empty tree.
            remove_empty_dirs(
                &data_dir
                    .join("objects")
                    .join(self.prefix.trim_end_matches('/')),
            );
        }
        if !left.is_empty() {
            eprintln!(
                "warning: bench cleanup could not remove {} scratch resources: {}",
                left.len(),
                left.join(", ")
            );
        }
    }
}

/// Removes `dir` and its subdirectories bottom-up if they are empty; never removes a file.
fn remove_empty_dirs(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_empty_dirs(&e.path());
            }
        }
    }
    // Fails (and is meant to) when something is still inside.
    let _ = std::fs::remove_dir(dir);
}
