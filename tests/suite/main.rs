//! The integration suite: one test binary (one link step instead of one per file), each file a
//! module. `cargo test --release` runs it after the library's unit tests.

mod availability;
mod bad_input;
mod cli;
mod corrections;
mod fidelity;
mod fuzz_loader;
mod hostile;
mod pass_rates;
mod regressions;
mod scenarios;
mod shrink;
mod timeline;
