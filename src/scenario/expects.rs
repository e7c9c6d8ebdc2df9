//! `[[expect]]` tables: a view that must match, or an event that must (or must not) happen.

use super::ctx::{Ctx, Known, Want};
use super::fields::{as_nonempty_str, clusters, fail, name_str, or_list, suggest, Field, Table, R};
use super::tree::Node;
use super::tree::Val;
use super::types::*;
use crate::trace::{kind_info, Anomaly, KINDS};
use std::collections::{BTreeMap, BTreeSet};

const VIEW_KEYS: &[&str] = &[
    "name",
    "client",
    "server",
    "service",
    "group",
    "clusters",
    "instances",
    "healthy",
    "at",
    "within",
    "always",
];

const EVENT_KEYS: &[&str] = &[
    "name", "event", "instance", "service", "node", "fields", "within", "never",
];

pub(crate) fn parse_expect(ctx: &Ctx, node: &Node, line: usize) -> R<Expect> {
    let t = Table::of(
        node,
        "expect",
        "[[expect]]".to_owned(),
        "",
        "an [[expect]] table",
    )?;
    // A key of neither kind is compared with both, so that `evnt` suggests `event`.
    let all: Vec<&str> = VIEW_KEYS
        .iter()
        .chain(EVENT_KEYS)
        .chain(&["anomaly"])
        .chain(super::traffic::EXPECT_KINDS)
        .copied()
        .collect();
    let close = |k: &str| {
        let c = suggest(k, all.iter().copied());
        (!c.is_empty()).then(|| format!("did you mean {}?", or_list(&c)))
    };
    if let Some(f) = super::traffic::EXPECT_KINDS.iter().find_map(|k| t.get(k)) {
        return super::traffic::traffic_expect(ctx, &t, &f, line);
    }
    if let Some(f) = t.get("anomaly") {
        t.check_keys(&["name", "anomaly"], |k| {
            Some(format!(
                "an anomaly expectation takes only `anomaly` and `name`, not `{k}`"
            ))
        })?;
        let kind = f.nonempty_str()?;
        let names = || Anomaly::ALL.iter().map(|a| a.as_str());
        if Anomaly::parse(kind).is_none() {
            let near = suggest(kind, names());
            let hint = match near.first() {
                Some(n) => format!("did you mean `{n}`?"),
                None => format!(
                    "the anomalies are {}",
                    names().collect::<Vec<_>>().join(", ")
                ),
            };
            return fail(
                f.at(),
                format!("`anomaly`: unknown anomaly `{kind}`: {hint}"),
            );
        }
        return Ok(Expect::Anomaly {
            label: label(&t)?,
            kind: Anomaly::parse(kind).expect("validated above"),
            line,
        });
    }
    if t.get("event").is_some() {
        t.check_keys(EVENT_KEYS, |k| {
            if VIEW_KEYS.contains(&k) {
                Some(format!(
                    "`{k}` belongs to view expectations; an event expectation (one with `event`) takes {}",
                    EVENT_KEYS.join(", ")
                ))
            } else {
                close(k)
            }
        })?;
        event_expect(ctx, &t, line)
    } else {
        t.check_keys(VIEW_KEYS, |k| {
            if EVENT_KEYS.contains(&k) {
                let mut m = format!(
                    "`{k}` belongs to event expectations, which name the event with `event = \"...\"`"
                );
                let c = suggest(k, VIEW_KEYS.iter().copied());
                if !c.is_empty() {
                    m.push_str(&format!("; did you mean {}?", or_list(&c)));
                }
                Some(m)
            } else {
                close(k)
            }
        })?;
        view_expect(ctx, &t, line)
    }
}

fn label(t: &Table) -> R<Option<String>> {
    t.get("name")
        .map(|f| f.nonempty_str().map(str::to_owned))
        .transpose()
}

