//! The cast and the settings: `[cluster]`, `[[client]]` and `[config]`.

use super::ctx::{Ctx, Want};
use super::fields::{fail, with_suggestion, Fail, Field, Table, R};
use super::tree::{Node, Val};
use super::types::*;
use crate::config::{Config, Kind, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

/// The most servers `servers = N` may ask for.
pub const MAX_SERVERS: u64 = 100;

/// A node name: `[A-Za-z0-9_.-]+`.
fn check_node_name(label: &str, node: &Node, name: &str) -> R<()> {
    let ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        fail(
            node.at(),
            format!(
                "`{label}`: `{name}` is not a valid node name: use letters, digits, `_`, `.` and `-`"
            ),
        )
    }
}

/// What `[cluster]` says: the server names, their versions when not the default, the
/// addresses that also reach them, each server's cluster.conf and the mode.
pub(crate) struct ClusterSpec {
    pub servers: Vec<String>,
    pub versions: BTreeMap<String, String>,
    pub aliases: BTreeMap<SocketAddr, String>,
    pub conf: BTreeMap<String, Vec<ConfMember>>,
    pub mode: Option<ClusterMode>,
}

/// `[cluster] servers = 3` or `servers = ["a", "b"]`, `versions = { s3 = "1.3.2" }`,
/// `aliases = { "127.0.0.1:8848" = "s1" }`, `conf = { s1 = ["s2", "127.0.0.1:8848"] }` and
/// `mode = "cluster"` (see `cluster.rs`).
pub(crate) fn read_cluster(top: &Table) -> R<ClusterSpec> {
    let Some(field) = top.get("cluster") else {
        return fail(
            0,
            "missing [cluster] table: add `[cluster]` with `servers = 3` (or a list of names)",
        );
    };
    let example = "a table such as [cluster] servers = 3";
    let cluster = Table::of(field.node, "cluster", "[cluster]".to_owned(), "", example)?;
    let keys = ["servers", "versions", "aliases", "conf", "mode"];
    cluster.check_keys(&keys, |_| None)?;
    let servers = read_servers(&cluster)?;
    let versions = match cluster.get("versions") {
        Some(f) => read_versions(&f, &servers)?,
        None => BTreeMap::new(),
    };
    let aliases = match cluster.get("aliases") {
        Some(f) => super::cluster::read_aliases(&f, &servers)?,
        None => BTreeMap::new(),
    };
    let mode = match cluster.get("mode") {
        Some(f) => Some(super::cluster::read_mode(&f, &servers)?),
        None => None,
    };
    let conf = match cluster.get("conf") {
        Some(f) => {
            let standalone = mode.map_or(servers.len() == 1, |m| m == ClusterMode::Standalone);
            if standalone {
                return fail(
                    f.key.at(),
                    "`conf`: a standalone server reads no cluster.conf (spec §9); add mode = \"cluster\" \
                     to run one server in cluster mode",
                );
            }
            super::cluster::read_conf(&f, &servers, &aliases)?
        }
        None => BTreeMap::new(),
    };
    Ok(ClusterSpec {
        servers,
        versions,
        aliases,
        conf,
        mode,
    })
}

/// `versions = { s3 = "1.3.2" }`: each key a server, each value a dotted version number.
fn read_versions(f: &Field, servers: &[String]) -> R<BTreeMap<String, String>> {
    let t = Table::of(
        f.node,
        "versions",
        "`versions`".to_owned(),
        "versions",
        "a table of server versions such as { s3 = \"1.3.2\" }",
    )?;
    let mut out = BTreeMap::new();
    for (key, node) in t.entries {
        if !servers.contains(&key.name) {
            let head = format!("`versions`: `{}` is not a server", key.name);
            let msg = with_suggestion(
                head,
                &key.name,
                servers.iter().map(|s| s.as_str()),
                "the servers are",
            );
            return fail(key.at(), msg);
        }
        let label = format!("versions.{}", key.name);
        let v = super::fields::as_nonempty_str(&label, node)?.trim();
        if crate::model::version::parse(v).is_none() {
            return fail(
                node.at(),
                format!("`{label}`: {v:?} is not a Nacos version (such as \"1.3.2\" or \"1.4.1\")"),
            );
        }
        out.insert(key.name.clone(), v.to_owned());
    }
    Ok(out)
}

/// `servers = 3` or `servers = ["a", "b"]`.
fn read_servers(cluster: &Table) -> R<Vec<String>> {
    let servers = cluster.require("servers", "servers = 3 or servers = [\"s1\", \"s2\"]")?;
    let what = "a list of server names such as [\"s1\", \"s2\"] or a count such as 3";
    match &servers.node.val {
        Val::Int(n) => {
            if *n < 1 || *n as u64 > MAX_SERVERS {
                return fail(
                    servers.at(),
                    format!("`servers` = {n}: a cluster has 1 to {MAX_SERVERS} servers"),
                );
            }
            Ok((1..=*n).map(|i| format!("s{i}")).collect())
        }
        Val::Array(_) => {
            let names = servers.strings(what)?;
            if names.is_empty() {
                return fail(servers.at(), "`servers` must name at least one server");
            }
            let mut out: Vec<String> = Vec::new();
            for (name, node) in names {
                check_node_name("servers", node, name)?;
                if out.iter().any(|s| s == name) {
                    return fail(
                        node.at(),
                        format!("duplicate node name `{name}` in `servers`"),
                    );
                }
                out.push(name.to_owned());
            }
            Ok(out)
        }
        _ => servers.expected(what),
    }
}

