//! Faults applied to the simulated world: crashes, restarts, pauses, partitions of every shape,
//! datagram loss and latency. Network faults go into the shared [`NetEnv`](crate::io::NetEnv)
//! the transport reads; processes are killed, restarted, paused and resumed through madsim.

use super::world::{Proc, World};
use crate::io::{NoConnect, ResumeOrder};
use crate::scenario::Fault;
use crate::trace::{emit, ConnectFail, Ev, Groups, Names, RunFirst};
use std::collections::BTreeSet;
use std::net::SocketAddr;

/// madsim's default per-message latency (its `net::Config`), restored by `heal_all`.
pub use crate::scenario::DEFAULT_LATENCY;

impl World {
    /// Applies one fault and records it as a `fault.*` event.
    /// The nodes a fault target names: a node, or a role resolved now (`@leader`: the up
    /// server leading Raft with the highest term; `@followers`: the other up servers;
    /// `@crashed`: the servers that are down, so `restart = "@crashed"` brings back whichever
    /// server an earlier `crash = "@leader"` took). Roles are JRaft's on a server that has
    /// switched, legacy Raft's before (jraft spec §J13.4).
    pub(crate) fn targets(&self, name: &str) -> Vec<usize> {
        if !name.starts_with('@') {
            return vec![self.idx(name)];
        }
        if name == "@crashed" {
            let nodes = &self.nodes;
            return (0..nodes.len())
                .filter(|&i| matches!(nodes[i].slot, Proc::Server(_)) && !nodes[i].up)
                .collect();
        }
        let mut leader: Option<(u64, usize)> = None;
        let mut servers = vec![];
        for (i, n) in self.nodes.iter().enumerate() {
            if let (Proc::Server(s), true) = (&n.slot, n.up) {
                if let Some(server) = s.get() {
                    let (role, term) = server.leadership();
                    servers.push(i);
                    if role == crate::model::raft::Role::Leader
                        && leader.is_none_or(|(t, _)| term > t)
                    {
                        leader = Some((term, i));
                    }
                }
            }
        }
        match name {
            "@leader" => leader.map(|(_, i)| vec![i]).unwrap_or_default(),
            _ => servers
                .into_iter()
                .filter(|i| Some(*i) != leader.map(|l| l.1))
                .collect(),
        }
    }

    fn names(&self, idx: &[usize]) -> Names {
        Names(idx.iter().map(|i| self.nodes[*i].name.clone()).collect())
    }

