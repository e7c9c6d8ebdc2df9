//! The parts of `[cluster]` that say how the servers find each other: `aliases` (extra
//! addresses that reach a server), `conf` (each server's cluster.conf) and `mode` (standalone
//! or cluster). Spec §4 step 1, §9 "Single-member cluster versus standalone", §16 item 8.

use super::fields::{fail, with_suggestion, Field, Table, R};
use super::tree::Val;
use super::types::{server_addr, ClusterMode, ConfMember};
use std::collections::BTreeMap;
use std::net::SocketAddr;

const ADDR_EXAMPLE: &str = "an address ip:port such as \"127.0.0.1:8848\"";

/// `"127.0.0.1:8848"` as a socket address with a port other than 0.
fn parse_addr(text: &str) -> Option<SocketAddr> {
    let a: SocketAddr = text.trim().parse().ok()?;
    (a.port() != 0).then_some(a)
}

/// "s2 (10.0.0.2:8848)" for every server: what the addresses are, in messages.
fn server_list(servers: &[String]) -> String {
    let all: Vec<String> = servers
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{s} ({})", server_addr(i)))
        .collect();
    all.join(", ")
}

/// A server name with a suggestion when it is none.
fn server_name(label: &str, at: usize, name: &str, servers: &[String]) -> R<String> {
    if servers.iter().any(|s| s == name) {
        return Ok(name.to_owned());
    }
    let head = format!("`{label}`: `{name}` is not a server");
    let msg = with_suggestion(
        head,
        name,
        servers.iter().map(|s| s.as_str()),
        "the servers are",
    );
    fail(at, msg)
}

/// `aliases = { "127.0.0.1:8848" = "s1" }`: each key an address that is no server's own, each
/// value a server.
pub(crate) fn read_aliases(f: &Field, servers: &[String]) -> R<BTreeMap<SocketAddr, String>> {
    let t = Table::of(
        f.node,
        "aliases",
        "`aliases`".to_owned(),
        "aliases",
        "a table of addresses such as { \"127.0.0.1:8848\" = \"s1\" }",
    )?;
    let mut out = BTreeMap::new();
    for (key, node) in t.entries {
        if matches!(node.val, Val::Table(_)) {
            // `127.0.0.1:8848 = ...` is no TOML key; `127.0.0.1 = ...` is four nested ones.
            return fail(
                key.at(),
                format!(
                    "`aliases`: quote the address: write \"{}…\" = \"s1\", not a dotted key",
                    key.name
                ),
            );
        }
        let Some(addr) = parse_addr(&key.name) else {
            return fail(
                key.at(),
                format!("`aliases`: `{}` is not {ADDR_EXAMPLE}", key.name),
            );
        };
        if let Some(i) = (0..servers.len()).find(|i| server_addr(*i) == addr) {
            return fail(
                key.at(),
                format!(
                    "`aliases`: `{addr}` is already the address of {}; an alias is another address",
                    servers[i]
                ),
            );
        }
        if out.contains_key(&addr) {
            return fail(key.at(), format!("`aliases`: `{addr}` is given twice"));
        }
        let label = format!("aliases.\"{}\"", key.name);
        let name = super::fields::as_nonempty_str(&label, node)?.trim();
        let name = server_name(&label, node.at(), name, servers)?;
        out.insert(addr, name);
    }
    Ok(out)
}

