//! Test access to the moto server that `scripts/test` starts: its endpoint, and an AWS
//! backend wired to it with dummy credentials. Tests needing moto fail without it; they
//! never skip silently.
#![allow(dead_code)] // each test binary uses its own subset

use std::sync::Once;

use hotdog_tui::backend::ObjectStore;
use hotdog_tui::backend::aws::{AwsOptions, S3Store, SqsQueues, connect};

/// Moto keeps state per region; everything here lives in this one.
pub const MOTO_REGION: &str = "us-east-1";

/// The moto endpoint from `HOTDOG_TEST_MOTO_ENDPOINT`; panics when it is unset.
pub fn moto_endpoint() -> String {
    match std::env::var("HOTDOG_TEST_MOTO_ENDPOINT") {
        Ok(v) if !v.trim().is_empty() => v.trim().to_string(),
        _ => panic!(
            "moto is not running: run scripts/test, which starts it \
             (or start `python scripts/moto_server.py -p PORT` with moto installed, and set HOTDOG_TEST_MOTO_ENDPOINT=http://127.0.0.1:PORT)"
        ),
    }
}

/// Points the SDK's credential chain at dummy keys, so no real credential ever reaches
/// moto (the chain reads env vars first).
fn use_dummy_credentials() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Backend logs show up with RUST_LOG=hotdog_tui=debug (and --nocapture).
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        // SAFETY: runs once, before this process opens any AWS connection; every test
        // that talks to moto goes through here first, so no other thread is inside the
        // SDK reading the environment while it changes.
        unsafe {
            std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
            std::env::remove_var("AWS_SESSION_TOKEN");
        }
    });
}

/// Options for a bucket on moto (and dummy credentials in the environment).
pub fn moto_options(bucket: &str) -> AwsOptions {
    use_dummy_credentials();
    AwsOptions {
        region: Some(MOTO_REGION.to_string()),
        endpoint_url: Some(moto_endpoint()),
        profile: None,
        bucket: bucket.to_string(),
    }
}

/// Both AWS ports on moto, with `bucket` created.
pub async fn aws_backend(bucket: &str) -> (S3Store, SqsQueues) {
    let (store, queues) = aws_backend_without_bucket(bucket).await;
    store
        .ensure_bucket()
        .await
        .unwrap_or_else(|e| panic!("creating bucket {bucket} on moto: {e}"));
    (store, queues)
}

/// Both AWS ports on moto; `bucket` is not created.
pub async fn aws_backend_without_bucket(bucket: &str) -> (S3Store, SqsQueues) {
    let opts = moto_options(bucket);
    let (store, queues, _region, _endpoint) = connect(&opts)
        .await
        .unwrap_or_else(|e| panic!("connecting to moto at {:?}: {e}", opts.endpoint_url));
    (store, queues)
}

/// A bucket or queue name no other test uses (moto state outlives a test run).
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}
