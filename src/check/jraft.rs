//! The always-on Raft checkers as they judge JRaft (jraft spec §J13.5): two leaders in one
//! term (never, §J5.6), a dirty write (a write JRaft definitely rejected that is applied at the
//! end: never, §J8.3), and a lost write (an acknowledged write the final leader does not hold,
//! which includes 1.4.1's "ok without commit" of §J6.6). Each write is followed by its id, from
//! the `jraft.write` event of the server that issued it to every server's store.

use super::{Finding, Point};
use crate::trace::{Anomaly, Ev, Event, Role, WriteOp, WriteResult};
use std::collections::{BTreeMap, BTreeSet};

/// One server's JRaft node and store at the end of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JraftView {
    pub role: Role,
    pub term: u64,
    /// Key → the id of the write whose value this server's store holds.
    pub writes: BTreeMap<String, u64>,
}

/// A `jraft.write` event.
struct Write<'a> {
    t_us: u64,
    node: &'a str,
    key: &'a str,
    op: WriteOp,
    result: &'a WriteResult,
    id: u64,
}

impl Write<'_> {
    fn point(&self) -> Point {
        Point {
            t_us: self.t_us,
            node: self.node.to_string(),
        }
    }
}

fn writes(events: &[Event]) -> Vec<Write<'_>> {
    events
        .iter()
        .filter_map(|e| match &e.ev {
            Ev::JraftWrite {
                key,
                op,
                result,
                id,
                ..
            } => Some(Write {
                t_us: e.t_us,
                node: e.node.as_str(),
                key,
                op: *op,
                result,
                id: *id,
            }),
            _ => None,
        })
        .collect()
}

/// Whether any JRaft write was issued (the write checkers have nothing to judge otherwise).
pub fn any_write(events: &[Event]) -> bool {
    events.iter().any(|e| matches!(e.ev, Ev::JraftWrite { .. }))
}

/// Two `jraft.leader` events with the same term (§J13.5: must never happen, §J5.6).
pub fn two_leaders(events: &[Event]) -> Vec<Finding> {
    let leaders = events.iter().filter_map(|e| match e.ev {
        Ev::JraftLeader { term, .. } => Some((term, e)),
        _ => None,
    });
    super::leaders::leaders_sharing_a_term(leaders, "JRaft term")
}

/// A write JRaft definitely rejected whose value a server holds at the end (§J13.5).
pub fn dirty_writes(events: &[Event], stores: &[(String, JraftView)]) -> Vec<Finding> {
    writes(events)
        .into_iter()
        .filter(|w| matches!(w.result, WriteResult::Rejected(_)) && w.op == WriteOp::Write)
        .filter_map(|w| {
            let holders: Vec<&str> = stores
                .iter()
                .filter(|(_, v)| v.writes.get(w.key) == Some(&w.id))
                .map(|(s, _)| s.as_str())
                .collect();
            (!holders.is_empty()).then(|| Finding {
                anomaly: Anomaly::DirtyWrite,
                text: format!(
                    "{} write {} rejected on {} at {:.3}s is held by {}",
                    w.key,
                    w.id,
                    w.node,
                    w.t_us as f64 / 1e6,
                    holders.join(",")
                ),
                points: vec![w.point()],
            })
        })
        .collect()
}

