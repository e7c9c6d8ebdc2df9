//! Issue 10's corrected rules measured on whole simulated clusters, each test citing the spec
//! section it checks: misnamed members (§4 step 1, §5, §16 item 8), single-member cluster mode
//! (§9), the legacy Raft forwards' timeouts (§3, §9), Distro calls without timeouts and the
//! execute workers (§3, §6, §16 item 6), and the adaptive TCP probe (§8).

use nacos_sim::scenario;
use nacos_sim::trace::{Ev, Event};

fn run_seed(src: &str, seed: u64) -> Vec<Event> {
    let sc = scenario::parse(src, "<corrections>").unwrap_or_else(|e| panic!("{e}"));
    let (outcome, _) = nacos_sim::sim::run(&sc, seed);
    assert!(outcome.panic.is_none(), "{:?}", outcome.panic);
    outcome.events
}

fn run(src: &str) -> Vec<Event> {
    run_seed(src, 1)
}

fn secs(e: &Event) -> f64 {
    e.t_us as f64 / 1e6
}

/// The `client.call` events of `node`, as (time, result text).
fn calls(events: &[Event], node: &str) -> Vec<(f64, String)> {
    events
        .iter()
        .filter(|e| e.node == node && matches!(e.ev, Ev::ClientCall { .. }))
        .map(|e| (secs(e), e.field("result").unwrap_or_default()))
        .collect()
}

/// The server that logged the last `raft.leader` before `t` seconds.
fn leader_at(events: &[Event], t: f64) -> Option<String> {
    events
        .iter()
        .rev()
        .find(|e| secs(e) < t && matches!(e.ev, Ev::RaftLeader { .. }))
        .map(|e| e.node.clone())
}

#[test]
fn a_single_server_in_cluster_mode_never_elects_a_raft_leader() {
    // spec §9 "Single-member cluster versus standalone": votes go only to other peers, so a
    // member list holding only itself never decides a leader and every persistent write fails
    // (500); Distro owns everything (a one-entry ring), so ephemeral writes work. Standalone,
    // the same server leads from boot. A 1.3.2 server: from 1.4.0 persistent data moves to
    // JRaft 10 s after boot (jraft spec §J1), and this rule is legacy Raft's.
    let src = |mode: &str| {
        format!(
            r#"
name = "one"
about = "t"
duration = "60s"
[cluster]
servers = 1
mode = "{mode}"
versions = {{ s1 = "1.3.2" }}
[[client]]
name = "c"
[[step]]
at = "45s"
client = "c"
register = {{ service = "mysql", ip = "10.0.0.50", port = 3306, ephemeral = false }}
[[step]]
at = "45s"
client = "c"
register = {{ service = "orders", ip = "10.0.0.10", port = 8080 }}
"#
        )
    };
    let events = run(&src("cluster"));
    assert!(
        !events.iter().any(|e| matches!(e.ev, Ev::RaftLeader { .. })),
        "no leader in cluster mode"
    );
    let candidacies = events
        .iter()
        .filter(|e| e.field("role").as_deref() == Some("CANDIDATE"))
        .count();
    assert!(candidacies >= 2, "it keeps standing: {candidacies}");
    let mut results: Vec<String> = calls(&events, "c").into_iter().map(|c| c.1).collect();
    results.sort();
    assert_eq!(
        results,
        vec![
            "error 500 ErrCode:500, ErrMsg:no leader: publish refused".to_string(),
            "ok".to_string()
        ]
    );
    let events = run(&src("standalone"));
    assert!(calls(&events, "c").iter().all(|c| c.1 == "ok"));
}

/// Three servers; client `c` talks only to s1, which owns `orders` (distroHash % 3 = 0), and
/// tries it once. The leader is cut off at 40 s; at 42 s `c` makes the calls in `steps`. s3 runs
/// 1.3.2, so the cluster stays on legacy Raft (jraft spec §J11.1), whose forwards these are.
fn leader_cut_off(steps: &str) -> String {
    format!(
        r#"
name = "forward"
about = "t"
duration = "3m"
[cluster]
servers = 3
versions = {{ s3 = "1.3.2" }}
[config]
client_domain_retry = 1
[[client]]
name = "c"
servers = ["s1"]
[[client]]
name = "admin"
servers = ["s1"]
[[step]]
at = "30s"
client = "admin"
create_service = {{ service = "payments" }}
[[step]]
at = "40s"
isolate = "@leader"
{steps}
"#
    )
}

