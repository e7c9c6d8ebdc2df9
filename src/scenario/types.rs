//! The typed scenario: what a `scenarios/*.toml` file means once parsed and validated.

use crate::config::Config;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// A register or deregister step names the instance with the client's own type (the testbed
/// may use the system under test's types; not the other way round).
pub use crate::client::Registration;

/// How a `no_connect` fault fails connections, and the order a `resume` takes a paused node's
/// overdue timers and queued mail: the wire's own values (a fault is data the harness hands to
/// the simulated network).
pub use crate::io::{NoConnect, ResumeOrder};

/// The words scenarios write for a resume order (`resume = { node, order }`).
pub const RESUME_ORDERS: &[(&str, ResumeOrder)] = &[
    ("seeded", ResumeOrder::Seeded),
    ("timers-first", ResumeOrder::TimersFirst),
    ("requests-first", ResumeOrder::RequestsFirst),
];

/// The words scenarios write for how `no_connect` fails a connection (`mode`).
pub const NO_CONNECT_MODES: &[(&str, NoConnect)] = &[
    ("timeout", NoConnect::Timeout),
    ("refused", NoConnect::Refused),
];

/// The word a table of words gives a value.
pub fn word_of<T: PartialEq + Copy>(words: &[(&'static str, T)], v: T) -> &'static str {
    words.iter().find(|w| w.1 == v).map_or("?", |w| w.0)
}

/// A step or expectation without `group` or `cluster` means Nacos's defaults (spec §1).
pub use crate::model::instance::DEFAULT_CLUSTER;
pub use crate::model::keys::DEFAULT_GROUP;

/// The link latency of a scenario's network until a `latency` fault changes it (madsim's
/// default, which the transport used to go through): each message draws from this range.
pub const DEFAULT_LATENCY: std::ops::Range<Duration> =
    Duration::from_millis(1)..Duration::from_millis(10);
/// The ports a server listens on, with what each serves (fault `block_port`): Nacos's HTTP
/// port, and the JRaft port 1000 below it (jraft spec §J9.5).
pub const SERVER_PORTS: &[(u16, &str)] = &[
    (8848, "HTTP: the client API, Distro, legacy Raft"),
    (7848, "JRaft, 8848 - 1000"),
];
/// Role targets of faults, resolved when the step runs.
pub const ROLES: &[&str] = &["@leader", "@followers", "@crashed"];

#[derive(Debug, Clone)]
pub struct Scenario {
    /// The file path as the user gave it (used in repro commands).
    pub path: String,
    pub name: String,
    pub about: String,
    pub seed: u64,
    /// Virtual time to run.
    pub duration: Duration,
    /// Server node names in the order given (`servers = 3` gives s1, s2, s3).
    pub servers: Vec<String>,
    /// `[cluster] versions = { s3 = "1.3.2" }`: the Nacos version of a server, when it is not
    /// the default 1.4.1 (jraft spec §J13.1). A member below 1.4.0 keeps every server on legacy
    /// Raft.
    pub versions: BTreeMap<String, String>,
    /// `[cluster] aliases = { "127.0.0.1:8848" = "s1" }`: extra addresses that reach a server
    /// (spec §4 step 1, §16 item 8).
    pub aliases: BTreeMap<SocketAddr, String>,
    /// `[cluster] conf = { s1 = ["s2", "127.0.0.1:8848"] }`: a server's cluster.conf, as written;
    /// a server not named here lists every server's own address (spec §4 step 1).
    pub conf: BTreeMap<String, Vec<ConfMember>>,
    /// `[cluster] mode`, when the file sets it; by default a lone server runs standalone and a
    /// cluster of two or more in cluster mode (spec §9 "Single-member cluster versus
    /// standalone").
    pub mode: Option<ClusterMode>,
    /// Nacos defaults with the scenario's `[config]` overrides applied.
    pub config: Config,
    /// The overrides as (key, value as the scenario wrote it), in file order, for the outcome header.
    pub overrides: Vec<(String, String)>,
    pub clients: Vec<ClientSpec>,
    /// Sorted by `at` (stable: file order among equal times).
    pub steps: Vec<Step>,
    pub expects: Vec<Expect>,
    /// How long the network must have been whole (no cut, pause or loss) before the end of
    /// the run for the convergence check to judge the servers' views. Default 30 s.
    pub quiet: Duration,
    /// `[chaos]`: faults drawn from the seed when the run starts (issue 5).
    pub chaos: Option<ChaosSpec>,
    /// `pass_rate`: the share of seeds 0..99 on which the story holds at least; the test suite
    /// sweeps every scenario and fails below it. Default [`DEFAULT_PASS_RATE`]; a lower rate is
    /// for a race, which the `about` must say.
    pub pass_rate: f64,
}

/// The port every server listens on (Nacos's default `server.port`).
pub const SERVER_PORT: u16 = 8848;
/// The port every client's push receiver listens on.
pub const CLIENT_PORT: u16 = 54951;

/// The address of the `i`-th server (from 0): `10.0.0.{i+1}:8848`, 250 to a /24.
pub fn server_addr(i: usize) -> SocketAddr {
    let ip = Ipv4Addr::new(10, 0, (i / 250) as u8, (i % 250 + 1) as u8);
    SocketAddr::new(IpAddr::V4(ip), SERVER_PORT)
}

/// The address of the `i`-th client (from 0): `10.1.0.{i+1}:54951`.
pub fn client_addr(i: usize) -> SocketAddr {
    let ip = Ipv4Addr::new(10, 1, (i / 250) as u8, (i % 250 + 1) as u8);
    SocketAddr::new(IpAddr::V4(ip), CLIENT_PORT)
}

/// How the servers run (`[cluster] mode`, spec §9 "Single-member cluster versus standalone").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterMode {
    /// `-m standalone`: one server that owns everything and is always the Raft leader.
    Standalone,
    /// Cluster mode: Distro and legacy Raft over the members of each server's cluster.conf.
    Cluster,
}

impl ClusterMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterMode::Standalone => "standalone",
            ClusterMode::Cluster => "cluster",
        }
    }
}

