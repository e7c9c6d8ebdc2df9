//! Unit tests of the scenario parser: every valid form, and every error with its position.

use super::*;
use crate::config::Config;
use std::time::Duration;

/// Ten lines; a test's own text starts on line 11.
const BASE: &str = r#"name = "t"
about = "test"
duration = "90s"
[cluster]
servers = 3
[[client]]
name = "provider"
[[client]]
name = "consumer"
servers = ["s1", "s2"]
"#;

fn ok(extra: &str) -> Scenario {
    let src = format!("{BASE}{extra}");
    match parse(&src, "t.toml") {
        Ok(s) => s,
        Err(e) => panic!("unexpected error: {e}\n--- source ---\n{src}"),
    }
}

fn err_src(src: &str) -> ScenarioError {
    match parse(src, "t.toml") {
        Ok(_) => panic!("expected an error\n--- source ---\n{src}"),
        Err(e) => e,
    }
}

/// Asserts the error is at `line:col` and its message contains every one of `parts`.
fn check(src: &str, line: usize, col: usize, parts: &[&str]) {
    let e = err_src(src);
    assert_eq!(
        (e.line, e.col),
        (line, col),
        "wrong position for: {e}\n--- source ---\n{src}"
    );
    for p in parts {
        assert!(e.message.contains(p), "{e}\n  does not contain: {p}");
    }
    assert_eq!(e.to_string(), format!("t.toml:{line}:{col}: {}", e.message));
}

fn bad(extra: &str, line: usize, col: usize, parts: &[&str]) {
    check(&format!("{BASE}{extra}"), line, col, parts);
}

/// Like `bad`, with the column of the first `needle` on that line.
fn bad_at(extra: &str, line: usize, needle: &str, parts: &[&str]) {
    let src = format!("{BASE}{extra}");
    let text = src.lines().nth(line - 1).unwrap_or("");
    let Some(byte) = text.find(needle) else {
        panic!("{needle:?} is not on line {line}: {text:?}");
    };
    check(&src, line, text[..byte].chars().count() + 1, parts);
}

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn op(sc: &Scenario, i: usize) -> (&str, &ClientOp) {
    match &sc.steps[i].action {
        Action::Client { client, op } => (client, op),
        other => panic!("not a client action: {other:?}"),
    }
}

fn fault(sc: &Scenario, i: usize) -> &Fault {
    match &sc.steps[i].action {
        Action::Fault(f) => f,
        other => panic!("not a fault: {other:?}"),
    }
}

fn set(items: &[&str]) -> Option<std::collections::BTreeSet<String>> {
    Some(items.iter().map(|s| s.to_string()).collect())
}

// ---------------------------------------------------------------- valid forms

#[test]
fn minimal_file_and_defaults() {
    let sc = parse(
        "name = \"m\"\nabout = \"one line\"\nduration = \"2m\"\n[cluster]\nservers = 2\n",
        "m.toml",
    )
    .unwrap();
    assert_eq!(sc.path, "m.toml");
    assert_eq!(sc.name, "m");
    assert_eq!(sc.about, "one line");
    assert_eq!(sc.seed, 1);
    assert_eq!(sc.duration, s(120));
    assert_eq!(sc.servers, vec!["s1", "s2"]);
    assert_eq!(sc.config, Config::default());
    assert!(sc.overrides.is_empty() && sc.clients.is_empty());
    assert!(sc.steps.is_empty() && sc.expects.is_empty());
}

#[test]
fn servers_as_list_and_client_defaults() {
    let sc = parse(
        "name = \"m\"\nabout = \"a\"\nduration = \"1s\"\nseed = 42\n[cluster]\nservers = [\"a\", \"b-2\", \"c.3\"]\n[[client]]\nname = \"x_1\"\n",
        "m.toml",
    )
    .unwrap();
    assert_eq!(sc.seed, 42);
    assert_eq!(sc.servers, vec!["a", "b-2", "c.3"]);
    assert_eq!(
        sc.clients,
        vec![ClientSpec {
            name: "x_1".into(),
            servers: vec!["a".into(), "b-2".into(), "c.3".into()],
            traffic: None,
        }]
    );
    let sc = ok("");
    assert_eq!(sc.clients[0].servers, vec!["s1", "s2", "s3"]);
    assert_eq!(sc.clients[1].servers, vec!["s1", "s2"]);
    assert_eq!(
        sc.node_names(),
        vec!["s1", "s2", "s3", "provider", "consumer"]
    );
}

#[test]
fn config_overrides_in_file_order_as_written() {
    let sc = ok("[config]\nheartbeat_timeout = \"3s\"\npush_max_retry = 4\nexpire_instance = false\nheartbeat_interval = \"1.5s\"\n");
    assert_eq!(sc.config.heartbeat_timeout, s(3));
    assert_eq!(sc.config.push_max_retry, 4);
    assert!(!sc.config.expire_instance);
    assert_eq!(sc.config.heartbeat_interval, Duration::from_millis(1500));
    assert_eq!(
        sc.overrides,
        vec![
            ("heartbeat_timeout".to_string(), "3s".to_string()),
            ("push_max_retry".to_string(), "4".to_string()),
            ("expire_instance".to_string(), "false".to_string()),
            ("heartbeat_interval".to_string(), "1.5s".to_string()),
        ]
    );
}

