//! Request/response and datagrams between simulated nodes.
//!
//! Requests behave like Nacos's HTTP calls: a crashed process refuses the connection at once, a
//! cut link (partition, isolation, one-way) makes the connect time out, and a node that accepts
//! but does not answer (paused, killed after accepting, or a reply lost to a new cut) makes the
//! read time out. Datagrams (UDP push and acks, §10) may also be lost at the configured rate.
//!
//! Delivery is direct: a message waits in the destination process's inbox until its one-way
//! delay has passed, and the inbox task, which runs on the destination node, hands it to the
//! handler (see [`super::inbox`]). madsim's scheduler is thus what stops a killed process from
//! answering (its tasks never run again) and a paused one from answering before it resumes.
//! A link is judged when a call connects and again when each message is taken from the inbox
//! (when it lands, or when a paused process resumes): a message whose link was cut meanwhile is
//! lost. The shared [`NetEnv`] holds the fault state, the link latency and the inbox listening
//! at each address.

pub use super::call::Call;
use super::deadline::Deadlines;
use super::inbox::{Inbox, Letter};
use crate::wire::{Datagram, Request, Response};
use madsim::rand::Rng;
use madsim::time::TimeHandle;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::time::Instant;

/// Time spent in each end's network stack, on top of the link latency. madsim's endpoints slept
/// their minimum sleep (1 ms) on every send and every receive; keeping it leaves round trips
/// where they were (one way = 2 ms + a draw from the link latency, 3–12 ms by default).
pub(super) const STACK: Duration = Duration::from_millis(1);

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
    /// The inbox of the process listening at each address: registered when it boots, removed
    /// when it crashes.
    inboxes: Mutex<BTreeMap<SocketAddr, Weak<Inbox>>>,
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

/// How a connection attempt ends.
pub(super) enum Connect {
    /// The link is cut in either direction: the TCP handshake cannot complete.
    Cut,
    /// The process is down: the peer's kernel answers with a RST.
    Refused,
    /// Connected; the request leaves now and lands after `delay` (if anyone listens).
    Open { delay: Duration },
}

impl NetEnv {
    pub fn update(&self, f: impl FnOnce(&mut EnvState)) {
        f(&mut self.state.lock().unwrap())
    }

    pub fn state(&self) -> EnvState {
        self.state.lock().unwrap().clone()
    }

    /// The process at `addr` stopped (crash): nothing listens there until it boots again.
    pub fn unlisten(&self, addr: SocketAddr) {
        self.inboxes.lock().unwrap().remove(&addr);
    }

    /// Messages delivered so far (requests, replies and datagrams).
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    pub(super) fn count(&self) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn link_cut(&self, a: IpAddr, b: IpAddr) -> bool {
        self.state.lock().unwrap().link_cut(a, b)
    }

    pub(super) fn one_way(&self) -> Duration {
        self.state.lock().unwrap().one_way()
    }

    fn inbox(&self, addr: SocketAddr) -> Option<Arc<Inbox>> {
        self.inboxes.lock().unwrap().get(&addr)?.upgrade()
    }

    pub(super) fn connect(&self, from: IpAddr, to: SocketAddr) -> Connect {
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
        Connect::Open { delay }
    }

    /// Puts a letter on the wire to `dst`, landing at `arrive`. It goes to the inbox listening
    /// at `dst` now (a process that dies meanwhile loses it); when none listens yet (a process
    /// still booting), the letter is held until it lands and goes to whoever listens then.
    pub(super) fn send(self: &Arc<Self>, dst: SocketAddr, arrive: Instant, letter: Letter) {
        match self.inbox(dst) {
            Some(inbox) => inbox.post(arrive, letter),
            None => {
                let env = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep_until(arrive).await;
                    if let Some(inbox) = env.inbox(dst) {
                        inbox.post(arrive, letter);
                    }
                });
            }
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
    pub(super) me: SocketAddr,
    pub(super) env: Arc<NetEnv>,
    pub(super) time: TimeHandle,
    /// Read timeouts of this node's calls in flight.
    pub(super) deadlines: Arc<Deadlines>,
    /// This process's inbox, once it serves.
    inbox: Mutex<Option<Arc<Inbox>>>,
}

impl Net {
    /// Binds the node's endpoint at `addr` (from inside the booting node; takes one stack delay).
    pub async fn bind(addr: SocketAddr, env: Arc<NetEnv>) -> std::io::Result<Arc<Net>> {
        tokio::time::sleep(STACK).await;
        let time = TimeHandle::current();
        Ok(Arc::new(Net {
            me: addr,
            env,
            deadlines: Deadlines::start(time.clone()),
            time,
            inbox: Mutex::default(),
        }))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.me
    }

    /// Starts listening: requests and datagrams to this address go to `handler`, run on this
    /// node (the boot calling this), until the process crashes.
    pub fn serve(self: &Arc<Self>, handler: Arc<dyn Handler>) {
        let inbox = Inbox::open(self.me, self.env.clone(), Arc::downgrade(&handler));
        self.env
            .inboxes
            .lock()
            .unwrap()
            .insert(self.me, Arc::downgrade(&inbox));
        *self.inbox.lock().unwrap() = Some(inbox);
    }

    /// One HTTP-like call with Nacos's connect and read timeouts. Nothing happens before the
    /// returned future is first polled.
    pub fn call(
        &self,
        dst: SocketAddr,
        req: Request,
        connect_timeout: Duration,
        read_timeout: Duration,
    ) -> Call<'_> {
        Call::new(self, dst, req, connect_timeout, read_timeout)
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
        let letter = Letter::Datagram { from: self.me, d };
        self.env.send(dst, self.time.now_instant() + delay, letter);
    }
}
