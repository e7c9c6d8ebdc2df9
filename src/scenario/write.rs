//! Scenario pieces back to TOML text: a drawn chaos schedule prints as steps a user can paste
//! into a scenario, and `shrink` writes whole scenarios.

use super::fields::show;
use super::types::*;
use std::fmt::Write as _;

/// A TOML basic string.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn list(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|s| quoted(s)).collect();
    format!("[{}]", items.join(", "))
}

fn groups(g: &[Vec<String>]) -> String {
    let items: Vec<String> = g.iter().map(|x| list(x)).collect();
    format!("[{}]", items.join(", "))
}

fn signed(ms: i64) -> String {
    let d = show(std::time::Duration::from_millis(ms.unsigned_abs()));
    if ms == 0 {
        "0s".into()
    } else if ms < 0 {
        format!("-{d}")
    } else {
        format!("+{d}")
    }
}

/// A fault as the `key = value` line of a `[[step]]`.
pub fn fault_toml(f: &Fault) -> String {
    match f {
        Fault::Crash(n) => format!("crash = {}", quoted(n)),
        Fault::Restart(n) => format!("restart = {}", quoted(n)),
        Fault::Pause(n) => format!("pause = {}", quoted(n)),
        Fault::Resume(n, ResumeOrder::Seeded) => format!("resume = {}", quoted(n)),
        Fault::Resume(n, order) => format!(
            "resume = {{ node = {}, order = {} }}",
            quoted(n),
            quoted(word_of(RESUME_ORDERS, *order))
        ),
        Fault::Isolate(n) => format!("isolate = {}", quoted(n)),
        Fault::Heal => "heal = true".into(),
        Fault::HealAll => "heal_all = true".into(),
        Fault::Panic(n) => format!("panic = {}", quoted(n)),
        Fault::JraftError(n) => format!("jraft_error = {}", quoted(n)),
        Fault::Partition(g) => format!("partition = {}", groups(g)),
        Fault::Ring(order) => format!("ring = {}", list(order)),
        Fault::Bridge { via, sides } => {
            format!(
                "bridge = {{ via = {}, sides = {} }}",
                quoted(via),
                groups(sides)
            )
        }
        Fault::OneWay { from, to } => {
            format!(
                "one_way = {{ from = {}, to = {} }}",
                quoted(from),
                quoted(to)
            )
        }
        Fault::NoConnect { from, to, mode } => {
            let mode = word_of(NO_CONNECT_MODES, *mode);
            format!(
                "no_connect = {{ from = {}, to = {}, mode = {} }}",
                quoted(from),
                quoted(to),
                quoted(mode)
            )
        }
        Fault::Delay { from, to, extra } => format!(
            "delay = {{ from = {}, to = {}, extra = {} }}",
            quoted(from),
            quoted(to),
            dur(*extra)
        ),
        Fault::DiskStall { node, stalled } => format!(
            "{} = {}",
            if *stalled {
                "stall_disk"
            } else {
                "unstall_disk"
            },
            quoted(node)
        ),
        Fault::BlockPort {
            node,
            port,
            blocked,
        } => format!(
            "{} = {{ node = {}, port = {port} }}",
            if *blocked {
                "block_port"
            } else {
                "unblock_port"
            },
            quoted(node)
        ),
        Fault::PortDown(a) => format!("port_down = {}", quoted(a)),
        Fault::PortUp(a) => format!("port_up = {}", quoted(a)),
        Fault::Loss(p) => format!("loss = {p}"),
        Fault::Latency(lo, hi) => format!("latency = [{:?}, {:?}]", show(*lo), show(*hi)),
        Fault::ClockSkew {
            node,
            offset_ms,
            drift,
        } => format!(
            "clock_skew = {{ node = {}, offset = {:?}, drift = {drift} }}",
            quoted(node),
            signed(*offset_ms)
        ),
    }
}

