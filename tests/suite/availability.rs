//! Consumer traffic, availability figures, the what-if switches and `compare` (issue 13).

use nacos_sim::check::availability::Figures;
use nacos_sim::compare::{apply_sets, diff};
use nacos_sim::scenario::{self, Scenario};
use nacos_sim::Outcome;
use std::path::Path;
use std::process::Command;

fn load(name: &str) -> Scenario {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    scenario::load(&p).unwrap_or_else(|e| panic!("{e}"))
}

fn run_with(sc: &Scenario, sets: &[(&str, &str)]) -> Outcome {
    let sets: Vec<(String, String)> = sets
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let v = apply_sets(sc, &sets).unwrap();
    nacos_sim::sim::run(&v, sc.seed).0
}

fn figures<'a>(o: &'a Outcome, client: &str) -> &'a Figures {
    o.availability
        .iter()
        .find(|f| f.client == client)
        .unwrap_or_else(|| panic!("no figures for {client}: {:?}", o.availability))
}

fn check<'a>(o: &'a Outcome, name: &str) -> &'a nacos_sim::check::Check {
    o.checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check `{name}`"))
}

/// A small scenario whose figures can be counted by hand: two instances taken round robin,
/// one port closed from 20 s to 30 s. Ephemeral instances have no TCP probe (§8), so the
/// closed one stays healthy in every cache: exactly every other call fails while it is
/// closed, and the consumer keeps calling it until the port opens.
const BY_HAND: &str = r#"
name = "by-hand"
about = "figures a user can check by hand"
seed = 3
duration = "40s"
[cluster]
servers = 1
[[client]]
name = "p1"
[[client]]
name = "p2"
[[client]]
name = "c"
traffic = { service = "orders", rate = "10/s", pick = "all_healthy_round_robin", from = "5s" }
[[step]]
at = "1s"
client = "p1"
register = { service = "orders", ip = "10.0.0.11", port = 8080 }
[[step]]
at = "1s"
client = "p2"
register = { service = "orders", ip = "10.0.0.12", port = 8080 }
[[step]]
at = "20s"
port_down = "10.0.0.11:8080"
[[step]]
at = "30s"
port_up = "10.0.0.11:8080"
[[expect]]
availability = { client = "c", service = "orders", min = 1.0, within = ["6s", "19.9s"] }
[[expect]]
availability = { client = "c", service = "orders", min = 0.45, within = ["20s", "29.9s"] }
[[expect]]
stale_routing = { client = "c", service = "orders", max = "10s" }
"#;

#[test]
fn availability_figures_match_a_count_by_hand() {
    let sc = scenario::parse(BY_HAND, "by-hand.toml").unwrap();
    let o = nacos_sim::sim::run(&sc, sc.seed).0;
    assert!(o.passed, "{}", o.to_text(false));
    let f = figures(&o, "c");
    // 10 calls/s from ~5 s to 40 s: about 350 calls.
    assert!((330..=370).contains(&f.calls), "{f:?}");
    assert_eq!(f.calls, f.ok + f.refused + f.timeout + f.no_instance);
    assert_eq!((f.timeout, f.no_instance), (0, 0), "{f:?}");
    // Round robin alternates, so the ~100 calls of the 10 s with a closed port split in two:
    // about 50 refused, never two in a row, one outage from ~20 s to ~30 s.
    assert!((45..=55).contains(&f.refused), "{f:?}");
    assert_eq!(f.longest_failed_run, 1, "{f:?}");
    assert_eq!(f.outages, 1, "{f:?}");
    // Dead from the first call after 20 s, last routed to it just before 30 s: 9.6-10 s.
    let stale = f.stale_routing_ms.unwrap();
    assert!((9_500..=10_000).contains(&stale), "{f:?}");
    assert_eq!(f.stale.as_ref().unwrap().instance, "10.0.0.11:8080");
    // Calls to p2 keep succeeding in between, so the outage counts as recovered at the first
    // success after its last failure, just before the port_up at 30 s.
    let rec = o
        .events
        .iter()
        .find(|e| e.kind() == "traffic.recovered")
        .unwrap();
    let at: u64 = rec.field("recovered_ms").unwrap().parse().unwrap();
    assert!((29_800..=30_200).contains(&at), "{at}");
    assert!(f.recovery_ms.is_none_or(|r| r < 200), "{f:?}");
    assert!(!f.failing_at_end);
    // The outcome shows them, and the JSON carries them (schema 3).
    assert!(o
        .to_text(false)
        .contains("availability:\n  c -> DEFAULT_GROUP@@orders:"));
    let j = o.to_json();
    assert_eq!(j["schema"], 3);
    assert_eq!(j["availability"][0]["refused"], f.refused);
    // Only the start and the end of the outage are events.
    let kinds: Vec<&str> = o
        .events
        .iter()
        .map(|e| e.kind())
        .filter(|k| k.starts_with("traffic."))
        .collect();
    assert_eq!(kinds, vec!["traffic.failing", "traffic.recovered"]);
}

