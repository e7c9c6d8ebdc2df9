//! The network as a live node sees it: the same methods as the simulation's `Net`
//! (`src/io/net.rs`), on real sockets. A server listens on its HTTP port (clients' Open API and
//! peers' wire calls) and on its JRaft port, and pushes from one UDP socket that also receives
//! the acks (spec §10). Live mode stays on loopback: it never pushes to or probes an address
//! outside 127.0.0.0/8 (research nacos-clients.md §6, "Network hygiene").

use super::endpoint::Inner;
use super::env::LiveEnv;
pub use crate::io::api::{BoxFuture, Handler, NetError, Timeouts};
use crate::io::openapi;
use crate::wire::{Datagram, Request, Response};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket, UdpSocket};
use tokio::time::Instant;

pub use super::endpoint::ExtraFn;

/// One live node's network endpoint.
pub struct Net {
    pub(super) inner: Arc<Inner>,
    listener: Mutex<Option<std::net::TcpListener>>,
}

/// A listening socket with `SO_REUSEADDR`, so a restarted server gets its port back while the
/// crashed one's connections sit in TIME_WAIT.
fn listen(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let s = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    s.set_reuseaddr(true)?;
    s.bind(addr)?;
    let l = s.listen(1024)?;
    l.into_std()
}

impl Net {
    /// Binds the node's HTTP port at `addr` and its UDP push socket (a free port, as Nacos's
    /// `PushService` takes one).
    pub async fn bind(addr: SocketAddr, env: Arc<LiveEnv>) -> std::io::Result<Arc<Net>> {
        let listener = listen(addr)?;
        let udp = UdpSocket::bind(SocketAddr::new(addr.ip(), 0)).await?;
        Ok(Arc::new(Net {
            inner: Arc::new(Inner {
                me: addr,
                env,
                udp: Arc::new(udp),
                extra: OnceLock::new(),
            }),
            listener: Mutex::new(Some(listener)),
        }))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.inner.me
    }

    /// Sets the answers to the Open API's non-call requests ([`ExtraFn`]).
    pub fn set_extra(&self, f: ExtraFn) {
        let _ = self.inner.extra.set(f);
    }

    /// Starts serving the HTTP port and the push socket's acks with `handler`, on the current
    /// runtime (the server's: a crash ends it and closes them).
    pub fn serve(&self, handler: Arc<dyn Handler>) {
        if let Some(l) = self.listener.lock().unwrap().take() {
            self.accept_loop(l, handler.clone());
        }
        let (inner, h) = (self.inner.clone(), handler);
        tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let Ok((n, from)) = inner.udp.recv_from(&mut buf).await else {
                    continue;
                };
                inner.env.running(inner.me).await;
                if let Some(ack) = openapi::parse_ack(&buf[..n]) {
                    h.clone().datagram(from, ack);
                }
            }
        });
    }

    /// Listens on another port of this host too (the JRaft port, `port - 1000`).
    pub fn serve_port(&self, port: u16, handler: Arc<dyn Handler>) {
        match listen(SocketAddr::new(self.inner.me.ip(), port)) {
            Ok(l) => self.accept_loop(l, handler),
            Err(e) => eprintln!("{}: cannot listen on port {port}: {e}", self.inner.me),
        }
    }

    fn accept_loop(&self, l: std::net::TcpListener, handler: Arc<dyn Handler>) {
        let inner = self.inner.clone();
        tokio::spawn(async move {
            let Ok(l) = TcpListener::from_std(l) else {
                return;
            };
            loop {
                let Ok((stream, peer)) = l.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                super::http_in::serve_connection(inner.clone(), handler.clone(), stream, peer);
            }
        });
    }

    /// One call to a peer with a connect and a read timeout.
    pub fn call(
        &self,
        dst: SocketAddr,
        req: Request,
        connect_timeout: Duration,
        read_timeout: Duration,
    ) -> impl Future<Output = Result<Response, NetError>> + Send + '_ {
        self.call_with(dst, req, Timeouts::new(connect_timeout, read_timeout))
    }

    /// One call to a peer with the given timeouts (spec §3).
    pub fn call_with(
        &self,
        dst: SocketAddr,
        req: Request,
        timeouts: Timeouts,
    ) -> impl Future<Output = Result<Response, NetError>> + Send + '_ {
        super::http_out::call(self.inner.clone(), dst, req, timeouts)
    }

    /// A TCP health probe of an instance (spec §8): a real connect on loopback with the probe's
    /// connect timeout; a refusal is `Refused`, the timeout or another error `TimedOut` (a
    /// counted failure, as Nacos counts every failure but a refused connect). An address
    /// outside loopback is never touched and counts as up.
    pub async fn probe_tcp(
        &self,
        ip: &str,
        port: u16,
        timeout: Duration,
    ) -> crate::io::ProbeResult {
        use crate::io::ProbeResult;
        let Ok(ip) = ip.parse::<std::net::IpAddr>() else {
            return ProbeResult::Connected;
        };
        if !ip.is_loopback() {
            return ProbeResult::Connected;
        }
        let c = tokio::net::TcpStream::connect(SocketAddr::new(ip, port));
        match tokio::time::timeout(timeout, c).await {
            Ok(Ok(_)) => ProbeResult::Connected,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => ProbeResult::Refused,
            _ => ProbeResult::TimedOut,
        }
    }

    /// Sends one UDP push packet (spec §10); dropped when `dst` is not on loopback.
    pub async fn send_datagram(&self, dst: SocketAddr, d: Datagram) {
        self.inner.env.running(self.inner.me).await;
        if !dst.ip().is_loopback() {
            return;
        }
        if let Some(bytes) = openapi::push_packet(&d) {
            let _ = self.inner.udp.send_to(&bytes, dst).await;
        }
    }

    /// Sleeps, then waits while the server is paused.
    pub async fn sleep(&self, d: Duration) {
        self.sleep_until(Instant::now() + d).await
    }

    pub async fn sleep_until(&self, deadline: Instant) {
        tokio::time::sleep_until(deadline).await;
        self.inner.env.running(self.inner.me).await;
    }
}
