//! Scenario files: TOML text to a validated [`Scenario`], or an error at a line and column.
//!
//! The format, in brief (every key below is checked; unknown keys are errors):
//!
//! ```toml
//! name = "heartbeat-expiry"          # required
//! about = "A provider dies; ..."     # required, one line
//! seed = 1                           # default 1
//! duration = "90s"                   # required: "500ms", "15s", "2m", "1h", "1.5s"
//! [cluster]
//! servers = 3                        # or ["a", "b"]; names are [A-Za-z0-9_.-]+
//! [config]                           # any Config::KEYS key, durations as strings
//! heartbeat_timeout = "15s"
//! [[client]]
//! name = "provider"
//! servers = ["s1"]                   # default: every server
//! [[step]]                           # exactly one action or fault per step
//! at = "1s"
//! client = "provider"                # with client actions only
//! register = { service = "orders", ip = "10.0.0.1", port = 8080 }
//! #   + group, cluster, weight, enabled, ephemeral, metadata = { k = "v" }
//! #   deregister takes the same table; subscribe, unsubscribe, get_all_instances,
//! #   select_one_healthy take { service, group?, clusters? }; select_instances also healthy?
//! #   faults: crash/restart/pause/resume/isolate = "node", heal = true,
//! #   partition = [["s1"], ["s2", "s3"]], one_way = { from, to }, loss = 0.1,
//! #   latency = ["1ms", "10ms"], ring = ["s1", "s2", "s3", "s4"],
//! #   clock_skew = { node = "s1", offset = "+40s", drift = 0.01 }, heal_all = true
//! [chaos]                            # faults drawn from the seed: see chaos.rs
//! [[expect]]                         # a view: client or server; at, within or always
//! at = "25s"
//! client = "consumer"
//! service = "orders"                 # + group, clusters
//! instances = ["10.0.0.1:8080"]      # and/or healthy = [...]
//! [[expect]]                         # an event: kind + filters; within and/or never
//! event = "instance.unhealthy"
//! instance = "10.0.0.1:8080"         # + service, node
//! within = ["35s", "40s"]            # default: the whole run
//! ```
//!
//! The file is read into a tree of values that keep their source positions (`tree.rs`) and
//! then walked by hand, so every message can say what was expected and point at the key or
//! value at fault. Steps and expectations are in `steps.rs` (faults in `fault_steps.rs`) and
//! `expects.rs`, the cluster, clients and config in `setup.rs`; all of them read names and
//! times against a `ctx.rs` context and values with `fields.rs`.
//!
//! Positions: `Step::line` and `Expect::*::line` are the 1-based line of the `[[step]]` /
//! `[[expect]]` header (of the inline table's `{` when written inline). Errors about a value
//! point at the value; about an unknown or extra key, at the key; about a missing key, at the
//! header of the table that lacks it (1:1 for the top level).

use super::ctx::{Ctx, Known};
use super::expects::parse_expect;
use super::fields::{fail, show, Fail, Field, Table, R};
use super::setup::{read_clients, read_cluster, read_config, ClusterSpec};
use super::source::{line_col, ScenarioError, MAX_CHAOS_FAULTS, MAX_DURATION};
use super::steps::parse_step;
use super::tree::{self, Node, Val};
use super::types::*;
use crate::config::Config;
use std::path::Path;
use std::time::Duration;

/// Parses the bytes of a scenario file, as [`load`] does after reading them (no size limit).
pub fn parse_bytes(bytes: &[u8], path: &str) -> Result<Scenario, ScenarioError> {
    parse(&super::source::decode(bytes.to_vec(), path)?, path)
}

/// Reads and parses a scenario file. `Scenario::path` is `path` as given.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    parse(
        &super::source::read_source(path)?,
        &path.display().to_string(),
    )
}

/// Parses scenario text; `path` is used in errors and kept as `Scenario::path`.
pub fn parse(src: &str, path: &str) -> Result<Scenario, ScenarioError> {
    read_scenario(src, path).map_err(|f| {
        let (line, col) = line_col(src, f.at);
        ScenarioError {
            path: path.to_owned(),
            line,
            col,
            message: one_line(&f.message),
        }
    })
}

