//! Faults applied to the simulated world: crashes, restarts, pauses, partitions of every shape,
//! datagram loss and latency. Links are cut with madsim's `clog_link` (which drops the messages)
//! and mirrored into the shared [`NetEnv`] (which tells a refused connection from a timed-out one).

use super::world::World;
use crate::scenario::Fault;
use std::collections::BTreeSet;

impl World {
    /// Applies one fault and records it as a `fault.*` event.
    pub(crate) fn apply_fault(&mut self, f: &Fault) {
        match f {
            Fault::Crash(n) => {
                let i = self.idx(n);
                self.crash(i);
                crate::emit!("fault.crash", n);
            }
            Fault::Restart(n) => {
                let i = self.idx(n);
                self.restart(i);
                crate::emit!("fault.restart", n);
            }
            Fault::Pause(n) => {
                let i = self.idx(n);
                if !self.nodes[i].paused {
                    self.handle.pause(self.nodes[i].id);
                    self.nodes[i].paused = true;
                }
                crate::emit!("fault.pause", n);
            }
            Fault::Resume(n) => {
                let i = self.idx(n);
                if self.nodes[i].paused {
                    self.handle.resume(self.nodes[i].id);
                    self.nodes[i].paused = false;
                }
                crate::emit!("fault.resume", n);
            }
            Fault::Isolate(n) => {
                let i = self.idx(n);
                let links: Vec<(usize, usize)> = (0..self.nodes.len())
                    .filter(|&j| j != i)
                    .flat_map(|j| [(i, j), (j, i)])
                    .collect();
                self.cut(links);
                crate::emit!("fault.isolate", n);
            }
            Fault::Partition(groups) => {
                let idx: Vec<Vec<usize>> = groups
                    .iter()
                    .map(|g| g.iter().map(|n| self.idx(n)).collect())
                    .collect();
                self.cut(partition_links(&idx));
                let desc: Vec<String> = groups
                    .iter()
                    .map(|g| format!("[{}]", g.join(",")))
                    .collect();
                crate::emit!("fault.partition", "-", groups = desc.join(" | "));
            }
            Fault::Bridge { via, sides } => {
                let idx: Vec<Vec<usize>> = sides
                    .iter()
                    .map(|g| g.iter().map(|n| self.idx(n)).collect())
                    .collect();
                self.cut(partition_links(&idx));
                let desc: Vec<String> =
                    sides.iter().map(|g| format!("[{}]", g.join(","))).collect();
                crate::emit!("fault.bridge", "-", via = via, sides = desc.join(" | "));
            }
            Fault::OneWay { from, to } => {
                let (a, b) = (self.idx(from), self.idx(to));
                self.cut(vec![(a, b)]);
                crate::emit!("fault.one_way", "-", from = from, to = to);
            }
            Fault::Heal => {
                let all: Vec<(usize, usize)> = self.cuts.iter().copied().collect();
                for (a, b) in all {
                    self.net.unclog_link(self.nodes[a].id, self.nodes[b].id);
                }
                self.cuts.clear();
                self.env.update(|s| s.cut.clear());
                crate::emit!("fault.heal", "-");
            }
            Fault::Loss(p) => {
                self.env.update(|s| s.datagram_loss = *p);
                crate::emit!("fault.loss", "-", rate = p);
            }
            Fault::Latency(lo, hi) => {
                let (lo, hi) = (*lo, *hi);
                self.net.update_config(|c| {
                    c.send_latency = lo..hi.max(lo + std::time::Duration::from_micros(1))
                });
                crate::emit!(
                    "fault.latency",
                    "-",
                    min_ms = lo.as_millis(),
                    max_ms = hi.as_millis()
                );
            }
        }
    }

    /// Cuts directed links (idempotent).
    fn cut(&mut self, links: impl IntoIterator<Item = (usize, usize)>) {
        for (a, b) in links {
            if self.cuts.insert((a, b)) {
                self.net.clog_link(self.nodes[a].id, self.nodes[b].id);
                let (ia, ib) = (self.nodes[a].addr.ip(), self.nodes[b].addr.ip());
                self.env.update(|s| {
                    s.cut.insert((ia, ib));
                });
            }
        }
    }

    fn crash(&mut self, i: usize) {
        if self.nodes[i].up {
            self.handle.kill(self.nodes[i].id);
            self.nodes[i].up = false;
            self.nodes[i].paused = false;
            self.nodes[i].slot.clear();
            let ip = self.nodes[i].addr.ip();
            self.env.update(|s| {
                s.down.insert(ip);
            });
        }
    }

    /// Starts the node's process again (a running node is killed first: a reboot).
    fn restart(&mut self, i: usize) {
        self.crash(i);
        self.handle.restart(self.nodes[i].id);
        self.nodes[i].up = true;
        let ip = self.nodes[i].addr.ip();
        self.env.update(|s| {
            s.down.remove(&ip);
        });
    }
}

/// Every directed link between nodes of different groups.
pub fn partition_links(groups: &[Vec<usize>]) -> BTreeSet<(usize, usize)> {
    let mut out = BTreeSet::new();
    for (gi, g) in groups.iter().enumerate() {
        for (hi, h) in groups.iter().enumerate() {
            if gi != hi {
                for &a in g {
                    for &b in h {
                        out.insert((a, b));
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_cuts_every_cross_pair_both_ways_and_nothing_inside() {
        let l = partition_links(&[vec![0, 1], vec![2]]);
        let want: BTreeSet<_> = [(0, 2), (1, 2), (2, 0), (2, 1)].into_iter().collect();
        assert_eq!(l, want);
        assert!(partition_links(&[vec![0, 1]]).is_empty());
    }
}
