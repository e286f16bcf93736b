//! The full-screen session: pure `update` tests per tab, insta snapshots on `TestBackend`,
//! end-to-end sessions of the release binary in tmux, and in real terminal emulators
//! (xterm, tmux, GNU screen, kitty) under Xvfb, checked by screenshots.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

#[path = "../common/mod.rs"]
mod common;
mod support;

mod e2e;
mod labelling;
mod quality;
mod real_terminals;
mod snapshots;
mod terminal_setup;
mod tmux;
mod update_compute;
mod update_label;
mod update_panels;
mod update_review;
mod update_shell;
mod update_upload;