fn view_expect(ctx: &Ctx, t: &Table, line: usize) -> R<Expect> {
    let label = label(t)?;
    let targets = t.present(&["client", "server"]);
    let target = match targets.as_slice() {
        [] => {
            return fail(
                t.at,
                "[[expect]] needs `client = \"...\"` (a client's cached view) or \
                 `server = \"...\"` (a server's view); or `event = \"...\"` for an event expectation",
            )
        }
        [one] if one.key.name == "client" => {
            let wrong = |n: &str| {
                format!("`{n}` is a server, not a client: write `server = \"{n}\"` to check a server's view")
            };
            ViewTarget::Client(ctx.node("client", one.node, Want::Client, &wrong)?)
        }
        [one] => {
            let wrong = |n: &str| {
                format!(
                    "`{n}` is a client, not a server: write `client = \"{n}\"` to check a client's cached view"
                )
            };
            ViewTarget::Server(ctx.node("server", one.node, Want::Server, &wrong)?)
        }
        [_, second, ..] => {
            return fail(
                second.key.at(),
                "[[expect]] has both `client` and `server`: it checks one view; write two [[expect]]s",
            )
        }
    };
    let service_field = t.require("service", "service = \"orders\"")?;
    let service = ServiceRef {
        service: name_str(&service_field)?,
        group: match t.get("group") {
            Some(g) => name_str(&g)?,
            None => DEFAULT_GROUP.to_owned(),
        },
        clusters: match t.get("clusters") {
            Some(c) => clusters(&c)?,
            None => Vec::new(),
        },
    };
    let instances = t.get("instances").map(|f| addr_set(&f)).transpose()?;
    let healthy = t.get("healthy").map(|f| addr_set(&f)).transpose()?;
    if instances.is_none() && healthy.is_none() {
        return fail(
            t.at,
            "[[expect]] needs `instances = [\"ip:port\", ...]` (the exact set) or \
             `healthy = [...]` (the exact healthy set), or both",
        );
    }
    let whens = t.present(&["at", "within", "always"]);
    let when =
        match whens.as_slice() {
            [] => return fail(
                t.at,
                "[[expect]] needs a time: `at = \"25s\"`, `within = [\"20s\", \"30s\"]` (at some \
                 moment) or `always = [\"20s\", \"30s\"]` (at every moment)",
            ),
            [one] => match one.key.name.as_str() {
                "at" => When::At(ctx.time(one)?),
                "within" => {
                    let (a, b) = ctx.window(one, "[\"20s\", \"30s\"]")?;
                    When::Within(a, b)
                }
                _ => {
                    let (a, b) = ctx.window(one, "[\"20s\", \"30s\"]")?;
                    When::Always(a, b)
                }
            },
            [first, second, ..] => {
                return fail(
                    second.key.at(),
                    format!(
                        "[[expect]] has both `{}` and `{}`: give exactly one of at, within, always",
                        first.key.name, second.key.name
                    ),
                )
            }
        };
    if let Some(k) = &ctx.known {
        if !k
            .services
            .contains(&(service.group.clone(), service.service.clone()))
        {
            let shown = |g: &str, s: &str| {
                if g == DEFAULT_GROUP {
                    s.to_owned()
                } else {
                    format!("{g}@@{s}")
                }
            };
            let name = shown(&service.group, &service.service);
            return fail(service_field.at(), unknown_service(&name, k, shown));
        }
    }
    Ok(Expect::View {
        label,
        target,
        service,
        instances,
        healthy,
        when,
        line,
    })
}