/// One entry of a server's cluster.conf (`[cluster] conf`), as the file names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfMember {
    /// A server by name: its own address.
    Server(String),
    /// An address: a server's own, or an alias.
    Addr(SocketAddr),
}

/// A story holds on at least 95 of seeds 0..99 unless it declares itself a race.
pub const DEFAULT_PASS_RATE: f64 = 0.95;

/// The fault kinds a `[chaos]` section can draw (Jepsen's partition shapes and node faults).
pub const CHAOS_KINDS: &[&str] = &[
    "isolate",
    "partition",
    "one_way",
    "bridge",
    "ring",
    "no_connect",
    "delay",
    "block_port",
    "crash",
    "pause",
    "loss",
    "latency",
    "clock_skew",
];

/// `[chaos]`: which faults to draw from the seed, how often and how hard.
#[derive(Debug, Clone, PartialEq)]
pub struct ChaosSpec {
    /// Enabled kinds, a subset of [`CHAOS_KINDS`] in that order.
    pub kinds: Vec<String>,
    /// No fault before `start`; at `end` every fault is undone (`heal_all`).
    pub start: Duration,
    pub end: Duration,
    /// Gap between the starts of two drawn faults.
    pub every: (Duration, Duration),
    /// How long one fault stays before it is undone.
    pub hold: (Duration, Duration),
    /// Node faults (crash, pause, isolate, clock_skew) may hit clients too (`nodes = "all"`).
    pub clients_too: bool,
    /// Servers crashed or paused at once, at most.
    pub max_down: usize,
    /// Datagram loss rates are drawn in this range.
    pub loss: (f64, f64),
    /// The upper end of a drawn latency range lies in this range (the lower end is 1 ms).
    pub latency: (Duration, Duration),
    /// The extra one-way delay of a drawn `delay` fault lies in this range.
    pub delay: (Duration, Duration),
    /// Largest clock offset, either way.
    pub skew: Duration,
    /// Largest clock drift, either way (seconds per second).
    pub drift: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClientSpec {
    pub name: String,
    /// The client's serverAddr list (server node names); default every server.
    pub servers: Vec<String>,
    /// `traffic = { service = "orders", rate = "20/s" }`: the client is also a consumer that
    /// calls an instance of the service, picked from its cache, at this rate (issue 13).
    pub traffic: Option<Traffic>,
}

/// How a consumer picks the instance of each call, with the client's own selection code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pick {
    /// `selectOneHealthyInstance`: random by weight among the healthy hosts (§13).
    OneHealthy,
    /// `selectInstances(healthy = true)`, then round robin over that list.
    AllHealthyRoundRobin,
}

