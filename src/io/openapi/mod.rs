//! Nacos's HTTP Open API v1 and UDP push packet on the wire, mapped onto the typed requests
//! and replies of [`crate::wire`] (spec §10, §12; research nacos-clients.md §4–§5). Pure: no
//! sockets, so both builds compile it and `cargo test` checks the mapping without any client;
//! the live transport (`io/live/`) puts it behind real HTTP and UDP.
//!
//! What depends on the client's `User-Agent` is decided here, not in the server: Nacos 1.4
//! gives a Java client (`Nacos-Java-Client:v…`, which nacos-sdk-nodejs also sends) UDP push
//! and grouped names, and every other agent (Python, curl) no push and un-grouped `dom` and
//! host `serviceName` (spec §11 step 8); a PUT from a non-Java agent is a re-register (§8).

mod params;
mod render;

pub use params::{parse_metadata, to_boolean, url_decode, Params, Refusal};
pub use render::{parse_ack, push_packet, render, Rendered};

use crate::model::keys;
use crate::wire::{Api, BeatInfo, BeatParams, InstanceParams, ListParams, Request, UserAgent};

/// The Open API's path prefix for naming (spec §12).
pub const NS: &str = "/nacos/v1/ns";

/// Who is calling, as the `User-Agent` (falling back to `Client-Version`) says (§4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// `Nacos-Java-Client:v…`: push-capable, grouped names.
    Java,
    /// `Nacos-Server:…`: a peer (DistroFilter refuses a second hop, §5).
    Server,
    /// Anything else (Python's `Nacos-Python-Client`, curl): no push, un-grouped names.
    Other,
}

impl ClientKind {
    pub fn of(user_agent: &str) -> ClientKind {
        if user_agent.starts_with("Nacos-Java-Client") || user_agent.starts_with("Nacos-SDK-Java") {
            ClientKind::Java
        } else if user_agent.starts_with("Nacos-Server") {
            ClientKind::Server
        } else {
            ClientKind::Other
        }
    }

    fn ua(self) -> UserAgent {
        match self {
            ClientKind::Server => UserAgent::Server,
            // The server code knows two agents; a non-Java client's differences are applied in
            // this mapping (push off, names un-grouped, PUT as register).
            ClientKind::Java | ClientKind::Other => UserAgent::JavaClient,
        }
    }
}

/// One incoming HTTP request, as far as the mapping reads it.
#[derive(Debug, Clone, Copy)]
pub struct HttpIn<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    /// The body when it is a form (`application/x-www-form-urlencoded`), else empty.
    pub form: &'a str,
    pub user_agent: &'a str,
}

/// How to write the reply of a mapped call.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub kind: ClientKind,
    /// The raw `clusters` parameter of a list call: Nacos echoes it (§11 step 8).
    pub clusters: String,
}

/// Requests answered from the server's state outside [`Api`] (the live front reads them).
#[derive(Debug, Clone, PartialEq)]
pub enum Extra {
    /// `GET /operator/metrics` (§12): `{"status":"UP",…}`.
    Metrics,
    /// `GET /service` (§12).
    GetService {
        namespace_id: String,
        service_name: String,
    },
    /// `GET /operator/servers`.
    Servers,
    /// `POST /nacos/v1/auth/login`: auth is not modelled; any user gets a token.
    Login { username: String },
}

/// What an HTTP request is.
#[derive(Debug, Clone, PartialEq)]
pub enum Routed {
    Call(Box<Request>, Shape),
    Extra(Extra),
    /// Answered by the mapping itself: a missing or malformed parameter (400), an unknown
    /// path (404, or 501 `no such api` under the naming prefix, §4.1).
    Reply(Refusal),
}

fn grouped(p: &Params) -> Result<String, Refusal> {
    // DistroFilter (§5): `serviceName`, or the legacy `dom`, trimmed; prefixed with the group
    // when it has no `@@`.
    let name = p
        .opt("serviceName")
        .or_else(|| p.opt("dom"))
        .ok_or_else(|| Refusal::bad("Param 'serviceName' is required."))?
        .trim();
    if name.contains(keys::GROUP_SEPARATOR) {
        return Ok(name.to_string());
    }
    Ok(keys::grouped_name(
        p.or("groupName", keys::DEFAULT_GROUP),
        name,
    ))
}

