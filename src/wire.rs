//! Typed requests and replies between nodes, mirroring the Nacos HTTP Open API v1 (spec §12)
//! and the UDP push packets (spec §10). A later live mode can map these onto real HTTP.

use crate::model::{Instance, ListView, Millis};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// Who sent a request: a client SDK, or another server (DistroFilter's `Nacos-Server` UA, §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserAgent {
    /// `Nacos-Java-Client:v1.4.1`
    JavaClient,
    /// `Nacos-Server:1.4.1`
    Server,
}

/// Parameters of `POST/PUT/DELETE /v1/ns/instance` (§12).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceParams {
    pub namespace_id: String,
    /// Grouped name (`group@@name`).
    pub service_name: String,
    pub ip: String,
    pub port: u16,
    pub cluster_name: String,
    pub weight: f64,
    pub enabled: bool,
    pub healthy: bool,
    pub ephemeral: bool,
    pub metadata: BTreeMap<String, String>,
}

/// The `beat` JSON of a full beat (RsInfo, §8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BeatInfo {
    pub ip: String,
    pub port: u16,
    pub cluster: String,
    /// Grouped name.
    pub service_name: String,
    pub weight: f64,
    pub metadata: BTreeMap<String, String>,
    /// Beat period in ms (the instance's `preserved.heart.beat.interval` or 5000).
    pub period: Millis,
}

/// `PUT /v1/ns/instance/beat` (§8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BeatParams {
    pub namespace_id: String,
    pub service_name: String,
    pub cluster_name: String,
    pub ip: String,
    pub port: u16,
    /// Present on a full beat, absent on a light beat.
    pub beat: Option<BeatInfo>,
}

/// `GET /v1/ns/instance/list` (§11).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListParams {
    pub namespace_id: String,
    pub service_name: String,
    /// Comma-separated; empty = all.
    pub clusters: String,
    pub client_ip: String,
    /// 0 = no push subscription.
    pub udp_port: u16,
    pub healthy_only: bool,
}

/// One API call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Api {
    RegisterInstance(InstanceParams),
    DeregisterInstance(InstanceParams),
    UpdateInstance(InstanceParams),
    Beat(BeatParams),
    ListInstances(ListParams),
    GetInstance {
        namespace_id: String,
        service_name: String,
        ip: String,
        port: u16,
        cluster_name: String,
    },
    ListServices {
        namespace_id: String,
        group_name: String,
        page_no: u32,
        page_size: u32,
    },
    /// `POST /service` (§12): through Raft; 400 if it exists.
    CreateService {
        namespace_id: String,
        service_name: String,
        protect_threshold: f32,
    },
    /// `PUT /service` (§12): the local object changes before the Raft put.
    UpdateService {
        namespace_id: String,
        service_name: String,
        protect_threshold: f32,
    },
    /// `DELETE /service` (§12): a Raft delete; 400 if unknown.
    DeleteService {
        namespace_id: String,
        service_name: String,
    },
    // --- between servers ---
    /// `POST /v1/core/cluster/report` (§4): the sender's member info.
    ClusterReport {
        version: String,
    },
    /// `PUT /distro/datum` (§6): key → datum (every datum has timestamp 1 in 1.4.1).
    DistroDatum(BTreeMap<String, Datum>),
    /// `PUT /distro/checksum?source=` (§6): key → `Instances.getChecksum()`.
    DistroChecksum {
        source: SocketAddr,
        checksums: BTreeMap<String, String>,
    },
    /// `GET /distro/datum` with `{"keys": ...}` (§6).
    DistroGetDatum {
        keys: Vec<String>,
    },
    /// `GET /distro/datums`: the full snapshot (§6 startup load).
    DistroGetAll,
    /// `POST /service/status` (§7): (namespace, grouped name) → service checksum.
    ServiceStatus {
        source: SocketAddr,
        checksums: BTreeMap<(String, String), String>,
    },
    /// `POST /raft/vote` (§9).
    RaftVote(RaftPeer),
    /// `POST /raft/beat` (§9): the leader and its datum keys with timestamps.
    RaftBeat {
        peer: RaftPeer,
        datums: Vec<(String, u64)>,
    },
    /// `GET /raft/datum?keys=` (§9 beat fetch).
    RaftGetDatums {
        keys: Vec<String>,
    },
    /// `GET /raft/peer`.
    RaftGetPeer,
    /// `POST /raft/datum`: a publish forwarded to the leader.
    RaftPublish {
        key: String,
        value: RaftValue,
    },
    /// `POST /raft/datum/commit`: the leader's datum for a follower.
    RaftCommit {
        datum: RaftDatum,
        source: RaftPeer,
    },
    /// `DELETE /raft/datum`: a delete forwarded to the leader.
    RaftDelete {
        key: String,
    },
    /// A JRaft RPC to a peer's JRaft port (`ip:port-1000`, jraft spec §J4.2): a vote, a
    /// pre-vote, AppendEntries or a forwarded read index. The reply carries the peer's answers
    /// to it ([`Body::Jraft`]), as sofa-jraft answers on the RPC's own connection.
    JraftRpc {
        /// The sender's index in the configured member list.
        from: usize,
        msg: crate::jraft::Msg<JraftOp>,
    },
    /// A write forwarded to the cached leader (`JRaftServer.invokeToLeader`, §J6.4); the
    /// reply is [`Body::JraftWrite`].
    JraftWrite {
        op: JraftOp,
    },
    /// `GetLeaderRequest` of the route-table refresh (§J6.3); the reply is
    /// [`Body::JraftLeader`].
    JraftGetLeader,
    /// `DELETE /raft/datum/commit`.
    RaftDeleteCommit {
        key: String,
        source: RaftPeer,
    },
    /// `GET /instance/statuses?key=ns##svc` (§7).
    InstanceStatuses {
        namespace_id: String,
        service_name: String,
    },
}

