//! The network as a node sees it: HTTP-like calls with timeouts, UDP datagrams, TCP probes of
//! service instances, serving its own address, and its timers.
//!
//! [`Net`] is the seam between the system under test and its transport: its methods' signatures
//! name only `std`, `tokio::time` and the types of [`super::api`], so a live transport (real
//! sockets, without `--cfg madsim`) can provide the same methods. In simulation every method
//! runs on the process's [`Endpoint`] of the simulated wire.

pub use super::api::{BoxFuture, Handler, NetError, ProbeResult, Timeouts};
use super::simnet::{Endpoint, NetEnv};
use crate::wire::{Datagram, Request, Response};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// One process's network endpoint.
pub struct Net {
    ep: Endpoint,
}

impl Net {
    /// Binds the node's endpoint at `addr` (the harness calls this from inside the booting node;
    /// it takes one stack delay).
    pub async fn bind(addr: SocketAddr, env: Arc<NetEnv>) -> std::io::Result<Arc<Net>> {
        Ok(Arc::new(Net {
            ep: Endpoint::bind(addr, env).await,
        }))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.ep.me
    }

    /// Starts listening: requests and datagrams to this address go to `handler`, run on this
    /// node (the boot calling this), until the process crashes.
    pub fn serve(&self, handler: Arc<dyn Handler>) {
        self.ep.serve(handler)
    }

    /// Listens on another port of this host as well (a server's JRaft port, `port - 1000`):
    /// requests to it go to `handler`.
    pub fn serve_port(&self, port: u16, handler: Arc<dyn Handler>) {
        self.ep.serve_port(port, handler)
    }

    /// One HTTP-like call with a connect and a read timeout. Nothing happens before the returned
    /// future is first polled.
    pub fn call(
        &self,
        dst: SocketAddr,
        req: Request,
        connect_timeout: Duration,
        read_timeout: Duration,
    ) -> impl Future<Output = Result<Response, NetError>> + Send + '_ {
        self.call_with(dst, req, Timeouts::new(connect_timeout, read_timeout))
    }

    /// One HTTP-like call with the given timeouts ([`Timeouts::none`]: Nacos's calls that set
    /// none, spec §3).
    pub fn call_with(
        &self,
        dst: SocketAddr,
        req: Request,
        timeouts: Timeouts,
    ) -> impl Future<Output = Result<Response, NetError>> + Send + '_ {
        super::simnet::Call::new(&self.ep, dst, req, timeouts)
    }

    /// A TCP health probe of a service instance (not a simulated node), with a connect timeout
    /// (spec §8): refused when the instance's port is down, timed out when connects to it are
    /// dropped, connected otherwise.
    pub async fn probe_tcp(&self, ip: &str, port: u16, connect_timeout: Duration) -> ProbeResult {
        self.ep.probe_tcp(ip, port, connect_timeout).await
    }

    /// Sends one UDP datagram; it may be lost.
    pub async fn send_datagram(&self, dst: SocketAddr, d: Datagram) {
        self.ep.send_datagram(dst, d)
    }

    /// Sleeps as `tokio::time::sleep` does (at least 1 ms), as a timer of this process: after a
    /// pause, the harness may hold it until the queued requests are handled
    /// ([`super::simnet::ResumeOrder::RequestsFirst`]).
    pub fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send + '_ {
        self.ep.sleep_until(self.ep.time.now_instant() + d)
    }

    /// [`Net::sleep`] until `deadline`.
    pub fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + Send + '_ {
        self.ep.sleep_until(deadline)
    }
}
