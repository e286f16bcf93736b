//! hotdog-tui: collect hot-dog / not-hot-dog labels in the terminal, and serve a small
//! compute service over a message queue, on SQS + S3 or an embedded local backend.
//!
//! The layers, bottom to top; each module uses only those above it in this list
//! (`tests/architecture.rs` checks it):
//!
//! - `domain`: the rules (numbers, the label-file format, statistics, sampling, names,
//!   export formats, queue message shapes). No I/O, no tokio, no AWS, no ratatui.
//! - `backend`: the two ports (`MessageQueue`, `ObjectStore`) and their implementations,
//!   `local` (files + SQLite) and `aws` (SQS + S3).
//! - `config`, `logging`, `iam`: settings from flags, environment and the config file; the
//!   log file; the IAM policies printed for AWS set-up.
//! - `service`: the operations on the shared app state that both front ends use (compute
//!   client, labeller rounds, statistics cache, upload, samples, export files).
//! - `worker`: the queue consumer, embedded in the TUI or headless.
//! - `bench`: the `bench` subcommand.
//! - `graphics`: how a picture becomes terminal output (protocols, colour depth, fitting a
//!   picture to a tile); CPU work only, no terminal I/O.
//! - `app`: the TUI: its state, `Action`s, the synchronous `update`, the effects it asks
//!   for, and drawing (a pure function of the state). One folder per tab or overlay holds
//!   that feature's state, keys, view and background tasks.
//! - `tui`: the terminal session (set-up, restore, querying the terminal, the event loop).
//! - `cli`: the clap commands; `main.rs` only calls `cli::run`.

pub mod domain;

pub mod backend;

pub mod config;
pub mod iam;
pub mod logging;

pub mod service;

pub mod worker;

pub mod bench;

pub mod graphics;

pub mod app;

pub mod tui;

pub mod cli;