#[test]
fn a_scenario_without_traffic_has_no_figures() {
    let o = nacos_sim::sim::run(&load("heartbeat-expiry.toml"), 1).0;
    assert!(o.availability.is_empty());
    assert!(!o.to_text(false).contains("availability:"));
    assert_eq!(o.to_json()["availability"], serde_json::json!([]));
}

#[test]
fn push_empty_protection_keeps_the_cache_where_1_4_1_empties_it() {
    let sc = load("server-restart-empty-list.toml");
    let a = nacos_sim::sim::run(&sc, sc.seed).0;
    let b = run_with(&sc, &[("client_push_empty_protection", "true")]);
    assert!(a.passed, "{}", a.to_text(false));
    assert!(
        figures(&a, "consumer").no_instance > 20,
        "{:?}",
        a.availability
    );
    assert_eq!(
        figures(&b, "consumer").no_instance,
        0,
        "{:?}",
        b.availability
    );
    assert_eq!(figures(&b, "consumer").availability, 1.0);
    assert!(!check(&b, "the empty list empties the cache (1.4.1)").passed);
}

#[test]
fn beat_handover_keeps_the_live_instances_of_a_crashed_owner() {
    let sc = load("owner-crash-stale-lastbeat.toml");
    let a = nacos_sim::sim::run(&sc, sc.seed).0;
    let b = run_with(&sc, &[("whatif_beat_handover", "true")]);
    let name = "the new owner deletes live instances (stale lastBeat)";
    assert!(check(&a, name).passed);
    assert!(!check(&b, name).passed, "{}", b.to_text(false));
    assert!(!b.events.iter().any(|e| e.kind() == "client.reregister"));
}

#[test]
fn the_owner_check_keeps_the_owner_from_taking_a_healed_servers_stale_list() {
    let sc = load("heal-stale-list-at-owner.toml");
    let a = nacos_sim::sim::run(&sc, sc.seed).0;
    let b = run_with(&sc, &[("whatif_distro_owner_check", "true")]);
    let name = "s1's stale list wins at the owner s3";
    assert!(check(&a, name).passed);
    assert!(!check(&b, name).passed, "{}", b.to_text(false));
    // The owner keeps the live instance; only s2, not the owner, takes s1's list (by verify).
    let wiped = |o: &Outcome, node: &str| {
        o.events
            .iter()
            .any(|e| e.kind() == "instance.deregistered" && e.node == node)
    };
    assert!(wiped(&a, "s3") && !wiped(&b, "s3"));
}

