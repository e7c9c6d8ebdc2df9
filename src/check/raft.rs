//! Always-on checkers of the persistent (legacy Raft) store (issue: anomalies Nacos 1.4.1
//! really has, spec §16.4): two leaders in one term, dirty writes, lost writes.

use super::{Finding, Point};
use crate::model::raft::Role;
use crate::trace::{Anomaly, Ev, Event};
use std::collections::{BTreeMap, BTreeSet};

/// One server's Raft store at the end of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreView {
    pub server: String,
    pub role: Role,
    pub term: u64,
    /// key → (timestamp, value fingerprint)
    pub datums: BTreeMap<String, (u64, String)>,
    /// The server's JRaft node, if it runs one (jraft spec §J4.1).
    pub jraft: Option<super::jraft::JraftView>,
}

/// `anomaly.two_leaders`: two nodes made themselves leader in the same term. The finding
/// rests on every `raft.leader` event of that term.
pub fn two_leaders(events: &[Event]) -> Vec<Finding> {
    let leaders = events.iter().filter_map(|e| match e.ev {
        Ev::RaftLeader { term, .. } => Some((term, e)),
        _ => None,
    });
    super::leaders::leaders_sharing_a_term(leaders, "term")
}

struct Publish<'a> {
    t_us: u64,
    node: &'a str,
    key: &'a str,
    ts: u64,
    value: &'a str,
    ok: bool,
}

impl Publish<'_> {
    fn point(&self) -> Point {
        Point {
            t_us: self.t_us,
            node: self.node.to_string(),
        }
    }
}

fn publishes(events: &[Event]) -> Vec<Publish<'_>> {
    events
        .iter()
        .filter_map(|e| match &e.ev {
            Ev::RaftPublish {
                key,
                ts,
                value,
                result,
                ..
            } => Some(Publish {
                t_us: e.t_us,
                node: e.node.as_str(),
                key,
                ts: *ts,
                value,
                ok: result.is_ok(),
            }),
            _ => None,
        })
        .collect()
}

/// `anomaly.dirty_write`: a publish answered 500 whose value is held by a server at the end
/// (the leader applies before the quorum and never rolls back, §9). The finding rests on the
/// failed publish.
pub fn dirty_writes(events: &[Event], stores: &[StoreView]) -> Vec<Finding> {
    publishes(events)
        .into_iter()
        .filter(|p| !p.ok)
        .filter_map(|p| {
            let holders: Vec<&str> = stores
                .iter()
                .filter(|s| {
                    s.datums
                        .get(p.key)
                        .is_some_and(|(ts, v)| *ts == p.ts && v == p.value)
                })
                .map(|s| s.server.as_str())
                .collect();
            (!holders.is_empty()).then(|| Finding {
                anomaly: Anomaly::DirtyWrite,
                text: format!(
                    "{} ts={} failed on {} at {:.3}s but is held by {}",
                    p.key,
                    p.ts,
                    p.node,
                    p.t_us as f64 / 1e6,
                    holders.join(",")
                ),
                points: vec![p.point()],
            })
        })
        .collect()
}

