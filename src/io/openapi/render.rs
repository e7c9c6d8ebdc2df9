//! Replies and push packets as Nacos writes them: the `/instance/list` envelope and host field
//! order (spec §11), the beat reply (§8), the detail and service-list bodies (§12), and the UDP
//! `dom` packet and its `push-ack` (§10).

use super::{ClientKind, Shape};
use crate::model::keys;
use crate::model::ListView;
use crate::wire::{Body, Datagram, Response, CODE_OK};
use serde_json::{json, Map, Value};

/// An HTTP reply ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub status: u16,
    pub json: bool,
    pub body: String,
}

/// The un-grouped name (`svc` of `group@@svc`), as Nacos shows it to a non-Java agent.
fn ungrouped(name: &str) -> String {
    keys::split_grouped(name).map_or_else(|| name.to_string(), |(_, n)| n)
}

/// spec §11 step 8: `hosts, dom, name, cacheMillis, lastRefTime, checksum, useSpecifiedURL,
/// clusters, env, metadata`; an unknown service is `name, clusters, cacheMillis, hosts`
/// (step 2). `dom` and each host's `serviceName` keep the group only for a Java client.
pub fn list_json(v: &ListView, kind: ClientKind, clusters: &str) -> Value {
    let grouped = kind != ClientKind::Other;
    let mut hosts = vec![];
    for h in &v.hosts {
        // HostView serializes in the field order of step 7.
        let mut hv = serde_json::to_value(h).expect("host view is plain data");
        if !grouped {
            hv["serviceName"] = Value::String(ungrouped(&h.service_name));
        }
        hosts.push(hv);
    }
    let mut m = Map::new();
    if !v.found {
        m.insert("name".into(), json!(v.name));
        m.insert("clusters".into(), json!(clusters));
        m.insert("cacheMillis".into(), json!(v.cache_millis));
        m.insert("hosts".into(), Value::Array(hosts));
        return Value::Object(m);
    }
    let dom = if grouped {
        v.name.clone()
    } else {
        ungrouped(&v.name)
    };
    m.insert("hosts".into(), Value::Array(hosts));
    m.insert("dom".into(), json!(dom));
    m.insert("name".into(), json!(v.name));
    m.insert("cacheMillis".into(), json!(v.cache_millis));
    m.insert("lastRefTime".into(), json!(v.last_ref_time.unwrap_or(0)));
    m.insert("checksum".into(), json!(v.checksum));
    m.insert("useSpecifiedURL".into(), json!(false));
    m.insert("clusters".into(), json!(clusters));
    m.insert("env".into(), json!(""));
    m.insert("metadata".into(), json!({}));
    Value::Object(m)
}

/// Writes a server reply for the client that asked (see [`Shape`]).
pub fn render(r: &Response, shape: &Shape) -> Rendered {
    let j = |v: Value| Rendered {
        status: r.status,
        json: true,
        body: v.to_string(),
    };
    match &r.body {
        Body::Text(t) => Rendered {
            status: r.status,
            json: false,
            body: t.clone(),
        },
        // §8: `lightBeatEnabled` only on the found path; 20404 carries just the interval and code.
        Body::Beat {
            client_beat_interval,
            code,
            light_beat_enabled,
        } => {
            let mut m = Map::new();
            m.insert("clientBeatInterval".into(), json!(client_beat_interval));
            m.insert("code".into(), json!(code));
            if *code == CODE_OK {
                m.insert("lightBeatEnabled".into(), json!(light_beat_enabled));
            }
            j(Value::Object(m))
        }
        Body::List(v) => j(list_json(v, shape.kind, &shape.clusters)),
        Body::Instance {
            service,
            ip,
            port,
            cluster_name,
            weight,
            healthy,
            instance_id,
            metadata,
        } => j(json!({
            "service": service, "ip": ip, "port": port, "clusterName": cluster_name,
            "weight": weight, "healthy": healthy, "instanceId": instance_id, "metadata": metadata,
        })),
        Body::ServiceList { count, doms } => j(json!({"count": count, "doms": doms})),
        Body::Statuses(ips) => j(json!({ "ips": ips })),
        // Server-to-server bodies never answer a client route.
        other => j(json!({ "internal": format!("{other:?}") })),
    }
}

/// The UDP packet of a push (§10): `{"type":"dom","data":"<list JSON as a string>",
/// "lastRefTime":N}`, the list as a Java client gets it. Not gzipped (Nacos compresses from
/// 1024 bytes; the clients detect gzip by its magic bytes and take plain JSON as well).
pub fn push_packet(d: &Datagram) -> Option<Vec<u8>> {
    match d {
        Datagram::Push {
            data,
            last_ref_time,
        } => {
            let list = list_json(data, ClientKind::Java, &data.clusters).to_string();
            let v = json!({"type": "dom", "data": list, "lastRefTime": last_ref_time});
            Some(v.to_string().into_bytes())
        }
        Datagram::PushAck { .. } => None,
    }
}

/// A client's `push-ack` (§10): `{"type":"push-ack","lastRefTime":N,"data":""}`; the Java
/// client writes `lastRefTime` as a string, nacos-sdk-nodejs as a number.
pub fn parse_ack(bytes: &[u8]) -> Option<Datagram> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    if v.get("type")?.as_str()? != "push-ack" {
        return None;
    }
    let lrt = v.get("lastRefTime")?;
    let last_ref_time = lrt
        .as_i64()
        .or_else(|| lrt.as_str().and_then(|s| s.trim().parse().ok()))?;
    Some(Datagram::PushAck { last_ref_time })
}