fn service_fields(r: &ServiceRef) -> Vec<String> {
    let mut v = vec![format!("service = {}", quoted(&r.service))];
    if r.group != DEFAULT_GROUP {
        v.push(format!("group = {}", quoted(&r.group)));
    }
    if !r.clusters.is_empty() {
        v.push(format!("clusters = {}", list(&r.clusters)));
    }
    v
}

fn inline(fields: Vec<String>) -> String {
    format!("{{ {} }}", fields.join(", "))
}

fn instance_fields(i: &Registration, full: bool) -> Vec<String> {
    let mut v = vec![format!("service = {}", quoted(&i.service))];
    if i.group != DEFAULT_GROUP {
        v.push(format!("group = {}", quoted(&i.group)));
    }
    v.push(format!("ip = {}", quoted(&i.ip)));
    v.push(format!("port = {}", i.port));
    if i.cluster != DEFAULT_CLUSTER {
        v.push(format!("cluster = {}", quoted(&i.cluster)));
    }
    if !i.ephemeral {
        v.push("ephemeral = false".into());
    }
    if full {
        if i.weight != 1.0 {
            v.push(format!("weight = {:?}", i.weight));
        }
        if !i.enabled {
            v.push("enabled = false".into());
        }
        if !i.metadata.is_empty() {
            let m: Vec<String> = i
                .metadata
                .iter()
                .map(|(k, val)| format!("{} = {}", quoted(k), quoted(val)))
                .collect();
            v.push(format!("metadata = {{ {} }}", m.join(", ")));
        }
    }
    v
}

/// A client action as the `key = value` line of a `[[step]]`.
pub fn client_op_toml(op: &ClientOp) -> String {
    match op {
        ClientOp::Register(i) => format!("register = {}", inline(instance_fields(i, true))),
        ClientOp::Deregister(i) => format!("deregister = {}", inline(instance_fields(i, false))),
        ClientOp::Subscribe(r) => format!("subscribe = {}", inline(service_fields(r))),
        ClientOp::Unsubscribe(r) => format!("unsubscribe = {}", inline(service_fields(r))),
        ClientOp::GetAllInstances(r) => {
            format!("get_all_instances = {}", inline(service_fields(r)))
        }
        ClientOp::SelectOneHealthy(r) => {
            format!("select_one_healthy = {}", inline(service_fields(r)))
        }
        ClientOp::SelectInstances(r, healthy) => {
            let mut f = service_fields(r);
            f.push(format!("healthy = {healthy}"));
            format!("select_instances = {}", inline(f))
        }
        ClientOp::CreateService(r, t) | ClientOp::UpdateService(r, t) => {
            let key = if matches!(op, ClientOp::CreateService(..)) {
                "create_service"
            } else {
                "update_service"
            };
            let mut f = service_fields(r);
            f.push(format!("protect_threshold = {t}"));
            format!("{key} = {}", inline(f))
        }
        ClientOp::DeleteService(r) => format!("delete_service = {}", inline(service_fields(r))),
    }
}

fn dur(d: std::time::Duration) -> String {
    quoted(&show(d))
}

fn strings_set(s: &std::collections::BTreeSet<String>) -> String {
    list(&s.iter().cloned().collect::<Vec<_>>())
}

/// The `[chaos]` table with every key written out.
fn chaos_toml(c: &ChaosSpec) -> String {
    let pair =
        |(a, b): (std::time::Duration, std::time::Duration)| format!("[{}, {}]", dur(a), dur(b));
    format!(
        "\n[chaos]\nfaults = {}\nstart = {}\nend = {}\nevery = {}\nhold = {}\nnodes = {}\n\
         max_down = {}\nloss = [{:?}, {:?}]\nlatency = {}\ndelay = {}\nskew = {}\ndrift = {:?}\n",
        list(&c.kinds),
        dur(c.start),
        dur(c.end),
        pair(c.every),
        pair(c.hold),
        quoted(if c.clients_too { "all" } else { "servers" }),
        c.max_down,
        c.loss.0,
        c.loss.1,
        pair(c.latency),
        pair(c.delay),
        dur(c.skew),
        c.drift
    )
}