/// The last acknowledged write of each key that the final leader (the highest-term JRaft
/// leader; every server when none leads) does not hold, unless a write or delete of the key
/// that ended later replaced it (§J13.5).
pub fn lost_writes(events: &[Event], stores: &[(String, JraftView)]) -> Vec<Finding> {
    let leaders = stores.iter().filter(|(_, v)| v.role == Role::Leader);
    let judge: Vec<&(String, JraftView)> = match leaders.max_by_key(|(_, v)| v.term) {
        Some(l) => vec![l],
        None => stores.iter().collect(),
    };
    let all = writes(events);
    let mut last_ok: BTreeMap<&str, &Write> = BTreeMap::new();
    for w in all.iter().filter(|w| w.result.acknowledged()) {
        last_ok.insert(w.key, w);
    }
    last_ok
        .into_values()
        .filter_map(|w| {
            let later: BTreeSet<u64> = all
                .iter()
                .filter(|x| x.key == w.key && x.t_us > w.t_us)
                .filter(|x| !matches!(x.result, WriteResult::Rejected(_)))
                .map(|x| x.id)
                .collect();
            let deleted_later = all.iter().any(|x| {
                x.key == w.key
                    && x.t_us > w.t_us
                    && x.op == WriteOp::Delete
                    && !matches!(x.result, WriteResult::Rejected(_))
            });
            let missing: Vec<&str> = judge
                .iter()
                .filter(|(_, v)| match v.writes.get(w.key) {
                    Some(id) => *id != w.id && !later.contains(id),
                    // An acknowledged delete holds nothing; so does a key deleted since.
                    None => w.op == WriteOp::Write && !deleted_later,
                })
                .map(|(s, _)| s.as_str())
                .collect();
            (!missing.is_empty()).then(|| {
                let how = if *w.result == WriteResult::OkNotApplied {
                    " (ok without commit: forwarded to a non-leader, §J6.6)"
                } else {
                    ""
                };
                Finding {
                    anomaly: Anomaly::LostWrite,
                    text: format!(
                        "{} {} {} acknowledged by {} at {:.3}s{how} is not on {}",
                        w.key,
                        w.op,
                        w.id,
                        w.node,
                        w.t_us as f64 / 1e6,
                        missing.join(",")
                    ),
                    points: vec![w.point()],
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::OrDash;

    fn write(t: u64, node: &str, key: &str, id: u64, result: WriteResult) -> Event {
        Event {
            t_us: t * 1_000_000,
            node: node.into(),
            ev: Ev::JraftWrite {
                key: key.into(),
                op: WriteOp::Write,
                value: OrDash(Some("v".into())),
                result,
                index: None,
                id,
            },
        }
    }

    fn view(role: Role, term: u64, held: &[(&str, u64)]) -> JraftView {
        JraftView {
            role,
            term,
            writes: held.iter().map(|(k, i)| (k.to_string(), *i)).collect(),
        }
    }

    #[test]
    fn two_jraft_leaders_in_one_term_are_found() {
        let a = "10.0.0.1:7848".parse().unwrap();
        let ev = |t, node: &str, term| Event {
            t_us: t,
            node: node.into(),
            ev: Ev::JraftLeader { leader: a, term },
        };
        assert!(two_leaders(&[ev(1, "s1", 1), ev(2, "s2", 2)]).is_empty());
        assert_eq!(two_leaders(&[ev(1, "s1", 2), ev(2, "s2", 2)]).len(), 1);
    }

    #[test]
    fn a_rejected_write_held_at_the_end_is_dirty_and_an_indeterminate_one_is_not() {
        // §J13.5: judge by the JRaft outcome.
        let held = [("s1".to_string(), view(Role::Leader, 3, &[("k", 7)]))];
        let rejected = [write(
            1,
            "s2",
            "k",
            7,
            WriteResult::Rejected("no leader".into()),
        )];
        assert_eq!(dirty_writes(&rejected, &held).len(), 1);
        let unsure = [write(
            1,
            "s2",
            "k",
            7,
            WriteResult::Indeterminate("timeout".into()),
        )];
        assert!(dirty_writes(&unsure, &held).is_empty());
    }

    #[test]
    fn an_ok_without_commit_is_a_lost_write_and_a_newer_write_is_not_a_loss() {
        // §J6.6: the caller got ok, nothing was applied.
        let stores = [
            ("s1".to_string(), view(Role::Leader, 2, &[("k", 1)])),
            ("s2".to_string(), view(Role::Follower, 2, &[("k", 1)])),
        ];
        let e = [
            write(1, "s1", "k", 1, WriteResult::Committed),
            write(2, "s2", "k", 2, WriteResult::OkNotApplied),
        ];
        let lost = lost_writes(&e, &stores);
        assert_eq!(lost.len(), 1);
        assert!(
            lost[0].text.contains("ok without commit"),
            "{}",
            lost[0].text
        );
        // A later write that may have committed (its caller timed out) replaced it.
        let replaced = [
            write(1, "s1", "k", 1, WriteResult::Committed),
            write(
                2,
                "s1",
                "k",
                3,
                WriteResult::Indeterminate("timeout".into()),
            ),
        ];
        let newer = [("s1".to_string(), view(Role::Leader, 2, &[("k", 3)]))];
        assert!(lost_writes(&replaced, &newer).is_empty());
        // The final leader is the highest-term one; it lacks the write.
        let two = [
            ("s1".to_string(), view(Role::Leader, 2, &[("k", 1)])),
            ("s3".to_string(), view(Role::Leader, 5, &[])),
        ];
        assert_eq!(lost_writes(&e[..1], &two).len(), 1);
    }
}