/// The words scenarios write for a pick strategy.
pub const PICKS: &[(&str, Pick)] = &[
    ("one_healthy", Pick::OneHealthy),
    ("all_healthy_round_robin", Pick::AllHealthyRoundRobin),
];

/// A consumer's calls (`[[client]] traffic`).
#[derive(Debug, Clone, PartialEq)]
pub struct Traffic {
    pub service: ServiceRef,
    /// Calls per second (the gap between two calls is drawn around 1 / rate).
    pub rate: f64,
    /// The rate as the scenario wrote it (`"20/s"`), for write-back.
    pub rate_text: String,
    pub pick: Pick,
    /// The first call is made about one gap after this moment (`from = "5s"`; default 0).
    pub from: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub at: Duration,
    pub action: Action,
    /// 1-based line of the `[[step]]` header in the file.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Client { client: String, op: ClientOp },
    Fault(Fault),
}

/// A service as a client names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServiceRef {
    pub service: String,
    /// Default `DEFAULT_GROUP`.
    pub group: String,
    /// Empty = all clusters.
    pub clusters: Vec<String>,
}

impl ServiceRef {
    /// The service's grouped name, `group@@service` (spec §1).
    pub fn grouped(&self) -> String {
        crate::model::keys::grouped_name(&self.group, &self.service)
    }

