//! What one node sees of its environment: the network (request/response and datagrams), its
//! clock, and its disk. The simulation harness owns the shared [`NetEnv`] and the disks; the
//! Nacos code only calls these APIs and never learns it is simulated.

mod call;
pub mod clock;
mod deadline;
pub mod disk;
mod inbox;
pub mod net;

pub use clock::Clock;
pub use disk::Disk;
pub use net::{Handler, Net, NetEnv, NetError};

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
