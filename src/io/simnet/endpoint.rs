//! One process's end of the simulated wire: what [`crate::io::Net`] runs on in simulation.

use super::deadline::Deadlines;
use super::env::NetEnv;
use super::gate::Gate;
use super::inbox::{Inbox, Letter};
use super::state::STACK;
use crate::io::api::{Handler, ProbeResult};
use crate::wire::Datagram;
use madsim::time::{Sleep, TimeHandle};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Instant;

/// One process's network endpoint, bound for the life of the process.
pub struct Endpoint {
    pub(crate) me: SocketAddr,
    pub(crate) env: Arc<NetEnv>,
    pub(crate) time: TimeHandle,
    /// Read timeouts of this process's calls in flight.
    pub(crate) deadlines: Arc<Deadlines>,
    /// The process's timer gate (see [`super::gate`]).
    pub(crate) gate: Arc<Gate>,
    /// This process's inbox, once it serves.
    inbox: Mutex<Option<Arc<Inbox>>>,
    /// Inboxes of the process's other ports ([`Endpoint::serve_port`]).
    ports: Mutex<Vec<Arc<Inbox>>>,
}

impl Endpoint {
    /// Binds the process's endpoint at `addr` (from inside the booting node; takes one stack
    /// delay, as binding a madsim endpoint did).
    pub async fn bind(addr: SocketAddr, env: Arc<NetEnv>) -> Endpoint {
        tokio::time::sleep(STACK).await;
        let time = TimeHandle::current();
        let gate = Arc::new(Gate::default());
        Endpoint {
            me: addr,
            env,
            deadlines: Deadlines::start(time.clone(), gate.clone()),
            gate,
            time,
            inbox: Mutex::default(),
            ports: Mutex::default(),
        }
    }

    /// Starts listening: requests and datagrams to this address go to `handler`, run on this
    /// node (the boot calling this), until the process crashes.
    pub fn serve(&self, handler: Arc<dyn Handler>) {
        let inbox = Inbox::open(
            self.me,
            self.env.links.clone(),
            Arc::downgrade(&handler),
            self.gate.clone(),
        );
        self.env.listen(self.me, &inbox);
        *self.inbox.lock().unwrap() = Some(inbox);
    }

    /// Listens on another port of the same host (a server's JRaft port): requests to it go to
    /// `handler`, run on this process, until it crashes. Its own calls still leave from the
    /// endpoint's address.
    pub fn serve_port(&self, port: u16, handler: Arc<dyn Handler>) {
        let addr = SocketAddr::new(self.me.ip(), port);
        let inbox = Inbox::open(
            addr,
            self.env.links.clone(),
            Arc::downgrade(&handler),
            self.gate.clone(),
        );
        self.env.listen(addr, &inbox);
        self.ports.lock().unwrap().push(inbox);
    }

    /// A TCP health probe of a service instance (not a simulated node): judged when it starts
    /// ([`super::state::EnvState::probe`]); a connect or a refusal is known 1 ms later, a
    /// dropped connect after `connect_timeout`.
    pub async fn probe_tcp(&self, ip: &str, port: u16, connect_timeout: Duration) -> ProbeResult {
        let key = format!("{ip}:{port}");
        let result = self.env.links.with(|s| s.probe(self.me.ip(), &key));
        let wait = match result {
            ProbeResult::TimedOut => connect_timeout,
            ProbeResult::Connected | ProbeResult::Refused => Duration::from_millis(1),
        };
        self.sleep_until(self.time.now_instant() + wait).await;
        result
    }

    /// Sends one UDP datagram; it may be lost (fault `loss`), or dropped when it lands on a cut
    /// link or one the sender may not connect over (`no_connect`).
    pub fn send_datagram(&self, dst: SocketAddr, d: Datagram) {
        let sent = self.env.links.with(|s| {
            if s.datagram_loss > 0.0 && madsim::rand::random::<f64>() < s.datagram_loss {
                return None;
            }
            let dst = s.resolve(dst);
            Some((dst, s.one_way(self.me.ip(), dst.ip())))
        });
        if let Some((dst, delay)) = sent {
            let letter = Letter::Datagram { from: self.me, d };
            self.env.send(dst, self.time.now_instant() + delay, letter);
        }
    }

    /// A timer of this process: madsim's sleep (at least 1 ms, as tokio's), passing through the
    /// process's gate when it ends.
    pub fn sleep_until(&self, deadline: Instant) -> GatedSleep<'_> {
        GatedSleep {
            sleep: self.time.sleep_until(deadline),
            gate: &self.gate,
        }
    }
}

/// The future of [`Endpoint::sleep_until`].
pub struct GatedSleep<'a> {
    sleep: Sleep,
    gate: &'a Gate,
}

impl Future for GatedSleep<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.gate.pass(cx)
    }
}
