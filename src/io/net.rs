//! Request/response and datagrams between simulated nodes.
//!
//! Requests behave like Nacos's HTTP calls: a crashed process refuses the connection at once, a
//! cut link (partition, isolation, one-way) makes the connect time out, and a node that accepts
//! but does not answer (paused, killed after accepting, or a reply lost to a new cut) makes the
//! read time out. Datagrams (UDP push and acks, §10) may also be lost at the configured rate.
//!
//! Delivery is direct: a message is a task spawned on the destination node's current process
//! that sleeps the one-way delay and then runs the handler, so madsim's scheduler is what stops
//! a killed process from answering (its tasks never run again) and a paused one from answering
//! before it resumes (its tasks wait). Links are judged when a message arrives: a message that
//! lands on a link cut while it was in flight is lost. The shared [`NetEnv`] holds the fault
//! state, the link latency and which process listens at each address.

use super::deadline::Deadlines;
use crate::wire::{Datagram, Request, Response};
use madsim::rand::Rng;
use madsim::runtime::{Handle, NodeHandle};
use madsim::task::NodeId;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// Time spent in each end's network stack, on top of the link latency. madsim's endpoints slept
/// their minimum sleep (1 ms) on every send and every receive; keeping it leaves round trips
/// where they were (one way = 2 ms + a draw from the link latency, 3–12 ms by default).
const STACK: Duration = Duration::from_millis(1);

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

/// The network every node shares: fault state set by the harness's fault injector, and the
/// processes listening at each address.
#[derive(Default)]
pub struct NetEnv {
    state: Mutex<EnvState>,
    /// Which madsim node owns each IP (set when the world is built).
    nodes: Mutex<BTreeMap<IpAddr, NodeId>>,
    /// The process listening at each address: registered when it boots, removed when it crashes.
    peers: Mutex<BTreeMap<SocketAddr, Peer>>,
    /// Messages delivered (requests, replies and datagrams).
    delivered: AtomicU64,
}

#[derive(Debug, Clone)]
pub struct EnvState {
    /// Addresses whose process is down (crashed, not yet restarted).
    pub down: BTreeSet<IpAddr>,
    /// Directed cuts: (from, to) cannot deliver.
    pub cut: BTreeSet<(IpAddr, IpAddr)>,
    /// Probability that a datagram is lost.
    pub datagram_loss: f64,
    /// `ip:port` of service instances whose port stopped answering (fault `port_down`).
    pub closed_ports: BTreeSet<String>,
    /// The link latency range a message's delay is drawn from (fault `latency`).
    pub latency: Range<Duration>,
}

impl Default for EnvState {
    fn default() -> Self {
        EnvState {
            down: BTreeSet::new(),
            cut: BTreeSet::new(),
            datagram_loss: 0.0,
            closed_ports: BTreeSet::new(),
            // madsim's default link latency, which this network used to go through.
            latency: madsim::net::Config::default().send_latency,
        }
    }
}

impl EnvState {
    fn link_cut(&self, a: IpAddr, b: IpAddr) -> bool {
        !self.cut.is_empty() && a != b && self.cut.contains(&(a, b))
    }

    /// One message's delay from send to delivery.
    fn one_way(&self) -> Duration {
        let link = madsim::rand::thread_rng().gen_range(self.latency.clone());
        STACK + link + STACK
    }
}

/// A listening process: the node it runs on (this boot of it) and its handler.
#[derive(Clone)]
struct Peer {
    node: NodeHandle,
    handler: Weak<dyn Handler>,
}

/// How a connection attempt ends.
enum Connect {
    /// The link is cut in either direction: the TCP handshake cannot complete.
    Cut,
    /// The process is down: the peer's kernel answers with a RST.
    Refused,
    /// Connected; the request leaves now and lands after `delay` (if anyone listens).
    Open { peer: Option<Peer>, delay: Duration },
}

impl NetEnv {
    pub fn update(&self, f: impl FnOnce(&mut EnvState)) {
        f(&mut self.state.lock().unwrap())
    }

    pub fn state(&self) -> EnvState {
        self.state.lock().unwrap().clone()
    }

    /// Records which madsim node owns `ip` (the world does this for every node it builds).
    pub fn set_node(&self, ip: IpAddr, id: NodeId) {
        self.nodes.lock().unwrap().insert(ip, id);
    }

    /// The process at `addr` stopped (crash): nothing listens there until it boots again.
    pub fn unlisten(&self, addr: SocketAddr) {
        self.peers.lock().unwrap().remove(&addr);
    }

