//! The command line end to end, and the shape of the source (the module graph).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

#[path = "../common/mod.rs"]
mod common;

mod architecture;
mod e2e;
mod quality;
