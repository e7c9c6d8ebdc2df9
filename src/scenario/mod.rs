//! Scenario files: TOML → typed, validated [`Scenario`].
//!
//! [`load`] / [`parse`] read a `scenarios/*.toml` file; every problem comes back as a
//! [`ScenarioError`] that displays as `path:line:col: message`. The format is described in
//! `parse.rs`, the file limits in `source.rs`; `bench_scenario` builds the benchmark's scenario
//! in code instead.

mod bench;
mod chaos;
mod cluster;
pub mod types;

mod ctx;
mod expects;
mod fault_steps;
mod fields;
mod parse;
mod setup;
mod source;
mod steps;
mod traffic;
mod tree;
mod write;

#[cfg(test)]
mod tests;

pub use bench::{bench_scenario, BenchShape};
pub use parse::{load, parse, parse_bytes};
pub use setup::MAX_SERVERS;
pub use source::{read_source, ScenarioError, MAX_CHAOS_FAULTS, MAX_DURATION, MAX_FILE_BYTES};
pub use traffic::{parse_rate, MAX_RATE};
pub use types::*;
pub use write::{client_op_toml, fault_toml, scenario_toml};
