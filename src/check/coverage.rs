//! Rare-event coverage (issue 5): which interesting behaviours a run reached, and how often, so
//! a sweep can say what its seeds exercised and name what none of them reached.

use crate::trace::Event;
use std::collections::BTreeMap;

/// The behaviours counted, in the order a sweep reports them: (name, what it means).
pub const ITEMS: &[(&str, &str)] = &[
    (
        "raft.leader_elected",
        "a legacy Raft leader was elected (§9)",
    ),
    (
        "raft.leader_changed",
        "a later election named a different leader",
    ),
    (
        "raft.publish_failed",
        "a Raft publish found no majority in 5 s (§9)",
    ),
    (
        "raft.beat_deleted_key",
        "a follower deleted a key absent from the leader's beat (§9)",
    ),
    (
        "member.suspicious",
        "a server marked a peer SUSPICIOUS (§4)",
    ),
    ("member.down", "a server marked a peer DOWN (§4)"),
    (
        "distro.sync_failed",
        "a Distro sync failed and was queued for retry (§6)",
    ),
    (
        "distro.verify_aborted",
        "a checksum round was aborted: it named an owned key (§6)",
    ),
    (
        "distro.load_failed",
        "a startup load found no member to answer (§6)",
    ),
    (
        "distro.forward_refused",
        "a forwarded request reached a non-owner: 400 (§5)",
    ),
    (
        "distro.forward_failed",
        "the owner was unreachable on a forward: 5xx (§5)",
    ),
    (
        "instance.expired",
        "the beat check marked a silent instance unhealthy (§8)",
    ),
    (
        "instance.deleted_expired",
        "the beat check deleted a silent instance (§8)",
    ),
    (
        "instance.status_synced",
        "a replica changed health from the status channel (§7)",
    ),
    (
        "client.failover",
        "a client request failed on one server and moved on (§13)",
    ),
    (
        "client.reregister",
        "a beat got 20404 and the client registered again (§13)",
    ),
    (
        "push.given_up",
        "a UDP push got no ack after its resend (§10)",
    ),
    ("anomaly.two_leaders", "two Raft leaders in one term"),
    (
        "anomaly.dirty_write",
        "a failed Raft write was read or spread",
    ),
    ("anomaly.lost_write", "an acknowledged Raft write was lost"),
    (
        "anomaly.divergence",
        "servers still disagreed after the quiet period",
    ),
];

/// Which item an event counts for, if any (the leader-change item needs the run's history and
/// is counted in [`count`]).
fn item(e: &Event) -> Option<&'static str> {
    let field = |k: &str| e.get(k).unwrap_or("");
    Some(match e.kind.as_str() {
        "raft.publish" if field("result").starts_with("failed") => "raft.publish_failed",
        "raft.delete" if field("reason").contains("beat") => "raft.beat_deleted_key",
        "member.state" if field("to") == "SUSPICIOUS" => "member.suspicious",
        "member.state" if field("to") == "DOWN" => "member.down",
        "distro.sync" if field("result").starts_with("failed") => "distro.sync_failed",
        "distro.verify" if field("result").starts_with("aborted") => "distro.verify_aborted",
        "distro.load" if field("result").starts_with("failed") => "distro.load_failed",
        "distro.forward" if field("status") == "400" => "distro.forward_refused",
        "distro.forward" if field("status").starts_with('5') => "distro.forward_failed",
        "instance.unhealthy" if e.get("since_beat_ms").is_some() => "instance.expired",
        "instance.unhealthy" if field("reason") == "status_sync" => "instance.status_synced",
        "instance.healthy" if field("reason") == "status_sync" => "instance.status_synced",
        "instance.deleted" if field("reason") == "expired" => "instance.deleted_expired",
        "client.request_failed" => "client.failover",
        "client.reregister" => "client.reregister",
        "push.failed" => "push.given_up",
        "anomaly.two_leaders" => "anomaly.two_leaders",
        "anomaly.dirty_write" => "anomaly.dirty_write",
        "anomaly.lost_write" => "anomaly.lost_write",
        "anomaly.divergence" => "anomaly.divergence",
        _ => return None,
    })
}

/// How many times each item happened in one run (items that did not happen are absent).
pub fn count(events: &[Event]) -> BTreeMap<&'static str, u64> {
    let mut out: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut leader: Option<&str> = None;
    for e in events {
        if e.kind == "raft.leader" {
            let l = e.get("leader").unwrap_or("");
            *out.entry("raft.leader_elected").or_default() += 1;
            if leader.is_some_and(|p| p != l) {
                *out.entry("raft.leader_changed").or_default() += 1;
            }
            leader = Some(l);
        } else if let Some(k) = item(e) {
            *out.entry(k).or_default() += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: &str, fields: &[(&str, &str)]) -> Event {
        Event {
            t_us: 0,
            kind: kind.into(),
            node: "s1".into(),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn events_count_for_their_items_and_a_leader_change_needs_a_different_leader() {
        let events = vec![
            ev("raft.leader", &[("leader", "a"), ("term", "1")]),
            ev("raft.leader", &[("leader", "a"), ("term", "1")]),
            ev("raft.leader", &[("leader", "b"), ("term", "2")]),
            ev("member.state", &[("to", "DOWN")]),
            ev("member.state", &[("to", "UP")]),
            ev("instance.unhealthy", &[("since_beat_ms", "15001")]),
            ev("instance.unhealthy", &[("reason", "status_sync")]),
            ev("distro.forward", &[("status", "400")]),
            ev("distro.sync", &[("result", "ok")]),
            ev("distro.sync", &[("result", "failed: connect timed out")]),
        ];
        let c = count(&events);
        assert_eq!(c["raft.leader_elected"], 3);
        assert_eq!(c["raft.leader_changed"], 1);
        assert_eq!(c["member.down"], 1);
        assert_eq!(c["instance.expired"], 1);
        assert_eq!(c["instance.status_synced"], 1);
        assert_eq!(c["distro.forward_refused"], 1);
        assert_eq!(c["distro.sync_failed"], 1);
        assert_eq!(c.len(), 7);
        assert!(c.keys().all(|k| ITEMS.iter().any(|(n, _)| n == k)));
    }
}
