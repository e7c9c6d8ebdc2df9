//! What the checks and the checkers point at: anomaly findings placed where and when they
//! happened, each check's window and times, and the quiet stretches the picture squeezes.

use super::*;
use crate::check::{Expected, Observed, Precision};
use crate::report::Outcome;
use std::collections::{BTreeMap, BTreeSet};

/// The always-on checkers' findings, each placed on the lanes (`lane_of`: node → lane) of the
/// nodes it rests on, at the moments it names: one point per finding and node (a finding with
/// no node, such as a divergence judged at the end, gets one point at `end_us` over the whole
/// cluster).
pub(super) fn anomaly_points(
    o: &Outcome,
    lane_of: &BTreeMap<String, usize>,
    end_us: u64,
) -> Vec<Point> {
    let mut out = vec![];
    for f in &o.findings {
        let label = f.anomaly.to_string();
        let mut per_node: BTreeMap<&str, u64> = BTreeMap::new();
        for p in &f.points {
            let t = per_node.entry(p.node.as_str()).or_insert(p.t_us);
            *t = (*t).min(p.t_us);
        }
        let mut placed = false;
        for (node, t) in per_node {
            if let Some(&l) = lane_of.get(node) {
                out.push(Point {
                    t,
                    lanes: vec![l],
                    label: label.clone(),
                    text: format!("{label} ({node}): {}", f.text),
                });
                placed = true;
            }
        }
        if !placed {
            out.push(Point {
                t: end_us,
                lanes: vec![],
                label: label.clone(),
                text: format!("{label}, found at the end of the run: {}", f.text),
            });
        }
    }
    out
}

/// Each check drawn from its data: the window and time it expects, the moments that decided
/// it, and the lanes of the nodes it looks at (none: the whole cluster); times past `end_us`
/// are drawn at the end.
pub(super) fn check_marks(
    o: &Outcome,
    lane_of: &BTreeMap<String, usize>,
    end_us: u64,
) -> Vec<CheckMark> {
    let clamp = |t: u64| t.min(end_us);
    o.checks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let window = match &c.expected {
                Expected::View { when, .. } => Some(when.window_us()),
                Expected::Event {
                    window: Some((a, b)),
                    ..
                } => Some((a * 1000, b * 1000)),
                _ => None,
            };
            let (points, nodes): (Vec<u64>, Vec<&str>) = match &c.observed {
                Observed::Sample { t_us, .. } => (vec![*t_us], vec![]),
                Observed::Events { matched, outside } => {
                    let seen = if matched.is_empty() { outside } else { matched };
                    seen.iter().map(|s| (s.t_us, s.node.as_str())).unzip()
                }
                Observed::Findings { findings, t_us } => {
                    let pts: Vec<(u64, &str)> = findings
                        .iter()
                        .flat_map(|f| f.points.iter().map(|p| (p.t_us, p.node.as_str())))
                        .collect();
                    if pts.is_empty() && !findings.is_empty() {
                        (vec![*t_us], vec![])
                    } else {
                        pts.into_iter().unzip()
                    }
                }
                _ => (vec![], vec![]),
            };
            let named: Vec<&str> = match &c.expected {
                Expected::View { viewer, .. } => vec![viewer.node()],
                Expected::Event { node: Some(n), .. } => vec![n.as_str()],
                _ => nodes,
            };
            let lanes: BTreeSet<usize> = named
                .iter()
                .filter_map(|n| lane_of.get(*n).copied())
                .collect();
            CheckMark {
                n: i + 1,
                passed: c.passed,
                name: c.name.clone(),
                detail: c.detail(Precision::Ms),
                window: window.map(|(a, b)| (clamp(a), clamp(b))),
                points: points.into_iter().map(clamp).collect(),
                lanes: lanes.into_iter().collect(),
            }
        })
        .collect()
}

/// At most this many quiet stretches are squeezed (the longest).
const MAX_GAPS: usize = 3;

/// Stretches of at least a sixth of the run in which nothing is logged and no check looks:
/// the picture squeezes them so the seconds where things happen get the width. The window of
/// a failed check is never squeezed, since its emptiness is often the failure.
pub(super) fn quiet_stretches(o: &Outcome, checks: &[CheckMark], end: u64) -> Vec<(u64, u64)> {
    let mut times: Vec<u64> = o.events.iter().map(|e| e.t_us).collect();
    for c in checks {
        times.extend(c.points.iter().copied());
        times.extend(c.window.iter().flat_map(|w| [w.0, w.1]));
        // A failed window counts as busy throughout.
        if let (false, Some((a, b))) = (c.passed, c.window) {
            times.extend((a..=b).step_by((end / 50).max(1) as usize));
        }
    }
    times.extend([0, end]);
    times.sort_unstable();
    times.dedup();
    let pad = end / 100;
    let mut gaps: Vec<(u64, u64)> = times
        .windows(2)
        .filter(|w| w[1] - w[0] >= end / 6 && w[1] - w[0] > 4 * pad)
        .map(|w| (w[0] + pad, w[1] - pad))
        .collect();
    // The longest few, earliest first on ties; then in time order.
    gaps.sort_by_key(|g| (std::cmp::Reverse(g.1 - g.0), g.0));
    gaps.truncate(MAX_GAPS);
    gaps.sort_unstable();
    gaps
}
