//! Always-on checkers of the persistent (legacy Raft) store (issue: anomalies Nacos 1.4.1
//! really has, spec §16.4): two leaders in one term, dirty writes, lost writes.

use crate::model::raft::Role;
use crate::trace::Event;
use std::collections::{BTreeMap, BTreeSet};

/// One server's Raft store at the end of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreView {
    pub server: String,
    pub role: Role,
    pub term: u64,
    /// key → (timestamp, value fingerprint)
    pub datums: BTreeMap<String, (u64, String)>,
}

/// `anomaly.two_leaders`: two nodes made themselves leader in the same term.
pub fn two_leaders(events: &[Event]) -> Vec<String> {
    let mut by_term: BTreeMap<u64, BTreeSet<&str>> = BTreeMap::new();
    for e in events.iter().filter(|e| e.kind == "raft.leader") {
        if let Some(t) = e.get("term").and_then(|t| t.parse().ok()) {
            by_term.entry(t).or_default().insert(e.node.as_str());
        }
    }
    by_term
        .into_iter()
        .filter(|(_, n)| n.len() > 1)
        .map(|(t, n)| {
            format!(
                "term {t}: {}",
                n.into_iter().collect::<Vec<_>>().join(" and ")
            )
        })
        .collect()
}

struct Publish<'a> {
    t_us: u64,
    node: &'a str,
    key: &'a str,
    ts: u64,
    value: &'a str,
    ok: bool,
}

fn publishes(events: &[Event]) -> Vec<Publish<'_>> {
    events
        .iter()
        .filter(|e| e.kind == "raft.publish")
        .filter_map(|e| {
            Some(Publish {
                t_us: e.t_us,
                node: e.node.as_str(),
                key: e.get("key")?,
                ts: e.get("ts")?.parse().ok()?,
                value: e.get("value")?,
                ok: e.get("result")? == "ok",
            })
        })
        .collect()
}

/// `anomaly.dirty_write`: a publish answered 500 whose value is held by a server at the end
/// (the leader applies before the quorum and never rolls back, §9).
pub fn dirty_writes(events: &[Event], stores: &[StoreView]) -> Vec<String> {
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
            (!holders.is_empty()).then(|| {
                format!(
                    "{} ts={} failed on {} at {:.3}s but is held by {}",
                    p.key,
                    p.ts,
                    p.node,
                    p.t_us as f64 / 1e6,
                    holders.join(",")
                )
            })
        })
        .collect()
}

/// `anomaly.lost_write`: the last publish of a key answered 200 (and not deleted since), yet
/// the leader at the end (the highest-term leader; any server when none leads) holds neither
/// that value nor a newer one.
pub fn lost_writes(events: &[Event], stores: &[StoreView]) -> Vec<String> {
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
    last_ok
        .into_values()
        .filter(|p| {
            !events.iter().any(|e| {
                e.kind == "raft.delete"
                    && e.get("reason").is_none()
                    && e.get("key") == Some(p.key)
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
            (!missing.is_empty()).then(|| {
                format!(
                    "{} ts={} acknowledged by {} at {:.3}s is gone from {}",
                    p.key,
                    p.ts,
                    p.node,
                    p.t_us as f64 / 1e6,
                    missing.join(",")
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: u64, kind: &str, node: &str, fields: &[(&str, &str)]) -> Event {
        Event {
            t_us: t * 1_000_000,
            kind: kind.into(),
            node: node.into(),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
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
        }
    }

    #[test]
    fn two_leaders_only_within_one_term() {
        let e = vec![
            ev(1, "raft.leader", "s1", &[("term", "3")]),
            ev(2, "raft.leader", "s2", &[("term", "4")]),
            ev(3, "raft.leader", "s3", &[("term", "4")]),
        ];
        assert_eq!(two_leaders(&e), vec!["term 4: s2 and s3"]);
        assert!(two_leaders(&e[..2]).is_empty());
    }

    #[test]
    fn a_failed_publish_still_held_is_dirty() {
        let e = vec![ev(
            1,
            "raft.publish",
            "s1",
            &[
                ("key", "k"),
                ("ts", "2"),
                ("value", "v2"),
                ("result", "failed: x"),
            ],
        )];
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
        let e = vec![ev(
            1,
            "raft.publish",
            "s2",
            &[("key", "k"), ("ts", "1"), ("value", "v1"), ("result", "ok")],
        )];
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
        deleted.push(ev(2, "raft.delete", "s2", &[("key", "k")]));
        assert!(lost_writes(&deleted, &lost).is_empty());
    }
}
