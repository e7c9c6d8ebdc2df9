//! What the checks and the checkers point at: anomaly findings placed where and when they
//! happened, each check's window and times, and the quiet stretches the picture squeezes.

use super::model::Builder;
use super::*;
use crate::report::Outcome;
use crate::trace::Event;

impl Builder<'_> {
    pub(super) fn anomaly(&mut self, e: &Event) {
        let kind = e.kind.trim_start_matches("anomaly.");
        let detail = e.get("detail").unwrap_or("");
        self.anomalies.push(Point {
            t: e.t_us,
            lanes: vec![],
            label: kind.to_string(),
            text: format!("{kind}, reported by the checker at the end of the run: {detail}"),
        });
        // Each finding says where and when it happened ("failed on s1 at 58.006s",
        // "term 3: s1 and s2"): put a point there too.
        for f in detail.split("; ") {
            let (ts, who) = if kind == "two_leaders" {
                let term = f.strip_prefix("term ").and_then(|r| r.split(':').next());
                let ts = self
                    .o
                    .events
                    .iter()
                    .filter(|x| x.kind == "raft.leader" && x.get("term") == term)
                    .map(|x| x.t_us)
                    .collect();
                (ts, self.lanes_in(f))
            } else {
                let before = f.rsplit_once(" at ").map_or(f, |(a, _)| a);
                let subject = before.rsplit_once(" on ").map_or(before, |(_, b)| b);
                let subject = subject.rsplit_once(" by ").map_or(subject, |(_, b)| b);
                (times_after_at(f), self.lanes_in(subject))
            };
            for t in ts {
                self.anomalies.push(Point {
                    t,
                    lanes: who.clone(),
                    label: kind.to_string(),
                    text: f.to_string(),
                });
            }
        }
    }

    pub(super) fn checks(&self) -> Vec<CheckMark> {
        let clamp = |t: u64| t.min(self.end_us);
        self.o
            .checks
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut points: Vec<u64> =
                    times_after_at(&c.detail).into_iter().map(clamp).collect();
                if !c.passed && points.is_empty() && window_of(&c.name).is_none() {
                    // An always-on check repeats its anomaly's detail: take that event's time.
                    let related = self.o.events.iter().find(|e| {
                        e.kind.starts_with("anomaly.")
                            && e.get("detail")
                                .is_some_and(|d| !d.is_empty() && c.detail.contains(d))
                    });
                    points.extend(related.map(|e| e.t_us));
                }
                CheckMark {
                    n: i + 1,
                    passed: c.passed,
                    name: c.name.clone(),
                    detail: c.detail.clone(),
                    window: window_of(&c.name).map(|(a, b)| (clamp(a), clamp(b))),
                    points,
                    lanes: self.lanes_in(&c.name),
                }
            })
            .collect()
    }
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
