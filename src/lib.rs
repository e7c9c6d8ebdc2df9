//! nacos-sim: a deterministic simulation testbed of the Nacos 1.4.1 naming subsystem on madsim.
//!
//! A scenario file describes a cluster, a timeline of client actions and faults, and what must
//! hold; [`sim::run`] plays it in virtual time with a seed and returns an [`report::Outcome`].
//! Imports run one way: `sim → server/client → io → wire → model`, with `config` and `trace`
//! at the bottom; the system under test (`server`, `client`) never imports the testbed.

#[cfg(not(madsim))]
compile_error!(
    "nacos-sim must be built with `--cfg madsim` (set by .cargo/config.toml). A RUSTFLAGS \
     environment variable replaces that setting and builds the real-network mode: unset it, or \
     write RUSTFLAGS=\"--cfg madsim ...\" in full."
);

pub mod check;
pub mod client;
pub mod compare;
pub mod config;
pub mod io;
pub mod jraft;
#[cfg(test)]
mod layering;
pub mod model;
pub mod pin;
pub mod report;
pub mod scenario;
pub mod server;
pub mod shrink;
pub mod sim;
pub mod sweep;
pub mod trace;
pub mod wire;

pub use report::Outcome;
pub use scenario::Scenario;