    /// Applies one fault and records it as a `fault.*` event (`target` = the role it named).
    pub(crate) fn apply_fault(&mut self, f: &Fault) {
        match f {
            Fault::Crash(n)
            | Fault::Restart(n)
            | Fault::Pause(n)
            | Fault::Resume(n, _)
            | Fault::Isolate(n) => {
                let targets = self.targets(n);
                for &i in &targets {
                    match f {
                        Fault::Crash(_) => self.crash(i),
                        Fault::Restart(_) => self.restart(i),
                        Fault::Pause(_) if !self.nodes[i].paused => {
                            self.handle.pause(self.nodes[i].id);
                            self.nodes[i].paused = true;
                        }
                        Fault::Resume(_, order) if self.nodes[i].paused => {
                            let (id, addr) = (self.nodes[i].id, self.nodes[i].addr);
                            self.env.resume_with_order(id, addr, *order);
                            self.nodes[i].paused = false;
                        }
                        Fault::Isolate(_) => {
                            let links: Vec<(usize, usize)> = (0..self.nodes.len())
                                .filter(|&j| j != i)
                                .flat_map(|j| [(i, j), (j, i)])
                                .collect();
                            self.cut(links);
                        }
                        _ => {}
                    }
                }
                // One event per node hit; a role that named nobody is logged on `-`.
                let target = n.starts_with('@').then(|| n.clone());
                let ev = |target: Option<String>| match f {
                    Fault::Crash(_) => Ev::FaultCrash { target },
                    Fault::Restart(_) => Ev::FaultRestart { target },
                    Fault::Pause(_) => Ev::FaultPause { target },
                    Fault::Resume(_, order) => Ev::FaultResume {
                        target,
                        order: run_first(*order),
                    },
                    _ => Ev::FaultIsolate { target },
                };
                if targets.is_empty() {
                    emit("-", ev(target.clone()));
                }
                for &i in &targets {
                    emit(&self.nodes[i].name, ev(target.clone()));
                }
            }
            Fault::Partition(groups) => {
                let idx: Vec<Vec<usize>> = groups
                    .iter()
                    .map(|g| g.iter().flat_map(|n| self.targets(n)).collect())
                    .collect();
                self.cut(partition_links(&idx));
                let groups = Groups(idx.iter().map(|g| self.names(g)).collect());
                emit("-", Ev::FaultPartition { groups });
            }
            Fault::Bridge { via, sides } => {
                let idx: Vec<Vec<usize>> = sides
                    .iter()
                    .map(|g| g.iter().flat_map(|n| self.targets(n)).collect())
                    .collect();
                self.cut(partition_links(&idx));
                let sides = Groups(idx.iter().map(|g| self.names(g)).collect());
                let via = self.names(&self.targets(via));
                emit("-", Ev::FaultBridge { via, sides });
            }
            Fault::Ring(order) => {
                let idx: Vec<usize> = order.iter().flat_map(|n| self.targets(n)).collect();
                self.cut(ring_links(&idx));
                emit(
                    "-",
                    Ev::FaultRing {
                        order: self.names(&idx),
                    },
                );
            }
            Fault::OneWay { from, to } => {
                let (a, b) = (self.targets(from), self.targets(to));
                self.cut(pairs(&a, &b));
                let (from, to) = (self.names(&a), self.names(&b));
                emit("-", Ev::FaultOneWay { from, to });
            }
            Fault::NoConnect { from, to, mode } => {
                let (a, b) = (self.targets(from), self.targets(to));
                for (x, y) in pairs(&a, &b) {
                    let (ix, iy) = (self.nodes[x].addr.ip(), self.nodes[y].addr.ip());
                    self.env.no_connect(ix, iy, *mode);
                }
                let mode = match mode {
                    NoConnect::Timeout => ConnectFail::Timeout,
                    NoConnect::Refused => ConnectFail::Refused,
                };
                let (from, to) = (self.names(&a), self.names(&b));
                emit("-", Ev::FaultNoConnect { from, to, mode });
            }
            Fault::Delay { from, to, extra } => {
                let (a, b) = (self.targets(from), self.targets(to));
                for (x, y) in pairs(&a, &b) {
                    let (ix, iy) = (self.nodes[x].addr.ip(), self.nodes[y].addr.ip());
                    self.env.set_link_delay(ix, iy, *extra);
                }
                let (from, to) = (self.names(&a), self.names(&b));
                let extra_ms = extra.as_millis() as u64;
                emit("-", Ev::FaultDelay { from, to, extra_ms });
            }
            Fault::BlockPort {
                node,
                port,
                blocked,
            } => {
                let targets = self.targets(node);
                let target = node.starts_with('@').then(|| node.clone());
                let (port, blocked) = (*port, *blocked);
                let ev = |target: Option<String>| match blocked {
                    true => Ev::FaultBlockPort { port, target },
                    false => Ev::FaultUnblockPort { port, target },
                };
                if targets.is_empty() {
                    emit("-", ev(target.clone()));
                }
                for i in targets {
                    let addr = SocketAddr::new(self.nodes[i].addr.ip(), port);
                    self.env.block_port(addr, blocked);
                    emit(&self.nodes[i].name, ev(target.clone()));
                }
            }
            Fault::Heal => {
                self.cuts.clear();
                self.env.heal_links();
                emit("-", Ev::FaultHeal {});
            }
            Fault::PortDown(addr) => {
                let a = addr.clone();
                self.env.update(|s| {
                    s.closed_ports.insert(a);
                });
                let instance = addr.clone();
                emit("-", Ev::FaultPortDown { instance });
            }
            Fault::PortUp(addr) => {
                self.env.update(|s| {
                    s.closed_ports.remove(addr);
                });
                let instance = addr.clone();
                emit("-", Ev::FaultPortUp { instance });
            }
            Fault::Loss(p) => {
                self.env.update(|s| s.datagram_loss = *p);
                emit("-", Ev::FaultLoss { rate: *p });
            }
            Fault::ClockSkew {
                node,
                offset_ms,
                drift,
            } => {
                let targets = self.targets(node);
                for &i in &targets {
                    self.nodes[i].clock.set_skew(*offset_ms, *drift);
                    let (offset_ms, drift) = (*offset_ms, *drift);
                    emit(&self.nodes[i].name, Ev::FaultClockSkew { offset_ms, drift });
                }
            }
            Fault::DiskStall { node, stalled } => {
                let target = node.starts_with('@').then(|| node.clone());
                for i in self.targets(node) {
                    self.nodes[i].disk.set_stalled(*stalled);
                    let target = target.clone();
                    let ev = match stalled {
                        true => Ev::FaultStallDisk { target },
                        false => Ev::FaultUnstallDisk { target },
                    };
                    emit(&self.nodes[i].name, ev);
                }
            }
            Fault::HealAll => self.heal_all(),
            Fault::JraftError(n) => {
                let target = n.starts_with('@').then(|| n.clone());
                for i in self.targets(n) {
                    if let Proc::Server(s) = &self.nodes[i].slot {
                        if let Some(server) = s.get() {
                            server.fail_state_machine();
                        }
                    }
                    let target = target.clone();
                    emit(&self.nodes[i].name, Ev::FaultJraftError { target });
                }
            }
            Fault::Panic(n) => {
                for i in self.targets(n) {
                    let name = self.nodes[i].name.clone();
                    emit(&name, Ev::FaultPanic {});
                    if let Some(node) = self.handle.get_node(self.nodes[i].id) {
                        node.spawn(async move {
                            panic!("injected panic on {name} (fault `panic`)");
                        });
                    }
                }
            }
            Fault::Latency(lo, hi) => {
                let (lo, hi) = (*lo, *hi);
                self.latency = lo..hi;
                self.env
                    .update(|s| s.latency = lo..hi.max(lo + std::time::Duration::from_micros(1)));
                let (min_ms, max_ms) = (lo.as_millis() as u64, hi.as_millis() as u64);
                emit("-", Ev::FaultLatency { min_ms, max_ms });
            }
        }
    }