    /// Messages delivered so far (requests, replies and datagrams).
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    fn count(&self) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
    }

    fn link_cut(&self, a: IpAddr, b: IpAddr) -> bool {
        self.state.lock().unwrap().link_cut(a, b)
    }

    fn one_way(&self) -> Duration {
        self.state.lock().unwrap().one_way()
    }

    fn peer(&self, addr: SocketAddr) -> Option<Peer> {
        self.peers.lock().unwrap().get(&addr).cloned()
    }

    fn connect(&self, from: IpAddr, to: SocketAddr) -> Connect {
        let delay = {
            let s = self.state.lock().unwrap();
            // A TCP handshake needs both directions.
            if s.link_cut(from, to.ip()) || s.link_cut(to.ip(), from) {
                return Connect::Cut;
            }
            if s.down.contains(&to.ip()) {
                return Connect::Refused;
            }
            s.one_way()
        };
        Connect::Open {
            peer: self.peer(to),
            delay,
        }
    }
}

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What a node does with incoming traffic.
pub trait Handler: Send + Sync + 'static {
    fn handle(self: Arc<Self>, from: SocketAddr, req: Request) -> BoxFuture<Response>;
    fn datagram(self: Arc<Self>, from: SocketAddr, d: Datagram);
}

/// One node's network endpoint.
pub struct Net {
    me: SocketAddr,
    env: Arc<NetEnv>,
    /// Read timeouts of this node's calls in flight.
    deadlines: Arc<Deadlines>,
}

impl Net {
    /// Binds the node's endpoint at `addr` (from inside the booting node; takes one stack delay).
    pub async fn bind(addr: SocketAddr, env: Arc<NetEnv>) -> std::io::Result<Arc<Net>> {
        tokio::time::sleep(STACK).await;
        let deadlines = Arc::new(Deadlines::default());
        deadlines.start();
        Ok(Arc::new(Net {
            me: addr,
            env,
            deadlines,
        }))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.me
    }

    /// Starts listening: requests and datagrams to this address run `handler` on this node (the
    /// boot calling this), until the process crashes.
    pub fn serve(self: &Arc<Self>, handler: Arc<dyn Handler>) {
        let id = self.env.nodes.lock().unwrap()[&self.me.ip()];
        let node = Handle::current().get_node(id).expect("the node exists");
        let peer = Peer {
            node,
            handler: Arc::downgrade(&handler),
        };
        self.env.peers.lock().unwrap().insert(self.me, peer);
    }

    /// One HTTP-like call with Nacos's connect and read timeouts.
    pub async fn call(
        &self,
        dst: SocketAddr,
        req: Request,
        connect_timeout: Duration,
        read_timeout: Duration,
    ) -> Result<Response, NetError> {
        let (peer, delay) = match self.env.connect(self.me.ip(), dst) {
            Connect::Cut => {
                tokio::time::sleep(connect_timeout).await;
                return Err(NetError::ConnectTimeout);
            }
            Connect::Refused => {
                // The peer's kernel answers the SYN with a RST: one round trip.
                tokio::time::sleep(Duration::from_millis(2)).await;
                return Err(NetError::Refused);
            }
            Connect::Open { peer, delay } => (peer, delay),
        };
        let now = Instant::now();
        // The read timeout runs from when the request has been written.
        let deadline = now + STACK + read_timeout;
        let (tx, rx) = oneshot::channel::<(Response, Instant)>();
        if let Some(Peer { node, handler }) = peer {
            let (env, from, arrive) = (self.env.clone(), self.me, now + delay);
            node.spawn(async move {
                tokio::time::sleep_until(arrive).await;
                if env.link_cut(from.ip(), dst.ip()) {
                    return; // lost in flight
                }
                let Some(handler) = handler.upgrade() else {
                    return;
                };
                env.count();
                let resp = handler.handle(from, req).await;
                let _ = tx.send((resp, Instant::now() + env.one_way()));
            });
        }
        // A request nobody runs (killed, or not listening yet) drops `tx`: wait out the timeout.
        if let Some((resp, arrive)) = self.deadlines.wait(deadline, Some(rx)).await {
            if arrive <= deadline {
                tokio::time::sleep_until(arrive).await;
                if !self.env.link_cut(dst.ip(), self.me.ip()) {
                    self.env.count();
                    return Ok(resp);
                }
            }
            // Lost or too late: the caller hears nothing before its read timeout.
            self.deadlines.wait::<()>(deadline, None).await;
        }
        Err(NetError::ReadTimeout)
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
        let delay = {
            let s = self.env.state.lock().unwrap();
            if s.datagram_loss > 0.0 && madsim::rand::random::<f64>() < s.datagram_loss {
                return;
            }
            s.one_way()
        };
        let Some(Peer { node, handler }) = self.env.peer(dst) else {
            return;
        };
        let (env, from, arrive) = (self.env.clone(), self.me, Instant::now() + delay);
        node.spawn(async move {
            tokio::time::sleep_until(arrive).await;
            if env.link_cut(from.ip(), dst.ip()) {
                return;
            }
            if let Some(handler) = handler.upgrade() {
                env.count();
                handler.datagram(from, d);
            }
        });
    }
}
