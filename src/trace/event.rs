//! The typed event vocabulary: one variant of [`Ev`] per event kind, with typed fields, made
//! where the system emits it. This file is the only place that turns an event into text (the
//! `kind node k=v ...` line of the outcome and of the trace hash); everything else (checks,
//! checkers, coverage, the timeline, the JSON outcome) matches on variants and reads fields.
//!
//! The list of kinds ([`KINDS`]), with each kind's field names, is derived from the enum by
//! the [`events!`] macro, so the README, scenario validation and coverage cannot drift from
//! what the code emits.

pub use super::values::*;
use std::net::SocketAddr;

/// What one event kind is called and which fields it can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindInfo {
    pub kind: &'static str,
    pub fields: &'static [&'static str],
    pub doc: &'static str,
}

impl KindInfo {
    pub fn has_field(&self, name: &str) -> bool {
        self.fields.contains(&name)
    }
}

/// Defines [`Ev`], its kind names, its fields in line order, and [`KINDS`], from one table.
macro_rules! events {
    ($( $(#[doc = $doc:literal])* $var:ident = $kind:literal { $($f:ident : $t:ty),* $(,)? } ),* $(,)?) => {
        /// One observable state change (see the module doc).
        #[derive(Debug, Clone, PartialEq)]
        pub enum Ev {
            $( $(#[doc = $doc])* $var { $($f: $t),* }, )*
        }

        impl Ev {
            /// The kind name (`instance.unhealthy`).
            pub fn kind(&self) -> &'static str {
                match self {
                    $( Ev::$var { .. } => $kind, )*
                }
            }

            /// Calls `f` with each present field, in line order.
            pub fn each_field(&self, f: &mut dyn FnMut(&'static str, String)) {
                match self {
                    $( #[allow(unused_variables)] Ev::$var { $($f),* } => {
                        $( if let Some(v) = FieldValue::render($f) { f(stringify!($f), v); } )*
                    } )*
                }
            }
        }

        /// Every event kind, in the order of the enum, with its fields.
        pub const KINDS: &[KindInfo] = &[
            $( KindInfo {
                kind: $kind,
                fields: &[$(stringify!($f)),*],
                doc: concat!($($doc),*),
            }, )*
        ];
    };
}

events! {
    /// A server process booted and listens at `addr`.
    ServerStarted = "server.started" { addr: SocketAddr },
    /// A server created a service (a registration, a Raft apply, Distro data).
    ServiceCreated = "service.created" { service: String },
    /// A server removed a service (a Raft delete of its meta key).
    ServiceDeleted = "service.deleted" { service: String },
    /// An instance was added to a server's list; `via` names the replication path on replicas.
    InstanceRegistered = "instance.registered" { service: String, instance: String, via: Option<Via> },
    /// An instance was removed from a server's list by a deregistration or replicated data.
    InstanceDeregistered = "instance.deregistered" { service: String, instance: String, via: Option<Via> },
    /// The owner's beat check deleted a silent instance (§8).
    InstanceDeleted = "instance.deleted" { service: String, instance: String, reason: HealthReason },
    /// An instance became healthy (a beat, the status channel, a TCP probe).
    InstanceHealthy = "instance.healthy" { service: String, instance: String, reason: HealthReason },
    /// An instance became unhealthy: silent for `since_beat_ms` (§8), or by `reason`.
    InstanceUnhealthy = "instance.unhealthy" {
        service: String,
        instance: String,
        since_beat_ms: Option<i64>,
        reason: Option<HealthReason>,
    },
    /// A server changed its view of a peer (§4).
    MemberState = "member.state" { peer: SocketAddr, from: NodeState, to: NodeState },
    /// DistroFilter proxied a request to the owner (routine successful beats are not logged).
    DistroForward = "distro.forward" { service: String, api: &'static str, to: SocketAddr, status: u16 },
    /// A Distro sync batch was sent (§6).
    DistroSync = "distro.sync" { to: SocketAddr, keys: usize, result: Done },
    /// A checksum round from `source` changed data, or was aborted (§6).
    DistroVerify = "distro.verify" {
        source: SocketAddr,
        updated: Option<usize>,
        removed: Option<usize>,
        result: Option<VerifyAbort>,
    },
    /// What-if `whatif_distro_versions` only: a server ignored a datum of `service` that
    /// arrived by `via` with timestamp `got`, below the `held` one (never in 1.4.1, §6).
    DistroStale = "distro.stale" { service: String, via: Via, held: u64, got: u64 },
    /// The startup load got a snapshot from `source`, or found no member to answer (§6).
    DistroLoad = "distro.load" { source: OrDash<SocketAddr>, keys: usize, result: Option<Done> },
    /// A UDP push went out (attempt 1 is the first send, §10).
    PushSent = "push.sent" { service: String, to: SocketAddr, attempt: u64 },
    /// A push was acknowledged.
    PushAcked = "push.acked" { service: String, to: SocketAddr },
    /// A push got no ack after its resends.
    PushFailed = "push.failed" { service: String, to: SocketAddr },
    /// A legacy Raft node changed role or term (§9).
    RaftState = "raft.state" { term: u64, role: Role },
    /// A legacy Raft node made `leader` the leader of `term` (§9).
    RaftLeader = "raft.leader" { leader: SocketAddr, term: u64 },
    /// A legacy Raft publish ended (§9).
    RaftPublish = "raft.publish" { key: String, ts: u64, value: String, result: Done, acks: usize },
    /// A legacy Raft delete, or a follower dropping a key absent from the leader's beat (§9).
    RaftDelete = "raft.delete" { key: String, reason: Option<BeatAbsent> },
    /// A legacy Raft follower asked the leader for a batch of the keys its beat named that the
    /// follower lacks or holds older (`GET /raft/datum`, §9 receivedBeat step 4).
    RaftFetch = "raft.fetch" { leader: SocketAddr, keys: usize },
    /// A server's ClusterVersionJudgement fired: persistent data moves to `to` (jraft spec
    /// §J1.5, at most once per process).
    ProtocolSwitched = "protocol.switched" { to: &'static str },
    /// A JRaft node changed role (jraft spec §J5); `reason` says why a leader or candidate
    /// stepped down.
    JraftState = "jraft.state" { term: u64, role: Role, reason: Option<String> },
    /// A JRaft node found no valid leader at its election timeout (or its vote timed out) and
    /// started a pre-vote for `term` (jraft spec §J5.1).
    JraftPreVote = "jraft.prevote" { term: u64 },
    /// A route-table refresh changed the leader this server forwards writes to (jraft spec
    /// §J6.3); `leader` is that member's JRaft address.
    JraftRoute = "jraft.route" { leader: SocketAddr },
    /// A JRaft node became leader of `term` (jraft spec §J5.4); `leader` is its JRaft address.
    JraftLeader = "jraft.leader" { leader: SocketAddr, term: u64 },
    /// A JRaft write issued by this server ended (jraft spec §J6): `value` fingerprints what it
    /// wrote, `index` is its log index once committed, `id` follows it to every server.
    JraftWrite = "jraft.write" {
        key: String,
        op: WriteOp,
        value: OrDash<String>,
        result: WriteResult,
        index: Option<u64>,
        id: u64,
    },
    /// ServerStatusManager changed the server's status (jraft spec §J9.1).
    ServerStatus = "server.status" { from: ServerState, to: ServerState },
    /// A client call of the scenario ended.
    ClientCall = "client.call" { op: &'static str, service: Option<String>, result: CallResult },
    /// A client request to one server failed; the client moves on (§13).
    ClientRequestFailed = "client.request_failed" { server: SocketAddr, api: &'static str, error: RequestError },
    /// A beat got 20404 and the client registers again (§13).
    ClientReregister = "client.reregister" { service: String, instance: String },
    /// A client received a UDP push.
    ClientPushReceived = "client.push_received" { service: String, from: SocketAddr },
    /// A subscribed client's listener saw a new list.
    ClientNotified = "client.notified" { service: String, via: Via, hosts: HostList },
    /// A consumer's call failed while its calls were fine (`cause`: refused, timeout or
    /// no_instance): an outage of its traffic begins (issue 13; calls are counted, not logged).
    TrafficFailing = "traffic.failing" { service: String, cause: &'static str },
    /// A consumer's calls have succeeded for 1 s since `recovered_ms`: the outage that began
    /// at `since_ms` is over, after `failed` failed calls.
    TrafficRecovered = "traffic.recovered" { service: String, since_ms: u64, recovered_ms: u64, failed: u64 },
    /// Fault: a node's process was killed (`target` names the role it was picked by).
    FaultCrash = "fault.crash" { target: Option<String> },
    /// Fault: a crashed node booted again.
    FaultRestart = "fault.restart" { target: Option<String> },
    /// Fault: a node was paused (stop-the-world).
    FaultPause = "fault.pause" { target: Option<String> },
    /// Fault: a paused node resumed; `order` says what ran first, its overdue timers or its
    /// queued requests (absent: madsim's seeded order).
    FaultResume = "fault.resume" { target: Option<String>, order: Option<RunFirst> },
    /// Fault: a node was cut off from every other node.
    FaultIsolate = "fault.isolate" { target: Option<String> },
    /// Fault: the network split into groups.
    FaultPartition = "fault.partition" { groups: Groups },
    /// Fault: two sides that only `via` connects.
    FaultBridge = "fault.bridge" { via: Names, sides: Groups },
    /// Fault: a ring in which each node reaches only its neighbours.
    FaultRing = "fault.ring" { order: Names },
    /// Fault: messages from `from` to `to` are dropped.
    FaultOneWay = "fault.one_way" { from: Names, to: Names },
    /// Fault: connections opened by `from` toward `to` fail (`mode`: the connect times out or
    /// is refused); `to`'s connections toward `from` still work; datagrams `from` → `to` drop.
    FaultNoConnect = "fault.no_connect" { from: Names, to: Names, mode: ConnectFail },
    /// Fault: every message from `from` to `to` takes `extra_ms` longer (0: the delay ends).
    FaultDelay = "fault.delay" { from: Names, to: Names, extra_ms: u64 },
    /// Fault: a firewall on the node drops connections to its `port`.
    FaultBlockPort = "fault.block_port" { port: u16, target: Option<String> },
    /// Fault: the node's `port` accepts connections again.
    FaultUnblockPort = "fault.unblock_port" { port: u16, target: Option<String> },
    /// Fault: the server's disk stops completing writes (its JRaft log appends wait).
    FaultStallDisk = "fault.stall_disk" { target: Option<String> },
    /// Fault: the server's disk completes writes again.
    FaultUnstallDisk = "fault.unstall_disk" { target: Option<String> },
    /// Fault: every link fault is removed (cuts, `no_connect`, delays, blocked ports).
    FaultHeal = "fault.heal" {},
    /// Fault: every fault is undone.
    FaultHealAll = "fault.heal_all" {},
    /// Fault: an instance's port stops answering (TCP probes are refused).
    FaultPortDown = "fault.port_down" { instance: String },
    /// Fault: an instance's port answers again.
    FaultPortUp = "fault.port_up" { instance: String },
    /// Fault: datagrams are lost at this rate.
    FaultLoss = "fault.loss" { rate: f64 },
    /// Fault: the link latency range changed.
    FaultLatency = "fault.latency" { min_ms: u64, max_ms: u64 },
    /// Fault: a node's wall clock was set off by `offset_ms` and drifts by `drift` s/s.
    FaultClockSkew = "fault.clock_skew" { offset_ms: i64, drift: f64 },
    /// Fault: the server's JRaft state machine failed (its `hasError` latches, §J9.3).
    FaultJraftError = "fault.jraft_error" { target: Option<String> },
    /// Harness self-test: a panic injected into a node.
    FaultPanic = "fault.panic" {},
    /// Checker: servers still disagreed after the quiet period.
    AnomalyDivergence = "anomaly.divergence" { detail: String },
    /// Checker: two Raft leaders in one term.
    AnomalyTwoLeaders = "anomaly.two_leaders" { detail: String },
    /// Checker: a write that failed is held at the end.
    AnomalyDirtyWrite = "anomaly.dirty_write" { detail: String },
    /// Checker: an acknowledged write is gone at the end.
    AnomalyLostWrite = "anomaly.lost_write" { detail: String },
}

/// The info of one kind by name.
pub fn kind_info(kind: &str) -> Option<&'static KindInfo> {
    KINDS.iter().find(|k| k.kind == kind)
}

/// Anomalies and the `anomaly.*` events that report them.
impl Anomaly {
    /// The event that reports it.
    pub fn event(self, detail: String) -> Ev {
        match self {
            Anomaly::Divergence => Ev::AnomalyDivergence { detail },
            Anomaly::TwoLeaders => Ev::AnomalyTwoLeaders { detail },
            Anomaly::DirtyWrite => Ev::AnomalyDirtyWrite { detail },
            Anomaly::LostWrite => Ev::AnomalyLostWrite { detail },
        }
    }

    /// The anomaly an event reports, if it is an `anomaly.*` event.
    pub fn of(ev: &Ev) -> Option<Anomaly> {
        Some(match ev {
            Ev::AnomalyDivergence { .. } => Anomaly::Divergence,
            Ev::AnomalyTwoLeaders { .. } => Anomaly::TwoLeaders,
            Ev::AnomalyDirtyWrite { .. } => Anomaly::DirtyWrite,
            Ev::AnomalyLostWrite { .. } => Anomaly::LostWrite,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(ev: &Ev) -> String {
        let mut s = ev.kind().to_string();
        ev.each_field(&mut |k, v| s.push_str(&format!(" {k}={v}")));
        s
    }

    #[test]
    fn optional_fields_are_left_out_and_lists_render_as_before() {
        let reg = Ev::InstanceRegistered {
            service: "DEFAULT_GROUP@@a".into(),
            instance: "1.1.1.1:80".into(),
            via: None,
        };
        assert_eq!(
            line(&reg),
            "instance.registered service=DEFAULT_GROUP@@a instance=1.1.1.1:80"
        );
        let p = Ev::FaultPartition {
            groups: Groups(vec![
                Names(vec!["s1".into(), "left".into()]),
                Names(vec!["s2".into()]),
            ]),
        };
        assert_eq!(line(&p), "fault.partition groups=[s1,left] | [s2]");
        let n = Ev::ClientNotified {
            service: "a".into(),
            via: Via::Push,
            hosts: HostList(vec![
                Host {
                    instance: "1.1.1.1:80".into(),
                    healthy: true,
                },
                Host {
                    instance: "1.1.1.2:80".into(),
                    healthy: false,
                },
            ]),
        };
        assert_eq!(
            line(&n),
            "client.notified service=a via=push hosts=[1.1.1.1:80,1.1.1.2:80(unhealthy)]"
        );
        let l = Ev::DistroLoad {
            source: OrDash(None),
            keys: 0,
            result: Some(Done::Failed("no member answered".into())),
        };
        assert_eq!(
            line(&l),
            "distro.load source=- keys=0 result=failed: no member answered"
        );
        let skew = Ev::FaultClockSkew {
            offset_ms: 0,
            drift: 0.0,
        };
        assert_eq!(line(&skew), "fault.clock_skew offset_ms=0 drift=0");
    }

    #[test]
    fn kinds_are_unique_dotted_and_list_their_fields() {
        let mut seen = std::collections::BTreeSet::new();
        for k in KINDS {
            assert!(seen.insert(k.kind), "{} twice", k.kind);
            assert!(k.kind.contains('.'), "{}", k.kind);
            assert!(!k.doc.is_empty(), "{} has no doc", k.kind);
        }
        assert!(kind_info("instance.unhealthy")
            .unwrap()
            .has_field("since_beat_ms"));
        assert!(!kind_info("fault.heal").unwrap().has_field("instance"));
        assert_eq!(
            Anomaly::ALL.len(),
            KINDS
                .iter()
                .filter(|k| k.kind.starts_with("anomaly."))
                .count()
        );
        for a in Anomaly::ALL {
            assert_eq!(a.event(String::new()).kind(), format!("anomaly.{a}"));
            assert_eq!(Anomaly::of(&a.event(String::new())), Some(*a));
        }
    }

    /// The README's Events table is prose, but it must list exactly the kinds of the type, and
    /// for each kind every field it can carry.
    #[test]
    fn the_readme_events_table_lists_every_kind_and_field() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        let section = readme.split("\n## Events\n").nth(1).unwrap();
        let section = section.split("\n## ").next().unwrap();
        let ticks = |cell: &str| -> Vec<String> {
            cell.split('`')
                .skip(1)
                .step_by(2)
                .map(|w| w.split('=').next().unwrap().to_string())
                .collect()
        };
        let mut listed = std::collections::BTreeSet::new();
        for row in section.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = row.split(" | ").collect();
            let fields = ticks(cells[2]);
            for kind in ticks(cells[0]) {
                let info = kind_info(&kind).unwrap_or_else(|| panic!("README lists `{kind}`"));
                for f in info.fields {
                    assert!(
                        fields.iter().any(|x| x == f),
                        "README: `{kind}` lacks `{f}`"
                    );
                }
                listed.insert(kind);
            }
        }
        let all: std::collections::BTreeSet<String> =
            KINDS.iter().map(|k| k.kind.to_string()).collect();
        assert_eq!(listed, all);
    }
}