/// `anomaly.lost_write`: the last publish of a key answered 200 (and not deleted since), yet
/// the leader at the end (the highest-term leader; any server when none leads) holds neither
/// that value nor a newer one. The finding rests on the acknowledged publish.
pub fn lost_writes(events: &[Event], stores: &[StoreView]) -> Vec<Finding> {
    let judge: Vec<&StoreView> = {
        let leaders: Vec<&StoreView> = stores.iter().filter(|s| s.role == Role::Leader).collect();
        match leaders.iter().max_by_key(|s| s.term) {
            Some(l) => vec![*l],
            None => stores.iter().collect(),
        }
    };
    let mut last_ok: BTreeMap<&str, Publish> = BTreeMap::new();
    for p in publishes(events).into_iter().filter(|p| p.ok) {
        last_ok.insert(p.key, p);
    }
    // A key JRaft wrote after the switch holds JRaft's value now (jraft spec §J2.5): legacy
    // Raft's acknowledgement of it is not judged against it.
    let jraft_keys: BTreeSet<&str> = events
        .iter()
        .filter_map(|e| match &e.ev {
            Ev::JraftWrite { key, .. } => Some(key.as_str()),
            _ => None,
        })
        .collect();
    last_ok
        .into_values()
        .filter(|p| !jraft_keys.contains(p.key))
        .filter(|p| {
            !events.iter().any(|e| {
                matches!(&e.ev, Ev::RaftDelete { key, reason: None } if key == p.key)
                    && e.t_us > p.t_us
            })
        })
        .filter_map(|p| {
            let missing: Vec<&str> = judge
                .iter()
                // Gone: absent, older, or another value under the same timestamp.
                .filter(|s| {
                    s.datums
                        .get(p.key)
                        .is_none_or(|(ts, v)| *ts < p.ts || (*ts == p.ts && v != p.value))
                })
                .map(|s| s.server.as_str())
                .collect();
            (!missing.is_empty()).then(|| Finding {
                anomaly: Anomaly::LostWrite,
                text: format!(
                    "{} ts={} acknowledged by {} at {:.3}s is gone from {}",
                    p.key,
                    p.ts,
                    p.node,
                    p.t_us as f64 / 1e6,
                    missing.join(",")
                ),
                points: vec![p.point()],
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::trace::Done;

    fn ev(t: u64, node: &str, ev: Ev) -> Event {
        Event {
            t_us: t * 1_000_000,
            node: node.into(),
            ev,
        }
    }

    fn leader(t: u64, node: &str, term: u64) -> Event {
        let leader = "10.0.0.1:8848".parse().unwrap();
        ev(t, node, Ev::RaftLeader { leader, term })
    }

    fn publish(t: u64, node: &str, key: &str, ts: u64, value: &str, ok: bool) -> Event {
        let result = if ok {
            Done::Ok
        } else {
            Done::Failed("x".into())
        };
        let (key, value) = (key.to_string(), value.to_string());
        ev(
            t,
            node,
            Ev::RaftPublish {
                key,
                ts,
                value,
                result,
                acks: 1,
            },
        )
    }

    fn store(server: &str, role: Role, term: u64, datums: &[(&str, u64, &str)]) -> StoreView {
        StoreView {
            server: server.into(),
            role,
            term,
            datums: datums
                .iter()
                .map(|(k, t, v)| (k.to_string(), (*t, v.to_string())))
                .collect(),
            jraft: None,
        }
    }

    #[test]
    fn two_leaders_only_within_one_term() {
        let e = vec![leader(1, "s1", 3), leader(2, "s2", 4), leader(3, "s3", 4)];
        let found = two_leaders(&e);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].text, "term 4: s2 and s3");
        let nodes: Vec<&str> = found[0].points.iter().map(|p| p.node.as_str()).collect();
        assert_eq!(nodes, vec!["s2", "s3"]);
        assert!(two_leaders(&e[..2]).is_empty());
    }

    #[test]
    fn a_failed_publish_still_held_is_dirty() {
        let e = vec![publish(1, "s1", "k", 2, "v2", false)];
        let held = [
            store("s1", Role::Leader, 200, &[("k", 2, "v2")]),
            store("s2", Role::Follower, 1, &[("k", 1, "v1")]),
        ];
        assert_eq!(dirty_writes(&e, &held).len(), 1);
        let rolled = [store("s1", Role::Leader, 200, &[("k", 3, "v3")])];
        assert!(dirty_writes(&e, &rolled).is_empty());
    }

    #[test]
    fn an_acknowledged_write_missing_on_the_final_leader_is_lost_unless_deleted() {
        let e = vec![publish(1, "s2", "k", 1, "v1", true)];
        let lost = [
            store("s1", Role::Leader, 300, &[]),
            store("s2", Role::Follower, 200, &[("k", 1, "v1")]),
        ];
        assert_eq!(lost_writes(&e, &lost).len(), 1);
        let replaced = [store("s1", Role::Leader, 300, &[("k", 1, "other")])];
        assert_eq!(
            lost_writes(&e, &replaced).len(),
            1,
            "same timestamp, different value"
        );
        let kept = [store("s1", Role::Leader, 300, &[("k", 2, "v2")])];
        assert!(
            lost_writes(&e, &kept).is_empty(),
            "a newer version is not a loss"
        );
        let mut deleted = e.clone();
        let key = "k".to_string();
        deleted.push(ev(2, "s2", Ev::RaftDelete { key, reason: None }));
        assert!(lost_writes(&deleted, &lost).is_empty());
    }
}
