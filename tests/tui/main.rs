//! The full-screen session: pure `update` tests per tab, insta snapshots on `TestBackend`,
//! and end-to-end sessions of the release binary in tmux.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

#[path = "../common/mod.rs"]
mod common;
mod support;

mod e2e;
mod labelling;
mod snapshots;
mod tmux;
mod update_compute;
mod update_label;
mod update_panels;
mod update_shell;
mod update_upload;
