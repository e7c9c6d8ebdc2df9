//! The live transport (issue 12): [`net::Net`] with the simulation's methods, on real loopback
//! sockets and real time. Clients speak Nacos's HTTP Open API v1 and get UDP pushes
//! (`super::openapi` maps them); servers call each other with the typed [`crate::wire`]
//! requests as MessagePack over HTTP (`POST /nacos-sim/v1/wire`), which only nacos-sim servers speak.
//! [`LiveEnv`] holds the live faults (paused servers, cut links) that the control interface sets.
//!
//! Only in the live build: no `--cfg madsim`, so `tokio` is the real one.

mod endpoint;
mod env;
mod http_in;
mod http_out;
pub mod net;

pub use env::LiveEnv;

/// The path of server-to-server calls: the body is a MessagePack [`crate::wire::Request`], the
/// reply a MessagePack [`crate::wire::Response`], the sender's member address in [`FROM_HEADER`].
pub const WIRE_PATH: &str = "/nacos-sim/v1/wire";
pub const FROM_HEADER: &str = "x-nacos-sim-from";
/// The largest request body a client may send (a larger one is refused with 413).
pub const MAX_CLIENT_BODY: usize = 64 * 1024;
/// The largest server-to-server body (a Distro snapshot of many services).
pub const MAX_WIRE_BODY: usize = 256 * 1024 * 1024;
