//! The operations both front ends (the CLI and the TUI) run on the shared app state
//! (`context::AppContext`): asking the compute service, the labeller's answers and the
//! outbox that keeps them, picking and claiming rounds, statistics, the gold answers, uploads and the
//! image checks behind them, importing the original system's data, the sample images, and
//! writing exports.

pub mod compute_client;
pub mod context;
pub mod export_file;
pub mod gold;
pub mod group_commit;
pub mod image_check;
pub mod label_index;
pub mod label_writes;
pub mod labeller;
pub mod memory;
pub mod original_import;
pub mod outbox;
pub mod rounds;
pub mod samples;
pub mod statistics;
pub mod upload;
