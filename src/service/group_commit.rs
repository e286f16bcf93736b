//! Group commit: work handed in for one key (a label file, an index shard) while a write
//! of that key is in flight waits, and all of it goes into the next write together. One
//! writer task per busy key; callers await their own item's result.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Writes a key's gathered items; returns one result per item, in order.
pub type WriteFn<I, R> = Arc<dyn Fn(String, Vec<I>) -> BoxFuture<Vec<R>> + Send + Sync>;

type Queues<I, R> = Arc<Mutex<HashMap<String, Vec<(I, oneshot::Sender<R>)>>>>;

pub struct GroupCommit<I, R> {
    /// A key is present while its writer task runs; its vector holds the items waiting
    /// for the next write.
    queues: Queues<I, R>,
    write: WriteFn<I, R>,
}

impl<I: Send + 'static, R: Send + 'static> GroupCommit<I, R> {
    pub fn new(write: WriteFn<I, R>) -> Self {
        GroupCommit {
            queues: Arc::new(Mutex::new(HashMap::new())),
            write,
        }
    }

    /// Hands `item` in for `key` and waits for the write that carries it. `None` only if
    /// the writer task died (a panic): the caller reports that as a failure.
    pub async fn submit(&self, key: &str, item: I) -> Option<R> {
        let (tx, rx) = oneshot::channel();
        let lead = {
            let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
            match queues.get_mut(key) {
                Some(waiting) => {
                    waiting.push((item, tx));
                    false
                }
                None => {
                    queues.insert(key.to_string(), vec![(item, tx)]);
                    true
                }
            }
        };
        if lead {
            // A task of its own, so the write finishes (and answers everyone waiting) even
            // when the caller that started it is dropped.
            tokio::spawn(drain(
                self.queues.clone(),
                self.write.clone(),
                key.to_string(),
            ));
        }
        rx.await.ok()
    }
}

/// Removes the key if the writer task ends without emptying it (a panic), so the
/// waiting callers hear `None` instead of waiting forever.
struct Release<I, R> {
    queues: Queues<I, R>,
    key: String,
    armed: bool,
}

impl<I, R> Drop for Release<I, R> {
    fn drop(&mut self) {
        if self.armed {
            let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
            queues.remove(&self.key);
        }
    }
}

async fn drain<I, R>(queues: Queues<I, R>, write: WriteFn<I, R>, key: String) {
    let mut release = Release {
        queues: queues.clone(),
        key: key.clone(),
        armed: true,
    };
    loop {
        let batch = {
            let mut q = queues.lock().unwrap_or_else(|e| e.into_inner());
            match q.get_mut(&key) {
                Some(waiting) if !waiting.is_empty() => std::mem::take(waiting),
                _ => {
                    q.remove(&key);
                    release.armed = false;
                    return;
                }
            }
        };
        let (items, replies): (Vec<I>, Vec<oneshot::Sender<R>>) = batch.into_iter().unzip();
        let results = write(key.clone(), items).await;
        for (reply, result) in replies.into_iter().zip(results) {
            // The caller may have gone (its batch was dropped); the write stands.
            let _ = reply.send(result);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Items waiting for `key`'s next write.
    fn waiting<I, R>(group: &GroupCommit<I, R>, key: &str) -> usize {
        let queues = group.queues.lock().unwrap();
        queues.get(key).map_or(0, Vec::len)
    }

    #[tokio::test]
    async fn waiting_items_go_into_one_write() {
        let writes = Arc::new(AtomicUsize::new(0));
        let counter = writes.clone();
        // Each write waits for the test to let it go, so no clock decides what it carries.
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let held = gate.clone();
        let group: Arc<GroupCommit<u32, u32>> =
            Arc::new(GroupCommit::new(Arc::new(move |_key, items: Vec<u32>| {
                counter.fetch_add(1, Ordering::SeqCst);
                let held = held.clone();
                Box::pin(async move {
                    held.acquire().await.unwrap().forget();
                    let n = items.len() as u32;
                    items.into_iter().map(|i| i * 100 + n).collect()
                })
            })));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..10u32 {
            let g = group.clone();
            tasks.spawn(async move { (i, g.submit("k", i).await) });
            if i == 0 {
                // Item 0's write is in flight before the others come.
                for _ in 0..10_000 {
                    if writes.load(Ordering::SeqCst) > 0 {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                assert_eq!(writes.load(Ordering::SeqCst), 1, "item 0's write started");
            }
        }
        for _ in 0..10_000 {
            if waiting(&group, "k") >= 9 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(
            waiting(&group, "k"),
            9,
            "the nine wait for the write in flight"
        );
        gate.add_permits(3);
        let mut got = Vec::new();
        while let Some(r) = tasks.join_next().await {
            got.push(r.unwrap());
        }
        // The first write carries item 0 alone; the nine that waited share the second.
        assert_eq!(writes.load(Ordering::SeqCst), 2);
        for (i, r) in got {
            assert_eq!(r, Some(i * 100 + if i == 0 { 1 } else { 9 }));
        }
        // The key is released: the next item starts a new write.
        assert_eq!(group.submit("k", 7).await, Some(701));
        assert_eq!(writes.load(Ordering::SeqCst), 3);
    }
}