#[test]
fn register_with_every_field_and_with_defaults() {
    let sc = ok(r#"[[step]]
at = "1s"
client = "provider"
register = { service = "orders", group = "G", ip = "10.0.0.1", port = 8080, cluster = "c1", weight = 2, enabled = false, ephemeral = false, metadata = { version = "1", zone = "a" } }
[[step]]
at = "2s"
client = "provider"
register = { service = "orders", ip = "10.0.0.2", port = 1 }
"#);
    let (client, ClientOp::Register(i)) = op(&sc, 0) else {
        panic!()
    };
    assert_eq!(client, "provider");
    assert_eq!(
        (i.service.as_str(), i.group.as_str(), i.ip.as_str(), i.port),
        ("orders", "G", "10.0.0.1", 8080)
    );
    assert_eq!(
        (i.cluster.as_str(), i.weight, i.enabled, i.ephemeral),
        ("c1", 2.0, false, false)
    );
    assert_eq!(i.metadata.get("zone").map(String::as_str), Some("a"));
    let (_, ClientOp::Register(i)) = op(&sc, 1) else {
        panic!()
    };
    assert_eq!(
        (i.group.as_str(), i.cluster.as_str()),
        (DEFAULT_GROUP, DEFAULT_CLUSTER)
    );
    assert_eq!(
        (i.weight, i.enabled, i.ephemeral, i.metadata.len()),
        (1.0, true, true, 0)
    );
}

#[test]
fn every_client_action() {
    let sc = ok(r#"[[step]]
at = "1s"
client = "provider"
deregister = { service = "orders", ip = "10.0.0.1", port = 8080, ephemeral = false }
[[step]]
at = "2s"
client = "consumer"
subscribe = { service = "orders", group = "G", clusters = ["a", "b"] }
[[step]]
at = "3s"
client = "consumer"
unsubscribe = { service = "orders" }
[[step]]
at = "4s"
client = "consumer"
get_all_instances = { service = "orders" }
[[step]]
at = "5s"
client = "consumer"
select_one_healthy = { service = "orders" }
[[step]]
at = "6s"
client = "consumer"
select_instances = { service = "orders" }
[[step]]
at = "7s"
client = "consumer"
select_instances = { service = "orders", healthy = false }
"#);
    let r = |name: &str| ServiceRef {
        service: name.into(),
        group: DEFAULT_GROUP.into(),
        clusters: vec![],
    };
    let ClientOp::Deregister(i) = op(&sc, 0).1 else {
        panic!()
    };
    assert!(!i.ephemeral);
    assert_eq!(
        op(&sc, 1).1,
        &ClientOp::Subscribe(ServiceRef {
            service: "orders".into(),
            group: "G".into(),
            clusters: vec!["a".into(), "b".into()]
        })
    );
    assert_eq!(op(&sc, 2).1, &ClientOp::Unsubscribe(r("orders")));
    assert_eq!(op(&sc, 3).1, &ClientOp::GetAllInstances(r("orders")));
    assert_eq!(op(&sc, 4).1, &ClientOp::SelectOneHealthy(r("orders")));
    assert_eq!(op(&sc, 5).1, &ClientOp::SelectInstances(r("orders"), true));
    assert_eq!(op(&sc, 6).1, &ClientOp::SelectInstances(r("orders"), false));
    assert_eq!(sc.services().len(), 2);
}

#[test]
fn every_fault() {
    let sc = ok(r#"[[step]]
at = "1s"
crash = "s1"
[[step]]
at = "2s"
restart = "s1"
[[step]]
at = "3s"
pause = "provider"
[[step]]
at = "4s"
resume = "provider"
[[step]]
at = "5s"
isolate = "s2"
[[step]]
at = "6s"
heal = true
[[step]]
at = "7s"
partition = [["s1", "provider"], ["s2", "s3"], ["consumer"]]
[[step]]
at = "8s"
one_way = { from = "s1", to = "s2" }
[[step]]
at = "9s"
loss = 0.25
[[step]]
at = "10s"
loss = 1
[[step]]
at = "11s"
latency = ["1ms", "10ms"]
"#);
    let n = |x: &str| x.to_string();
    assert_eq!(fault(&sc, 0), &Fault::Crash(n("s1")));
    assert_eq!(fault(&sc, 1), &Fault::Restart(n("s1")));
    assert_eq!(fault(&sc, 2), &Fault::Pause(n("provider")));
    assert_eq!(
        fault(&sc, 3),
        &Fault::Resume(n("provider"), ResumeOrder::Seeded)
    );
    assert_eq!(fault(&sc, 4), &Fault::Isolate(n("s2")));
    assert_eq!(fault(&sc, 5), &Fault::Heal);
    assert_eq!(
        fault(&sc, 6),
        &Fault::Partition(vec![
            vec![n("s1"), n("provider")],
            vec![n("s2"), n("s3")],
            vec![n("consumer")]
        ])
    );
    assert_eq!(
        fault(&sc, 7),
        &Fault::OneWay {
            from: n("s1"),
            to: n("s2")
        }
    );
    assert_eq!(fault(&sc, 8), &Fault::Loss(0.25));
    assert_eq!(fault(&sc, 9), &Fault::Loss(1.0));
    assert_eq!(
        fault(&sc, 10),
        &Fault::Latency(Duration::from_millis(1), Duration::from_millis(10))
    );
}

#[test]
fn steps_sorted_stably_with_header_lines() {
    let sc = ok(r#"[[step]]
at = "5s"
crash = "s1"

[[step]]
at = "1s"
crash = "s2"
[[step]]
at = "5s"
crash = "s3"
[[step]]
  at = "90s"
  heal = true
"#);
    let order: Vec<(Duration, usize)> = sc.steps.iter().map(|st| (st.at, st.line)).collect();
    assert_eq!(order, vec![(s(1), 15), (s(5), 11), (s(5), 18), (s(90), 21)]);
}

#[test]
fn inline_array_of_steps_gives_the_brace_line() {
    let src = "name = \"t\"\nabout = \"a\"\nduration = \"9s\"\nstep = [\n  { at = \"1s\", crash = \"s1\" },\n  { at = \"2s\", heal = true },\n]\n[cluster]\nservers = 1\n";
    let sc = parse(src, "t.toml").unwrap();
    assert_eq!(
        sc.steps.iter().map(|s| s.line).collect::<Vec<_>>(),
        vec![5, 6]
    );
}

#[test]
fn every_view_expectation_form() {
    let sc = ok(r#"[[expect]]
at = "25s"
client = "consumer"
service = "orders"
instances = ["10.0.0.1:8080", "10.0.0.2:80"]
[[expect]]
name = "server view"
within = ["10s", "20s"]
server = "s2"
service = "orders"
group = "G"
clusters = ["c1"]
healthy = []
[[expect]]
always = ["10s", "90s"]
client = "provider"
service = "orders"
instances = ["10.0.0.1:8080"]
healthy = ["10.0.0.1:8080"]
[[step]]
at = "1s"
client = "provider"
register = { service = "orders", ip = "10.0.0.1", port = 8080 }
[[step]]
at = "1s"
client = "provider"
register = { service = "orders", group = "G", ip = "10.0.0.2", port = 80 }
"#);
    let Expect::View {
        label,
        target,
        service,
        instances,
        healthy,
        when,
        line,
    } = &sc.expects[0]
    else {
        panic!()
    };
    assert_eq!(label, &None);
    assert_eq!(target, &ViewTarget::Client("consumer".into()));
    assert_eq!(
        (service.service.as_str(), service.group.as_str()),
        ("orders", DEFAULT_GROUP)
    );
    assert_eq!(instances, &set(&["10.0.0.1:8080", "10.0.0.2:80"]));
    assert_eq!((healthy, when, *line), (&None, &When::At(s(25)), 11));
    let Expect::View {
        label,
        target,
        service,
        instances,
        healthy,
        when,
        line,
    } = &sc.expects[1]
    else {
        panic!()
    };
    assert_eq!(label.as_deref(), Some("server view"));
    assert_eq!(target, &ViewTarget::Server("s2".into()));
    assert_eq!(
        (service.group.as_str(), service.clusters.clone()),
        ("G", vec!["c1".to_string()])
    );
    assert_eq!((instances, healthy), (&None, &set(&[])));
    assert_eq!((when, *line), (&When::Within(s(10), s(20)), 16));
    let Expect::View { when, healthy, .. } = &sc.expects[2] else {
        panic!()
    };
    assert_eq!(
        (when, healthy),
        (&When::Always(s(10), s(90)), &set(&["10.0.0.1:8080"]))
    );
}

#[test]
fn every_event_expectation_form() {
    let sc = ok(r#"[[expect]]
event = "instance.unhealthy"
instance = "10.0.0.1:8080"
within = ["35s", "40s"]
[[expect]]
name = "no push failures"
event = "push.failed"
service = "orders"
node = "s1"
never = true
[[expect]]
event = "fault.crash"
never = true
within = ["0s", "10s"]
[[expect]]
event = "instance.deleted"
[[step]]
at = "1s"
client = "provider"
register = { service = "orders", ip = "10.0.0.1", port = 8080 }
[[step]]
at = "1s"
client = "provider"
register = { service = "orders", group = "G", ip = "10.0.0.2", port = 80 }
"#);
    let ev: Vec<_> = sc
        .expects
        .iter()
        .map(|e| match e {
            Expect::Event {
                label,
                kind,
                instance,
                service,
                node,
                window,
                never,
                line,
                ..
            } => (
                label.clone(),
                kind.clone(),
                instance.clone(),
                service.clone(),
                node.clone(),
                *window,
                *never,
                *line,
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        ev[0],
        (
            None,
            "instance.unhealthy".into(),
            Some("10.0.0.1:8080".into()),
            None,
            None,
            Some((s(35), s(40))),
            false,
            11
        )
    );
    assert_eq!(
        ev[1],
        (
            Some("no push failures".into()),
            "push.failed".into(),
            None,
            Some("orders".into()),
            Some("s1".into()),
            None,
            true,
            15
        )
    );
    assert_eq!((ev[2].5, ev[2].6), (Some((s(0), s(10))), true));
    assert_eq!((ev[3].5, ev[3].6), (None, false));
}

#[test]
fn dotted_keys_and_subtables_work() {
    let sc = ok("[[step]]\nat = \"1s\"\nclient = \"provider\"\nregister.service = \"orders\"\nregister.ip = \"10.0.0.1\"\nregister.port = 80\n");
    assert!(matches!(op(&sc, 0).1, ClientOp::Register(i) if i.port == 80));
    // and an error inside such an implicit table still points at the value
    bad(
        "[[step]]\nat = \"1s\"\nclient = \"provider\"\nregister.service = \"orders\"\nregister.ip = \"10.0.0.1\"\nregister.port = 0\n",
        16,
        17,
        &["`register.port` = 0 is out of range"],
    );
    bad(
        "[[step]]\nat = \"1s\"\nclient = \"provider\"\nregister.srvice = \"orders\"\n",
        14,
        10,
        &["unknown key `srvice` in `register`: did you mean `service`?"],
    );
}

// ---------------------------------------------------------------- errors: syntax and top level

#[test]
fn toml_syntax_errors_have_position_and_first_line() {
    let e = err_src("name = \"x\"\nabout = \n");
    assert_eq!((e.line, e.col), (2, 9), "{e}");
    assert!(e.message.starts_with("invalid TOML: "), "{e}");
    assert!(!e.message.contains('\n'), "{e}");
    check("name = ", 1, 8, &["invalid TOML: expected a value"]);
    check("name = \n", 1, 8, &["invalid TOML: invalid string"]);
    check(
        "a = [1,\n",
        2,
        1,
        &["invalid TOML: invalid array: expected `]`"],
    );
    let e = err_src("name = \"x\"\nname = \"y\"\n");
    assert_eq!(e.line, 2, "{e}");
    assert!(e.message.contains("duplicate key"), "{e}");
    check("name = \"unterminated\n", 1, 21, &["invalid TOML: "]);
}

#[test]
fn missing_required_top_level_keys() {
    check(
        "about = \"a\"\nduration = \"1s\"\n[cluster]\nservers = 1\n",
        1,
        1,
        &["the top level is missing `name`"],
    );
    check(
        "name = \"a\"\nabout = \"a\"\n[cluster]\nservers = 1\n",
        1,
        1,
        &["missing `duration`"],
    );
    check(
        "name = \"a\"\nabout = \"a\"\nduration = \"1s\"\n",
        1,
        1,
        &["missing [cluster] table"],
    );
    check(
        "name = \"a\"\nabout = \"a\"\nduration = \"1s\"\n[cluster]\nserver = 1\n",
        5,
        1,
        &["unknown key `server` in [cluster]: did you mean `servers`?"],
    );
    check(
        "name = \"\"\nabout = \"a\"\n",
        1,
        8,
        &["`name` must not be empty"],
    );
    check(
        "name = \"a\"\nabout = \"\"\"\ntwo\nlines\"\"\"\n",
        2,
        9,
        &["`about` must be one line"],
    );
}

#[test]
fn unknown_top_level_keys() {
    check(
        "nmae = \"x\"\n",
        1,
        1,
        &["unknown key `nmae` in the top level: did you mean `name`?"],
    );
    check(
        "name = \"x\"\nwhatever = 1\n",
        2,
        1,
        &["unknown key `whatever` in the top level: expected one of name, about, seed, duration, quiet, pass_rate, cluster, config, client, step, expect"],
    );
    check(
        "name = \"x\"\nheartbeat_timeout = \"1s\"\n",
        2,
        1,
        &["is a config key: put it under [config]"],
    );
    check(
        "name = \"x\"\n[[steps]]\nat = \"1s\"\n",
        2,
        3,
        &["unknown key `steps`", "[[step]] (singular)"],
    );
    check(
        "servers = 3\n",
        1,
        1,
        &["`servers` belongs in the [cluster] table"],
    );
}

#[test]
fn wrong_types_say_what_was_expected() {
    let head = "name = \"t\"\nabout = \"a\"\n";
    check(
        &format!("{head}duration = 90\n"),
        3,
        12,
        &["`duration`: expected a duration such as \"15s\", found integer 90"],
    );
    check(
        &format!("{head}duration = \"90\"\n"),
        3,
        12,
        &["`duration`: `90` has no unit"],
    );
    check(
        &format!("{head}duration = \"9x\"\n"),
        3,
        12,
        &["`duration`: unknown unit `x` in `9x`"],
    );
    check(
        &format!("{head}duration = \"0s\"\n"),
        3,
        12,
        &["`duration` must be longer than 0s"],
    );
    check(
        &format!("{head}duration = 07:32:00\n"),
        3,
        12,
        &["found date-time 07:32:00", "quote durations"],
    );
    check(
        &format!("{head}seed = -1\n"),
        3,
        8,
        &["`seed`: expected a non-negative integer, found integer -1"],
    );
    check(
        "name = 1\n",
        1,
        8,
        &["`name`: expected a string, found integer 1"],
    );
    check(
        "name = \"t\"\nabout = \"a\"\nduration = \"9s\"\ncluster = 3\n",
        4,
        11,
        &["`cluster`: expected a table such as [cluster] servers = 3, found integer 3"],
    );
    bad(
        "[step]\nat = \"1s\"\n",
        11,
        2,
        &["write [[step]], not [step]"],
    );
}

#[test]
fn cluster_and_client_errors() {
    let head = "name = \"t\"\nabout = \"a\"\nduration = \"9s\"\n[cluster]\n";
    check(
        &format!("{head}servers = 0\n"),
        5,
        11,
        &["a cluster has 1 to 100 servers"],
    );
    check(
        &format!("{head}servers = []\n"),
        5,
        11,
        &["at least one server"],
    );
    check(
        &format!("{head}servers = \"s1\"\n"),
        5,
        11,
        &["expected a list of server names"],
    );
    check(
        &format!("{head}servers = [\"a\", \"b\", \"a\"]\n"),
        5,
        22,
        &["duplicate node name `a`"],
    );
    check(
        &format!("{head}servers = [\"a b\"]\n"),
        5,
        12,
        &["`a b` is not a valid node name"],
    );
    check(
        &format!("{head}servers = [\"a\", 2]\n"),
        5,
        17,
        &["expected a string in the list, found integer 2"],
    );
    check(
        &format!("{head}servers = 2\n[[client]]\nname = \"s2\"\n"),
        7,
        8,
        &["duplicate node name `s2`: it is already a server"],
    );
    check(
        &format!("{head}servers = 2\n[[client]]\nname = \"c\"\n[[client]]\nname = \"c\"\n"),
        9,
        8,
        &["duplicate node name `c`: another [[client]] has it"],
    );
    check(
        &format!("{head}servers = 2\n[[client]]\nname = \"c\"\nservers = [\"s1\", \"s3\"]\n"),
        8,
        18,
        &["unknown server `s3`: did you mean `s1` or `s2`?"],
    );
    check(
        &format!("{head}servers = 2\n[[client]]\nname = \"c\"\n[[client]]\nname = \"d\"\nservers = [\"c\"]\n"),
        10,
        12,
        &["`c` is a client, not a server"],
    );
    check(
        &format!("{head}servers = 2\n[[client]]\nname = \"c\"\nserver = [\"s1\"]\n"),
        8,
        1,
        &["unknown key `server` in [[client]]: did you mean `servers`?"],
    );
    check(
        &format!("{head}servers = 2\n[[client]]\nservers = [\"s1\"]\n"),
        6,
        1,
        &["[[client]] is missing `name`"],
    );
}

#[test]
fn config_errors() {
    bad(
        "[config]\nheartbeat_timout = \"1s\"\n",
        12,
        1,
        &["unknown config key `heartbeat_timout` in [config]: did you mean `heartbeat_timeout`?"],
    );
    bad(
        "[config]\nzzz = 1\n",
        12,
        1,
        &["unknown config key `zzz` in [config]: the keys are heartbeat_interval, heartbeat_timeout,"],
    );
    bad(
        "[config]\nheartbeat_timeout = 15\n",
        12,
        21,
        &["`heartbeat_timeout`: expected a duration such as \"15s\", found integer 15"],
    );
    bad(
        "[config]\npush_enabled = \"yes\"\n",
        12,
        16,
        &["`push_enabled`: expected true or false, found string \"yes\""],
    );
    bad(
        "[config]\npush_max_retry = 1.5\n",
        12,
        18,
        &["expected a non-negative integer, found float 1.5"],
    );
    bad(
        "[config]\npush_delay = \"1q\"\n",
        12,
        14,
        &["unknown unit `q`"],
    );
    // Issue 10 part 11: values out of a key's range point at the value.
    bad(
        "[config]\nclient_domain_retry = 4294967296\n",
        12,
        23,
        &["`client_domain_retry` = 4294967296 is out of range: 1 to 100"],
    );
    bad(
        "[config]\nbeat_check_period = \"0s\"\n",
        12,
        21,
        &["`beat_check_period` = 0s is out of range: 1ms to 24h (a period, so above 0)"],
    );
    bad(
        "[config]\njraft_lease_ratio = 0\n",
        12,
        21,
        &["`jraft_lease_ratio` = 0.0 is out of range: above 0, at most 1"],
    );
}

// ---------------------------------------------------------------- errors: steps

#[test]
fn step_key_errors() {
    bad(
        "[[step]]\nat = \"1s\"\nclient = \"provider\"\nregistr = { service = \"o\", ip = \"1.1.1.1\", port = 1 }\n",
        14,
        1,
        &["unknown key `registr` in [[step]]: did you mean `register`?"],
    );
    bad(
        "[[step]]\nat = \"1s\"\ncrash = \"s1\"\nservice = \"o\"\n",
        14,
        1,
        &["`service` goes inside the action's table"],
    );
    bad_at(
        "[[step]]\nat = \"1s\"\nclient = \"provider\"\nregister = { service = \"o\", ip = \"1.1.1.1\", prot = 1 }\n",
        14,
        "prot",
        &["unknown key `prot` in `register`: did you mean `port`?"],
    );
    bad_at(
        "[[step]]\nat = \"1s\"\nclient = \"consumer\"\nsubscribe = { service = \"o\", healthy = true }\n",
        14,
        "healthy",
        &["unknown key `healthy` in `subscribe`: expected one of service, group, clusters"],
    );
}

#[test]
fn step_action_count_and_client() {
    bad(
        "[[step]]\nat = \"1s\"\n",
        11,
        1,
        &[
            "[[step]] has no action: give one client action (register,",
            "or one fault (crash,",
        ],
    );
    bad(
        "[[step]]\nat = \"1s\"\ncrash = \"s1\"\nheal = true\n",
        14,
        1,
        &["[[step]] has two actions, `crash` and `heal`"],
    );
    bad(
        "[[step]]\ncrash = \"s1\"\n",
        11,
        1,
        &["[[step]] is missing `at`"],
    );
    bad(
        "[[step]]\nat = \"1s\"\nsubscribe = { service = \"o\" }\n",
        13,
        1,
        &["`subscribe` is a client action: add `client = \"...\"`"],
    );
    bad(
        "[[step]]\nat = \"1s\"\nclient = \"provider\"\ncrash = \"s1\"\n",
        13,
        1,
        &["`client` does not go with the fault `crash`"],
    );
    bad(
        "[[step]]\nat = \"1s\"\nclient = \"provder\"\nsubscribe = { service = \"o\" }\n",
        13,
        10,
        &["unknown client `provder`: did you mean `provider`?"],
    );
    bad(
        "[[step]]\nat = \"1s\"\nclient = \"zz\"\nsubscribe = { service = \"o\" }\n",
        13,
        10,
        &["unknown client `zz`: the clients are provider, consumer"],
    );
    bad(
        "[[step]]\nat = \"1s\"\nclient = \"s1\"\nsubscribe = { service = \"o\" }\n",
        13,
        10,
        &["`s1` is a server, not a client: `client` must name a [[client]] (the clients are provider, consumer)"],
    );
    bad(
        "[[step]]\nat = \"91s\"\ncrash = \"s1\"\n",
        12,
        6,
        &["`at` = 91s is after the end of the run (duration 90s)"],
    );
    bad(
        "[[step]]\nat = \"1s\"\nsubscribe = \"orders\"\nclient = \"consumer\"\n",
        13,
        13,
        &["`subscribe`: expected a table such as { service = \"orders\" }, found string \"orders\""],
    );
}

#[test]
fn instance_value_errors() {
    let reg = |body: &str| {
        format!("[[step]]\nat = \"1s\"\nclient = \"provider\"\nregister = {{ {body} }}\n")
    };
    bad_at(
        &reg("service = \"o\", ip = \"1.1.1.1\", port = 0"),
        14,
        "0 }",
        &["`register.port` = 0 is out of range: ports are 1 to 65535"],
    );
    bad_at(
        &reg("service = \"o\", ip = \"1.1.1.1\", port = 65536"),
        14,
        "65536",
        &["65536 is out of range"],
    );
    bad_at(
        &reg("service = \"o\", ip = \"1.1.1.1\", port = \"80\""),
        14,
        "\"80\"",
        &["expected a port number from 1 to 65535, found string \"80\""],
    );
    bad_at(
        &reg("service = \"o\", port = 80"),
        14,
        "{",
        &["`register` is missing `ip`"],
    );
    bad_at(
        &reg("service = \"\", ip = \"1.1.1.1\", port = 80"),
        14,
        "\"\"",
        &["`register.service` must not be empty"],
    );
    bad_at(
        &reg("service = \"o\", ip = \"1.1.1.1\", port = 80, metadata = { v = 1 }"),
        14,
        "1 }",
        &["`register.metadata.v`: metadata values are strings"],
    );
    bad_at(
        &reg("service = \"o\", ip = \"1.1.1.1\", port = 80, weight = \"x\""),
        14,
        "\"x\"",
        &["`register.weight`: expected a number"],
    );
    bad_at(
        &reg("service = \"o\", ip = \"1 1\", port = 80"),
        14,
        "\"1 1\"",
        &["`register.ip`: \"1 1\" is not an address"],
    );
}

#[test]
fn fault_errors() {
    let step = |body: &str| format!("[[step]]\nat = \"1s\"\n{body}\n");
    bad(
        &step("crash = \"s4\""),
        13,
        9,
        &["unknown node `s4`: did you mean `s1`, `s2` or `s3`?"],
    );
    bad(
        &step("pause = \"provdier\""),
        13,
        9,
        &["unknown node `provdier`: did you mean `provider`?"],
    );
    bad(
        &step("isolate = \"nope\""),
        13,
        11,
        &["unknown node `nope`: the nodes are s1, s2, s3, provider, consumer"],
    );
    bad(
        &step("heal = false"),
        13,
        8,
        &["`heal = false` does nothing"],
    );
    bad(
        &step("partition = [[\"s1\", \"s2\"]]"),
        13,
        13,
        &["`partition` needs at least two groups", "found 1"],
    );
    bad(
        &step("partition = [\"s1\", \"s2\"]"),
        13,
        14,
        &["each group is a list of nodes"],
    );
    bad(
        &step("partition = [[\"s1\"], []]"),
        13,
        22,
        &["group 2 is empty"],
    );
    bad_at(
        &step("partition = [[\"s1\", \"s2\"], [\"s3\", \"s1\"]]"),
        13,
        "\"s1\"]]",
        &["`s1` is in group 1 and group 2: a node can be in at most one group"],
    );
    bad(
        &step("partition = [[\"s1\"], [\"s9\"]]"),
        13,
        23,
        &["unknown node `s9`"],
    );
    bad_at(
        &step("one_way = { from = \"s1\", to = \"s1\" }"),
        13,
        "\"s1\" }",
        &["`from` and `to` must differ"],
    );
    bad(
        &step("one_way = { from = \"s1\" }"),
        13,
        11,
        &["`one_way` is missing `to`"],
    );
    bad_at(
        &step("one_way = { from = \"s1\", to = \"x2\" }"),
        13,
        "\"x2\"",
        &["unknown node `x2`"],
    );
    bad(
        &step("loss = 1.5"),
        13,
        8,
        &["`loss` = 1.5 is out of range: a probability from 0.0 to 1.0"],
    );
    bad(&step("loss = -0.1"), 13, 8, &["out of range"]);
    bad(
        &step("loss = \"10%\""),
        13,
        8,
        &["`loss`: expected a number, found string \"10%\""],
    );
    bad(
        &step("latency = [\"10ms\", \"1ms\"]"),
        13,
        20,
        &["`latency`: the end (1ms) is before the start (10ms)"],
    );
    bad(
        &step("latency = [\"10ms\"]"),
        13,
        11,
        &["expected two durations such as [\"1ms\", \"10ms\"], found an array of 1 value"],
    );
    bad(
        &step("latency = [\"1ms\", 5]"),
        13,
        19,
        &["`latency`: expected a duration such as \"15s\", found integer 5"],
    );
}

// ---------------------------------------------------------------- errors: expectations

#[test]
fn expect_errors() {
    // the [[expect]] header is line 11, its first key line 12
    let exp = |body: &str| format!("[[expect]]\n{body}\n");
    bad_at(
        &exp("at = \"5s\"\nclient = \"consumer\"\nservice = \"o\"\ninstnces = []"),
        15,
        "instnces",
        &["unknown key `instnces` in [[expect]]: did you mean `instances`?"],
    );
    bad_at(
        &exp("client = \"consumer\"\nservice = \"o\"\ninstances = []"),
        11,
        "[[expect]]",
        &["[[expect]] needs a time: `at = \"25s\"`"],
    );
    bad_at(
        &exp("at = \"5s\"\nwithin = [\"1s\", \"2s\"]\nclient = \"consumer\"\nservice = \"o\"\ninstances = []"),
        13,
        "within",
        &["[[expect]] has both `at` and `within`: give exactly one of at, within, always"],
    );
    bad_at(
        &exp("within = [\"5s\", \"2s\"]\nclient = \"consumer\"\nservice = \"o\"\ninstances = []"),
        12,
        "\"2s\"",
        &["`within`: the end (2s) is before the start (5s)"],
    );
    bad_at(
        &exp("always = [\"5s\", \"100s\"]\nclient = \"consumer\"\nservice = \"o\"\ninstances = []"),
        12,
        "[",
        &["`always` ends at 100s, after the end of the run (duration 90s)"],
    );
    bad_at(
        &exp("at = \"95s\"\nclient = \"consumer\"\nservice = \"o\"\ninstances = []"),
        12,
        "\"95s\"",
        &["`at` = 95s is after the end of the run (duration 90s)"],
    );
    bad_at(
        &exp("at = \"5s\"\nservice = \"o\"\ninstances = []"),
        11,
        "[",
        &["[[expect]] needs `client = \"...\"`"],
    );
    bad_at(
        &exp(
            "at = \"5s\"\nclient = \"consumer\"\nserver = \"s1\"\nservice = \"o\"\ninstances = []",
        ),
        14,
        "server",
        &["[[expect]] has both `client` and `server`"],
    );
    bad_at(
        &exp("at = \"5s\"\nclient = \"s1\"\nservice = \"o\"\ninstances = []"),
        13,
        "\"s1\"",
        &["`s1` is a server, not a client: write `server = \"s1\"`"],
    );
    bad_at(
        &exp("at = \"5s\"\nserver = \"consumer\"\nservice = \"o\"\ninstances = []"),
        13,
        "\"consumer\"",
        &["`consumer` is a client, not a server: write `client = \"consumer\"`"],
    );
    bad_at(
        &exp("at = \"5s\"\nserver = \"s9\"\nservice = \"o\"\ninstances = []"),
        13,
        "\"s9\"",
        &["unknown server `s9`: did you mean `s1`, `s2` or `s3`?"],
    );
    bad_at(
        &exp("at = \"5s\"\nserver = \"s1\"\nservice = \"o\""),
        11,
        "[",
        &["needs `instances = [\"ip:port\", ...]`"],
    );
    bad_at(
        &exp("at = \"5s\"\nserver = \"s1\"\ninstances = []"),
        11,
        "[",
        &["[[expect]] is missing `service`"],
    );
    bad_at(
        &exp("at = \"5s\"\nserver = \"s1\"\nservice = \"o\"\ninstances = [\"10.0.0.1\"]"),
        15,
        "\"10.0.0.1\"",
        &["`instances`: \"10.0.0.1\" is not ip:port"],
    );
    bad_at(
        &exp("at = \"5s\"\nserver = \"s1\"\nservice = \"o\"\nhealthy = [\"1.1.1.1:1\", \"1.1.1.1:1\"]"),
        15,
        "\"1.1.1.1:1\"]",
        &["\"1.1.1.1:1\" is listed twice"],
    );
    bad_at(
        &exp("at = \"5s\"\nserver = \"s1\"\nservice = \"o\"\ninstances = []\nnever = true"),
        16,
        "never",
        &["`never` belongs to event expectations"],
    );
    bad_at(
        &exp("at = \"5s\"\nserver = \"s1\"\nservice = \"o\"\ninstance = []"),
        15,
        "instance",
        &[
            "`instance` belongs to event expectations",
            "did you mean `instances`?",
        ],
    );
}

#[test]
fn event_expect_errors() {
    let exp = |body: &str| format!("[[expect]]\n{body}\n");
    bad_at(
        &exp("event = \"push.sent\"\nat = \"5s\""),
        13,
        "at",
        &["`at` belongs to view expectations", "within"],
    );
    bad_at(
        &exp("event = \"push.sent\"\nnode = \"s7\""),
        13,
        "\"s7\"",
        &["unknown node `s7`"],
    );
    bad_at(
        &exp("event = \"instance.unhealthy\"\ninstance = \"1.1.1.1\""),
        13,
        "\"1.1",
        &["is not ip:port"],
    );
    // A filter on a field the kind never has could never match (issue 14 part 3).
    bad_at(
        &exp("event = \"push.sent\"\ninstance = \"1.1.1.1:80\""),
        13,
        "instance",
        &["`push.sent` events have no field `instance`: their fields are service, to, attempt"],
    );
    bad_at(
        &exp("event = \"fault.heal\"\nservice = \"orders\""),
        13,
        "service",
        &["`fault.heal` events have no field `service`: they have no fields to filter on"],
    );
    bad_at(
        &exp("event = \"member.state\"\nfields = { too = \"DOWN\" }"),
        13,
        "too",
        &["`member.state` events have no field `too`: did you mean `to`?"],
    );
    bad_at(
        &exp("event = \"member.state\"\nfields = { to = [1] }"),
        13,
        "[1]",
        &["`fields.to`: expected a string, a number or a boolean"],
    );
    bad_at(
        &exp("event = \"member.state\"\nfields = \"to=DOWN\""),
        13,
        "\"to=DOWN\"",
        &["`fields`: expected a table of field values"],
    );
    bad_at(
        &exp("event = \"x y\""),
        12,
        "\"x y\"",
        &["is not an event kind"],
    );
    bad_at(
        &exp("event = \"push.sent\"\nnever = 1"),
        13,
        "1",
        &["`never`: expected true or false, found integer 1"],
    );
    bad_at(
        &exp("event = \"push.sent\"\nwithin = \"5s\""),
        13,
        "\"5s\"",
        &["`within`: expected two durations such as [\"35s\", \"40s\"], found string \"5s\""],
    );
    bad_at(
        &exp("event = \"push.sent\"\nnevr = true"),
        13,
        "nevr",
        &["unknown key `nevr` in [[expect]]: did you mean `never`?"],
    );
    bad_at(
        &exp("evnt = \"x.y\"\nnever = true"),
        12,
        "evnt",
        &["unknown key `evnt` in [[expect]]: did you mean `event`?"],
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    bad(
        "[[step]]\nat = \"1s\" # ünïcödé\nheal = true\ncrash = \"é\"\n",
        14,
        1,
        &["two actions"],
    );
    check("about = \"ü\"\nname = \"é\"; x\n", 2, 11, &["invalid TOML"]);
}

#[test]
fn load_reports_unreadable_files() {
    let e = load(std::path::Path::new("/nonexistent/dir/x.toml")).unwrap_err();
    assert_eq!((e.line, e.col), (0, 0));
    assert!(
        e.to_string() == "/nonexistent/dir/x.toml: no such file",
        "{e}"
    );
    let dir = std::env::temp_dir().join(format!("scenario-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.toml");
    std::fs::write(&p, b"name = \"x\"\nabout = \"\xff\"\n").unwrap();
    let e = load(&p).unwrap_err();
    assert_eq!(
        (e.line, e.col, e.message.as_str()),
        (2, 10, "the file is not valid UTF-8")
    );
    std::fs::remove_dir_all(&dir).ok();
}

// ---------------------------------------------------------------- robustness

const FULL: &str = r#"name = "full"
about = "Everything at once"
seed = 3
duration = "2m"
[cluster]
servers = ["s1", "s2", "s3"]
[config]
heartbeat_timeout = "15s"
push_max_retry = 2
[[client]]
name = "provider"
servers = ["s1"]
[[client]]
name = "consumer"
[[step]]
at = "1s"
client = "provider"
register = { service = "orders", ip = "10.0.0.1", port = 8080, metadata = { v = "1" } }
[[step]]
at = "2s"
client = "consumer"
select_instances = { service = "orders", clusters = ["DEFAULT"], healthy = false }
[[step]]
at = "3s"
partition = [["s1", "provider"], ["s2", "s3"]]
[[step]]
at = "4s"
one_way = { from = "s1", to = "s2" }
[[step]]
at = "5s"
latency = ["1ms", "10ms"]
[[expect]]
within = ["10s", "20s"]
client = "consumer"
service = "orders"
instances = ["10.0.0.1:8080"]
[[expect]]
event = "instance.unhealthy"
instance = "10.0.0.1:8080"
never = true
"#;

fn assert_sane(src: &str) {
    if let Err(e) = parse(src, "f.toml") {
        let lines = src.split('\n').count();
        assert!(
            e.line >= 1 && e.line <= lines && e.col >= 1,
            "{e} (of {lines} lines)"
        );
        assert!(!e.message.is_empty() && !e.message.contains('\n'), "{e:?}");
    }
}

#[test]
fn mutated_files_never_panic() {
    parse(FULL, "f.toml").unwrap();
    let boundaries: Vec<usize> = (0..=FULL.len())
        .filter(|&i| FULL.is_char_boundary(i))
        .collect();
    let mut count = 0;
    for &i in &boundaries {
        // every truncation
        assert_sane(&FULL[..i]);
        count += 1;
        if i < FULL.len() {
            // every single-character deletion
            let next = boundaries
                .iter()
                .find(|&&j| j > i)
                .copied()
                .unwrap_or(FULL.len());
            assert_sane(&format!("{}{}", &FULL[..i], &FULL[next..]));
            // and a few insertions that change the meaning
            for ins in ["\"", "[", "=", "\n", "0", "é"] {
                assert_sane(&format!("{}{ins}{}", &FULL[..i], &FULL[i..]));
            }
            count += 7;
        }
    }
    assert!(count > 1000);
}

#[test]
fn event_expectations_take_field_filters_and_the_network_node() {
    let sc = ok(r#"
[[expect]]
event = "member.state"
node = "s1"
fields = { to = "DOWN", from = "SUSPICIOUS" }
[[expect]]
event = "fault.heal"
node = "-"
"#);
    match &sc.expects[0] {
        Expect::Event { fields, .. } => {
            let want: std::collections::BTreeMap<String, String> = [
                ("from".to_string(), "SUSPICIOUS".to_string()),
                ("to".to_string(), "DOWN".to_string()),
            ]
            .into();
            assert_eq!(fields, &want);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&sc.expects[1], Expect::Event { node: Some(n), .. } if n == "-"));
    // Written back, both load to the same expectations.
    let back = parse(&crate::scenario::scenario_toml(&sc, "t"), "w.toml").unwrap();
    assert_eq!(back.expects.len(), 2);
    assert!(matches!(&back.expects[0], Expect::Event { fields, .. } if fields.len() == 2));
}

#[test]
fn expectations_that_could_never_match_are_load_errors() {
    let reg = "[[step]]\nat = \"1s\"\nclient = \"provider\"\nregister = { service = \"orders\", ip = \"10.0.0.1\", port = 80 }\n";
    bad_at(
        &format!("{reg}[[expect]]\nat = \"5s\"\nserver = \"s1\"\nservice = \"ordrs\"\ninstances = []\n"),
        18,
        "\"ordrs\"",
        &["`service`: no step registers, creates or subscribes to `ordrs`: did you mean `orders`?"],
    );
    bad_at(
        &format!("{reg}[[expect]]\nat = \"5s\"\nserver = \"s1\"\nservice = \"orders\"\ngroup = \"G\"\ninstances = []\n"),
        18,
        "\"orders\"",
        &["no step registers, creates or subscribes to `G@@orders`"],
    );
    bad_at(
        &format!("{reg}[[expect]]\nevent = \"instance.unhealthy\"\ninstance = \"10.0.0.1:81\"\n"),
        17,
        "\"10.0.0.1:81\"",
        &["`instance`: no step registers 10.0.0.1:81: did you mean `10.0.0.1:80`?"],
    );
    bad_at(
        "[[expect]]\nevent = \"push.sent\"\nservice = \"orders\"\n",
        13,
        "\"orders\"",
        &["no step names any service, so this can never match"],
    );
    // The group-qualified form of a known service, and the bare name in any group, are known.
    ok(&format!(
        "{reg}[[expect]]\nevent = \"push.sent\"\nservice = \"DEFAULT_GROUP@@orders\"\n"
    ));
    ok(&format!(
        "{reg}[[expect]]\nevent = \"push.sent\"\nservice = \"orders\"\n"
    ));
}

#[test]
fn cluster_versions_name_servers_and_hold_version_numbers() {
    // jraft spec §J13.1: every server not named runs 1.4.1.
    let head = "name = \"t\"\nabout = \"a\"\nduration = \"9s\"\n[cluster]\nservers = 3\n";
    let sc = parse(
        &format!("{head}versions = {{ s3 = \"1.3.2\" }}\n"),
        "t.toml",
    )
    .unwrap();
    assert_eq!(sc.version_of("s3"), "1.3.2");
    assert_eq!(sc.version_of("s1"), "1.4.1");
    let back = parse(&crate::scenario::scenario_toml(&sc, "t"), "w.toml").unwrap();
    assert_eq!(back.versions, sc.versions);
    check(
        &format!("{head}versions = {{ s4 = \"1.3.2\" }}\n"),
        6,
        14,
        &["`versions`: `s4` is not a server: did you mean `s1`, `s2` or `s3`?"],
    );
    check(
        &format!("{head}versions = {{ s3 = \"one\" }}\n"),
        6,
        19,
        &["`versions.s3`: \"one\" is not a Nacos version (such as \"1.3.2\" or \"1.4.1\")"],
    );
    check(
        &format!("{head}versions = {{ s3 = 1.3 }}\n"),
        6,
        19,
        &["`versions.s3`: expected"],
    );
    check(
        &format!("{head}versions = \"1.3.2\"\n"),
        6,
        12,
        &["`versions`: expected a table of server versions"],
    );
}