/// A message on one line: control characters that a quoted value brought in (a `\n` escape
/// in a name) are shown escaped.
fn one_line(message: &str) -> String {
    message
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `seed = 42`, or a decimal string for a seed above i64::MAX, the largest TOML integer
/// (`seed = "18446744073709551615"`; `scenario_toml` writes such seeds that way).
fn read_seed(f: &Field) -> R<u64> {
    match &f.node.val {
        Val::Str(s) => s.trim().parse::<u64>().or_else(|_| {
            fail(
                f.at(),
                format!(
                    "`seed` = {s:?}: expected a seed from 0 to {}, as an integer or a string of digits",
                    u64::MAX
                ),
            )
        }),
        _ => f.uint(),
    }
}

const ROOT_KEYS: &[&str] = &[
    "name",
    "about",
    "seed",
    "duration",
    "quiet",
    "pass_rate",
    "cluster",
    "config",
    "client",
    "step",
    "expect",
    "chaos",
];

fn read_scenario(src: &str, path: &str) -> R<Scenario> {
    let mut root = tree::parse_document(src).map_err(toml_error)?;
    tree::fill_spans(&mut root, &(0..0));
    let Val::Table(entries) = &root.val else {
        return fail(0, "expected a TOML document");
    };
    let top = Table {
        what: "the top level".to_owned(),
        prefix: String::new(),
        at: 0,
        entries,
    };
    top.check_keys(ROOT_KEYS, root_hint)?;

    let name = top
        .require("name", "name = \"heartbeat-expiry\"")?
        .nonempty_str()?
        .to_owned();
    let about_field = top.require("about", "about = \"A provider dies; its instance expires\"")?;
    let about = about_field.nonempty_str()?.trim().to_owned();
    if about.contains('\n') {
        return fail(
            about_field.at(),
            "`about` must be one line (it heads the outcome); put details in comments",
        );
    }
    let seed = match top.get("seed") {
        Some(f) => read_seed(&f)?,
        None => 1,
    };
    let duration_field = top.require("duration", "duration = \"90s\"")?;
    let duration = duration_field.duration()?;
    if duration.is_zero() {
        return fail(duration_field.at(), "`duration` must be longer than 0s");
    }
    if duration > MAX_DURATION {
        return fail(
            duration_field.at(),
            format!(
                "`duration` = {}: a run may last at most {}h",
                show(duration),
                MAX_DURATION.as_secs() / 3600
            ),
        );
    }

    let quiet = match top.get("quiet") {
        Some(f) => f.duration()?,
        None => Duration::from_secs(30),
    };

    let pass_rate = match top.get("pass_rate") {
        Some(f) => {
            let r = f.number()?;
            if !(r > 0.0 && r <= 1.0) {
                return fail(
                    f.at(),
                    format!("`pass_rate` = {r}: a share of seeds, above 0 and at most 1"),
                );
            }
            if r < DEFAULT_PASS_RATE && !about.to_lowercase().contains("race") {
                return fail(
                    f.at(),
                    format!(
                        "`pass_rate` = {r} is below {DEFAULT_PASS_RATE}: only a race may hold on \
                         fewer seeds, and its `about` must say that it is one (the word \"race\")"
                    ),
                );
            }
            r
        }
        None => DEFAULT_PASS_RATE,
    };

    let ClusterSpec {
        servers,
        versions,
        aliases,
        conf,
        mode,
    } = read_cluster(&top)?;
    let clients = read_clients(&top, &servers, duration)?;
    if let Some((alias, client)) = aliases.keys().find_map(|a| {
        (0..clients.len())
            .find(|i| client_addr(*i) == *a)
            .map(|i| (a, i))
    }) {
        let at = top.get("cluster").map_or(0, |f| f.key.at());
        return fail(
            at,
            format!(
                "`aliases`: `{alias}` is the address of client {}; an alias reaches a server",
                clients[client].name
            ),
        );
    }
    let (config, overrides) = read_config(&top, src)?;
    let chaos = super::chaos::read_chaos(&top, duration, servers.len(), quiet)?;
    if let Some(c) = &chaos {
        let most = (c.end - c.start).as_micros() / c.every.0.as_micros().max(1);
        if most > MAX_CHAOS_FAULTS {
            let at = top.get("chaos").map_or(0, |f| f.key.at());
            return fail(
                at,
                format!(
                    "[chaos] could draw up to {most} faults (from {} to {}, one every {} or more): \
                     the most is {MAX_CHAOS_FAULTS}; make `chaos.every` longer",
                    show(c.start),
                    show(c.end),
                    show(c.every.0)
                ),
            );
        }
    }

    let mut ctx = Ctx {
        duration,
        duration_text: duration_field.str_trimmed(),
        servers: servers.clone(),
        clients: clients.iter().map(|c| c.name.clone()).collect(),
        known: None,
        traffic: clients
            .iter()
            .filter_map(|c| Some((c.name.clone(), c.traffic.as_ref()?.service.clone())))
            .collect(),
    };

    let mut steps = Vec::new();
    for (node, line) in array_of_tables(&top, "step", src)? {
        steps.push(parse_step(&ctx, node, line)?);
    }
    // Stable: steps at the same time keep their file order.
    steps.sort_by_key(|s: &Step| s.at);

    ctx.known = Some(Known::of(&steps));
    let mut expects = Vec::new();
    for (node, line) in array_of_tables(&top, "expect", src)? {
        expects.push(parse_expect(&ctx, node, line)?);
    }

    Ok(Scenario {
        path: path.to_owned(),
        name,
        about,
        seed,
        duration,
        servers,
        versions,
        aliases,
        conf,
        mode,
        config,
        overrides,
        clients,
        steps,
        expects,
        quiet,
        chaos,
        pass_rate,
    })
}

/// A toml syntax error: its position and its message on one line.
fn toml_error(e: toml::de::Error) -> Fail {
    let at = e.span().map_or(0, |s| s.start);
    // toml's message may span lines ("invalid array" / "expected `]`"): join them.
    let parts: Vec<&str> = e
        .message()
        .lines()
        .map(|l| l.trim().trim_end_matches('.'))
        .filter(|l| !l.is_empty())
        .collect();
    let message = if parts.is_empty() {
        // toml gives no text for a key with nothing after `=`.
        "expected a value".to_owned()
    } else {
        parts.join(": ")
    };
    Fail {
        at,
        message: format!("invalid TOML: {message}"),
    }
}

/// Explains a top-level key that belongs somewhere else.
fn root_hint(key: &str) -> Option<String> {
    if key == "servers" {
        return Some("`servers` belongs in the [cluster] table".to_owned());
    }
    if Config::KEYS.iter().any(|k| k.0 == key) {
        return Some(format!("`{key}` is a config key: put it under [config]"));
    }
    let plural = |k: &str| format!("the table is written [[{k}]] (singular)");
    match key {
        "steps" => Some(plural("step")),
        "expects" | "expectations" | "expectation" => Some(plural("expect")),
        "clients" => Some(plural("client")),
        _ => None,
    }
}

/// Entries of `[[key]]` (or `key = [{...}, ...]`) with their header lines.
fn array_of_tables<'a>(top: &Table<'a>, key: &str, src: &str) -> R<Vec<(&'a Node, usize)>> {
    let Some(field) = top.get(key) else {
        return Ok(Vec::new());
    };
    let Val::Array(items) = &field.node.val else {
        let msg = match field.node.val {
            Val::Table(_) => {
                format!("`{key}` must be an array of tables: write [[{key}]], not [{key}]")
            }
            _ => format!(
                "`{key}`: expected an array of tables written [[{key}]], found {}",
                super::fields::found(&field.node.val)
            ),
        };
        return fail(field.key.at(), msg);
    };
    items
        .iter()
        .map(|item| {
            if !matches!(item.val, Val::Table(_)) {
                return fail(
                    item.at(),
                    format!(
                        "`{key}`: expected a table, found {}",
                        super::fields::found(&item.val)
                    ),
                );
            }
            Ok((item, line_col(src, item.at()).0))
        })
        .collect()
}
