//! Typed requests and replies between nodes, mirroring the Nacos HTTP Open API v1 (spec §12)
//! and the UDP push packets (spec §10). A later live mode can map these onto real HTTP.

use crate::model::{ListView, Millis};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
        }
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
            Api::ListServices { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub ua: UserAgent,
    pub api: Api,
    /// Simulation-only annotation for the event log (e.g. `expired` on the beat check's own
    /// DELETE). No Nacos rule reads it.
    pub note: Option<String>,
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
