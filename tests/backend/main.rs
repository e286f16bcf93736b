//! The backends: the contract both implement (local, and aws against a real moto server),
//! the aws specifics, outages, and the guarantees proved with many processes at once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

#[path = "../common/mod.rs"]
mod common;

/// Generates `<case>_local` and `<case>_aws` tests from one `async fn case(Backend)`.
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let (backend, _dir) = crate::common::local_backend();
                    super::$case(backend).await;
                }
            )*
        }
        mod aws {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let backend = crate::common::aws_backend().await;
                    super::$case(backend).await;
                }
            )*
        }
    };
}

mod aws;
mod contract;
mod dataset;
mod gold;
mod guarantees;
mod index;
mod outages;
mod permanent_failures;
