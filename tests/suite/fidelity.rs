//! Fidelity tests: timing rules of Nacos 1.4.1 measured on whole simulated clusters, each
//! citing the spec section whose numbers it checks.

use nacos_sim::scenario;
use nacos_sim::trace::{Ev, Event, NodeState};

/// The events of a run of `src` on its own seed.
fn run(src: &str) -> Vec<Event> {
    run_seed(src, None)
}

/// The events of a run of `src` on `seed` (`None`: the scenario's own).
fn run_seed(src: &str, seed: impl Into<Option<u64>>) -> Vec<Event> {
    let sc = scenario::parse(src, "<fidelity>").unwrap_or_else(|e| panic!("{e}"));
    let seed = seed.into().unwrap_or(sc.seed);
    let (outcome, _) = nacos_sim::sim::run(&sc, seed);
    assert!(outcome.panic.is_none(), "{:?}", outcome.panic);
    outcome.events
}

fn secs(e: &Event) -> f64 {
    e.t_us as f64 / 1e6
}

#[test]
fn distro_sync_lands_about_2s_after_a_put_and_a_failed_sync_retries_about_every_6s() {
    // spec §6: "Latency is about 2.0–2.2 s; a failed send is retried about every 6 s."
    let events = run(r#"
name = "sync-timing"
about = "t"
duration = "40s"
[cluster]
servers = 2
[[client]]
name = "p"
servers = ["s1"]
[[step]]
at = "0.5s"
crash = "s2"
[[step]]
at = "1s"
client = "p"
register = { service = "orders", ip = "10.0.0.10", port = 8080 }
"#);
    let put = events
        .iter()
        .find(|e| matches!(e.ev, Ev::InstanceRegistered { .. }) && e.node == "s1")
        .expect("registered on s1");
    let syncs: Vec<f64> = events
        .iter()
        .filter(|e| matches!(e.ev, Ev::DistroSync { .. }) && e.node == "s1")
        .map(secs)
        .collect();
    assert!(syncs.len() >= 4, "{syncs:?}");
    let first = syncs[0] - secs(put);
    assert!(
        (2.0..=2.2).contains(&first),
        "first sync {first:.3}s after the put"
    );
    for w in syncs.windows(2) {
        let gap = w[1] - w[0];
        assert!(
            (6.0..=6.3).contains(&gap),
            "retry gap {gap:.3}s in {syncs:?}"
        );
    }
}

#[test]
fn a_cut_off_peer_is_suspicious_after_one_probe_and_down_after_about_8_n_minus_1_seconds() {
    // spec §4 step 6: SUSPICIOUS after 1 failed probe, DOWN after 4: about 8(N-1) s.
    let events = run(r#"
name = "member-timing"
about = "t"
duration = "60s"
[cluster]
servers = 3
[[step]]
at = "10s"
isolate = "s3"
"#);
    let on_s1: Vec<&Event> = events.iter().filter(|e| s1_sees_s3(e).is_some()).collect();
    let to = |state: NodeState| {
        on_s1
            .iter()
            .find(|e| s1_sees_s3(e).is_some_and(|(_, to)| to == state))
            .map(|e| secs(e) - 10.0)
    };
    let suspicious = to(NodeState::Suspicious).expect("SUSPICIOUS");
    let down = to(NodeState::Down).expect("DOWN");
    // The first probe after the cut goes out within 2(N-1) = 4 s and fails 5 s later.
    assert!(
        (5.0..=9.5).contains(&suspicious),
        "SUSPICIOUS {suspicious:.3}s after the cut"
    );
    // Three more failed probes, 4 s apart, after the first: 12 s after SUSPICIOUS, so 17-21.5 s
    // after the cut (a DOWN after only three failures would come at 13-17.5 s).
    assert!(
        (17.0..=21.5).contains(&down),
        "DOWN {down:.3}s after the cut"
    );
    // Nothing else happens between them.
    assert_eq!(
        on_s1
            .iter()
            .filter(|e| secs(e) < 10.0 + down + 0.001)
            .count(),
        2
    );
}

#[test]
fn a_crashed_peer_is_down_at_the_first_refused_probe() {
    // spec §4 step 3: "or at once on Connection refused".
    let events = run(r#"
name = "member-refused"
about = "t"
duration = "30s"
[cluster]
servers = 3
[[step]]
at = "10s"
crash = "s3"
"#);
    let first = events
        .iter()
        .find(|e| s1_sees_s3(e).is_some())
        .expect("a state change");
    assert_eq!(s1_sees_s3(first), Some((NodeState::Up, NodeState::Down)));
    assert!(
        secs(first) - 10.0 <= 4.1,
        "DOWN {:.3}s after the crash",
        secs(first) - 10.0
    );
}

#[test]
fn under_one_way_connect_failure_one_side_flaps_its_peer_up_and_down_every_cycle() {
    // spec §4 step 4 (corrected), §16.7: s1 cannot open connections to s2, s2's connections to
    // s1 work. s1's reports to s2 time out (5 s) while s2's reports reach s1 and make s2 UP
    // without clearing its failure count: once the count passes 3, every failed report makes
    // s2 DOWN at once and every received one UP, about once per 2(N-1) = 4 s cycle each.
    let events = run(r#"
name = "member-flap"
about = "t"
duration = "80s"
[cluster]
servers = 3
[[step]]
at = "10s"
no_connect = { from = "s1", to = "s2" }
"#);
    let s1_sees_s2: Vec<(f64, NodeState)> = events
        .iter()
        .filter_map(|e| match e.ev {
            Ev::MemberState { peer, to, .. }
                if e.node == "s1" && peer.to_string() == "10.0.0.2:8848" =>
            {
                Some((secs(e), to))
            }
            _ => None,
        })
        .collect();
    let first_down = s1_sees_s2
        .iter()
        .position(|(_, st)| *st == NodeState::Down)
        .unwrap_or_else(|| panic!("s2 never DOWN on s1: {s1_sees_s2:?}"));
    // Four failures first: the 4th probe after the cut fails 6(N-1)+5 to 8(N-1)+5 s after it.
    let down_after = s1_sees_s2[first_down].0 - 10.0;
    assert!(
        (17.0..=21.1).contains(&down_after),
        "DOWN {down_after:.3}s after the cut: {s1_sees_s2:?}"
    );
    // From then on: DOWN, UP, DOWN, UP, ..., never SUSPICIOUS, about every 4 s.
    let flaps = &s1_sees_s2[first_down..];
    assert!(flaps.len() >= 20, "{flaps:?}");
    for (i, (t, st)) in flaps.iter().enumerate() {
        let want = if i % 2 == 0 {
            NodeState::Down
        } else {
            NodeState::Up
        };
        assert_eq!(*st, want, "at {t:.3}s: {flaps:?}");
    }
    for w in flaps.windows(3) {
        let cycle = w[2].0 - w[0].0;
        assert!((3.9..=4.1).contains(&cycle), "cycle {cycle:.3}s: {flaps:?}");
    }
    // s2's reports reach s1 and its own view of s1 never changes (s1's connections to it are
    // the ones that fail).
    let s2_sees_s1 = events.iter().any(|e| {
        matches!(e.ev, Ev::MemberState { peer, .. }
            if e.node == "s2" && peer.to_string() == "10.0.0.1:8848")
    });
    assert!(!s2_sees_s1);
}

/// A `member.state` change of s3 (10.0.0.3) as s1 sees it: (from, to).
fn s1_sees_s3(e: &Event) -> Option<(NodeState, NodeState)> {
    match e.ev {
        Ev::MemberState { peer, from, to }
            if e.node == "s1" && peer.to_string() == "10.0.0.3:8848" =>
        {
            Some((from, to))
        }
        _ => None,
    }
}

/// spec §4 step 6, exactly: after the first failed report (SUSPICIOUS), three more failures,
/// one per report cycle of 2(N-1) s, make the peer DOWN: DOWN - SUSPICIOUS = 3 (N-1) 2 s =
/// 12 s for N = 3, on every seed (only the per-message latency of a few ms varies).
#[test]
fn down_comes_exactly_three_report_cycles_after_suspicious() {
    let src = r#"
name = "member-timing-exact"
about = "t"
duration = "60s"
[cluster]
servers = 3
[[step]]
at = "10s"
isolate = "s3"
"#;
    for seed in 1..=20 {
        let events = run_seed(src, seed);
        let at = |state: NodeState| {
            events
                .iter()
                .find(|e| s1_sees_s3(e).is_some_and(|(_, to)| to == state))
                .map(secs)
                .unwrap_or_else(|| panic!("seed {seed}: s1 never saw s3 {state:?}"))
        };
        let gap = at(NodeState::Down) - at(NodeState::Suspicious);
        assert!(
            (gap - 12.0).abs() < 0.05,
            "seed {seed}: DOWN {gap:.3}s after SUSPICIOUS, want 3 x (3-1) x 2s = 12s"
        );
    }
}

/// spec §8 steps 3-4, exactly: the beat check runs every 5 s and judges strictly greater than
/// the timeout, so an instance is marked unhealthy with since_beat in (15 s, 20 s] and deleted
/// with now - lastBeat in (30 s, 35 s] (plus the few ms of the DELETE it sends to itself).
#[test]
fn a_silent_instance_is_unhealthy_after_15_to_20_s_and_deleted_after_30_to_35_s() {
    for (seed, crash) in (1..=20).zip(["12.3s", "13.1s", "14.7s", "15.9s", "11.2s"].iter().cycle())
    {
        let src = format!(
            r#"
name = "expiry-exact"
about = "t"
duration = "80s"
[cluster]
servers = 1
[[client]]
name = "p"
[[step]]
at = "1s"
client = "p"
register = {{ service = "orders", ip = "10.0.0.10", port = 8080 }}
[[step]]
at = "{crash}"
crash = "p"
"#
        );
        let events = run_seed(&src, seed);
        let (t_unhealthy, since) = events
            .iter()
            .find_map(|e| match &e.ev {
                Ev::InstanceUnhealthy {
                    since_beat_ms: Some(ms),
                    ..
                } => Some((secs(e), *ms as f64 / 1000.0)),
                _ => None,
            })
            .unwrap_or_else(|| panic!("seed {seed}: never unhealthy"));
        assert!(
            since > 15.0 && since <= 20.0,
            "seed {seed}: unhealthy {since:.3}s after the last beat, want (15s, 20s]"
        );
        let last_beat = t_unhealthy - since;
        let deleted = events
            .iter()
            .find(|e| matches!(e.ev, Ev::InstanceDeleted { .. }))
            .map(secs)
            .unwrap_or_else(|| panic!("seed {seed}: never deleted"));
        let silent = deleted - last_beat;
        assert!(
            silent > 30.0 && silent <= 35.05,
            "seed {seed}: deleted {silent:.3}s after the last beat, want (30s, 35s]"
        );
    }
}