#[test]
fn a_publish_forwarded_to_an_unreachable_leader_has_no_timeout() {
    // spec §9 signalPublish step 1 (corrected) and §3: the forward is `httpPostLarge`, with no
    // connect or read timeout, so against a cut-off leader it outlasts the client's 50 s read
    // timeout (5 s / 10 s before the correction: an error 5 s after the call).
    let src = leader_cut_off(
        r#"[[step]]
at = "42s"
client = "c"
register = { service = "orders", ip = "10.0.0.50", port = 3306, ephemeral = false }"#,
    );
    let mut judged = 0;
    for seed in 1..=8 {
        let events = run_seed(&src, seed);
        if leader_at(&events, 40.0).is_none_or(|l| l == "s1") {
            continue; // s1 leads: nothing to forward
        }
        judged += 1;
        let c = calls(&events, "c");
        assert_eq!(c.len(), 1, "seed {seed}: {c:?}");
        let (at, result) = &c[0];
        assert_eq!(result, "error 500 read timed out", "seed {seed}");
        assert!((92.0..92.1).contains(at), "seed {seed}: at {at}");
    }
    assert!(judged >= 3, "only {judged} seeds with a follower owner");
}

#[test]
fn a_delete_forwarded_to_an_unreachable_leader_times_out_after_5s_holding_the_raft_lock() {
    // spec §9 signalDelete (corrected): a non-leader forwards under OPERATE_LOCK with the
    // internal 5 s connect timeout, so two deletes on s1 fail 5 s and 10 s after they start.
    let step = r#"[[step]]
at = "42s"
client = "c"
delete_service = { service = "payments" }"#;
    let src = leader_cut_off(&format!("{step}\n{}", step.replace("\"c\"", "\"admin\"")));
    let mut judged = 0;
    for seed in 1..=8 {
        let events = run_seed(&src, seed);
        if leader_at(&events, 40.0).is_none_or(|l| l == "s1") {
            continue;
        }
        judged += 1;
        let mut ends: Vec<f64> = ["c", "admin"]
            .iter()
            .flat_map(|n| calls(&events, n))
            .filter(|(at, _)| *at > 42.0)
            .map(|(at, r)| {
                assert_eq!(
                    r, "error 500 ErrCode:500, ErrMsg:leader unreachable: connect timed out",
                    "seed {seed}"
                );
                at - 42.0
            })
            .collect();
        ends.sort_by(f64::total_cmp);
        assert_eq!(ends.len(), 2, "seed {seed}");
        assert!((5.0..5.1).contains(&ends[0]), "seed {seed}: {ends:?}");
        assert!((10.0..10.1).contains(&ends[1]), "seed {seed}: {ends:?}");
    }
    assert!(judged >= 3, "only {judged} seeds with a follower owner");
}

#[test]
fn a_refused_probe_marks_unhealthy_at_once_and_timeouts_need_three() {
    // spec §8 (corrected): a refused connect → checkFailNow (unhealthy at the next probe, the
    // interval having converged to 1 s); a dropped connect → a counted failure after the
    // 500 ms timeout, each raising the interval by a quarter: with probes 1 s, 1.25 s apart,
    // the third timeout ends 2.75 s after the first probe, at most 1 s after the fault. (The
    // interval starts below 7 s and shrinks by a quarter per connected probe: 1 s by 40 s.)
    let src = |fault: &str| {
        format!(
            r#"
name = "probe"
about = "t"
duration = "50s"
[cluster]
servers = 1
[[client]]
name = "db"
[[step]]
at = "5s"
client = "db"
register = {{ service = "mysql", ip = "10.1.0.1", port = 3306, ephemeral = false }}
[[step]]
at = "40s"
{fault}
"#
        )
    };
    let unhealthy = |events: &[Event]| -> Vec<f64> {
        events
            .iter()
            .filter(|e| matches!(e.ev, Ev::InstanceUnhealthy { .. }))
            .map(secs)
            .collect()
    };
    for seed in 1..=10 {
        let refused = unhealthy(&run_seed(&src(r#"port_down = "10.1.0.1:3306""#), seed));
        assert_eq!(refused.len(), 1, "seed {seed}");
        assert!(
            (40.0..41.1).contains(&refused[0]),
            "seed {seed}: {refused:?}"
        );
        // The client `db` runs on 10.1.0.1: isolating it drops the probe's SYNs.
        let dropped = unhealthy(&run_seed(&src(r#"isolate = "db""#), seed));
        assert_eq!(dropped.len(), 1, "seed {seed}");
        assert!(
            (42.7..43.8).contains(&dropped[0]),
            "seed {seed}: {dropped:?}"
        );
    }
}
