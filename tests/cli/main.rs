//! The command line end to end, and the shape of the source (the module graph).

#[path = "../common/mod.rs"]
mod common;

mod architecture;
mod e2e;
