//! `bench --latency-ms N`: a loopback TCP proxy in front of the endpoint that delays every
//! chunk by N ms in each direction (and each new connection by one round trip, its TCP
//! handshake), so a local moto or MinIO answers like a service N ms away. The bench's
//! clients and worker are pointed at the proxy; the figures then show what round trips,
//! batching and concurrency are worth where SQS and S3 really are.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, anyhow};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Largest chunk read at once (the same as the reference proxy's).
const CHUNK: usize = 64 * 1024;

/// A running proxy; dropping it stops it (connections in progress end with it).
pub struct LatencyProxy {
    /// `http://127.0.0.1:<port>`, to use as the endpoint URL.
    pub endpoint: String,
    pub one_way: Duration,
    connections: Arc<AtomicU64>,
    accept: JoinHandle<()>,
}

impl Drop for LatencyProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// `host:port` of an `http://` endpoint URL. HTTPS cannot be proxied this way (the
/// certificate names the real host), and is refused with what to do instead.
pub fn target_of(endpoint: &str) -> anyhow::Result<String> {
    let rest = endpoint.strip_prefix("http://").ok_or_else(|| {
        anyhow!(
            "--latency-ms needs a plain http:// endpoint (moto, LocalStack, MinIO on loopback); \
             {endpoint:?} is not one — to measure real AWS, run the bench from a machine in \
             another region instead"
        )
    })?;
    let host_port = rest.split('/').next().unwrap_or(rest);
    if host_port.is_empty() {
        return Err(anyhow!("the endpoint {endpoint:?} names no host"));
    }
    Ok(if host_port.contains(':') {
        host_port.to_string()
    } else {
        format!("{host_port}:80")
    })
}

impl LatencyProxy {
    /// Listens on a free loopback port and forwards to `target` (`host:port`).
    pub async fn start(target: String, one_way: Duration) -> anyhow::Result<LatencyProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot open a loopback port for the latency proxy")?;
        let port = listener.local_addr()?.port();
        let connections = Arc::new(AtomicU64::new(0));
        let counted = connections.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::Relaxed);
                let target = target.clone();
                tokio::spawn(async move {
                    // The TCP handshake's round trip.
                    tokio::time::sleep(2 * one_way).await;
                    let Ok(server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::join!(pipe(cr, sw, one_way), pipe(sr, cw, one_way));
                });
            }
        });
        Ok(LatencyProxy {
            endpoint: format!("http://127.0.0.1:{port}"),
            one_way,
            connections,
            accept,
        })
    }

    /// Connections opened through the proxy so far (each paid one extra round trip).
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }
}

/// Copies `from` to `to`, each chunk `delay` after it was read, in order; the end of the
/// stream is passed on after the same delay.
async fn pipe<R, W>(mut from: R, mut to: W, delay: Duration)
where
    R: AsyncReadExt + Unpin,
    W: AsyncWriteExt + Unpin + Send + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let writer = tokio::spawn(async move {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if chunk.is_empty() {
                break;
            }
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    });
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = from.read(&mut buf).await.unwrap_or(0);
        if tx
            .send((Instant::now() + delay, buf[..n].to_vec()))
            .is_err()
            || n == 0
        {
            break;
        }
    }
    drop(tx);
    let _ = writer.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_endpoints_are_proxied() {
        assert_eq!(
            target_of("http://127.0.0.1:5000").unwrap(),
            "127.0.0.1:5000"
        );
        assert_eq!(target_of("http://localhost/").unwrap(), "localhost:80");
        let e = target_of("https://s3.eu-west-1.amazonaws.com")
            .unwrap_err()
            .to_string();
        assert!(e.contains("http://"), "{e}");
    }

    #[tokio::test]
    async fn bytes_arrive_intact_and_late_in_both_directions() {
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let echo_addr = echo.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut s, _) = echo.accept().await.unwrap();
            let mut buf = vec![0u8; 1024];
            loop {
                let n = s.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                s.write_all(&buf[..n]).await.unwrap();
            }
        });
        let one_way = Duration::from_millis(30);
        let proxy = LatencyProxy::start(echo_addr, one_way).await.unwrap();
        let addr = proxy.endpoint.trim_start_matches("http://").to_string();
        let started = std::time::Instant::now();
        let mut c = TcpStream::connect(&addr).await.unwrap();
        c.write_all(b"hello").await.unwrap();
        let mut got = [0u8; 5];
        c.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"hello");
        // Handshake (2 × one way) plus there and back (2 × one way): never less.
        assert!(started.elapsed() >= 4 * one_way, "{:?}", started.elapsed());
    }
}