fn namespace(p: &Params) -> String {
    p.or("namespaceId", keys::DEFAULT_NAMESPACE).to_string()
}

/// `clusterName`, falling back to the legacy `cluster`, default `DEFAULT` (§12).
fn cluster(p: &Params) -> String {
    p.opt("clusterName")
        .or_else(|| p.opt("cluster"))
        .unwrap_or("DEFAULT")
        .to_string()
}

/// `parseInstance` of `POST/PUT/DELETE /instance` (§12).
fn instance(p: &Params) -> Result<InstanceParams, Refusal> {
    let service_name = grouped(p)?;
    let ip = p.req("ip")?.trim().to_string();
    let port = p.num::<u16>("port", None)?;
    let weight = p.num::<f64>("weight", Some(1.0))?;
    // `enabled`, falling back to `enable` (the JS client's spelling).
    let enabled = match p.opt("enabled") {
        Some(v) => to_boolean(v),
        None => p.flag("enable", true),
    };
    Ok(InstanceParams {
        namespace_id: namespace(p),
        service_name,
        ip,
        port,
        cluster_name: cluster(p),
        weight,
        enabled,
        healthy: p.flag("healthy", true),
        ephemeral: p.flag("ephemeral", true),
        metadata: parse_metadata(p.opt("metadata"))?,
    })
}

/// `PUT /instance/beat` (§8): the `beat` JSON's ip, port and cluster win over the params; a
/// blank beat cluster takes `clusterName`; unknown fields (`scheduled`, `stopped`…) are ignored.
fn beat(p: &Params) -> Result<BeatParams, Refusal> {
    let service_name = grouped(p)?;
    let cluster_name = cluster(p);
    let mut ip = p.or("ip", "").to_string();
    let mut port = p.num::<u16>("port", Some(0))?;
    let mut cl = cluster_name.clone();
    let info = match p.opt("beat") {
        None => None,
        Some(raw) => {
            let v: serde_json::Value = serde_json::from_str(raw)
                .map_err(|e| Refusal::bad(format!("beat format incorrect: {e}")))?;
            let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
            let n = |k: &str| v.get(k).and_then(|x| x.as_f64());
            if let Some(c) = s("cluster").filter(|c| !c.trim().is_empty()) {
                cl = c;
            }
            ip = s("ip").unwrap_or_default();
            port = n("port").map_or(0, |x| x as u16);
            let metadata = match v.get("metadata") {
                Some(m) if m.is_object() => parse_metadata(Some(&m.to_string()))?,
                _ => Default::default(),
            };
            Some(BeatInfo {
                ip: ip.clone(),
                port,
                cluster: cl.clone(),
                service_name: s("serviceName").unwrap_or_else(|| service_name.clone()),
                weight: n("weight").unwrap_or(1.0),
                metadata,
                period: n("period").map_or(5000, |x| x as i64),
            })
        }
    };
    Ok(BeatParams {
        namespace_id: namespace(p),
        service_name,
        cluster_name: cl,
        ip,
        port,
        beat: info,
    })
}

/// Maps one HTTP request (spec §12; research §4.2, §5).
pub fn route(r: HttpIn<'_>) -> Routed {
    let p = Params::parse(r.query, r.form);
    let kind = ClientKind::of(r.user_agent);
    match map(r.method, r.path, &p, kind) {
        Ok(x) => x,
        Err(refusal) => Routed::Reply(refusal),
    }
}

fn call(api: Api, kind: ClientKind, clusters: String) -> Routed {
    let req = Request {
        ua: kind.ua(),
        api,
        note: None,
    };
    Routed::Call(Box::new(req), Shape { kind, clusters })
}