    /// The client's cache key of the service (`group@@service`, `@@clusters` when named):
    /// what a consumer's traffic and its availability figures are kept under.
    pub fn cache_key(&self) -> String {
        crate::client::host::cache_key(&self.grouped(), &self.clusters.join(","))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClientOp {
    /// The instance as the client registers it; the file's defaults are group
    /// `DEFAULT_GROUP`, cluster `DEFAULT`, weight 1.0, enabled and ephemeral.
    Register(Registration),
    /// Only service, group, ip, port, cluster, ephemeral matter.
    Deregister(Registration),
    Subscribe(ServiceRef),
    Unsubscribe(ServiceRef),
    GetAllInstances(ServiceRef),
    /// `select_instances = { service = "orders", healthy = true }` (healthy default true).
    SelectInstances(ServiceRef, bool),
    SelectOneHealthy(ServiceRef),
    /// NamingMaintainService `createService` (POST /service, through Raft), with its protect threshold.
    CreateService(ServiceRef, f32),
    /// `updateService` (PUT /service).
    UpdateService(ServiceRef, f32),
    /// `deleteService` (DELETE /service, a Raft delete).
    DeleteService(ServiceRef),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Kill the node's process; its disk survives.
    Crash(String),
    /// Start a crashed node again.
    Restart(String),
    /// Freeze the node: its tasks stop, its sockets still accept.
    Pause(String),
    /// Unfreeze the node; `order` says whether its overdue timers or its queued requests and
    /// datagrams run first (`Seeded`: madsim's seeded order, a bare `resume = "s1"`).
    Resume(String, ResumeOrder),
    /// Cut every link to and from the node.
    Isolate(String),
    /// Jepsen's majorities ring: the nodes in this ring order, each reaching a majority (itself
    /// and its nearest neighbours) but no two the same majority; every other link is cut.
    Ring(Vec<String>),
    /// Remove every link fault: partitions, isolations, one-way cuts, `no_connect`, link delays
    /// and blocked ports.
    Heal,
    /// Groups that cannot reach each other (nodes in no group keep every link).
    Partition(Vec<Vec<String>>),
    /// Like a partition of `sides`, but `via` (on no side) keeps its links to both sides.
    Bridge {
        via: String,
        sides: Vec<Vec<String>>,
    },
    /// Packets from `from` to `to` are dropped; the reverse direction still delivers. HTTP calls
    /// between the two then time out both ways (a TCP handshake needs both directions); only
    /// datagrams from `to` to `from` still arrive.
    OneWay { from: String, to: String },
    /// Connections opened by `from` toward `to` fail (the connect times out, or is refused at
    /// once); connections opened by `to` toward `from` work both ways; datagrams from `from` to
    /// `to` are dropped. Removed by `Heal`.
    NoConnect {
        from: String,
        to: String,
        mode: NoConnect,
    },
    /// Every message from `from` to `to` takes `extra` longer from now on; zero removes it, and
    /// so does `Heal`.
    Delay {
        from: String,
        to: String,
        extra: Duration,
    },
    /// A firewall on the node drops connections to one of its ports (`blocked`), or stops
    /// (`Heal` stops it too).
    BlockPort {
        node: String,
        port: u16,
        blocked: bool,
    },
    /// The server's disk stops completing writes (`stalled`), or completes them again
    /// (`heal_all` ends a stall too).
    DiskStall { node: String, stalled: bool },
    /// The port of a service instance (`ip:port`) stops answering TCP health probes.
    PortDown(String),
    /// The port answers again.
    PortUp(String),
    /// Probability that a UDP datagram (push, ack) is lost, 0.0..=1.0.
    Loss(f64),
    /// Per-message network latency range.
    Latency(Duration, Duration),
    /// From now on the node's wall clock reads true time + `offset_ms` and gains `drift`
    /// seconds per second (issue 5: clock skew; `offset = "0s"` puts it right again).
    ClockSkew {
        node: String,
        offset_ms: i64,
        drift: f64,
    },
    /// The server's JRaft state machine fails, as a snapshot write failing with EIO does
    /// (#7735): `hasError` latches and the server is DOWN from its next status tick until it
    /// restarts (jraft spec §J9.3, §J12.4 item 6).
    JraftError(String),
    /// A harness self-test: a task on the node panics, as a bug in the simulated Nacos would.
    /// The run must end as a failed outcome naming the panic, the seed and the repro command.
    Panic(String),
    /// Undo every fault in force: heal every cut, resume paused nodes, restart crashed ones,
    /// stop datagram loss, restore the default latency, put every clock right.
    HealAll,
}

/// When a view expectation must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    At(Duration),
    /// Holds at some moment of the window (inclusive).
    Within(Duration, Duration),
    /// Holds at every moment of the window (inclusive).
    Always(Duration, Duration),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewTarget {
    /// The client's cached view (what getAllInstances returns without a server call).
    Client(String),
    /// The server's `/instance/list` view.
    Server(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    View {
        /// The label shown in the outcome: the `name` key if given, else generated.
        label: Option<String>,
        target: ViewTarget,
        service: ServiceRef,
        /// Exact set of `ip:port`.
        instances: Option<BTreeSet<String>>,
        /// Exact set of `ip:port` reported healthy.
        healthy: Option<BTreeSet<String>>,
        when: When,
        line: usize,
    },
    /// `anomaly = "divergence"`: the always-on checker must report this anomaly.
    Anomaly {
        label: Option<String>,
        kind: crate::trace::Anomaly,
        line: usize,
    },
    Event {
        label: Option<String>,
        /// e.g. `instance.unhealthy`, `push.failed`, `fault.crash`.
        kind: String,
        instance: Option<String>,
        service: Option<String>,
        /// A node name, or `-` for events of the network or the harness as a whole.
        node: Option<String>,
        /// `fields = { to = "DOWN" }`: further fields that must equal these values exactly
        /// (as the event line writes them).
        fields: BTreeMap<String, String>,
        /// Window; `None` = the whole run.
        window: Option<(Duration, Duration)>,
        /// true: no matching event in the window; false: at least one.
        never: bool,
        line: usize,
    },
    /// `availability = { client, service, min, within }`: the share of the consumer's calls
    /// that succeeded (in the window, or over the whole run) is at least `min`.
    Availability {
        label: Option<String>,
        client: String,
        service: ServiceRef,
        min: f64,
        window: Option<(Duration, Duration)>,
        line: usize,
    },
    /// `stale_routing = { client, service, max }`: no call of the consumer went to a dead
    /// instance later than `max` after the instance died.
    StaleRouting {
        label: Option<String>,
        client: String,
        service: ServiceRef,
        max: Duration,
        line: usize,
    },
}

impl Scenario {
    /// Every node name, servers first.
    pub fn node_names(&self) -> Vec<String> {
        let mut v = self.servers.clone();
        v.extend(self.clients.iter().map(|c| c.name.clone()));
        v
    }

    /// The Nacos version a server runs.
    pub fn version_of(&self, server: &str) -> &str {
        self.versions
            .get(server)
            .map_or(crate::model::version::DEFAULT_VERSION, |v| v.as_str())
    }

    /// Whether the servers run standalone: as `mode` says, else when there is one server.
    pub fn standalone(&self) -> bool {
        match self.mode {
            Some(m) => m == ClusterMode::Standalone,
            None => self.servers.len() == 1,
        }
    }

    /// The address of server `name`.
    pub fn server_addr(&self, name: &str) -> Option<SocketAddr> {
        let i = self.servers.iter().position(|s| s == name)?;
        Some(server_addr(i))
    }

    /// The member list of server `name`'s cluster.conf as addresses: its `conf` entry resolved
    /// (a name to that server's address), else every server's own address (spec §4 step 1;
    /// the server itself adds its own address when the list lacks it).
    pub fn members_of(&self, name: &str) -> Vec<SocketAddr> {
        match self.conf.get(name) {
            Some(list) => list
                .iter()
                .filter_map(|m| match m {
                    ConfMember::Server(s) => self.server_addr(s),
                    ConfMember::Addr(a) => Some(*a),
                })
                .collect(),
            None => (0..self.servers.len()).map(server_addr).collect(),
        }
    }

    pub fn is_server(&self, name: &str) -> bool {
        self.servers.iter().any(|s| s == name)
    }

    /// Services that clients touch, for the final-view section of the outcome.
    pub fn services(&self) -> BTreeSet<ServiceRef> {
        let mut set = BTreeSet::new();
        for s in &self.steps {
            if let Action::Client { op, .. } = &s.action {
                let r = match op {
                    ClientOp::Register(i) | ClientOp::Deregister(i) => ServiceRef {
                        service: i.service.clone(),
                        group: i.group.clone(),
                        clusters: vec![],
                    },
                    ClientOp::Subscribe(r)
                    | ClientOp::Unsubscribe(r)
                    | ClientOp::GetAllInstances(r)
                    | ClientOp::SelectInstances(r, _)
                    | ClientOp::SelectOneHealthy(r)
                    | ClientOp::CreateService(r, _)
                    | ClientOp::UpdateService(r, _)
                    | ClientOp::DeleteService(r) => ServiceRef {
                        clusters: vec![],
                        ..r.clone()
                    },
                };
                set.insert(r);
            }
        }
        for c in &self.clients {
            if let Some(t) = &c.traffic {
                set.insert(ServiceRef {
                    clusters: vec![],
                    ..t.service.clone()
                });
            }
        }
        set
    }
}