/// `conf = { s1 = ["127.0.0.1:8848", "s2"] }`: each key a server, each value its member list
/// of server names, server addresses and aliases, none twice.
pub(crate) fn read_conf(
    f: &Field,
    servers: &[String],
    aliases: &BTreeMap<SocketAddr, String>,
) -> R<BTreeMap<String, Vec<ConfMember>>> {
    let t = Table::of(
        f.node,
        "conf",
        "`conf`".to_owned(),
        "conf",
        "a table of member lists such as { s1 = [\"s2\", \"127.0.0.1:8848\"] }",
    )?;
    let mut out = BTreeMap::new();
    for (key, node) in t.entries {
        let server = server_name("conf", key.at(), &key.name, servers)?;
        let label = format!("conf.{server}");
        let what = "a list of members such as [\"s2\", \"127.0.0.1:8848\"]";
        let items = super::fields::as_array(&label, node, what)?;
        let mut list: Vec<ConfMember> = Vec::new();
        let mut seen: Vec<SocketAddr> = Vec::new();
        for item in items {
            let text = match &item.val {
                Val::Str(_) => super::fields::as_nonempty_str(&label, item)?.trim(),
                _ => return super::fields::expected(&label, item, "a string in the list"),
            };
            let (member, addr) = if let Some(i) = servers.iter().position(|s| s == text) {
                (ConfMember::Server(text.to_owned()), server_addr(i))
            } else if let Some(addr) = parse_addr(text) {
                let known = aliases.contains_key(&addr)
                    || (0..servers.len()).any(|i| server_addr(i) == addr);
                if !known {
                    return fail(
                        item.at(),
                        format!(
                            "`{label}`: `{addr}` is neither a server's address nor an alias: \
                             the servers are {}; add it to `aliases` to reach a server there",
                            server_list(servers)
                        ),
                    );
                }
                (ConfMember::Addr(addr), addr)
            } else {
                let head = format!("`{label}`: `{text}` is not a server or an address ip:port");
                let msg = with_suggestion(
                    head,
                    text,
                    servers.iter().map(|s| s.as_str()),
                    "the servers are",
                );
                return fail(item.at(), msg);
            };
            if seen.contains(&addr) {
                return fail(
                    item.at(),
                    format!("`{label}`: `{text}` is listed twice (as {addr})"),
                );
            }
            seen.push(addr);
            list.push(member);
        }
        out.insert(server, list);
    }
    Ok(out)
}

/// `mode = "standalone"` or `"cluster"`; standalone only for a lone server.
pub(crate) fn read_mode(f: &Field, servers: &[String]) -> R<ClusterMode> {
    let text = f.nonempty_str()?.trim();
    let mode = match text {
        "standalone" => ClusterMode::Standalone,
        "cluster" => ClusterMode::Cluster,
        other => {
            let head = format!("`mode`: `{other}` is not a mode");
            let modes = ["standalone", "cluster"];
            let msg = with_suggestion(head, other, modes.into_iter(), "the modes are");
            return fail(f.at(), msg);
        }
    };
    if mode == ClusterMode::Standalone && servers.len() > 1 {
        return fail(
            f.at(),
            format!(
                "`mode` = \"standalone\" runs one server alone, and this cluster has {} servers",
                servers.len()
            ),
        );
    }
    Ok(mode)
}

#[cfg(test)]
mod tests {
    use crate::scenario::{parse, scenario_toml, ClusterMode, ConfMember, Scenario};
    use std::net::SocketAddr;

    const HEAD: &str = "name = \"t\"\nabout = \"t\"\nduration = \"10s\"\n[cluster]\n";

    fn load(cluster: &str) -> Result<Scenario, String> {
        parse(&format!("{HEAD}{cluster}"), "t.toml").map_err(|e| e.to_string())
    }

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// The error of `cluster` (lines from 5), which must be at `line:col` and contain `part`.
    fn bad(cluster: &str, line: usize, needle: &str, part: &str) {
        let e = load(cluster).expect_err("an error");
        let text = format!("{HEAD}{cluster}");
        let l = text.lines().nth(line - 1).unwrap();
        let col = l.find(needle).expect("needle on the line") + 1;
        assert!(
            e.starts_with(&format!("t.toml:{line}:{col}: ")),
            "wrong position: {e}"
        );
        assert!(e.contains(part), "{e}\n  does not contain: {part}");
    }

    #[test]
    fn aliases_conf_and_mode_are_read_and_written_back() {
        let sc = load(
            "servers = 3\nmode = \"cluster\"\n\
             aliases = { \"127.0.0.1:8848\" = \"s1\", \"127.0.0.2:8848\" = \"s2\" }\n\
             conf = { s1 = [\"127.0.0.1:8848\", \"s2\", \"10.0.0.3:8848\"], s3 = [] }\n",
        )
        .unwrap();
        assert_eq!(sc.mode, Some(ClusterMode::Cluster));
        assert_eq!(sc.aliases[&a("127.0.0.2:8848")], "s2");
        assert_eq!(
            sc.conf["s1"],
            vec![
                ConfMember::Addr(a("127.0.0.1:8848")),
                ConfMember::Server("s2".into()),
                ConfMember::Addr(a("10.0.0.3:8848")),
            ]
        );
        // spec §4 step 1: the list as addresses; s2 has none of its own, so every server's.
        assert_eq!(
            sc.members_of("s1"),
            vec![a("127.0.0.1:8848"), a("10.0.0.2:8848"), a("10.0.0.3:8848")]
        );
        assert!(sc.members_of("s3").is_empty());
        assert_eq!(sc.members_of("s2").len(), 3);
        assert!(!sc.standalone());
        let back = parse(&scenario_toml(&sc, ""), "back.toml").unwrap();
        assert_eq!(
            (&back.aliases, &back.conf, back.mode),
            (&sc.aliases, &sc.conf, sc.mode)
        );
    }

