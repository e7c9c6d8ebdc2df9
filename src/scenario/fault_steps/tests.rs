//! The fault steps' parsing, write-back and error positions.

use super::super::{fault_toml, parse};
use super::*;

/// Nine lines; a step's fault key is on line 12.
const BASE: &str = "name = \"t\"\nabout = \"t\"\nduration = \"60s\"\n[cluster]\n\
    servers = 3\n[[client]]\nname = \"c\"\n# eight\n# nine\n";

fn step(body: &str) -> String {
    format!("{BASE}[[step]]\nat = \"1s\"\n{body}\n")
}

fn one(body: &str) -> Fault {
    let sc = parse(&step(body), "t.toml").unwrap_or_else(|e| panic!("{e}"));
    match &sc.steps[0].action {
        Action::Fault(f) => f.clone(),
        other => panic!("{other:?}"),
    }
}

/// The error at line 12, at the column of `needle`, contains `part`.
fn bad(body: &str, needle: &str, part: &str) {
    let src = step(body);
    let e = parse(&src, "t.toml").expect_err(body);
    let line = src.lines().nth(11).unwrap();
    let col = line.find(needle).unwrap_or_else(|| panic!("{needle:?}")) + 1;
    assert_eq!((e.line, e.col), (12, col), "{e}");
    assert!(e.message.contains(part), "{e}\n  lacks: {part}");
}

#[test]
fn the_new_link_and_port_faults_read_with_roles_and_defaults() {
    let s = |x: &str| x.to_string();
    assert_eq!(
        one("no_connect = { from = \"s1\", to = \"@leader\" }"),
        Fault::NoConnect {
            from: s("s1"),
            to: s("@leader"),
            mode: NoConnect::Timeout
        }
    );
    assert_eq!(
        one("no_connect = { from = \"c\", to = \"s2\", mode = \"refused\" }"),
        Fault::NoConnect {
            from: s("c"),
            to: s("s2"),
            mode: NoConnect::Refused
        }
    );
    assert_eq!(
        one("delay = { from = \"s1\", to = \"s2\", extra = \"2.5s\" }"),
        Fault::Delay {
            from: s("s1"),
            to: s("s2"),
            extra: Duration::from_millis(2500)
        }
    );
    assert_eq!(
        one("block_port = { node = \"@followers\", port = 7848 }"),
        Fault::BlockPort {
            node: s("@followers"),
            port: 7848,
            blocked: true
        }
    );
    assert_eq!(
        one("unblock_port = { node = \"s3\", port = 8848 }"),
        Fault::BlockPort {
            node: s("s3"),
            port: 8848,
            blocked: false
        }
    );
    assert_eq!(
        one("stall_disk = \"@followers\""),
        Fault::DiskStall {
            node: s("@followers"),
            stalled: true
        }
    );
    assert_eq!(
        one("unstall_disk = \"s2\""),
        Fault::DiskStall {
            node: s("s2"),
            stalled: false
        }
    );
    assert_eq!(
        one("resume = \"s3\""),
        Fault::Resume(s("s3"), ResumeOrder::Seeded)
    );
    assert_eq!(
        one("resume = { node = \"@leader\", order = \"timers-first\" }"),
        Fault::Resume(s("@leader"), ResumeOrder::TimersFirst)
    );
    assert_eq!(
        one("resume = { node = \"s3\", order = \"requests-first\" }"),
        Fault::Resume(s("s3"), ResumeOrder::RequestsFirst)
    );
    assert_eq!(
        one("resume = { node = \"s3\" }"),
        Fault::Resume(s("s3"), ResumeOrder::Seeded)
    );
}

#[test]
fn the_new_faults_write_back_to_what_they_read() {
    for body in [
        "no_connect = { from = \"s1\", to = \"s2\" }",
        "no_connect = { from = \"@leader\", to = \"c\", mode = \"refused\" }",
        "delay = { from = \"s1\", to = \"s2\", extra = \"1.5s\" }",
        "delay = { from = \"s1\", to = \"s2\", extra = \"0s\" }",
        "block_port = { node = \"s3\", port = 7848 }",
        "unblock_port = { node = \"@leader\", port = 8848 }",
        "stall_disk = \"s2\"",
        "unstall_disk = \"@leader\"",
        "resume = \"s2\"",
        "resume = { node = \"s2\", order = \"timers-first\" }",
        "resume = { node = \"s2\", order = \"requests-first\" }",
    ] {
        let f = one(body);
        assert_eq!(one(&fault_toml(&f)), f, "{body} -> {}", fault_toml(&f));
    }
}

#[test]
fn the_new_faults_report_mistakes_where_they_are_with_suggestions() {
    bad(
        "no_connect = { from = \"s1\", to = \"s2\", mode = \"refuse\" }",
        "\"refuse\"",
        "`no_connect.mode`: unknown mode \"refuse\": did you mean `refused`?",
    );
    bad(
        "no_connect = { from = \"s1\", to = \"s1\" }",
        "\"s1\" }",
        "`no_connect` from `s1` to itself",
    );
    bad(
        "no_connect = { from = \"s1\", to = \"s9\" }",
        "\"s9\"",
        "unknown node `s9`",
    );
    bad(
        "no_connect = { from = \"s1\", too = \"s2\" }",
        "too",
        "did you mean `to`?",
    );
    bad(
        "delay = { from = \"s1\", to = \"s2\" }",
        "{",
        "`delay` is missing `extra`",
    );
    bad(
        "delay = { from = \"s1\", to = \"s2\", extra = \"25h\" }",
        "\"25h\"",
        "`delay.extra` = 1500m is too long: at most 24h",
    );
    bad(
        "delay = { from = \"s1\", to = \"s2\", extra = \"2\" }",
        "\"2\"",
        "has no unit",
    );
    bad(
        "block_port = { node = \"c\", port = 8848 }",
        "\"c\"",
        "`block_port.node`: `c` is a client: only a server's ports (8848, 7848) can be blocked",
    );
    bad(
        "block_port = { node = \"s3\", port = 7849 }",
        "7849",
        "`block_port.port`: a server listens on no port 7849: its ports are 8848",
    );
    bad(
        "stall_disk = \"c\"",
        "\"c\"",
        "`stall_disk`: `c` is a client; only a server's disk holds JRaft's log",
    );
    bad(
        "unblock_port = { port = 7848 }",
        "{",
        "`unblock_port` is missing `node`",
    );
    bad(
        "resume = { node = \"s3\", order = \"timers_first\" }",
        "\"timers_first\"",
        "`resume.order`: unknown order \"timers_first\": did you mean `timers-first`?",
    );
    bad(
        "resume = { order = \"timers-first\" }",
        "{",
        "`resume` is missing `node`",
    );
    bad(
        "resume = { node = \"@leadr\" }",
        "\"@leadr\"",
        "unknown role `@leadr`",
    );
    bad("resume = 3", "3", "`resume`: expected");
}
