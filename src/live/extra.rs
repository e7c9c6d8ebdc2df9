//! The Open API requests answered from a server's state rather than by one of its handlers
//! (spec §12: `GET /operator/metrics`, `GET /service`; `GET /operator/servers`; the auth login
//! of research nacos-clients.md §4.2, where auth is not modelled).

use crate::io::net::ExtraFn;
use crate::io::openapi::{Extra, Rendered};
use crate::model::keys;
use crate::server::Server;
use serde_json::{json, Value};
use std::sync::Arc;

fn ok(v: Value) -> Rendered {
    Rendered {
        status: 200,
        json: true,
        body: v.to_string(),
    }
}

pub(super) fn answers(server: Arc<Server>) -> ExtraFn {
    // Weak: the answers live in the server's own Net, which the server holds.
    let weak = Arc::downgrade(&server);
    Arc::new(move |x| {
        let Some(s) = weak.upgrade() else {
            return Rendered {
                status: 503,
                json: false,
                body: "server is DOWN now, please try again later!".into(),
            };
        };
        answer(&s, x)
    })
}

fn answer(s: &Server, x: Extra) -> Rendered {
    match x {
        Extra::Metrics => {
            let services = s.services();
            let instances: usize = services.values().map(|v| v.all_instances().len()).sum();
            let responsible: Vec<_> = services
                .iter()
                .filter(|((_, g), _)| s.mapper.responsible(g))
                .collect();
            let resp_instances: usize = responsible
                .iter()
                .map(|(_, v)| v.all_instances().len())
                .sum();
            let status = s.status.lock().unwrap().as_str();
            ok(json!({
                "status": status,
                "serviceCount": services.len(),
                "instanceCount": instances,
                "subscribeCount": 0,
                "responsibleServiceCount": responsible.len(),
                "responsibleInstanceCount": resp_instances,
            }))
        }
        Extra::GetService {
            namespace_id,
            service_name,
        } => {
            let services = s.services();
            let Some(svc) = services.get(&(namespace_id.clone(), service_name.clone())) else {
                return Rendered {
                    status: 400,
                    json: false,
                    body: format!("service {service_name} is not found!"),
                };
            };
            let (group, name) = keys::split_grouped(&service_name)
                .unwrap_or_else(|| (keys::DEFAULT_GROUP.into(), service_name.clone()));
            let clusters: Vec<Value> = svc
                .clusters
                .keys()
                .map(|c| json!({"name": c, "healthChecker": {"type": "TCP"}, "metadata": {}}))
                .collect();
            ok(json!({
                "namespaceId": namespace_id,
                "groupName": group,
                "name": name,
                "protectThreshold": svc.protect_threshold,
                "metadata": svc.metadata,
                "selector": {"type": "none"},
                "clusters": clusters,
            }))
        }
        Extra::Servers => {
            let members: Vec<Value> = s
                .mapper
                .members
                .iter()
                .map(|m| json!({"ip": m.ip().to_string(), "port": m.port(), "address": m.to_string()}))
                .collect();
            ok(json!({ "servers": members }))
        }
        Extra::Login { username } => ok(json!({
            "accessToken": "nacos-sim-auth-not-modelled",
            "tokenTtl": 18000,
            "globalAdmin": true,
            "username": username,
        })),
    }
}