    #[test]
    fn one_server_is_standalone_unless_the_mode_says_cluster() {
        // spec §9 "Single-member cluster versus standalone".
        assert!(load("servers = 1\n").unwrap().standalone());
        let sc = load("servers = 1\nmode = \"cluster\"\nconf = { s1 = [] }\n").unwrap();
        assert!(!sc.standalone());
        assert!(!load("servers = 2\n").unwrap().standalone());
        let back = parse(&scenario_toml(&sc, ""), "back.toml").unwrap();
        assert_eq!(back.mode, Some(ClusterMode::Cluster));
    }

    #[test]
    fn every_mistake_is_reported_where_it_was_written() {
        bad(
            "servers = 3\naliases = { \"127.0.0.1:8848\" = \"s4\" }\n",
            6,
            "\"s4\"",
            "`aliases.\"127.0.0.1:8848\"`: `s4` is not a server: did you mean `s1`, `s2` or `s3`?",
        );
        bad(
            "servers = 3\naliases = { \"localhost:8848\" = \"s1\" }\n",
            6,
            "\"localhost",
            "`aliases`: `localhost:8848` is not an address ip:port",
        );
        bad(
            "servers = 3\naliases = { \"10.0.0.2:8848\" = \"s1\" }\n",
            6,
            "\"10.0.0.2",
            "`10.0.0.2:8848` is already the address of s2",
        );
        bad(
            "servers = 3\naliases = { 127.0.0.1 = \"s1\" }\n",
            6,
            "127",
            "quote the address",
        );
        bad(
            "servers = 3\nconf = { s4 = [] }\n",
            6,
            "s4",
            "`conf`: `s4` is not a server: did you mean",
        );
        bad(
            "servers = 3\nconf = { s1 = [\"s2\", \"sx\"] }\n",
            6,
            "\"sx\"",
            "`conf.s1`: `sx` is not a server or an address ip:port: did you mean",
        );
        bad(
            "servers = 3\nconf = { s1 = [\"10.0.0.9:8848\"] }\n",
            6,
            "\"10.0.0.9",
            "`conf.s1`: `10.0.0.9:8848` is neither a server's address nor an alias: the servers \
             are s1 (10.0.0.1:8848), s2 (10.0.0.2:8848), s3 (10.0.0.3:8848)",
        );
        bad(
            "servers = 3\nconf = { s1 = [\"s2\", \"10.0.0.2:8848\"] }\n",
            6,
            "\"10.0.0.2",
            "`conf.s1`: `10.0.0.2:8848` is listed twice (as 10.0.0.2:8848)",
        );
        bad(
            "servers = 3\nconf = { s1 = \"s2\" }\n",
            6,
            "\"s2\"",
            "`conf.s1`: expected a list of members",
        );
        bad(
            "servers = 1\nconf = { s1 = [] }\n",
            6,
            "conf",
            "`conf`: a standalone server reads no cluster.conf",
        );
        bad(
            "servers = 2\nmode = \"standalone\"\n",
            6,
            "\"standalone\"",
            "runs one server alone, and this cluster has 2 servers",
        );
        bad(
            "servers = 1\nmode = \"clustr\"\n",
            6,
            "\"clustr\"",
            "`mode`: `clustr` is not a mode: did you mean `cluster`?",
        );
        let e = load(
            "servers = 1\naliases = { \"10.1.0.1:54951\" = \"s1\" }\n[[client]]\nname = \"c\"\n",
        )
        .expect_err("an alias on a client's address");
        assert!(e.contains("is the address of client c"), "{e}");
    }
}
