//! Faults in `[[step]]` tables (`crash = "s1"`, `partition = [[...], [...]]`, ...): the fault
//! half of a step, read into a [`Fault`] value that `sim/faults.rs` applies when the step runs.

use super::ctx::{Ctx, Want};
use super::fields::{as_array, fail, found, show, sub_table, with_suggestion, Field, R};
use super::tree::Val;
use super::types::*;
use std::time::Duration;

/// The fault keys of a step, in the order messages list them.
pub(super) const FAULTS: &[&str] = &[
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
    "no_connect",
    "delay",
    "block_port",
    "unblock_port",
    "stall_disk",
    "unstall_disk",
    "loss",
    "latency",
    "port_down",
    "port_up",
    "clock_skew",
    "heal_all",
    "panic",
    "jraft_error",
];

/// One fault step's value; node names are checked against the scenario's (roles resolve when
/// the step runs).
pub(super) fn fault(ctx: &Ctx, f: &Field) -> R<Fault> {
    let any_node = |f: &Field| ctx.fault_target(&f.label, f.node);
    Ok(match f.key.name.as_str() {
        "crash" => Fault::Crash(any_node(f)?),
        "restart" => Fault::Restart(any_node(f)?),
        "pause" => Fault::Pause(any_node(f)?),
        "resume" => resume(ctx, f)?,
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
            let (from, to) = link(ctx, &t, "one_way")?;
            Fault::OneWay { from, to }
        }
        "no_connect" => {
            let ex = "a table such as { from = \"s1\", to = \"s2\", mode = \"timeout\" }";
            let t = sub_table(f, ex)?;
            t.check_keys(&["from", "to", "mode"], |_| None)?;
            let (from, to) = link(ctx, &t, "no_connect")?;
            let mode = match t.get("mode") {
                None => NoConnect::Timeout,
                Some(m) => {
                    let word = m.nonempty_str()?;
                    match NO_CONNECT_MODES.iter().find(|(w, _)| *w == word) {
                        Some((_, mode)) => *mode,
                        None => {
                            let head = format!("`no_connect.mode`: unknown mode {word:?}");
                            let words = NO_CONNECT_MODES.iter().map(|o| o.0);
                            return fail(
                                m.at(),
                                with_suggestion(head, word, words, "the modes are"),
                            );
                        }
                    }
                }
            };
            Fault::NoConnect { from, to, mode }
        }
        "delay" => {
            let t = sub_table(
                f,
                "a table such as { from = \"s1\", to = \"s2\", extra = \"2s\" }",
            )?;
            t.check_keys(&["from", "to", "extra"], |_| None)?;
            let (from, to) = link(ctx, &t, "delay")?;
            let extra_f = t.require("extra", "extra = \"2s\"")?;
            let extra = extra_f.duration()?;
            if extra > MAX_LINK_DELAY {
                return fail(
                    extra_f.at(),
                    format!(
                        "`delay.extra` = {} is too long: at most 24h (the longest run)",
                        show(extra)
                    ),
                );
            }
            Fault::Delay { from, to, extra }
        }
        "block_port" | "unblock_port" => {
            let t = sub_table(f, "a table such as { node = \"s3\", port = 7848 }")?;
            t.check_keys(&["node", "port"], |_| None)?;
            let node_f = t.require("node", "node = \"s3\"")?;
            let node = server_target(ctx, &node_f)?;
            let port_f = t.require("port", "port = 7848")?;
            let port = port_f.uint()?;
            let Some(&(port, _)) = SERVER_PORTS.iter().find(|p| u64::from(p.0) == port) else {
                let ports: Vec<String> = SERVER_PORTS
                    .iter()
                    .map(|(p, what)| format!("{p} ({what})"))
                    .collect();
                return fail(
                    port_f.at(),
                    format!(
                        "`{}`: a server listens on no port {port}: its ports are {}",
                        port_f.label,
                        ports.join(" and ")
                    ),
                );
            };
            let blocked = f.key.name == "block_port";
            Fault::BlockPort {
                node,
                port,
                blocked,
            }
        }
        "stall_disk" | "unstall_disk" => Fault::DiskStall {
            node: server_or_role(ctx, f, "only a server's disk holds JRaft's log")?,
            stalled: f.key.name == "stall_disk",
        },
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
        "jraft_error" => Fault::JraftError(server_or_role(
            ctx,
            f,
            "only a server runs a JRaft state machine",
        )?),
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

/// The longest `delay.extra`: a run lasts at most 24 h, so a longer delay is never reached.
pub(super) const MAX_LINK_DELAY: Duration = Duration::from_secs(24 * 3600);

/// `resume = "s3"` (madsim's seeded order), or `resume = { node = "s3", order = "timers-first" }`.
fn resume(ctx: &Ctx, f: &Field) -> R<Fault> {
    if !matches!(f.node.val, Val::Table(_)) {
        return Ok(Fault::Resume(
            ctx.fault_target(&f.label, f.node)?,
            ResumeOrder::Seeded,
        ));
    }
    let t = sub_table(
        f,
        "a table such as { node = \"s3\", order = \"timers-first\" }",
    )?;
    t.check_keys(&["node", "order"], |_| None)?;
    let node_f = t.require("node", "node = \"s3\"")?;
    let node = ctx.fault_target(&node_f.label, node_f.node)?;
    let order = match t.get("order") {
        None => ResumeOrder::Seeded,
        Some(o) => {
            let word = o.nonempty_str()?;
            match RESUME_ORDERS.iter().find(|(w, _)| *w == word) {
                Some((_, order)) => *order,
                None => {
                    let head = format!("`resume.order`: unknown order {word:?}");
                    let words = RESUME_ORDERS.iter().map(|o| o.0);
                    return fail(o.at(), with_suggestion(head, word, words, "the orders are"));
                }
            }
        }
    };
    Ok(Fault::Resume(node, order))
}

/// The `from` and `to` of a directed link fault, two different nodes (or roles).
fn link(ctx: &Ctx, t: &super::fields::Table, what: &str) -> R<(String, String)> {
    let from_f = t.require("from", "from = \"s1\"")?;
    let to_f = t.require("to", "to = \"s2\"")?;
    let from = ctx.fault_target(&from_f.label, from_f.node)?;
    let to = ctx.fault_target(&to_f.label, to_f.node)?;
    if from == to {
        return fail(
            to_f.at(),
            format!("`{what}` from `{from}` to itself: `from` and `to` must differ"),
        );
    }
    Ok((from, to))
}

/// A server or a role (which only ever names servers); a client is a load error saying `why`.
fn server_or_role(ctx: &Ctx, f: &Field, why: &str) -> R<String> {
    let n = ctx.fault_target(&f.label, f.node)?;
    if !n.starts_with('@') && !ctx.servers.contains(&n) {
        return fail(
            f.at(),
            format!("`{}`: `{n}` is a client; {why}", f.key.name),
        );
    }
    Ok(n)
}

/// A server, or a role (which only ever names servers).
fn server_target(ctx: &Ctx, f: &Field) -> R<String> {
    if matches!(&f.node.val, Val::Str(s) if s.starts_with('@')) {
        return ctx.fault_target(&f.label, f.node);
    }
    let ports: Vec<String> = SERVER_PORTS.iter().map(|p| p.0.to_string()).collect();
    let wrong = |n: &str| {
        format!(
            "`{}`: `{n}` is a client: only a server's ports ({}) can be blocked",
            f.label,
            ports.join(", ")
        )
    };
    ctx.node(&f.label, f.node, Want::Server, &wrong)
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
    let groups = as_array(&f.label, f.node, &what)?;
    let mut out: Vec<Vec<String>> = Vec::new();
    // (node, group number) for "in two groups" messages.
    let mut seen: Vec<(String, usize)> = Vec::new();
    for (gi, group) in groups.iter().enumerate() {
        let Val::Array(members) = &group.val else {
            return fail(
                group.at(),
                format!(
                    "`partition`: each group is a list of nodes, as in {example}; found {}",
                    found(&group.val)
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

#[cfg(test)]
mod tests;
