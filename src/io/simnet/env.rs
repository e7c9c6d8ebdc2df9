//! The network every node shares, as the harness sees it: the fault state it sets, the inbox
//! listening at each address, and what a crash or a resume does to them.

use super::gate::TIMERS_FIRST_HOLD;
use super::inbox::{Inbox, Letter};
use super::state::{EnvState, Links};
use crate::io::api::NoConnect;
use crate::io::api::ResumeOrder;
use madsim::task::NodeId;
use madsim::time::TimeHandle;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::time::Instant;

/// The network every node shares: fault state set by the harness's fault injector, and the
/// processes listening at each address.
#[derive(Default)]
pub struct NetEnv {
    pub(crate) links: Arc<Links>,
    /// The inbox of the process listening at each address: registered when it boots, removed
    /// when it crashes.
    inboxes: Mutex<BTreeMap<SocketAddr, Weak<Inbox>>>,
}

impl NetEnv {
    pub fn update(&self, f: impl FnOnce(&mut EnvState)) {
        f(&mut self.links.state.lock().unwrap())
    }

    pub fn state(&self) -> EnvState {
        self.links.with(|s| s.clone())
    }

    /// Messages delivered so far (requests, replies and datagrams).
    pub fn delivered(&self) -> u64 {
        self.links.delivered()
    }

    /// From now on connections opened by `from` toward `to` fail as `mode` says, and datagrams
    /// from `from` to `to` are dropped (when they land). Connections opened by `to` toward
    /// `from`, and calls already connected, work both ways. Removed by [`Self::heal_links`] or
    /// [`Self::clear_no_connect`].
    pub fn no_connect(&self, from: IpAddr, to: IpAddr, mode: NoConnect) {
        self.update(|s| {
            s.no_connect.insert((from, to), mode);
        });
    }

    pub fn clear_no_connect(&self, from: IpAddr, to: IpAddr) {
        self.update(|s| {
            s.no_connect.remove(&(from, to));
        });
    }

    /// From now on every message leaving on the directed link `from → to` (request, reply,
    /// datagram, reset, refusal) takes `extra` longer; `Duration::ZERO` clears it. Messages
    /// already in flight keep their delay.
    pub fn set_link_delay(&self, from: IpAddr, to: IpAddr, extra: Duration) {
        self.update(|s| {
            if extra.is_zero() {
                s.link_delay.remove(&(from, to));
            } else {
                s.link_delay.insert((from, to), extra);
            }
        });
    }

    /// From now on `alias` also reaches the process listening at `to` (a second name for a
    /// server, as a cluster.conf may use: `[cluster] aliases`). Calls and datagrams sent to
    /// `alias` are delivered to `to`'s process and judged as travelling to `to`; the receiver
    /// sees the sender's own address, and nothing tells it which address was dialled.
    pub fn alias(&self, alias: SocketAddr, to: SocketAddr) {
        self.update(|s| {
            s.aliases.insert(alias, to);
        });
    }

    /// Removes every link fault: cuts, `no_connect` and extra link delays (fault `heal`).
    pub fn heal_links(&self) {
        self.update(EnvState::heal_links)
    }

    /// The process at `addr` was killed: it is down (new connects are refused until the
    /// harness removes it from `down` at its restart), nothing listens there until it boots
    /// again, and every call it had accepted and not answered fails at its caller with
    /// `NetError::Reset` one way later (as a killed JVM's kernel resets its connections),
    /// unless the link back is cut. Calls to a process that is only isolated or paused still
    /// time out.
    pub fn crash(&self, addr: SocketAddr) {
        self.update(|s| {
            s.down.insert(addr.ip());
        });
        // Every port the process listened on goes (a server's HTTP and JRaft ports).
        let gone: Vec<_> = {
            let mut inboxes = self.inboxes.lock().unwrap();
            let ports: Vec<SocketAddr> = inboxes
                .keys()
                .filter(|a| a.ip() == addr.ip())
                .copied()
                .collect();
            ports.iter().filter_map(|a| inboxes.remove(a)).collect()
        };
        for inbox in gone.into_iter().filter_map(|w| w.upgrade()) {
            inbox.reset_all();
        }
    }

    /// A firewall starts (`true`) or stops dropping connections to `addr` (fault `block_port`).
    pub fn block_port(&self, addr: SocketAddr, blocked: bool) {
        self.update(|s| {
            if blocked {
                s.blocked_ports.insert(addr);
            } else {
                s.blocked_ports.remove(&addr);
            }
        });
    }

    /// Resumes the paused madsim node `node` (whose process listens at `addr`), choosing which
    /// of its overdue timers and queued letters run first (see [`super::gate`]).
    pub fn resume_with_order(&self, node: NodeId, addr: SocketAddr, order: ResumeOrder) {
        if let Some(inbox) = self.inbox(addr) {
            match order {
                ResumeOrder::Seeded => {}
                ResumeOrder::TimersFirst => {
                    let now = TimeHandle::current().now_instant();
                    inbox.hold(now + TIMERS_FIRST_HOLD);
                }
                ResumeOrder::RequestsFirst => inbox.requests_first(),
            }
        }
        madsim::runtime::Handle::current().resume(node);
    }

    pub(crate) fn listen(&self, addr: SocketAddr, inbox: &Arc<Inbox>) {
        self.inboxes
            .lock()
            .unwrap()
            .insert(addr, Arc::downgrade(inbox));
    }

    fn inbox(&self, addr: SocketAddr) -> Option<Arc<Inbox>> {
        self.inboxes.lock().unwrap().get(&addr)?.upgrade()
    }

    /// Puts a letter on the wire to `dst`, landing at `arrive`. It goes to the inbox listening
    /// at `dst` now (a process that dies meanwhile loses it); when none listens yet (a process
    /// still booting), the letter is held until it lands and goes to whoever listens then.
    pub(crate) fn send(self: &Arc<Self>, dst: SocketAddr, arrive: Instant, letter: Letter) {
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