impl Api {
    /// The HTTP method and path, for logs and events.
    pub fn route(&self) -> &'static str {
        match self {
            Api::RegisterInstance(_) => "POST /instance",
            Api::DeregisterInstance(_) => "DELETE /instance",
            Api::UpdateInstance(_) => "PUT /instance",
            Api::Beat(_) => "PUT /instance/beat",
            Api::ListInstances(_) => "GET /instance/list",
            Api::GetInstance { .. } => "GET /instance",
            Api::ListServices { .. } => "GET /service/list",
            Api::CreateService { .. } => "POST /service",
            Api::UpdateService { .. } => "PUT /service",
            Api::DeleteService { .. } => "DELETE /service",
            Api::ClusterReport { .. } => "POST /core/cluster/report",
            Api::DistroDatum(_) => "PUT /distro/datum",
            Api::DistroChecksum { .. } => "PUT /distro/checksum",
            Api::DistroGetDatum { .. } => "GET /distro/datum",
            Api::DistroGetAll => "GET /distro/datums",
            Api::ServiceStatus { .. } => "POST /service/status",
            Api::InstanceStatuses { .. } => "GET /instance/statuses",
            Api::RaftVote(_) => "POST /raft/vote",
            Api::RaftBeat { .. } => "POST /raft/beat",
            Api::RaftGetDatums { .. } => "GET /raft/datum",
            Api::RaftGetPeer => "GET /raft/peer",
            Api::RaftPublish { .. } => "POST /raft/datum",
            Api::RaftCommit { .. } => "POST /raft/datum/commit",
            Api::RaftDelete { .. } => "DELETE /raft/datum",
            Api::JraftRpc { .. } => "JRaft RPC",
            Api::JraftWrite { .. } => "JRaft WriteRequest",
            Api::JraftGetLeader => "JRaft GetLeaderRequest",
            Api::RaftDeleteCommit { .. } => "DELETE /raft/datum/commit",
        }
    }

    /// A legacy Raft endpoint (`/raft/*`, naming spec §9).
    pub fn is_legacy_raft(&self) -> bool {
        matches!(
            self,
            Api::RaftVote(_)
                | Api::RaftBeat { .. }
                | Api::RaftGetDatums { .. }
                | Api::RaftGetPeer
                | Api::RaftPublish { .. }
                | Api::RaftCommit { .. }
                | Api::RaftDelete { .. }
                | Api::RaftDeleteCommit { .. }
        )
    }

    /// The grouped service name the call is about, if any (DistroFilter's routing key, §5).
    pub fn service_name(&self) -> Option<&str> {
        match self {
            Api::RegisterInstance(p) | Api::DeregisterInstance(p) | Api::UpdateInstance(p) => {
                Some(&p.service_name)
            }
            Api::Beat(b) => Some(&b.service_name),
            Api::ListInstances(l) => Some(&l.service_name),
            Api::GetInstance { service_name, .. } => Some(service_name),
            _ => None,
        }
    }

    /// `@CanDistro` endpoints: forwarded to the owner of their service (§5).
    pub fn can_distro(&self) -> bool {
        matches!(
            self,
            Api::RegisterInstance(_)
                | Api::DeregisterInstance(_)
                | Api::UpdateInstance(_)
                | Api::Beat(_)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub ua: UserAgent,
    pub api: Api,
    /// Simulation-only annotation for the event log (the beat check's own DELETE is
    /// [`Note::Expired`]). No Nacos rule reads it.
    pub note: Option<Note>,
}

/// A simulation-only annotation of a request, for the event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Note {
    /// The owner's beat check deletes an expired instance (§8): `instance.deleted reason=expired`.
    Expired,
}

