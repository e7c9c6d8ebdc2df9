//! The network's fault state and the rules that judge each message against it: whether a
//! connection opens, how long a message takes, whether it lands. Pure data under one lock;
//! the harness writes it through [`super::NetEnv`], the wire reads it.

use crate::io::api::{NoConnect, ProbeResult};
use madsim::rand::Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Time spent in each end's network stack, on top of the link latency. madsim's endpoints slept
/// their minimum sleep (1 ms) on every send and every receive; keeping it leaves round trips
/// where they were (one way = 2 ms + a draw from the link latency, 3–12 ms by default).
pub(crate) const STACK: Duration = Duration::from_millis(1);

/// A refused connect: the SYN goes out and the peer's RST comes back, one stack time each way
/// (no draw from the link latency: a refusal takes no seeded randomness).
pub(crate) const REFUSED_AFTER: Duration = Duration::from_millis(2);

/// A RST travels one way: a crashed process's kernel resets its connections, and each caller
/// hears of it one stack time later (plus any extra delay on the link back to it).
pub(crate) const RESET_AFTER: Duration = STACK;

/// How long TCP keeps retransmitting data nobody acknowledges before it gives up on the
/// connection: Linux's `tcp_retries2 = 15` with a 200 ms minimum and a 120 s maximum RTO gives
/// 1023 × 0.2 s + 6 × 120 s = 924.6 s (spec §3: a connection that dies after it was established
/// blocks a call without read timeout "until TCP gives up, about 15 min"). Only calls without a
/// read timeout ever wait this long.
pub(crate) const TCP_GIVE_UP: Duration = Duration::from_millis(924_600);

#[derive(Debug, Clone)]
pub struct EnvState {
    /// Addresses whose process is down (crashed, not yet restarted).
    pub down: BTreeSet<IpAddr>,
    /// Directed cuts: (from, to) cannot deliver.
    pub cut: BTreeSet<(IpAddr, IpAddr)>,
    /// (from, to): connections opened by `from` toward `to` fail this way, and datagrams from
    /// `from` to `to` are dropped; connections opened by `to` toward `from` work both ways.
    pub no_connect: BTreeMap<(IpAddr, IpAddr), NoConnect>,
    /// (from, to): extra one-way delay of every message travelling from `from` to `to`
    /// (requests, replies, datagrams, resets).
    pub link_delay: BTreeMap<(IpAddr, IpAddr), Duration>,
    /// Probability that a datagram is lost.
    pub datagram_loss: f64,
    /// `ip:port` of service instances whose port stopped answering (fault `port_down`).
    pub closed_ports: BTreeSet<String>,
    /// Server ports a firewall drops connections to (fault `block_port`, e.g. the JRaft port
    /// 7848 of jraft spec §J9.5): a connect to one times out; the node's other ports, and its
    /// own connections out, still work.
    pub blocked_ports: BTreeSet<SocketAddr>,
    /// The link latency range a message's delay is drawn from (fault `latency`).
    pub latency: Range<Duration>,
    /// Extra addresses that reach a process (`[cluster] aliases`, spec §4 step 1, §16 item 8):
    /// a call or datagram to the key goes to the process listening at the value, and is judged
    /// (cuts, delays, a crash) as travelling to that address. Not a link fault: `heal` keeps it.
    pub aliases: BTreeMap<SocketAddr, SocketAddr>,
}

impl Default for EnvState {
    fn default() -> Self {
        EnvState {
            down: BTreeSet::new(),
            cut: BTreeSet::new(),
            no_connect: BTreeMap::new(),
            link_delay: BTreeMap::new(),
            datagram_loss: 0.0,
            closed_ports: BTreeSet::new(),
            blocked_ports: BTreeSet::new(),
            // madsim's default link latency, which this network used to go through.
            latency: madsim::net::Config::default().send_latency,
            aliases: BTreeMap::new(),
        }
    }
}

