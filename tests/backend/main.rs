//! The backends: the contract both implement (local, and aws against a real moto server),
//! the aws specifics, outages, and the guarantees proved with many processes at once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

#[path = "../common/mod.rs"]
mod common;

mod aws;
mod contract;
mod dataset;
mod gold;
mod guarantees;
mod index;
mod outages;
mod permanent_failures;
