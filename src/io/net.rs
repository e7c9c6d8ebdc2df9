//! Request/response and datagrams over madsim's network.
//!
//! Requests behave like Nacos's HTTP calls: a crashed process refuses the connection at once, a
//! cut link (partition, isolation, one-way) makes the connect time out, and a node that accepts
//! but does not answer (paused, or a reply lost to a new cut) makes the read time out. Datagrams
//! (UDP push and acks, §10) may also be lost at the configured rate.
//!
//! One endpoint per node and one message tag: replies are matched to calls through our own table,
//! which forgets a call when it times out, so late replies are dropped instead of piling up in
//! madsim's mailbox (which is scanned linearly). Several receive loops share the endpoint.

use crate::wire::{Datagram, Request, Response};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

use madsim::net::Endpoint;

const TAG: u64 = 0x6e61_636f_7331; // "nacos1"

/// Why a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetError {
    /// Connection refused: the process at the address is down.
    Refused,
    /// No connection within the connect timeout: the link is cut.
    ConnectTimeout,
    /// Connected, but no reply within the read timeout.
    ReadTimeout,
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NetError::Refused => "connection refused",
            NetError::ConnectTimeout => "connect timed out",
            NetError::ReadTimeout => "read timed out",
        })
    }
}

/// The network conditions every node shares, set by the harness's fault injector and read by
/// [`Net`] to decide how a connection attempt ends. madsim's own clogs drop the messages; this
/// mirror tells a refused connection from a timed-out one.
#[derive(Default, Debug)]
pub struct NetEnv {
    state: Mutex<EnvState>,
}

#[derive(Default, Debug, Clone)]
pub struct EnvState {
    /// Addresses whose process is down (crashed, not yet restarted).
    pub down: BTreeSet<IpAddr>,
    /// Directed cuts: (from, to) cannot deliver.
    pub cut: BTreeSet<(IpAddr, IpAddr)>,
    /// Probability that a datagram is lost.
    pub datagram_loss: f64,
    /// `ip:port` of service instances whose port stopped answering (fault `port_down`).
    pub closed_ports: BTreeSet<String>,
}

impl NetEnv {
    pub fn update(&self, f: impl FnOnce(&mut EnvState)) {
        f(&mut self.state.lock().unwrap())
    }

    pub fn state(&self) -> EnvState {
        self.state.lock().unwrap().clone()
    }

    fn link_cut(&self, a: IpAddr, b: IpAddr) -> bool {
        let s = self.state.lock().unwrap();
        s.cut.contains(&(a, b))
    }

    fn is_down(&self, a: IpAddr) -> bool {
        self.state.lock().unwrap().down.contains(&a)
    }

    fn datagram_loss(&self) -> f64 {
        self.state.lock().unwrap().datagram_loss
    }
}

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What a node does with incoming traffic.
pub trait Handler: Send + Sync + 'static {
    fn handle(self: Arc<Self>, from: SocketAddr, req: Request) -> BoxFuture<Response>;
    fn datagram(self: Arc<Self>, from: SocketAddr, d: Datagram);
}

enum Envelope {
    Req { id: u64, req: Request },
    Resp { id: u64, resp: Response },
    Dgram(Datagram),
}

/// One node's network endpoint.
pub struct Net {
    ep: Endpoint,
    me: SocketAddr,
    env: Arc<NetEnv>,
    pending: Mutex<BTreeMap<u64, oneshot::Sender<Response>>>,
    next_id: AtomicU64,
    sent: AtomicU64,
}

impl Net {
    /// Binds the node's endpoint at `addr`.
    pub async fn bind(addr: SocketAddr, env: Arc<NetEnv>) -> std::io::Result<Arc<Net>> {
        let ep = Endpoint::bind(addr).await?;
        Ok(Arc::new(Net {
            ep,
            me: addr,
            env,
            pending: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(1),
            sent: AtomicU64::new(0),
        }))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.me
    }

    /// Messages this endpoint has sent (requests, replies and datagrams).
    pub fn sent_count(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Starts `loops` receive loops that hand requests and datagrams to `handler`.
    pub fn serve(self: &Arc<Self>, handler: Arc<dyn Handler>, loops: usize) {
        for _ in 0..loops.max(1) {
            let net = self.clone();
            let handler = handler.clone();
            tokio::spawn(async move {
                while let Ok((payload, from)) = net.ep.recv_from_raw(TAG).await {
                    let Ok(env) = payload.downcast::<Envelope>() else {
                        continue;
                    };
                    match *env {
                        Envelope::Req { id, req } => {
                            let fut = handler.clone().handle(from, req);
                            let net = net.clone();
                            tokio::spawn(async move {
                                let resp = fut.await;
                                net.raw_send(from, Envelope::Resp { id, resp }).await;
                            });
                        }
                        Envelope::Resp { id, resp } => {
                            let tx = net.pending.lock().unwrap().remove(&id);
                            if let Some(tx) = tx {
                                let _ = tx.send(resp);
                            }
                        }
                        Envelope::Dgram(d) => handler.clone().datagram(from, d),
                    }
                }
            });
        }
    }

    async fn raw_send(&self, dst: SocketAddr, env: Envelope) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        // A send only fails when the socket is gone (the node is being killed): nothing to do.
        let _ = self.ep.send_to_raw(dst, TAG, Box::new(env)).await;
    }

    /// One HTTP-like call with Nacos's connect and read timeouts.
    pub async fn call(
        &self,
        dst: SocketAddr,
        req: Request,
        connect_timeout: Duration,
        read_timeout: Duration,
    ) -> Result<Response, NetError> {
        let (a, b) = (self.me.ip(), dst.ip());
        // A TCP handshake needs both directions.
        if a != b && (self.env.link_cut(a, b) || self.env.link_cut(b, a)) {
            tokio::time::sleep(connect_timeout).await;
            return Err(NetError::ConnectTimeout);
        }
        if self.env.is_down(b) {
            // The peer's kernel answers the SYN with a RST: one round trip.
            tokio::time::sleep(Duration::from_millis(2)).await;
            return Err(NetError::Refused);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        self.raw_send(dst, Envelope::Req { id, req }).await;
        match tokio::time::timeout(read_timeout, rx).await {
            Ok(Ok(resp)) => Ok(resp),
            _ => {
                self.pending.lock().unwrap().remove(&id);
                Err(NetError::ReadTimeout)
            }
        }
    }

    /// A TCP health probe of a service instance (not a simulated node): the connection is
    /// refused when the instance's port is down, accepted otherwise.
    pub async fn probe_tcp(&self, ip: &str, port: u16) -> bool {
        tokio::time::sleep(Duration::from_millis(1)).await;
        !self
            .env
            .state
            .lock()
            .unwrap()
            .closed_ports
            .contains(&format!("{ip}:{port}"))
    }

    /// Sends one UDP datagram; it may be lost (fault `loss`) or dropped by a cut link.
    pub async fn send_datagram(&self, dst: SocketAddr, d: Datagram) {
        let loss = self.env.datagram_loss();
        if loss > 0.0 && madsim::rand::random::<f64>() < loss {
            return;
        }
        self.raw_send(dst, Envelope::Dgram(d)).await;
    }
}