#[test]
fn versioned_distro_data_ignores_the_healed_servers_older_list_but_not_its_newer_one() {
    let sc = load("heal-wipes-twice.toml");
    let a = nacos_sim::sim::run(&sc, sc.seed).0;
    let b = run_with(&sc, &[("whatif_distro_versions", "true")]);
    assert!(a.passed, "{}", a.to_text(false));
    for node in ["s2", "s3"] {
        let name = format!("s1's blocked sync overwrites the newer list on {node}");
        assert!(check(&a, &name).passed);
        assert!(!check(&b, &name).passed, "{}", b.to_text(false));
        // With versions the blocked sync's list (s1's delete) is older than the
        // re-registration the receiver holds: ignored, and said so.
        assert!(
            b.events.iter().any(|e| e.kind() == "distro.stale"
                && e.node == node
                && e.field("via").as_deref() == Some("distro")),
            "{}",
            b.to_text(false)
        );
    }
    // 1.4.1 never ignores data.
    assert!(!a.events.iter().any(|e| e.kind() == "distro.stale"));
    // Nobody drops the instance after the re-registration at the heal: the live instance is
    // not wiped a second time.
    let late_wipe = |o: &Outcome| {
        o.events
            .iter()
            .any(|e| e.t_ms() >= 95_000 && e.kind() == "instance.deregistered" && e.node != "s1")
    };
    assert!(late_wipe(&a) && !late_wipe(&b));
    // The first wipe is not versions' to stop (s1's delete is the newest write of the key):
    // the instance is still dropped and registered again at the heal, and the consumer's
    // outages go from two to one.
    assert!(
        check(
            &b,
            "the instance is dropped at the heal and registered again"
        )
        .passed
    );
    let (fa, fb) = (figures(&a, "consumer"), figures(&b, "consumer"));
    assert_eq!((fa.outages, fb.outages), (2, 1), "{fa:?} {fb:?}");
    assert!(fb.no_instance < fa.no_instance, "{fa:?} {fb:?}");
}

#[test]
fn persisted_votes_prevent_the_restarted_nodes_second_leader_in_an_old_term() {
    let two = |o: &Outcome| {
        o.findings
            .iter()
            .any(|f| f.anomaly == nacos_sim::trace::Anomaly::TwoLeaders)
    };
    // The shrunk chaos run that first showed it.
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions/chaos-distro-mixed-seed-9.toml");
    let sc = scenario::load(&p).unwrap();
    let a = nacos_sim::sim::run(&sc, sc.seed).0;
    let b = run_with(&sc, &[("whatif_raft_persist_votes", "true")]);
    assert!(two(&a), "{}", a.to_text(false));
    assert!(!two(&b), "{}", b.to_text(false));
    // The staged story: with the vote and term on disk, the followers restarted at 30 s come
    // back at term 1, so the restarted one that wins leads term 2 (§9: term + 1).
    let sc = load("raft-restart-two-leaders.toml");
    let a = nacos_sim::sim::run(&sc, sc.seed).0;
    let b = run_with(&sc, &[("whatif_raft_persist_votes", "true")]);
    assert!(two(&a), "{}", a.to_text(false));
    assert!(!two(&b), "{}", b.to_text(false));
    assert!(
        b.events.iter().any(|e| e.t_ms() >= 30_000
            && e.kind() == "raft.leader"
            && e.field("term").as_deref() == Some("2")),
        "{}",
        b.to_text(false)
    );
}

