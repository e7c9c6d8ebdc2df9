//! `[[step]]` tables: one client action or one fault at a time.

use super::ctx::{Ctx, Want};
use super::fault_steps::{fault, FAULTS};
use super::fields::{clusters, fail, name_str, sub_table, Field, Table, R};
use super::tree::{Node, Val};
use super::types::*;
use std::collections::BTreeMap;

pub(crate) const CLIENT_ACTIONS: &[&str] = &[
    "register",
    "deregister",
    "subscribe",
    "unsubscribe",
    "get_all_instances",
    "select_instances",
    "select_one_healthy",
    "create_service",
    "update_service",
    "delete_service",
];

const INSTANCE_KEYS: &[&str] = &[
    "service",
    "group",
    "ip",
    "port",
    "cluster",
    "weight",
    "enabled",
    "ephemeral",
    "metadata",
];

const INSTANCE_EXAMPLE: &str =
    "a table such as { service = \"orders\", ip = \"10.0.0.1\", port = 8080 }";
const SERVICE_EXAMPLE: &str = "a table such as { service = \"orders\" }";

pub(crate) fn parse_step(ctx: &Ctx, node: &Node, line: usize) -> R<Step> {
    let t = Table::of(node, "step", "[[step]]".to_owned(), "", "a [[step]] table")?;
    let all: Vec<&str> = CLIENT_ACTIONS.iter().chain(FAULTS).copied().collect();
    let mut allowed = vec!["at", "client"];
    allowed.extend(&all);
    t.check_keys(&allowed, step_hint)?;

    let at = ctx.time(&t.require("at", "at = \"5s\"")?)?;

    let actions = t.present(&all);
    let Some(action) = actions.first() else {
        return fail(
            t.at,
            format!(
                "[[step]] has no action: give one client action ({}) or one fault ({})",
                CLIENT_ACTIONS.join(", "),
                FAULTS.join(", ")
            ),
        );
    };
    if let Some(second) = actions.get(1) {
        return fail(
            second.key.at(),
            format!(
                "[[step]] has two actions, `{}` and `{}`: a step does exactly one thing; \
                 write another [[step]] with the same `at`",
                action.key.name, second.key.name
            ),
        );
    }
    let name = action.key.name.as_str();
    let client = t.get("client");
    let action = if CLIENT_ACTIONS.contains(&name) {
        let Some(cf) = client else {
            return fail(
                action.key.at(),
                format!(
                    "`{name}` is a client action: add `client = \"...\"` naming the [[client]] that does it"
                ),
            );
        };
        let clients = if ctx.clients.is_empty() {
            "the scenario defines no [[client]]".to_owned()
        } else {
            format!("the clients are {}", ctx.clients.join(", "))
        };
        let wrong = |n: &str| {
            format!("`{n}` is a server, not a client: `client` must name a [[client]] ({clients})")
        };
        let client = ctx.node("client", cf.node, Want::Client, &wrong)?;
        Action::Client {
            client,
            op: client_op(action)?,
        }
    } else {
        if let Some(cf) = client {
            return fail(
                cf.key.at(),
                format!(
                    "`client` does not go with the fault `{name}`: a fault is done to nodes, \
                     not by a client; remove `client`"
                ),
            );
        }
        Action::Fault(fault(ctx, action)?)
    };
    Ok(Step { at, action, line })
}

/// Keys that belong inside an action's table, written directly in the step.
fn step_hint(key: &str) -> Option<String> {
    if INSTANCE_KEYS.contains(&key) || key == "clusters" || key == "healthy" {
        Some(format!(
            "`{key}` goes inside the action's table, e.g. register = {{ service = \"orders\", ip = \"10.0.0.1\", port = 8080 }}"
        ))
    } else {
        None
    }
}

fn client_op(action: &Field) -> R<ClientOp> {
    Ok(match action.key.name.as_str() {
        "register" => ClientOp::Register(instance(action)?),
        "deregister" => ClientOp::Deregister(instance(action)?),
        "subscribe" => ClientOp::Subscribe(service_ref(action, false)?.0),
        "unsubscribe" => ClientOp::Unsubscribe(service_ref(action, false)?.0),
        "get_all_instances" => ClientOp::GetAllInstances(service_ref(action, false)?.0),
        "select_one_healthy" => ClientOp::SelectOneHealthy(service_ref(action, false)?.0),
        "select_instances" => {
            let (r, healthy) = service_ref(action, true)?;
            ClientOp::SelectInstances(r, healthy)
        }
        "create_service" => {
            let (r, t) = service_meta(action, true)?;
            ClientOp::CreateService(r, t)
        }
        "update_service" => {
            let (r, t) = service_meta(action, true)?;
            ClientOp::UpdateService(r, t)
        }
        "delete_service" => ClientOp::DeleteService(service_meta(action, false)?.0),
        other => return fail(action.key.at(), format!("`{other}` is not a client action")),
    })
}

