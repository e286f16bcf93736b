//! hotdog-tui: collect hot-dog / not-hot-dog labels in the terminal, and serve a small
//! compute service over a message queue, on SQS + S3 or an embedded local backend.

pub mod app;
pub mod backend;
pub mod bench;
pub mod cli;
pub mod compute_client;
pub mod config;
pub mod context;
pub mod domain;
pub mod export;
pub mod iam;
pub mod images;
pub mod labelling;
pub mod logging;
pub mod samples;
pub mod statistics;
pub mod tui;
pub mod ui;
pub mod upload;
pub mod worker;
