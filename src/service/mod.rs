//! The operations both front ends (the CLI and the TUI) run on the shared app state
//! (`context::AppContext`): asking the compute service, the labeller's rounds, statistics,
//! uploads and the image checks behind them, the sample images, and writing exports.

pub mod compute_client;
pub mod context;
pub mod export_file;
pub mod image_check;
pub mod labeller;
pub mod samples;
pub mod statistics;
pub mod upload;