/// How a connection attempt ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Connect {
    /// The SYN gets no answer: the connect times out.
    Cut,
    /// The SYN is answered with a RST, which lands after this long.
    Refused { after: Duration },
    /// Connected; the request leaves now and lands after `delay` (if anyone listens).
    Open { delay: Duration },
}

impl EnvState {
    /// The address a message to `dst` really goes to: the process an alias names, else `dst`.
    pub(crate) fn resolve(&self, dst: SocketAddr) -> SocketAddr {
        if self.aliases.is_empty() {
            return dst;
        }
        self.aliases.get(&dst).copied().unwrap_or(dst)
    }

    pub(crate) fn link_cut(&self, a: IpAddr, b: IpAddr) -> bool {
        !self.cut.is_empty() && a != b && self.cut.contains(&(a, b))
    }

    /// The extra delay set on the directed link `from → to`.
    pub(crate) fn extra(&self, from: IpAddr, to: IpAddr) -> Duration {
        if self.link_delay.is_empty() {
            return Duration::ZERO;
        }
        self.link_delay
            .get(&(from, to))
            .copied()
            .unwrap_or_default()
    }

    /// One message's delay from send to delivery on the link `from → to`.
    pub(crate) fn one_way(&self, from: IpAddr, to: IpAddr) -> Duration {
        let link = madsim::rand::thread_rng().gen_range(self.latency.clone());
        STACK + link + STACK + self.extra(from, to)
    }

    /// Whether a letter travelling `from → to` lands (judged when it lands): a cut loses any
    /// letter; `no_connect` loses datagrams only (a call's connection already exists).
    pub(crate) fn lands(&self, from: IpAddr, to: IpAddr, datagram: bool) -> bool {
        if self.link_cut(from, to) {
            return false;
        }
        !(datagram && !self.no_connect.is_empty() && self.no_connect.contains_key(&(from, to)))
    }

    /// A connection opened by `from` toward the port `to`: dropped by a blocked port, else
    /// judged between the two hosts.
    pub(crate) fn connect_to(&self, from: IpAddr, to: SocketAddr) -> Connect {
        if !self.blocked_ports.is_empty() && self.blocked_ports.contains(&to) {
            return Connect::Cut;
        }
        self.connect(from, to.ip())
    }

    /// A connection opened by `from` toward `to`.
    pub(crate) fn connect(&self, from: IpAddr, to: IpAddr) -> Connect {
        // A TCP handshake needs both directions.
        if self.link_cut(from, to) || self.link_cut(to, from) {
            return Connect::Cut;
        }
        let refused = || Connect::Refused {
            after: REFUSED_AFTER + self.extra(from, to) + self.extra(to, from),
        };
        if !self.no_connect.is_empty() {
            match self.no_connect.get(&(from, to)) {
                Some(NoConnect::Timeout) => return Connect::Cut,
                Some(NoConnect::Refused) => return refused(),
                None => {}
            }
        }
        if self.down.contains(&to) {
            return refused();
        }
        Connect::Open {
            delay: self.one_way(from, to),
        }
    }

    /// How a TCP probe from `from` to a service instance's `ip:port` ends (spec §8): a dropped
    /// connect (a blocked port, a cut link or a `no_connect` timeout toward a node's IP) times
    /// out; a closed port (`port_down`), a refusing `no_connect` or a down process refuses it;
    /// anything else connects.
    pub(crate) fn probe(&self, from: IpAddr, ip_port: &str) -> ProbeResult {
        let addr: Option<SocketAddr> = ip_port.parse().ok();
        if let Some(a) = addr {
            if self.blocked_ports.contains(&a)
                || self.link_cut(from, a.ip())
                || self.link_cut(a.ip(), from)
            {
                return ProbeResult::TimedOut;
            }
            match self.no_connect.get(&(from, a.ip())) {
                Some(NoConnect::Timeout) => return ProbeResult::TimedOut,
                Some(NoConnect::Refused) => return ProbeResult::Refused,
                None => {}
            }
            if self.down.contains(&a.ip()) {
                return ProbeResult::Refused;
            }
        }
        if self.closed_ports.contains(ip_port) {
            return ProbeResult::Refused;
        }
        ProbeResult::Connected
    }