#[test]
fn compare_names_what_differs_and_where_the_runs_part() {
    let sc = load("server-restart-empty-list.toml");
    let a = nacos_sim::sim::run(&sc, sc.seed).0;
    let sets = vec![(
        "client_push_empty_protection".to_string(),
        "true".to_string(),
    )];
    let b = nacos_sim::sim::run(&apply_sets(&sc, &sets).unwrap(), sc.seed).0;
    let d = diff(&a, &b, &sets);
    assert!(d
        .checks
        .iter()
        .any(|c| c.name == "the empty list empties the cache (1.4.1)"));
    assert!(d.diverge_at.is_some());
    assert_eq!(d.availability.len(), 1);
    // The same seed as written twice: nothing differs.
    let same = diff(&a, &a, &[]);
    assert!(same.checks.is_empty() && same.diverge_at.is_none());

    let bin = env!("CARGO_BIN_EXE_nacos-sim");
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/server-restart-empty-list.toml");
    let out = Command::new(bin)
        .args(["compare", path.to_str().unwrap()])
        .args(["--set", "client_push_empty_protection=true"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("checks that differ:") && text.contains("first divergence:"));
    let out = Command::new(bin)
        .args(["compare", path.to_str().unwrap(), "--format", "json"])
        .args(["--set", "client_push_empty_protection=true"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["diverge_at"].is_u64(), "{v}");
    let out = Command::new(bin)
        .args([
            "compare",
            path.to_str().unwrap(),
            "--set",
            "client_push_empty_protecton=true",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("did you mean client_push_empty_protection")
    );
}

#[test]
fn traffic_load_errors_point_at_the_value() {
    let bad = |extra: &str, traffic: &str| {
        let src = format!(
            "name = \"x\"\nabout = \"x\"\nduration = \"10s\"\n[cluster]\nservers = 1\n[[client]]\nname = \"c\"\n{traffic}\n{extra}"
        );
        scenario::parse(&src, "x.toml").unwrap_err().to_string()
    };
    let e = bad("", "traffic = { service = \"orders\", rate = \"20\" }");
    assert!(
        e.starts_with("x.toml:8:") && e.contains("not a rate"),
        "{e}"
    );
    let e = bad(
        "",
        "traffic = { service = \"orders\", rate = \"20/s\", pick = \"one_heathy\" }",
    );
    assert!(e.contains("did you mean `one_healthy`"), "{e}");
    let e = bad("", "traffic = { service = \"orders\", rat = \"20/s\" }");
    assert!(e.contains("did you mean `rate`"), "{e}");
    let e = bad(
        "[[expect]]\navailability = { client = \"c\", service = \"other\", min = 0.9 }",
        "traffic = { service = \"orders\", rate = \"20/s\" }",
    );
    assert!(
        e.contains("sends traffic to `DEFAULT_GROUP@@orders`"),
        "{e}"
    );
    let e = bad(
        "[[expect]]\navailability = { client = \"c\", service = \"orders\", min = 1.5 }",
        "traffic = { service = \"orders\", rate = \"20/s\" }",
    );
    assert!(e.contains("out of range: 0 to 1"), "{e}");
    let e = bad(
        "[[expect]]\nstale_routing = { client = \"c\", service = \"orders\", max = \"5s\" }",
        "",
    );
    assert!(e.contains("client `c` sends no traffic"), "{e}");
}

#[test]
fn traffic_writes_back_and_loads_the_same() {
    let sc = scenario::parse(BY_HAND, "by-hand.toml").unwrap();
    let text = scenario::scenario_toml(&sc, "");
    let back = scenario::parse(&text, "back.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(back.clients, sc.clients);
    assert_eq!(back.expects.len(), sc.expects.len());
    assert_eq!(scenario::scenario_toml(&back, ""), text);
}

#[test]
fn the_timeline_draws_a_consumers_failed_calls_as_a_band() {
    let sc = load("consumer-provider-crash.toml");
    let o = nacos_sim::sim::run(&sc, sc.seed).0;
    let svg = nacos_sim::report::timeline::render_svg(&o);
    assert!(svg.contains("orders calls</text>"), "the band's label");
    // Calls succeed until the crash at 90 s, then about half fail each second.
    assert!(
        svg.contains("<title>0 of "),
        "a pale stretch of successful calls"
    );
    assert!(svg.contains("calls failed from 90.000s to 91.000s"));
    assert!(svg.contains("class=\"failing\""));
    // A run without traffic draws no band.
    let plain = nacos_sim::sim::run(&load("heartbeat-expiry.toml"), 1).0;
    assert!(!nacos_sim::report::timeline::render_svg(&plain).contains("class=\"failing\""));
}
