//! Rare-event coverage (issue 5): which interesting behaviours a run reached, and how often, so
//! a sweep can say what its seeds exercised and name what none of them reached.

use crate::trace::{Ev, Event, HealthReason, NodeState, Role, ServerState, WriteResult};
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
        "protocol.switched",
        "a server switched its persistent data to JRaft (§J1.5)",
    ),
    ("jraft.leader_elected", "a JRaft leader was elected (§J5.4)"),
    (
        "jraft.leader_changed",
        "a later JRaft election named a different leader",
    ),
    (
        "jraft.step_down",
        "a JRaft leader stepped down (lost its majority, or saw a higher term, §J5.5)",
    ),
    (
        "jraft.write_no_leader",
        "a JRaft write was rejected: no leader known (§J6.5)",
    ),
    (
        "jraft.ok_without_commit",
        "a JRaft write was answered ok and applied nowhere (1.4.1, §J6.6)",
    ),
    ("server.down", "a server's status went DOWN (§J9.4)"),
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
    Some(match &e.ev {
        Ev::RaftPublish { result, .. } if !result.is_ok() => "raft.publish_failed",
        Ev::RaftDelete {
            reason: Some(_), ..
        } => "raft.beat_deleted_key",
        Ev::MemberState {
            to: NodeState::Suspicious,
            ..
        } => "member.suspicious",
        Ev::MemberState {
            to: NodeState::Down,
            ..
        } => "member.down",
        Ev::DistroSync { result, .. } if !result.is_ok() => "distro.sync_failed",
        Ev::DistroVerify {
            result: Some(_), ..
        } => "distro.verify_aborted",
        Ev::DistroLoad {
            result: Some(r), ..
        } if !r.is_ok() => "distro.load_failed",
        Ev::DistroForward { status: 400, .. } => "distro.forward_refused",
        Ev::DistroForward { status, .. } if (500..600).contains(status) => "distro.forward_failed",
        Ev::InstanceUnhealthy {
            since_beat_ms: Some(_),
            ..
        } => "instance.expired",
        Ev::InstanceUnhealthy {
            reason: Some(HealthReason::StatusSync),
            ..
        }
        | Ev::InstanceHealthy {
            reason: HealthReason::StatusSync,
            ..
        } => "instance.status_synced",
        Ev::InstanceDeleted {
            reason: HealthReason::Expired,
            ..
        } => "instance.deleted_expired",
        Ev::ProtocolSwitched { .. } => "protocol.switched",
        Ev::JraftState {
            role: Role::Follower,
            reason: Some(_),
            ..
        } => "jraft.step_down",
        Ev::JraftWrite {
            result: WriteResult::Rejected(why),
            ..
        } if why.contains("did not find the Leader") => "jraft.write_no_leader",
        Ev::JraftWrite {
            result: WriteResult::OkNotApplied,
            ..
        } => "jraft.ok_without_commit",
        Ev::ServerStatus {
            to: ServerState::Down,
            ..
        } => "server.down",
        Ev::ClientRequestFailed { .. } => "client.failover",
        Ev::ClientReregister { .. } => "client.reregister",
        Ev::PushFailed { .. } => "push.given_up",
        Ev::AnomalyTwoLeaders { .. } => "anomaly.two_leaders",
        Ev::AnomalyDirtyWrite { .. } => "anomaly.dirty_write",
        Ev::AnomalyLostWrite { .. } => "anomaly.lost_write",
        Ev::AnomalyDivergence { .. } => "anomaly.divergence",
        _ => return None,
    })
}

/// How many times each item happened in one run (items that did not happen are absent).
pub fn count(events: &[Event]) -> BTreeMap<&'static str, u64> {
    let mut out: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut leader: Option<std::net::SocketAddr> = None;
    let mut jleader: Option<std::net::SocketAddr> = None;
    for e in events {
        if let Ev::JraftLeader { leader: l, .. } = e.ev {
            *out.entry("jraft.leader_elected").or_default() += 1;
            if jleader.is_some_and(|p| p != l) {
                *out.entry("jraft.leader_changed").or_default() += 1;
            }
            jleader = Some(l);
        } else if let Ev::RaftLeader { leader: l, .. } = e.ev {
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
    use crate::trace::Done;

    fn ev(ev: Ev) -> Event {
        Event {
            t_us: 0,
            node: "s1".into(),
            ev,
        }
    }

    #[test]
    fn events_count_for_their_items_and_a_leader_change_needs_a_different_leader() {
        let (a, b) = (
            "10.0.0.1:8848".parse().unwrap(),
            "10.0.0.2:8848".parse().unwrap(),
        );
        let member = |to| Ev::MemberState {
            peer: a,
            from: NodeState::Up,
            to,
        };
        let svc = || "s".to_string();
        let inst = || "1.1.1.1:80".to_string();
        let events = vec![
            ev(Ev::RaftLeader { leader: a, term: 1 }),
            ev(Ev::RaftLeader { leader: a, term: 1 }),
            ev(Ev::RaftLeader { leader: b, term: 2 }),
            ev(member(NodeState::Down)),
            ev(member(NodeState::Up)),
            ev(Ev::InstanceUnhealthy {
                service: svc(),
                instance: inst(),
                since_beat_ms: Some(15001),
                reason: None,
            }),
            ev(Ev::InstanceUnhealthy {
                service: svc(),
                instance: inst(),
                since_beat_ms: None,
                reason: Some(HealthReason::StatusSync),
            }),
            ev(Ev::DistroForward {
                service: svc(),
                api: "POST /instance",
                to: a,
                status: 400,
            }),
            ev(Ev::DistroSync {
                to: a,
                keys: 1,
                result: Done::Ok,
            }),
            ev(Ev::DistroSync {
                to: a,
                keys: 1,
                result: Done::Failed("connect timed out".into()),
            }),
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
