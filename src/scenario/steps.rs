//! `[[step]]` tables: one client action or one fault at a time.

use super::ctx::{Ctx, Want};
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

pub(crate) const FAULTS: &[&str] = &[
    "crash",
    "restart",
    "pause",
    "resume",
    "isolate",
    "heal",
    "partition",
    "bridge",
    "ring",
    "one_way",
    "loss",
    "latency",
    "port_down",
    "port_up",
    "clock_skew",
    "heal_all",
    "panic",
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

fn instance(f: &Field) -> R<InstanceSpec> {
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
    Ok(InstanceSpec {
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

fn fault(ctx: &Ctx, f: &Field) -> R<Fault> {
    let any_node = |f: &Field| ctx.fault_target(&f.label, f.node);
    Ok(match f.key.name.as_str() {
        "crash" => Fault::Crash(any_node(f)?),
        "restart" => Fault::Restart(any_node(f)?),
        "pause" => Fault::Pause(any_node(f)?),
        "resume" => Fault::Resume(any_node(f)?),
        "isolate" => Fault::Isolate(any_node(f)?),
        "heal" => {
            if !f.bool()? {
                return fail(
                    f.at(),
                    "`heal = false` does nothing: write `heal = true` to remove every cut",
                );
            }
            Fault::Heal
        }
        "partition" => Fault::Partition(partition(ctx, f)?),
        "bridge" => {
            let t = sub_table(
                f,
                "a table such as { via = \"s2\", sides = [[\"s1\"], [\"s3\"]] }",
            )?;
            t.check_keys(&["via", "sides"], |_| None)?;
            let via_f = t.require("via", "via = \"s2\"")?;
            let via = any_node(&via_f)?;
            let sides_f = t.require("sides", "sides = [[\"s1\"], [\"s3\"]]")?;
            let sides = partition(ctx, &sides_f)?;
            if sides.iter().flatten().any(|n| *n == via) {
                return fail(
                    via_f.at(),
                    format!("`bridge`: `{via}` is the bridge, so it must not be on either side"),
                );
            }
            Fault::Bridge { via, sides }
        }
        "ring" => {
            let example = "[\"s1\", \"s2\", \"s3\", \"s4\", \"s5\"]";
            let mut names: Vec<String> = Vec::new();
            for (_, node) in
                f.strings(&format!("a list of nodes in ring order such as {example}"))?
            {
                let name = any_node(&Field {
                    label: f.label.clone(),
                    key: f.key,
                    node,
                })?;
                if names.contains(&name) {
                    return fail(node.at(), format!("`ring`: `{name}` is listed twice"));
                }
                names.push(name);
            }
            if names.len() < 4 {
                return fail(
                    f.at(),
                    format!("`ring` needs at least 4 nodes (with 3 every node already reaches the others), such as {example}"),
                );
            }
            Fault::Ring(names)
        }
        "one_way" => {
            let t = sub_table(f, "a table such as { from = \"s1\", to = \"s2\" }")?;
            t.check_keys(&["from", "to"], |_| None)?;
            let from_f = t.require("from", "from = \"s1\"")?;
            let to_f = t.require("to", "to = \"s2\"")?;
            let from = any_node(&from_f)?;
            let to = any_node(&to_f)?;
            if from == to {
                return fail(
                    to_f.at(),
                    format!("`one_way` from `{from}` to itself: `from` and `to` must differ"),
                );
            }
            Fault::OneWay { from, to }
        }
        "loss" => {
            let p = f.number()?;
            if !(0.0..=1.0).contains(&p) {
                return fail(
                    f.at(),
                    format!("`loss` = {p} is out of range: a probability from 0.0 to 1.0"),
                );
            }
            Fault::Loss(p)
        }
        "latency" => {
            let (min, max) = f.range("[\"1ms\", \"10ms\"]")?;
            Fault::Latency(min, max)
        }
        "port_down" | "port_up" => {
            let v = f.nonempty_str()?;
            let ok = v.rsplit_once(':').is_some_and(|(ip, port)| {
                !ip.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
            });
            if !ok {
                return fail(f.at(), format!("`{}`: expected an instance address such as \"10.0.0.50:3306\", found {v:?}", f.key.name));
            }
            if f.key.name == "port_down" {
                Fault::PortDown(v.to_owned())
            } else {
                Fault::PortUp(v.to_owned())
            }
        }
        "clock_skew" => {
            let t = sub_table(
                f,
                "a table such as { node = \"s2\", offset = \"-20s\", drift = 0.01 }",
            )?;
            t.check_keys(&["node", "offset", "drift"], |_| None)?;
            let node = any_node(&t.require("node", "node = \"s2\"")?)?;
            let offset_ms = match t.get("offset") {
                Some(o) => signed_ms(&o)?,
                None => 0,
            };
            let drift = match t.get("drift") {
                Some(d) => {
                    let v = d.number()?;
                    if !(-0.9..=10.0).contains(&v) {
                        return fail(d.at(), format!("`clock_skew.drift` = {v} is out of range: seconds gained per second, from -0.9 to 10 (0.01 = 10 ms fast per second)"));
                    }
                    v
                }
                None => 0.0,
            };
            if t.get("offset").is_none() && t.get("drift").is_none() {
                return fail(
                    f.at(),
                    "`clock_skew` needs `offset` (e.g. \"-20s\") or `drift` (e.g. 0.01), or both",
                );
            }
            Fault::ClockSkew {
                node,
                offset_ms,
                drift,
            }
        }
        "panic" => Fault::Panic(any_node(f)?),
        "heal_all" => {
            if !f.bool()? {
                return fail(
                    f.at(),
                    "`heal_all = false` does nothing: write `heal_all = true` to undo every fault",
                );
            }
            Fault::HealAll
        }
        other => return fail(f.key.at(), format!("`{other}` is not a fault")),
    })
}

/// A duration with an optional sign, in ms: "-20s", "+1.5s", "300ms".
fn signed_ms(f: &Field) -> R<i64> {
    let text = f.nonempty_str()?.trim();
    let (neg, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    match crate::config::parse_duration(rest.trim()) {
        Ok(d) => {
            let ms = d.as_millis() as i64;
            Ok(if neg { -ms } else { ms })
        }
        Err(e) => fail(
            f.at(),
            format!(
                "`{}`: {e}; expected a signed duration such as \"-20s\" or \"+500ms\"",
                f.label
            ),
        ),
    }
}

fn partition(ctx: &Ctx, f: &Field) -> R<Vec<Vec<String>>> {
    let example = "[[\"s1\", \"provider\"], [\"s2\", \"s3\"]]";
    let what = format!("a list of groups such as {example}");
    let groups = super::fields::as_array(&f.label, f.node, &what)?;
    let mut out: Vec<Vec<String>> = Vec::new();
    // (node, group number) for "in two groups" messages.
    let mut seen: Vec<(String, usize)> = Vec::new();
    for (gi, group) in groups.iter().enumerate() {
        let Val::Array(members) = &group.val else {
            return fail(
                group.at(),
                format!(
                    "`partition`: each group is a list of nodes, as in {example}; found {}",
                    super::fields::found(&group.val)
                ),
            );
        };
        if members.is_empty() {
            return fail(
                group.at(),
                format!("`partition`: group {} is empty", gi + 1),
            );
        }
        let mut names = Vec::new();
        for m in members {
            let name = ctx.fault_target("partition", m)?;
            if let Some((_, other)) = seen.iter().find(|(n, _)| *n == name) {
                let msg = if *other == gi + 1 {
                    format!("`partition`: `{name}` is listed twice in group {other}")
                } else {
                    format!(
                        "`partition`: `{name}` is in group {other} and group {}: a node can be in at most one group",
                        gi + 1
                    )
                };
                return fail(m.at(), msg);
            }
            seen.push((name.clone(), gi + 1));
            names.push(name);
        }
        out.push(names);
    }
    if out.len() < 2 {
        return fail(
            f.at(),
            format!(
                "`partition` needs at least two groups, such as {example}; found {}",
                out.len()
            ),
        );
    }
    Ok(out)
}