impl Request {
    pub fn client(api: Api) -> Self {
        Request {
            ua: UserAgent::JavaClient,
            api,
            note: None,
        }
    }
    pub fn server(api: Api) -> Self {
        Request {
            ua: UserAgent::Server,
            api,
            note: None,
        }
    }
}

/// Reply bodies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Body {
    /// A plain text body: `ok`, or an error message.
    Text(String),
    /// Beat reply (§8): `{clientBeatInterval, code, lightBeatEnabled}`.
    Beat {
        client_beat_interval: Millis,
        code: u32,
        light_beat_enabled: bool,
    },
    List(Box<ListView>),
    Instance {
        service: String,
        ip: String,
        port: u16,
        cluster_name: String,
        weight: f64,
        healthy: bool,
        instance_id: String,
        metadata: BTreeMap<String, String>,
    },
    ServiceList {
        count: usize,
        doms: Vec<String>,
    },
    /// Distro datums: key → datum.
    Datums(BTreeMap<String, Datum>),
    /// `{"ips":["ip:port_true", ...]}` (§7).
    Statuses(Vec<String>),
    /// A Raft peer (vote and beat replies, `/raft/peer`).
    Peer(RaftPeer),
    /// Raft datums (`GET /raft/datum`).
    RaftDatums(Vec<RaftDatum>),
    /// A JRaft peer's answers to an RPC (jraft spec §J5).
    Jraft(Vec<crate::jraft::Msg<JraftOp>>),
    /// The leader's answer to a forwarded write: `success=false` carries sofa-jraft's
    /// `errMsg` ("Could not find leader : naming_persistent_service", §J6.4).
    JraftWrite {
        success: bool,
        err_msg: String,
    },
    /// A peer's leader, by member index (None: sofa-jraft's EAGAIN "Unknown leader", §J6.3).
    JraftLeader(Option<usize>),
}

/// An HTTP-like reply: a status code and a body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub status: u16,
    pub body: Body,
}

impl Response {
    pub fn ok() -> Self {
        Response {
            status: 200,
            body: Body::Text("ok".into()),
        }
    }
    pub fn with(body: Body) -> Self {
        Response { status: 200, body }
    }
    pub fn error(status: u16, msg: impl Into<String>) -> Self {
        Response {
            status,
            body: Body::Text(msg.into()),
        }
    }
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status) || self.status == 304
    }
}

pub use crate::model::raft::Peer as RaftPeer;

/// The value of a persistent (Raft) datum: an instance list or a service's meta.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RaftValue {
    Instances(Vec<Instance>),
    ServiceMeta {
        protect_threshold: f32,
        metadata: BTreeMap<String, String>,
    },
}

/// A Distro datum of an ephemeral instance-list key (`Datum<Instances>`, §1, §6); its key is
/// the key of the map that carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Datum {
    pub value: Vec<Instance>,
    /// 1 on every datum in 1.4.1 (§6); the per-key revision under the what-if
    /// `whatif_distro_versions` (`model::revision`).
    pub timestamp: u64,
}

/// A Raft datum `{key, value, timestamp}` (§1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RaftDatum {
    pub key: String,
    pub value: RaftValue,
    pub timestamp: u64,
}

/// UDP packets (§10).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Datagram {
    /// `{"type":"dom","data":<view>,"lastRefTime":<nanos>}`
    Push {
        data: Box<ListView>,
        last_ref_time: i64,
    },
    /// `{"type":"push-ack","lastRefTime":"<n>"}`
    PushAck { last_ref_time: i64 },
}

/// Beat reply codes (§3).
pub const CODE_OK: u32 = 10200;
pub const CODE_RESOURCE_NOT_FOUND: u32 = 20404;

/// One naming command of the JRaft group `naming_persistent_service`: a batch write of one key
/// (`PersistentServiceProcessor.put` / `remove`, jraft spec §J6.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum JraftOp {
    Write {
        key: String,
        value: RaftValue,
        /// Simulation-only: which write this is (the checkers follow it from the caller to
        /// every server that applies it). No Nacos rule reads it.
        id: u64,
    },
    Delete {
        key: String,
        /// As for `Write`.
        id: u64,
    },
}

impl JraftOp {
    pub fn key(&self) -> &str {
        match self {
            JraftOp::Write { key, .. } | JraftOp::Delete { key, .. } => key,
        }
    }

    pub fn id(&self) -> u64 {
        match self {
            JraftOp::Write { id, .. } | JraftOp::Delete { id, .. } => *id,
        }
    }
}