fn map(method: &str, path: &str, p: &Params, kind: ClientKind) -> Result<Routed, Refusal> {
    let path = path.trim_end_matches('/');
    if path == "/nacos/v1/auth/login" || path == "/nacos/v1/auth/users/login" {
        let username = p.req("username")?.to_string();
        return Ok(Routed::Extra(Extra::Login { username }));
    }
    let Some(sub) = path.strip_prefix(NS) else {
        return Err(Refusal {
            status: 404,
            body: format!("no such path: {path}"),
        });
    };
    let c = |api| Ok(call(api, kind, String::new()));
    match (method, sub) {
        ("POST", "/instance") => c(Api::RegisterInstance(instance(p)?)),
        ("DELETE", "/instance") => c(Api::DeregisterInstance(instance(p)?)),
        // §8: a Java client ≥ 1.0.0 updates an existing instance; any other agent re-registers.
        ("PUT", "/instance") if kind == ClientKind::Other => c(Api::RegisterInstance(instance(p)?)),
        ("PUT", "/instance") => c(Api::UpdateInstance(instance(p)?)),
        ("PUT", "/instance/beat") => c(Api::Beat(beat(p)?)),
        ("GET", "/instance/list") => {
            let service_name = grouped(p)?;
            let client_ip = p.or("clientIP", "").trim();
            // §10: only a push-capable agent becomes a push client; an empty clientIP is
            // loopback (Java's `new InetSocketAddress("", port)`).
            let udp_port = match kind {
                ClientKind::Java => p.num::<u16>("udpPort", Some(0))?,
                _ => 0,
            };
            let l = ListParams {
                namespace_id: namespace(p),
                service_name,
                clusters: p.or("clusters", "").to_string(),
                client_ip: if client_ip.is_empty() {
                    "127.0.0.1".into()
                } else {
                    client_ip.to_string()
                },
                udp_port,
                healthy_only: p.parse_boolean("healthyOnly"),
            };
            let clusters = p.or("clusters", "").to_string();
            Ok(call(Api::ListInstances(l), kind, clusters))
        }
        ("GET", "/instance") => {
            let service_name = grouped(p)?;
            c(Api::GetInstance {
                namespace_id: namespace(p),
                service_name,
                ip: p.req("ip")?.trim().to_string(),
                port: p.num::<u16>("port", None)?,
                cluster_name: cluster(p),
            })
        }
        ("GET", "/instance/statuses") => {
            // `key` = `[ns##]group@@svc`.
            let key = p.req("key")?;
            let (ns, svc) = key
                .split_once(keys::NAMESPACE_CONNECTOR)
                .unwrap_or((keys::DEFAULT_NAMESPACE, key));
            c(Api::InstanceStatuses {
                namespace_id: ns.to_string(),
                service_name: svc.to_string(),
            })
        }
        ("GET", "/service/list") => c(Api::ListServices {
            namespace_id: namespace(p),
            group_name: p.or("groupName", keys::DEFAULT_GROUP).to_string(),
            page_no: p.num("pageNo", None)?,
            page_size: p.num("pageSize", None)?,
        }),
        ("POST", "/service") => c(Api::CreateService {
            namespace_id: namespace(p),
            service_name: grouped(p)?,
            protect_threshold: p.num("protectThreshold", Some(0.0))?,
        }),
        ("PUT", "/service") => c(Api::UpdateService {
            namespace_id: namespace(p),
            service_name: grouped(p)?,
            protect_threshold: p.num("protectThreshold", None)?,
        }),
        ("DELETE", "/service") => c(Api::DeleteService {
            namespace_id: namespace(p),
            service_name: grouped(p)?,
        }),
        ("GET", "/service") => Ok(Routed::Extra(Extra::GetService {
            namespace_id: namespace(p),
            service_name: grouped(p)?,
        })),
        ("GET", "/operator/metrics") => Ok(Routed::Extra(Extra::Metrics)),
        ("GET", "/operator/servers") => Ok(Routed::Extra(Extra::Servers)),
        // §4.1: Nacos answers an unknown naming API 501 `no such api:<METHOD>:<uri>`.
        _ => Err(Refusal {
            status: 501,
            body: format!("no such api:{method}:{path}"),
        }),
    }
}

#[cfg(test)]
mod tests;
