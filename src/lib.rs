//! nacos-sim: a deterministic simulation testbed of the Nacos 1.4.1 naming subsystem on madsim.
//!
//! A scenario file describes a cluster, a timeline of client actions and faults, and what must
//! hold; [`sim::run`] plays it in virtual time with a seed and returns an [`report::Outcome`].
//! Imports run one way: `sim → server/client → io → wire → model`, with `config` and `trace`
//! at the bottom; the system under test (`server`, `client`) never imports the testbed.

#[cfg(not(any(madsim, feature = "live")))]
compile_error!(
    "nacos-sim must be built with `--cfg madsim` (set by .cargo/config.toml). A RUSTFLAGS \
     environment variable replaces that setting and builds the real-network mode: unset it, or \
     write RUSTFLAGS=\"--cfg madsim ...\" in full. Live mode is the other build: \
     `cargo live-build` (README \"Live mode\")."
);

pub mod check;
pub mod client;
pub mod compare;
pub mod config;
pub mod io;
pub mod jraft;
#[cfg(test)]
mod layering;
/// Live mode (issue 12): boots servers on real sockets, events to the terminal, the control
/// interface. Only in the live build (no `--cfg madsim`).
#[cfg(not(madsim))]
pub mod live;
pub mod model;
pub mod pin;
pub mod report;
pub mod scenario;
pub mod server;
#[cfg(madsim)]
pub mod shrink;
#[cfg(madsim)]
pub mod sim;
#[cfg(madsim)]
pub mod sweep;
pub mod trace;
pub mod wire;

pub use report::Outcome;
pub use scenario::Scenario;