/// A whole scenario as a file `load` reads back to the same [`Scenario`], `[chaos]` included
/// (comments, source lines and the path aside). `shrink` writes scenarios whose chaos was
/// drawn into steps (`sim::materialize`).
pub fn scenario_toml(sc: &Scenario, header: &str) -> String {
    let mut s = String::new();
    for l in header.lines() {
        let _ = writeln!(s, "# {l}");
    }
    let _ = writeln!(s, "name = {}", quoted(&sc.name));
    let _ = writeln!(s, "about = {}", quoted(&sc.about));
    if i64::try_from(sc.seed).is_ok() {
        let _ = writeln!(s, "seed = {}", sc.seed);
    } else {
        // Above i64::MAX, the largest TOML integer: the loader takes the seed as a string.
        let _ = writeln!(s, "seed = \"{}\"", sc.seed);
    }
    let _ = writeln!(s, "duration = {}", dur(sc.duration));
    if sc.pass_rate != super::types::DEFAULT_PASS_RATE {
        let _ = writeln!(s, "pass_rate = {}", sc.pass_rate);
    }
    if sc.quiet != std::time::Duration::from_secs(30) {
        let _ = writeln!(s, "quiet = {}", dur(sc.quiet));
    }
    let _ = writeln!(s, "\n[cluster]\nservers = {}", list(&sc.servers));
    if !sc.versions.is_empty() {
        let v: Vec<String> = sc
            .versions
            .iter()
            .map(|(k, v)| format!("{k} = {}", quoted(v)))
            .collect();
        let _ = writeln!(s, "versions = {{ {} }}", v.join(", "));
    }
    if let Some(mode) = sc.mode {
        let _ = writeln!(s, "mode = {}", quoted(mode.as_str()));
    }
    if !sc.aliases.is_empty() {
        let v: Vec<String> = sc
            .aliases
            .iter()
            .map(|(a, server)| format!("{} = {}", quoted(&a.to_string()), quoted(server)))
            .collect();
        let _ = writeln!(s, "aliases = {{ {} }}", v.join(", "));
    }
    if !sc.conf.is_empty() {
        let v: Vec<String> = sc
            .conf
            .iter()
            .map(|(server, members)| {
                let names: Vec<String> = members
                    .iter()
                    .map(|m| match m {
                        ConfMember::Server(n) => n.clone(),
                        ConfMember::Addr(a) => a.to_string(),
                    })
                    .collect();
                format!("{} = {}", quoted(server), list(&names))
            })
            .collect();
        let _ = writeln!(s, "conf = {{ {} }}", v.join(", "));
    }
    if !sc.overrides.is_empty() {
        let _ = writeln!(s, "\n[config]");
        for (k, v) in &sc.overrides {
            // `overrides` keeps a string's contents (durations) and other literals' source text.
            let kind = crate::config::Config::KEYS.iter().find(|c| c.0 == k);
            if kind.is_some_and(|c| matches!(c.1, crate::config::Kind::Duration)) {
                let _ = writeln!(s, "{k} = {}", quoted(v));
            } else {
                let _ = writeln!(s, "{k} = {v}");
            }
        }
    }
    if let Some(c) = &sc.chaos {
        s.push_str(&chaos_toml(c));
    }
    for c in &sc.clients {
        let _ = writeln!(s, "\n[[client]]\nname = {}", quoted(&c.name));
        if c.servers != sc.servers {
            let _ = writeln!(s, "servers = {}", list(&c.servers));
        }
        if let Some(t) = &c.traffic {
            let mut f = service_fields(&t.service);
            f.push(format!("rate = {}", quoted(&t.rate_text)));
            if !t.from.is_zero() {
                f.push(format!("from = {}", dur(t.from)));
            }
            if t.pick != Pick::OneHealthy {
                f.push(format!("pick = {}", quoted(word_of(PICKS, t.pick))));
            }
            let _ = writeln!(s, "traffic = {{ {} }}", f.join(", "));
        }
    }
    for st in &sc.steps {
        let _ = writeln!(s, "\n[[step]]\nat = {}", dur(st.at));
        match &st.action {
            Action::Client { client, op } => {
                let _ = writeln!(s, "client = {}\n{}", quoted(client), client_op_toml(op));
            }
            Action::Fault(f) => {
                let _ = writeln!(s, "{}", fault_toml(f));
            }
        }
    }
    for e in &sc.expects {
        let _ = writeln!(s, "\n[[expect]]");
        match e {
            Expect::View {
                label,
                target,
                service,
                instances,
                healthy,
                when,
                ..
            } => {
                if let Some(l) = label {
                    let _ = writeln!(s, "name = {}", quoted(l));
                }
                let _ = match when {
                    When::At(t) => writeln!(s, "at = {}", dur(*t)),
                    When::Within(a, b) => writeln!(s, "within = [{}, {}]", dur(*a), dur(*b)),
                    When::Always(a, b) => writeln!(s, "always = [{}, {}]", dur(*a), dur(*b)),
                };
                let _ = match target {
                    ViewTarget::Client(c) => writeln!(s, "client = {}", quoted(c)),
                    ViewTarget::Server(n) => writeln!(s, "server = {}", quoted(n)),
                };
                for f in service_fields(service) {
                    let _ = writeln!(s, "{f}");
                }
                if let Some(i) = instances {
                    let _ = writeln!(s, "instances = {}", strings_set(i));
                }
                if let Some(h) = healthy {
                    let _ = writeln!(s, "healthy = {}", strings_set(h));
                }
            }
            Expect::Availability {
                label,
                client,
                service,
                min,
                window,
                ..
            } => {
                if let Some(l) = label {
                    let _ = writeln!(s, "name = {}", quoted(l));
                }
                let mut f = vec![format!("client = {}", quoted(client))];
                f.extend(service_fields(service));
                f.push(format!("min = {min:?}"));
                if let Some((a, b)) = window {
                    f.push(format!("within = [{}, {}]", dur(*a), dur(*b)));
                }
                let _ = writeln!(s, "availability = {{ {} }}", f.join(", "));
            }
            Expect::StaleRouting {
                label,
                client,
                service,
                max,
                ..
            } => {
                if let Some(l) = label {
                    let _ = writeln!(s, "name = {}", quoted(l));
                }
                let mut f = vec![format!("client = {}", quoted(client))];
                f.extend(service_fields(service));
                f.push(format!("max = {}", dur(*max)));
                let _ = writeln!(s, "stale_routing = {{ {} }}", f.join(", "));
            }
            Expect::Anomaly { label, kind, .. } => {
                if let Some(l) = label {
                    let _ = writeln!(s, "name = {}", quoted(l));
                }
                let _ = writeln!(s, "anomaly = {}", quoted(kind.as_str()));
            }
            Expect::Event {
                label,
                kind,
                instance,
                service,
                node,
                fields,
                window,
                never,
                ..
            } => {
                if let Some(l) = label {
                    let _ = writeln!(s, "name = {}", quoted(l));
                }
                let _ = writeln!(s, "event = {}", quoted(kind));
                for (k, v) in [("instance", instance), ("service", service), ("node", node)] {
                    if let Some(v) = v {
                        let _ = writeln!(s, "{k} = {}", quoted(v));
                    }
                }
                if !fields.is_empty() {
                    let f: Vec<String> = fields
                        .iter()
                        .map(|(k, v)| format!("{k} = {}", quoted(v)))
                        .collect();
                    let _ = writeln!(s, "fields = {{ {} }}", f.join(", "));
                }
                if let Some((a, b)) = window {
                    let _ = writeln!(s, "within = [{}, {}]", dur(*a), dur(*b));
                }
                if *never {
                    let _ = writeln!(s, "never = true");
                }
            }
        }
    }
    s
}
