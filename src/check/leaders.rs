//! Two leaders in one term, the rule both Raft checkers share (legacy Raft, spec §9, §16.4;
//! JRaft, jraft spec §J13.5): it reads the leader events each protocol logs.

use super::{Finding, Point};
use crate::trace::Anomaly;
use crate::trace::Event;
use std::collections::{BTreeMap, BTreeSet};

/// One finding per term that more than one node led, resting on every leader event of that
/// term; `label` names the term in the text (`term 3`, `JRaft term 3`).
pub(super) fn leaders_sharing_a_term<'a>(
    leaders: impl Iterator<Item = (u64, &'a Event)>,
    label: &str,
) -> Vec<Finding> {
    let mut by_term: BTreeMap<u64, (BTreeSet<&str>, Vec<Point>)> = BTreeMap::new();
    for (term, e) in leaders {
        let entry = by_term.entry(term).or_default();
        entry.0.insert(e.node.as_str());
        entry.1.push(Point {
            t_us: e.t_us,
            node: e.node.clone(),
        });
    }
    by_term
        .into_iter()
        .filter(|(_, (n, _))| n.len() > 1)
        .map(|(t, (n, points))| Finding {
            anomaly: Anomaly::TwoLeaders,
            text: format!(
                "{label} {t}: {}",
                n.into_iter().collect::<Vec<_>>().join(" and ")
            ),
            points,
        })
        .collect()
}
