//! What both sides of the io seam agree on: the handler a node serves with, the timeouts a call
//! is given and the errors it can end with. The simulated wire ([`super::simnet`]) and a later
//! live transport implement [`super::Net`] against these types, so nothing here names madsim.

use crate::wire::{Datagram, Request, Response};
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What a node does with incoming traffic.
pub trait Handler: Send + Sync + 'static {
    fn handle(self: Arc<Self>, from: SocketAddr, req: Request) -> BoxFuture<Response>;
    fn datagram(self: Arc<Self>, from: SocketAddr, d: Datagram);
}

/// Why a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetError {
    /// Connection refused: the process at the address is down (or a firewall rejects the SYN).
    Refused,
    /// No connection within the connect timeout: the link is cut.
    ConnectTimeout,
    /// Connected, but no reply within the read timeout.
    ReadTimeout,
    /// The connection was reset: the peer's process died while the call was in flight, and its
    /// kernel answered for it with a RST (a killed JVM's sockets are closed by the OS).
    Reset,
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NetError::Refused => "connection refused",
            NetError::ConnectTimeout => "connect timed out",
            NetError::ReadTimeout => "read timed out",
            NetError::Reset => "connection reset",
        })
    }
}

/// How a TCP health probe of a service instance ended (spec §8: the owner's non-blocking
/// connect to the instance's port).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeResult {
    /// The connect completed: the port answers.
    Connected,
    /// The connect was refused (`ConnectException`): the port is closed, or its process gone.
    Refused,
    /// No answer within the probe's connect timeout: the SYN was dropped.
    TimedOut,
}

/// How long the operating system keeps retrying a TCP connect that gets no answer: Linux's
/// `tcp_syn_retries = 6` retransmits the SYN after 1, 2, 4, 8, 16, 32 and 64 s, so a connect
/// with no application timeout fails after 127 s (spec §3, "Server internal HTTP connect /
/// read": Nacos's `httpPutLarge` / `httpGetLarge` / `httpPostLarge` set no timeout).
pub const OS_CONNECT_TIMEOUT: Duration = Duration::from_secs(127);

/// A call's timeouts, as an HTTP client sets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// How long connecting may take.
    pub connect: Duration,
    /// How long to wait for the reply once the request is written; `None` waits until the peer
    /// answers or the connection dies (spec §3: the Apache-sync calls set no read timeout).
    pub read: Option<Duration>,
}

impl Timeouts {
    pub const fn new(connect: Duration, read: Duration) -> Self {
        Timeouts {
            connect,
            read: Some(read),
        }
    }

    /// No application timeout at all (spec §3: Distro sync `httpPutLarge`, verify fetch
    /// `httpGetLarge`, legacy Raft publish forward `httpPostLarge`): the connect is bounded by
    /// the OS's SYN retries ([`OS_CONNECT_TIMEOUT`]), the read by nothing.
    pub const fn none() -> Self {
        Timeouts {
            connect: OS_CONNECT_TIMEOUT,
            read: None,
        }
    }
}

/// How connections opened one way between two nodes fail (fault `no_connect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NoConnect {
    /// The SYN is dropped: the connect times out (a firewall's DROP, a half-broken route).
    #[default]
    Timeout,
    /// The SYN is answered with a RST: refused at once (a firewall's REJECT).
    Refused,
}

/// The order in which a resumed process takes its overdue timers and queued mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResumeOrder {
    /// madsim's seeded order (what a plain `resume` gives).
    #[default]
    Seeded,
    /// Every overdue timer runs before any queued request or datagram is handled.
    TimersFirst,
    /// Every queued request and datagram is handled before the overdue timers that pass
    /// through the gate run.
    RequestsFirst,
}