    /// Undoes every fault in force (the end of a chaos schedule), one event per thing undone
    /// and a `fault.heal_all` summary.
    fn heal_all(&mut self) {
        // Cuts, no_connect, link delays and blocked ports: `heal` removes them all.
        if self.env.state().has_link_faults() {
            self.apply_fault(&Fault::Heal);
        }
        for i in 0..self.nodes.len() {
            if self.nodes[i].paused {
                self.handle.resume(self.nodes[i].id);
                self.nodes[i].paused = false;
                let ev = Ev::FaultResume {
                    target: None,
                    order: None,
                };
                emit(&self.nodes[i].name, ev);
            }
            if !self.nodes[i].up {
                self.restart(i);
                emit(&self.nodes[i].name, Ev::FaultRestart { target: None });
            }
            if self.nodes[i].disk.stalled() {
                self.nodes[i].disk.set_stalled(false);
                emit(&self.nodes[i].name, Ev::FaultUnstallDisk { target: None });
            }
            if self.nodes[i].clock.is_skewed() {
                self.nodes[i].clock.set_skew(0, 0.0);
                let ev = Ev::FaultClockSkew {
                    offset_ms: 0,
                    drift: 0.0,
                };
                emit(&self.nodes[i].name, ev);
            }
        }
        if self.env.state().datagram_loss > 0.0 {
            self.apply_fault(&Fault::Loss(0.0));
        }
        if self.latency != DEFAULT_LATENCY {
            self.apply_fault(&Fault::Latency(DEFAULT_LATENCY.start, DEFAULT_LATENCY.end));
        }
        emit("-", Ev::FaultHealAll {});
    }

    /// Cuts directed links (idempotent).
    fn cut(&mut self, links: impl IntoIterator<Item = (usize, usize)>) {
        for (a, b) in links {
            if self.cuts.insert((a, b)) {
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
            let addr = self.nodes[i].addr;
            self.env.update(|s| {
                s.down.insert(addr.ip());
            });
            // Calls in flight to the killed process are reset (NetError::Reset).
            self.env.crash(addr);
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

/// `fault.resume order=`: what ran first (none for madsim's seeded order).
fn run_first(order: ResumeOrder) -> Option<RunFirst> {
    match order {
        ResumeOrder::Seeded => None,
        ResumeOrder::TimersFirst => Some(RunFirst::Timers),
        ResumeOrder::RequestsFirst => Some(RunFirst::Requests),
    }
}

/// Every directed link from a node of `a` to a different node of `b`.
fn pairs(a: &[usize], b: &[usize]) -> Vec<(usize, usize)> {
    a.iter()
        .flat_map(|x| b.iter().map(move |y| (*x, *y)))
        .filter(|(x, y)| x != y)
        .collect()
}

/// Jepsen's majorities ring over `order`: each node keeps its links to the nodes within
/// `majority / 2` places of it around the ring (itself included, a majority of the ring) and
/// loses every other link, both ways.
pub fn ring_links(order: &[usize]) -> BTreeSet<(usize, usize)> {
    let n = order.len();
    let reach = (n / 2).div_ceil(2);
    let mut out = BTreeSet::new();
    for (i, &a) in order.iter().enumerate() {
        for (j, &b) in order.iter().enumerate() {
            let d = i.abs_diff(j);
            if d.min(n - d) > reach {
                out.insert((a, b));
            }
        }
    }
    out
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
    fn a_ring_leaves_every_node_a_majority_and_no_two_the_same() {
        for n in 4..=9 {
            let order: Vec<usize> = (0..n).collect();
            let cut = ring_links(&order);
            let sees = |a: usize| -> BTreeSet<usize> {
                (0..n).filter(|b| !cut.contains(&(a, *b))).collect()
            };
            for a in 0..n {
                assert!(sees(a).len() > n / 2, "n={n}: node {a} sees {:?}", sees(a));
                assert!(sees(a).contains(&a));
                for b in 0..n {
                    assert_eq!(cut.contains(&(a, b)), cut.contains(&(b, a)), "symmetric");
                    if a != b {
                        assert_ne!(sees(a), sees(b), "n={n}: {a} and {b} see the same majority");
                    }
                }
            }
        }
        // Five nodes: each reaches its two neighbours only.
        let cut = ring_links(&[0, 1, 2, 3, 4]);
        assert!(!cut.contains(&(0, 1)) && !cut.contains(&(0, 4)));
        assert!(cut.contains(&(0, 2)) && cut.contains(&(0, 3)));
    }

    #[test]
    fn partition_cuts_every_cross_pair_both_ways_and_nothing_inside() {
        let l = partition_links(&[vec![0, 1], vec![2]]);
        let want: BTreeSet<_> = [(0, 2), (1, 2), (2, 0), (2, 1)].into_iter().collect();
        assert_eq!(l, want);
        assert!(partition_links(&[vec![0, 1]]).is_empty());
    }
}