    /// Removes every link fault: cuts, one-way connect faults and extra delays (fault `heal`).
    pub fn heal_links(&mut self) {
        self.cut.clear();
        self.no_connect.clear();
        self.link_delay.clear();
        self.blocked_ports.clear();
    }

    /// Whether any link fault is in force (what [`Self::heal_links`] would remove).
    pub fn has_link_faults(&self) -> bool {
        !self.cut.is_empty()
            || !self.no_connect.is_empty()
            || !self.link_delay.is_empty()
            || !self.blocked_ports.is_empty()
    }
}

/// The fault state as the wire shares it, and the count of messages delivered.
#[derive(Default)]
pub(crate) struct Links {
    pub(crate) state: Mutex<EnvState>,
    delivered: AtomicU64,
}

impl Links {
    pub(crate) fn with<T>(&self, f: impl FnOnce(&EnvState) -> T) -> T {
        f(&self.state.lock().unwrap())
    }

    pub(crate) fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    pub(crate) fn count(&self) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    #[test]
    fn no_connect_blocks_one_direction_of_connects_and_datagrams_only() {
        let mut s = EnvState::default();
        s.no_connect.insert((ip(1), ip(2)), NoConnect::Timeout);
        assert_eq!(s.connect(ip(1), ip(2)), Connect::Cut);
        s.no_connect.insert((ip(1), ip(2)), NoConnect::Refused);
        assert_eq!(
            s.connect(ip(1), ip(2)),
            Connect::Refused {
                after: REFUSED_AFTER
            }
        );
        assert!(!s.lands(ip(1), ip(2), true), "datagrams 1 → 2 dropped");
        assert!(
            s.lands(ip(1), ip(2), false),
            "replies 1 → 2 on 2's connection land"
        );
        assert!(s.lands(ip(2), ip(1), true));
        s.down.insert(ip(1));
        assert!(matches!(s.connect(ip(2), ip(1)), Connect::Refused { .. }));
        s.heal_links();
        assert!(!s.has_link_faults());
    }

    #[test]
    fn a_probe_times_out_on_a_dropped_connect_and_is_refused_by_a_closed_port() {
        // spec §8: the probe's outcome decides the rule (refused: unhealthy at once; timed out:
        // a counted failure).
        let mut s = EnvState::default();
        let inst = "10.0.0.50:3306";
        assert_eq!(s.probe(ip(1), inst), ProbeResult::Connected);
        s.closed_ports.insert(inst.to_string());
        assert_eq!(s.probe(ip(1), inst), ProbeResult::Refused);
        s.blocked_ports.insert(inst.parse().unwrap());
        assert_eq!(s.probe(ip(1), inst), ProbeResult::TimedOut, "a DROP wins");
        s.heal_links();
        s.cut.insert((ip(50), ip(1)));
        assert_eq!(
            s.probe(ip(1), inst),
            ProbeResult::TimedOut,
            "a cut either way"
        );
        s.cut.clear();
        s.closed_ports.clear();
        s.down.insert(ip(50));
        assert_eq!(s.probe(ip(1), inst), ProbeResult::Refused);
    }

    #[test]
    fn refusals_and_resets_pay_the_extra_delay_of_the_links_they_cross() {
        let mut s = EnvState::default();
        s.down.insert(ip(2));
        s.link_delay
            .insert((ip(1), ip(2)), Duration::from_millis(30));
        s.link_delay
            .insert((ip(2), ip(1)), Duration::from_millis(5));
        assert_eq!(
            s.connect(ip(1), ip(2)),
            Connect::Refused {
                after: Duration::from_millis(37)
            }
        );
        assert_eq!(s.extra(ip(2), ip(1)), Duration::from_millis(5));
        assert_eq!(s.extra(ip(1), ip(3)), Duration::ZERO);
        assert!(s.has_link_faults());
    }
}
