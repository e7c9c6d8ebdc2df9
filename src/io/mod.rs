//! What one node sees of its environment: the network (request/response and datagrams, its
//! timers), its clock, and its disk.
//!
//! Two sides of one seam. The node-facing API is what the system under test (`server/`,
//! `client/`) uses: [`NodeCtx`], [`Net`] ([`net`]), [`Handler`], [`NetError`] and [`Timeouts`]
//! ([`api`]), [`Clock`], [`Disk`]. Behind [`Net`] runs the simulated wire ([`simnet`]), whose
//! fault state the harness owns and changes ([`NetEnv`]). Imports go one way: `mod`/`net` →
//! `simnet` → `api`; `clock`, `disk` and `api` import nothing of io.
//!
//! The live build (no `--cfg madsim`, feature `live`; issue 12) replaces `net` and `simnet` by
//! [`live`]: the same [`Net`] methods on real loopback sockets, Nacos's HTTP Open API v1 and UDP
//! push in front of the same handlers ([`openapi`], compiled and tested in both builds).

pub mod api;
pub mod clock;
pub mod disk;
#[cfg(test)]
mod layering;
#[cfg(not(madsim))]
pub mod live;
#[cfg(madsim)]
pub mod net;
pub mod openapi;
#[cfg(madsim)]
pub mod simnet;

pub use api::{
    BoxFuture, Handler, NetError, NoConnect, ProbeResult, ResumeOrder, Timeouts, OS_CONNECT_TIMEOUT,
};
pub use clock::Clock;
pub use disk::Disk;
#[cfg(not(madsim))]
pub use live::net;
#[cfg(not(madsim))]
pub use live::LiveEnv;
pub use net::Net;
#[cfg(madsim)]
pub use simnet::{EnvState, NetEnv};

use crate::config::Config;
use std::net::SocketAddr;
use std::sync::Arc;

/// Everything one node process is given when it boots.
#[derive(Clone)]
pub struct NodeCtx {
    /// The node's name in the scenario (`s1`, `provider`); events carry it.
    pub name: Arc<str>,
    /// The node's own address (port 8848 on servers).
    pub addr: SocketAddr,
    pub net: Arc<Net>,
    pub clock: Clock,
    pub disk: Disk,
    pub cfg: Arc<Config>,
}
