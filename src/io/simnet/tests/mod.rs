//! Unit tests of the simulated wire. Each runs a madsim runtime with a few nodes, each serving
//! an [`Echo`] and running a script against its [`Net`], and asserts exact virtual-time
//! outcomes. The link latency is fixed, so every message takes [`ONE_WAY`]: 1 ms stack at each
//! end + 5 ms on the link.
//!
//! madsim adds 50–100 ns of virtual time per task run and 50 ns per timer jump, so "exact"
//! below means to within [`SLACK`].

mod aliases;
mod basics;
mod faults;
mod resume;
mod timeouts;

use super::NetEnv;
use crate::io::{BoxFuture, Handler, Net, NetError, Timeouts};
use crate::wire::{Api, Datagram, Request, Response};
use madsim::runtime::{Handle, Runtime};
use madsim::task::NodeId;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

pub(super) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Every message's delay, one way.
pub(super) const ONE_WAY: Duration = Duration::from_millis(7);
/// The timeouts most tests call with.
pub(super) const CONNECT: Duration = Duration::from_secs(3);
pub(super) const READ: Duration = Duration::from_secs(2);
/// The read deadline: `READ` after the request is written (1 ms in). A call that knows before
/// then that no reply will come (a reply lost to a cut) fails at the deadline.
pub(super) const READ_DEADLINE: Duration = Duration::from_millis(1 + 2000);
/// When a read timeout is heard if nothing was known before the deadline (a paused peer, a
/// lost request): the deadline, plus madsim's 1 ms minimum sleep once the watchdog has seen it
/// (`call.rs`; kept as it was, since every snapshot's timing depends on it).
pub(super) const READ_TIMED_OUT: Duration = Duration::from_millis(1 + 2000 + 1);
/// How far from the exact figure a virtual time may be (madsim's per-task time steps).
pub(super) const SLACK: Duration = Duration::from_micros(20);

#[track_caller]
pub(super) fn assert_at(got: Duration, want: Duration) {
    assert!(
        got.abs_diff(want) < SLACK,
        "at {got:?}, expected {want:?} (± {SLACK:?})"
    );
}

/// Runs `f` in a fresh madsim runtime with `seed`.
pub(super) fn run<F: Future>(seed: u64, f: impl FnOnce() -> F) -> F::Output {
    Runtime::with_seed_and_config(seed, madsim::Config::default()).block_on(f())
}

/// A request.
pub(super) fn req() -> Request {
    Request::server(Api::RaftGetPeer)
}

pub(super) fn ack() -> Datagram {
    Datagram::PushAck { last_ref_time: 1 }
}

/// What a node saw, and when (since the world began).
pub(super) type Log = Arc<Mutex<Vec<(&'static str, Duration)>>>;

/// A test server: answers each request `delay` after it lands (at once if zero), and logs
/// every request (`"request"`) and datagram (`"datagram"`).
pub(super) struct Echo {
    log: Log,
    delay: Duration,
    t0: Instant,
}

impl Handler for Echo {
    fn handle(self: Arc<Self>, _from: SocketAddr, _req: Request) -> BoxFuture<Response> {
        self.log
            .lock()
            .unwrap()
            .push(("request", self.t0.elapsed()));
        if self.delay.is_zero() {
            return Box::pin(std::future::ready(Response::ok()));
        }
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            Response::ok()
        })
    }

    fn datagram(self: Arc<Self>, _from: SocketAddr, _d: Datagram) {
        self.log
            .lock()
            .unwrap()
            .push(("datagram", self.t0.elapsed()));
    }
}

/// Work for a node: run on it, with its [`Net`].
type Job = Box<dyn FnOnce(Arc<Net>) -> BoxFuture<()> + Send>;

/// A node of a test world.
pub(super) struct Node {
    pub id: NodeId,
    pub addr: SocketAddr,
    pub log: Log,
    jobs: mpsc::UnboundedSender<Job>,
}

impl Node {
    pub fn ip(&self) -> IpAddr {
        self.addr.ip()
    }

    pub fn seen(&self) -> Vec<(&'static str, Duration)> {
        self.log.lock().unwrap().clone()
    }

    /// Runs `f` in a task of its own on the node (at once, or once the node has bound its
    /// endpoint); the receiver gets its result.
    pub fn run<T, F>(&self, f: impl FnOnce(Arc<Net>) -> F + Send + 'static) -> oneshot::Receiver<T>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |net| {
            Box::pin(async move {
                let _ = tx.send(f(net).await);
            })
        });
        let _ = self.jobs.send(job);
        rx
    }

    /// [`Node::run`], for work whose result nobody waits for.
    pub fn spawn<T, F>(&self, f: impl FnOnce(Arc<Net>) -> F + Send + 'static)
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        drop(self.run(f));
    }
}

pub(super) struct World {
    pub env: Arc<NetEnv>,
    pub handle: Handle,
    pub t0: Instant,
}

impl World {
    pub fn new() -> World {
        let env = Arc::new(NetEnv::default());
        env.update(|s| s.latency = ms(5)..ms(5) + Duration::from_nanos(1));
        World {
            env,
            handle: Handle::current(),
            t0: Instant::now(),
        }
    }

    /// Time since the world began.
    pub fn now(&self) -> Duration {
        self.t0.elapsed()
    }

    /// Boots a node at 10.0.0.`n`:8848 that serves an [`Echo`] answering after `delay` (its
    /// endpoint is bound 1 ms later) and runs the jobs given to it.
    pub fn node(&self, n: u8, delay: Duration) -> Node {
        let addr = SocketAddr::new(IpAddr::from([10, 0, 0, n]), 8848);
        let node = self
            .handle
            .create_node()
            .name(format!("n{n}"))
            .ip(addr.ip())
            .build();
        let log = Log::default();
        let echo = Arc::new(Echo {
            log: log.clone(),
            delay,
            t0: self.t0,
        });
        let env = self.env.clone();
        let (jobs, mut rx) = mpsc::unbounded_channel::<Job>();
        node.spawn(async move {
            let net = Net::bind(addr, env).await.unwrap();
            net.serve(echo.clone());
            while let Some(job) = rx.recv().await {
                tokio::spawn(job(net.clone()));
            }
            drop(echo);
        });
        Node {
            id: node.id(),
            addr,
            log,
            jobs,
        }
    }

    /// Kills the node's process as the harness's crash does (`sim/faults.rs`).
    pub fn crash(&self, n: &Node) {
        self.handle.kill(n.id);
        self.env.crash(n.addr);
    }
}

/// Runs `f` and says how long it took.
pub(super) async fn timed<T>(f: impl Future<Output = T>) -> (T, Duration) {
    let t = Instant::now();
    let out = f.await;
    (out, t.elapsed())
}

/// One call with the usual timeouts, timed.
pub(super) async fn call(net: &Net, dst: SocketAddr) -> (Result<Response, NetError>, Duration) {
    timed(net.call(dst, req(), CONNECT, READ)).await
}

/// One call with `timeouts`, timed.
pub(super) async fn call_with(
    net: &Net,
    dst: SocketAddr,
    timeouts: Timeouts,
) -> (Result<Response, NetError>, Duration) {
    timed(net.call_with(dst, req(), timeouts)).await
}
