//! Shared by the integration tests: the two backends under test, built fresh per test.
#![allow(dead_code)] // each test binary uses its own subset
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

pub mod install;
#[path = "moto.rs"]
pub mod moto;

use std::sync::Arc;

use hotdog_tui::backend::{Backend, BackendKind};
use hotdog_tui::config::{BackendChoice, GlobalArgs, ResourceNames, Settings};
use hotdog_tui::service::context::{self, AppContext, SetupReport};

/// A local backend on a fresh temp dir (kept alive by the returned guard).
pub fn local_backend() -> (Backend, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, queues, _) =
        hotdog_tui::backend::local::open(dir.path()).expect("open local backend");
    let backend = Backend {
        kind: BackendKind::Local {
            data_dir: dir.path().to_path_buf(),
        },
        store: Arc::new(store),
        queues: Arc::new(queues),
    };
    (backend, dir)
}

/// An aws backend on moto with a fresh bucket.
pub async fn aws_backend() -> Backend {
    let bucket = moto::unique_name("contract");
    let (store, queues) = moto::aws_backend(&bucket).await;
    Backend {
        kind: BackendKind::Aws {
            region: moto::MOTO_REGION.into(),
            endpoint: Some(moto::moto_endpoint()),
            bucket,
        },
        store: Arc::new(store),
        queues: Arc::new(queues),
    }
}

/// Unique queue names so tests on one moto server never meet.
pub fn unique_names(bucket: &str) -> ResourceNames {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let tag = &tag[..8];
    ResourceNames {
        bucket: bucket.to_string(),
        request_queue: format!("t{tag}-requests"),
        response_queue: format!("t{tag}-responses"),
        label_queue: format!("t{tag}-labels"),
    }
}

/// A whole app context (queues created) over a backend.
pub async fn app_context(backend: Backend, user: &str) -> AppContext {
    let bucket = match &backend.kind {
        BackendKind::Aws { bucket, .. } => bucket.clone(),
        BackendKind::Local { .. } => "hotdog-tui".to_string(),
    };
    let names = unique_names(&bucket);
    let mut report = SetupReport::default();
    let resources = context::ensure_queues(&backend, &names, &mut report)
        .await
        .expect("queues");
    AppContext {
        backend,
        resources,
        names,
        user: user.to_string(),
        max_image_bytes: 10 * 1024 * 1024,
        votes_per_image: 3,
        gold_rate: 0.1,
        review_below: 0.8,
        reviewers: Vec::new(),
        state_dir: std::env::temp_dir().join(format!(
            "hotdog-test-state-{}",
            uuid::Uuid::new_v4().simple()
        )),
    }
}

/// Settings for a local data dir, as the CLI would resolve them.
pub fn local_settings(dir: &std::path::Path) -> Settings {
    let args = GlobalArgs {
        backend: Some(BackendChoice::Local),
        data_dir: Some(dir.to_path_buf()),
        log_file: Some(dir.join("test.log")),
        ..Default::default()
    };
    Settings::merge(&args, Default::default()).expect("settings")
}

/// A tiny valid PNG.
pub fn png(w: u32, h: u32, rgb: [u8; 3]) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb(rgb));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// A tiny, valid PNG whose header claims `w`×`h` pixels (CRC fixed up): a decompression bomb.
pub fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut bytes = png(1, 1, [0, 0, 0]);
    bytes[16..20].copy_from_slice(&w.to_be_bytes());
    bytes[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&bytes[12..29]); // chunk type + IHDR data
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Forwards loopback TCP to `target` while `up`; refuses (accepts and drops) otherwise.
pub async fn proxy(target: String, up: Arc<std::sync::atomic::AtomicBool>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                continue;
            };
            if !up.load(std::sync::atomic::Ordering::SeqCst) {
                drop(inbound);
                continue;
            }
            let target = target.clone();
            let up = up.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                    let copy = tokio::io::copy_bidirectional(&mut inbound, &mut outbound);
                    tokio::select! {
                        _ = copy => {}
                        _ = async { while up.load(std::sync::atomic::Ordering::SeqCst) { tokio::time::sleep(std::time::Duration::from_millis(20)).await } } => {}
                    }
                }
            });
        }
    });
    port
}