fn instance(f: &Field) -> R<Registration> {
    let t = sub_table(f, INSTANCE_EXAMPLE)?;
    t.check_keys(INSTANCE_KEYS, |_| None)?;
    let service = name_str(&t.require("service", "service = \"orders\"")?)?;
    let group = match t.get("group") {
        Some(g) => name_str(&g)?,
        None => DEFAULT_GROUP.to_owned(),
    };
    let ip_field = t.require("ip", "ip = \"10.0.0.1\"")?;
    let ip = ip_field.nonempty_str()?;
    if ip.chars().any(|c| c.is_whitespace() || c == ',') {
        return fail(
            ip_field.at(),
            format!("`{}`: {ip:?} is not an address", ip_field.label),
        );
    }
    let port = port(&t.require("port", "port = 8080")?)?;
    let cluster = match t.get("cluster") {
        Some(c) => name_str(&c)?,
        None => DEFAULT_CLUSTER.to_owned(),
    };
    // Weight range checks are the simulated server's business (Nacos clamps), so any finite
    // number is accepted here.
    let weight = t
        .get("weight")
        .map(|w| w.number())
        .transpose()?
        .unwrap_or(1.0);
    let enabled = t
        .get("enabled")
        .map(|e| e.bool())
        .transpose()?
        .unwrap_or(true);
    let ephemeral = t
        .get("ephemeral")
        .map(|e| e.bool())
        .transpose()?
        .unwrap_or(true);
    let metadata = match t.get("metadata") {
        None => BTreeMap::new(),
        Some(m) => metadata(&m)?,
    };
    Ok(Registration {
        service,
        group,
        ip: ip.to_owned(),
        port,
        cluster,
        weight,
        enabled,
        ephemeral,
        metadata,
    })
}

fn port(f: &Field) -> R<u16> {
    match f.node.val {
        Val::Int(p) => match u16::try_from(p) {
            Ok(p) if p > 0 => Ok(p),
            _ => fail(
                f.at(),
                format!("`{}` = {p} is out of range: ports are 1 to 65535", f.label),
            ),
        },
        _ => f.expected("a port number from 1 to 65535"),
    }
}

fn metadata(f: &Field) -> R<BTreeMap<String, String>> {
    let t = sub_table(f, "a table of strings such as { version = \"1.0\" }")?;
    let mut out = BTreeMap::new();
    for (key, node) in t.entries {
        match &node.val {
            Val::Str(s) => {
                out.insert(key.name.clone(), s.clone());
            }
            other => {
                return fail(
                    node.at(),
                    format!(
                        "`{}.{}`: metadata values are strings (write {} = \"...\"), found {}",
                        f.label,
                        key.name,
                        key.name,
                        super::fields::found(other)
                    ),
                )
            }
        }
    }
    Ok(out)
}

/// A ServiceRef table; `with_healthy` also accepts `healthy` (default true).
fn service_ref(f: &Field, with_healthy: bool) -> R<(ServiceRef, bool)> {
    let t = sub_table(f, SERVICE_EXAMPLE)?;
    let keys: &[&str] = if with_healthy {
        &["service", "group", "clusters", "healthy"]
    } else {
        &["service", "group", "clusters"]
    };
    t.check_keys(keys, |_| None)?;
    let service = name_str(&t.require("service", "service = \"orders\"")?)?;
    let group = match t.get("group") {
        Some(g) => name_str(&g)?,
        None => DEFAULT_GROUP.to_owned(),
    };
    let clusters = match t.get("clusters") {
        Some(c) => clusters(&c)?,
        None => Vec::new(),
    };
    let healthy = t
        .get("healthy")
        .map(|h| h.bool())
        .transpose()?
        .unwrap_or(true);
    Ok((
        ServiceRef {
            service,
            group,
            clusters,
        },
        healthy,
    ))
}

/// `{ service = "orders", group = "...", protect_threshold = 0.5 }` for the service actions.
fn service_meta(f: &Field, with_threshold: bool) -> R<(ServiceRef, f32)> {
    let t = sub_table(
        f,
        "a table such as { service = \"orders\", protect_threshold = 0.5 }",
    )?;
    let keys: &[&str] = if with_threshold {
        &["service", "group", "protect_threshold"]
    } else {
        &["service", "group"]
    };
    t.check_keys(keys, |_| None)?;
    let service = name_str(&t.require("service", "service = \"orders\"")?)?;
    let group = match t.get("group") {
        Some(g) => name_str(&g)?,
        None => DEFAULT_GROUP.to_owned(),
    };
    let threshold = match t.get("protect_threshold") {
        Some(p) => {
            let v = p.number()?;
            if !(0.0..=1.0).contains(&v) {
                return fail(
                    p.at(),
                    format!("`protect_threshold` = {v} is out of range: a ratio from 0.0 to 1.0"),
                );
            }
            v as f32
        }
        None => 0.0,
    };
    Ok((
        ServiceRef {
            service,
            group,
            clusters: vec![],
        },
        threshold,
    ))
}