/// `[[client]]` tables.
pub(crate) fn read_clients(
    top: &Table,
    servers: &[String],
    duration: Duration,
) -> R<Vec<ClientSpec>> {
    let Some(field) = top.get("client") else {
        return Ok(Vec::new());
    };
    let Val::Array(items) = &field.node.val else {
        let msg = match field.node.val {
            Val::Table(_) => {
                "`client` must be an array of tables: write [[client]], not [client]".to_owned()
            }
            _ => format!(
                "`client`: expected [[client]] tables, found {}",
                super::fields::found(&field.node.val)
            ),
        };
        return fail(field.key.at(), msg);
    };
    let mut clients: Vec<ClientSpec> = Vec::new();
    for item in items {
        let t = Table::of(
            item,
            "client",
            "[[client]]".to_owned(),
            "",
            "a [[client]] table such as { name = \"provider\" }",
        )?;
        t.check_keys(&["name", "servers", "traffic"], |_| None)?;
        let name_field = t.require("name", "name = \"provider\"")?;
        let name = name_field.nonempty_str()?;
        check_node_name("name", name_field.node, name)?;
        if servers.iter().any(|s| s == name) {
            return fail(
                name_field.at(),
                format!("duplicate node name `{name}`: it is already a server"),
            );
        }
        if clients.iter().any(|c| c.name == name) {
            return fail(
                name_field.at(),
                format!("duplicate node name `{name}`: another [[client]] has it"),
            );
        }
        let list = match t.get("servers") {
            None => servers.to_vec(),
            Some(f) => {
                let names = f.strings("a list of server names such as [\"s1\"]")?;
                if names.is_empty() {
                    return fail(
                        f.at(),
                        "`servers` must name at least one server (leave it out for all of them)",
                    );
                }
                let ctx = Ctx {
                    duration: Duration::ZERO,
                    duration_text: String::new(),
                    servers: servers.to_vec(),
                    clients: clients.iter().map(|c| c.name.clone()).collect(),
                    known: None,
                    traffic: Vec::new(),
                };
                let mut out: Vec<String> = Vec::new();
                for (_, node) in names {
                    let wrong = |n: &str| {
                        format!(
                            "`servers`: `{n}` is a client, not a server; the servers are {}",
                            servers.join(", ")
                        )
                    };
                    let s = ctx.node("servers", node, Want::Server, &wrong)?;
                    if out.contains(&s) {
                        return fail(node.at(), format!("`servers`: `{s}` is listed twice"));
                    }
                    out.push(s);
                }
                out
            }
        };
        let traffic = t
            .get("traffic")
            .map(|f| super::traffic::read_traffic(&f, duration))
            .transpose()?;
        clients.push(ClientSpec {
            name: name.to_owned(),
            servers: list,
            traffic,
        });
    }
    Ok(clients)
}

/// `[config]` overrides applied to the defaults, plus (key, value as written) in file order.
pub(crate) fn read_config(top: &Table, src: &str) -> R<(Config, Vec<(String, String)>)> {
    let mut config = Config::default();
    let mut overrides = Vec::new();
    let Some(field) = top.get("config") else {
        return Ok((config, overrides));
    };
    let t = Table::of(
        field.node,
        "config",
        "[config]".to_owned(),
        "",
        "a table such as [config] heartbeat_timeout = \"15s\"",
    )?;
    for (key, node) in t.entries {
        let Some(&(_, kind, _, _)) = Config::KEYS.iter().find(|k| k.0 == key.name) else {
            let head = format!("unknown config key `{}` in [config]", key.name);
            let msg = with_suggestion(
                head,
                &key.name,
                Config::KEYS.iter().map(|k| k.0),
                "the keys are",
            );
            return fail(key.at(), msg);
        };
        let label = key.name.as_str();
        let value = match kind {
            Kind::Duration => Value::Duration(super::fields::as_duration(label, node)?),
            Kind::Bool => Value::Bool(super::fields::as_bool(label, node)?),
            Kind::Int => Value::Int(super::fields::as_uint(label, node)?),
            Kind::Float => Value::Float(super::fields::as_number(label, node)?),
        };
        config.set(label, value).map_err(|e| Fail {
            at: node.at(),
            message: e,
        })?;
        overrides.push((key.name.clone(), written(src, node)));
    }
    Ok((config, overrides))
}

/// A value as the file wrote it: a string's contents, otherwise the literal's source text.
fn written(src: &str, node: &Node) -> String {
    match &node.val {
        Val::Str(s) => s.clone(),
        Val::Int(i) => node
            .span
            .as_ref()
            .and_then(|s| src.get(s.clone()))
            .map_or_else(|| i.to_string(), str::to_owned),
        Val::Float(f) => node
            .span
            .as_ref()
            .and_then(|s| src.get(s.clone()))
            .map_or_else(|| f.to_string(), str::to_owned),
        Val::Bool(b) => b.to_string(),
        other => super::fields::found(other),
    }
}