fn event_expect(ctx: &Ctx, t: &Table, line: usize) -> R<Expect> {
    let label = label(t)?;
    let kind_field = t.require("event", "event = \"instance.unhealthy\"")?;
    let kind = kind_field.nonempty_str()?;
    let valid = kind
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !valid {
        return fail(
            kind_field.at(),
            format!("`event`: {kind:?} is not an event kind (such as \"instance.unhealthy\")"),
        );
    }
    let kinds = || KINDS.iter().map(|k| k.kind);
    if kind_info(kind).is_none() {
        let near = super::fields::suggest(kind, kinds());
        let hint = match near.first() {
            Some(n) => format!("did you mean `{n}`?"),
            None => format!("the kinds are {}", kinds().collect::<Vec<_>>().join(", ")),
        };
        return fail(
            kind_field.at(),
            format!("`event`: unknown event kind `{kind}`: {hint}"),
        );
    }
    let info = kind_info(kind).expect("validated above");
    // A filter on a field the kind never carries could never match: refuse it.
    for key in ["instance", "service"] {
        if let Some(f) = t.get(key) {
            if !info.has_field(key) {
                return fail(f.key.at(), no_such_field(kind, key, info.fields));
            }
        }
    }
    let instance = t
        .get("instance")
        .map(|f| addr(&f.label, f.node))
        .transpose()?;
    let service = t.get("service").map(|f| name_str(&f)).transpose()?;
    if let Some(k) = &ctx.known {
        let shown = |g: &str, s: &str| format!("{g}@@{s}");
        if let (Some(s), Some(f)) = (&service, t.get("service")) {
            let matches = k.services.iter().any(|(g, n)| n == s || shown(g, n) == *s);
            if !matches {
                return fail(f.at(), unknown_service(s, k, |_, n| n.to_owned()));
            }
        }
        if let (Some(i), Some(f)) = (&instance, t.get("instance")) {
            if !k.instances.contains(i) {
                let head = format!("`instance`: no step registers {i}");
                let msg = super::fields::with_suggestion(
                    head,
                    i,
                    k.instances.iter().map(|s| s.as_str()),
                    "the instances are",
                );
                return fail(f.at(), msg);
            }
        }
    }
    let node = t
        .get("node")
        .map(|f| match f.nonempty_str() {
            // Events of the network or of the harness as a whole are logged on `-`.
            Ok("-") => Ok("-".to_string()),
            _ => ctx.any_node("node", f.node),
        })
        .transpose()?;
    let mut fields = BTreeMap::new();
    if let Some(f) = t.get("fields") {
        let ft = Table::of(
            f.node,
            "fields",
            "`fields`".to_owned(),
            "fields",
            "a table of field values such as { to = \"DOWN\" }",
        )?;
        for (key, value) in ft.entries {
            if !info.has_field(&key.name) {
                return fail(key.at(), no_such_field(kind, &key.name, info.fields));
            }
            let label = format!("fields.{}", key.name);
            let v = match &value.val {
                Val::Str(s) => s.clone(),
                Val::Int(i) => i.to_string(),
                Val::Bool(b) => b.to_string(),
                Val::Float(x) => x.to_string(),
                _ => {
                    return super::fields::expected(
                        &label,
                        value,
                        "a string, a number or a boolean",
                    )
                }
            };
            fields.insert(key.name.clone(), v);
        }
    }
    let window = t
        .get("within")
        .map(|f| ctx.window(&f, "[\"35s\", \"40s\"]"))
        .transpose()?;
    let never = t
        .get("never")
        .map(|f| f.bool())
        .transpose()?
        .unwrap_or(false);
    Ok(Expect::Event {
        label,
        kind: kind.to_owned(),
        instance,
        service,
        node,
        fields,
        window,
        never,
        line,
    })
}

/// "`service`: no step registers, creates or subscribes to `ordrs`: did you mean `orders`?"
fn unknown_service(name: &str, k: &Known, shown: impl Fn(&str, &str) -> String) -> String {
    let names: Vec<String> = k.services.iter().map(|(g, s)| shown(g, s)).collect();
    let head = format!("`service`: no step registers, creates or subscribes to `{name}`");
    if names.is_empty() {
        return format!("{head}: no step names any service, so this can never match");
    }
    super::fields::with_suggestion(
        head,
        name,
        names.iter().map(|s| s.as_str()),
        "the services are",
    )
}

/// "`fields.x`: `instance.healthy` events have no field `x`: did you mean ...? / they have ...".
fn no_such_field(kind: &str, key: &str, fields: &[&str]) -> String {
    let head = format!("`{kind}` events have no field `{key}`");
    if fields.is_empty() {
        return format!("{head}: they have no fields to filter on");
    }
    super::fields::with_suggestion(head, key, fields.iter().copied(), "their fields are")
}

/// `"10.0.0.1:8080"`.
fn addr(label: &str, node: &Node) -> R<String> {
    let s = as_nonempty_str(label, node)?;
    let ok = match s.rsplit_once(':') {
        Some((ip, port)) => {
            !ip.is_empty()
                && !ip.contains(char::is_whitespace)
                && port.parse::<u16>().is_ok_and(|p| p > 0)
        }
        None => false,
    };
    if !ok {
        return fail(
            node.at(),
            format!("`{label}`: {s:?} is not ip:port (such as \"10.0.0.1:8080\")"),
        );
    }
    Ok(s.to_owned())
}

fn addr_set(f: &Field) -> R<BTreeSet<String>> {
    let items = super::fields::as_array(
        &f.label,
        f.node,
        "a list of \"ip:port\" strings such as [\"10.0.0.1:8080\"]",
    )?;
    let mut out = BTreeSet::new();
    for item in items {
        let a = addr(&f.label, item)?;
        if !out.insert(a.clone()) {
            return fail(item.at(), format!("`{}`: {a:?} is listed twice", f.label));
        }
    }
    Ok(out)
}
