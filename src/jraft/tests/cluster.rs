//! A deterministic test cluster: cores over a seeded network that can delay, reorder, drop
//! and cut messages, with crashes and restarts from what each node persisted. Every Ready is
//! handled as its contract says (persist, send, apply, report), and the Raft safety
//! properties are checked as the run goes: election safety, leader completeness, state
//! machine safety, apply order, read linearizability; log matching on demand.

use super::super::{Apply, Core, Event, Id, Msg, Payload, Persisted, Role, Status, Timing};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

/// Commands are unique numbers; a proposal's id is its command.
pub type Cmd = u64;

/// Drops a message when it returns true: (time, from, to, message).
pub type Filter = Box<dyn FnMut(u64, Id, Id, &Msg<Cmd>) -> bool>;

pub struct Cluster {
    pub n: usize,
    pub now: u64,
    pub timing: Timing,
    pub nodes: Vec<Option<Core<Cmd>>>,
    pub disks: Vec<Persisted<Cmd>>,
    seed: u64,
    rng: ChaCha8Rng,
    queue: BTreeMap<(u64, u64), (Id, Id, Msg<Cmd>)>,
    qseq: u64,
    incarnations: Vec<u64>,
    /// One-way latency, uniform in [lo, hi] ms.
    pub latency: (u64, u64),
    pub drop_per_mille: u64,
    /// Directed links that lose every message (checked at send and at delivery).
    pub cut: BTreeSet<(Id, Id)>,
    pub filter: Option<Filter>,
    /// A send to a crashed node or over a cut link is refused at once and reported to the
    /// sender (`Core::report_unreachable`), like a refused connection.
    pub refuse: bool,
    /// Every message sent (before loss): (time, from, to, message).
    pub sent: Vec<(u64, Id, Id, Msg<Cmd>)>,
    pub events: Vec<(u64, Id, Event)>,
    /// Per node, every apply with its time, across restarts.
    pub applied: Vec<Vec<(u64, Apply<Cmd>)>>,
    pub failed: Vec<(u64, Id, u64, Status)>,
    pub read_results: Vec<(u64, Id, u64, Result<u64, Status>)>,

    // --- invariant state
    leaders: BTreeMap<u64, Id>,
    committed: BTreeMap<u64, (u64, Payload<Cmd>)>,
    last_applied: Vec<u64>,
    max_applied: u64,
    read_floor: BTreeMap<(Id, u64), u64>,
}

impl Cluster {
    /// `n` fresh nodes booted at time 0; 1 ms latency, no loss.
    pub fn new(n: usize, seed: u64) -> Cluster {
        Cluster::with_disks(vec![Persisted::default(); n], seed)
    }

    /// Nodes booted at time 0 from the given disks (spec §J10.2).
    pub fn with_disks(disks: Vec<Persisted<Cmd>>, seed: u64) -> Cluster {
        let n = disks.len();
        let timing = Timing::default();
        let mut c = Cluster {
            n,
            now: 0,
            timing,
            nodes: (0..n).map(|_| None).collect(),
            disks,
            seed,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x6a72_6166_7421),
            queue: BTreeMap::new(),
            qseq: 0,
            incarnations: vec![0; n],
            latency: (1, 1),
            drop_per_mille: 0,
            cut: BTreeSet::new(),
            filter: None,
            refuse: false,
            sent: Vec::new(),
            events: Vec::new(),
            applied: vec![Vec::new(); n],
            failed: Vec::new(),
            read_results: Vec::new(),
            leaders: BTreeMap::new(),
            committed: BTreeMap::new(),
            last_applied: vec![0; n],
            max_applied: 0,
            read_floor: BTreeMap::new(),
        };
        for i in 0..n {
            c.boot(i);
        }
        c
    }

    fn boot(&mut self, i: Id) {
        let seed = self
            .seed
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .wrapping_add((i as u64) << 32 | self.incarnations[i]);
        let disk = self.disks[i].clone();
        self.last_applied[i] = disk.snapshot.map_or(0, |s| s.0);
        self.nodes[i] = Some(Core::restart(i, self.n, self.timing, seed, self.now, disk));
        self.drain(i);
    }

    pub fn node(&self, i: Id) -> &Core<Cmd> {
        self.nodes[i].as_ref().expect("node is up")
    }

    pub fn is_up(&self, i: Id) -> bool {
        self.nodes[i].is_some()
    }

    /// The up node that is LEADER with the highest term.
    pub fn leader(&self) -> Option<Id> {
        (0..self.n)
            .filter(|&i| {
                self.nodes[i]
                    .as_ref()
                    .is_some_and(|c| c.role() == Role::Leader)
            })
            .max_by_key(|&i| self.node(i).term())
    }

    /// Leaders whose configuration entry committed (`onLeaderStart`), by term.
    pub fn leader_starts(&self) -> Vec<(u64, Id, u64)> {
        self.events
            .iter()
            .filter_map(|(t, i, e)| match e {
                Event::LeaderStart { term } => Some((*t, *i, *term)),
                _ => None,
            })
            .collect()
    }

    pub fn events_of(&self, i: Id) -> Vec<(u64, Event)> {
        self.events
            .iter()
            .filter(|(_, j, _)| *j == i)
            .map(|(t, _, e)| (*t, e.clone()))
            .collect()
    }

    /// Commands applied by node `i` in its current life, in order.
    pub fn applied_cmds(&self, i: Id) -> Vec<Cmd> {
        self.applied[i]
            .iter()
            .filter_map(|(_, a)| match a.payload {
                Payload::Command(c) => Some(c),
                Payload::Configuration => None,
            })
            .collect()
    }

    // ------------------------------------------------------------ faults

    pub fn isolate(&mut self, i: Id) {
        for j in 0..self.n {
            if j != i {
                self.cut.insert((i, j));
                self.cut.insert((j, i));
            }
        }
    }

    /// Cuts every link between the groups.
    pub fn partition(&mut self, groups: &[&[Id]]) {
        for (a, ga) in groups.iter().enumerate() {
            for (b, gb) in groups.iter().enumerate() {
                if a != b {
                    for &i in ga.iter() {
                        for &j in gb.iter() {
                            self.cut.insert((i, j));
                        }
                    }
                }
            }
        }
    }

    pub fn heal(&mut self) {
        self.cut.clear();
    }

    pub fn crash(&mut self, i: Id) {
        self.nodes[i] = None;
    }

    pub fn restart(&mut self, i: Id) {
        assert!(self.nodes[i].is_none(), "crash before restart");
        self.incarnations[i] += 1;
        self.boot(i);
    }

    // ------------------------------------------------------------ client calls

    pub fn propose(&mut self, i: Id, cmd: Cmd) -> Result<(), Status> {
        let now = self.now;
        let r = self.nodes[i].as_mut().expect("up").propose(now, cmd, cmd);
        self.drain(i);
        r
    }

    pub fn read(&mut self, i: Id, id: u64) -> Result<(), Status> {
        self.read_floor.insert((i, id), self.max_applied);
        let now = self.now;
        let r = self.nodes[i].as_mut().expect("up").read_index(now, id);
        self.drain(i);
        r
    }

    pub fn read_result(&self, i: Id, id: u64) -> Option<Result<u64, Status>> {
        self.read_results
            .iter()
            .find(|(_, j, rid, _)| *j == i && *rid == id)
            .map(|(_, _, _, r)| r.clone())
    }

    // ------------------------------------------------------------ time

    pub fn next_time(&self) -> Option<u64> {
        let q = self.queue.keys().next().map(|k| k.0);
        let t = self.nodes.iter().flatten().map(|c| c.next_deadline()).min();
        match (q, t) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Handles the next message delivery or timer.
    pub fn step_once(&mut self) {
        let Some(t) = self.next_time() else { return };
        assert!(t >= self.now, "time went back: {t} < {}", self.now);
        self.now = t;
        if let Some((&key, _)) = self.queue.iter().next() {
            if key.0 == t {
                let (from, to, msg) = self.queue.remove(&key).expect("present");
                if self.cut.contains(&(from, to)) {
                    return;
                }
                if let Some(node) = self.nodes[to].as_mut() {
                    node.step(t, from, msg);
                    self.drain(to);
                }
                return;
            }
        }
        let i = (0..self.n)
            .find(|&i| {
                self.nodes[i]
                    .as_ref()
                    .is_some_and(|c| c.next_deadline() == t)
            })
            .expect("a node is due");
        self.nodes[i].as_mut().expect("up").on_timer(t);
        self.drain(i);
    }

    pub fn run_until(&mut self, t: u64) {
        while self.next_time().is_some_and(|x| x <= t) {
            self.step_once();
        }
        self.now = self.now.max(t);
    }

    pub fn run_for(&mut self, d: u64) {
        self.run_until(self.now + d);
    }

    /// Runs until `pred` holds (checked after each event) or `limit`; whether it held.
    pub fn run_until_pred(&mut self, limit: u64, pred: impl Fn(&Cluster) -> bool) -> bool {
        loop {
            if pred(self) {
                return true;
            }
            match self.next_time() {
                Some(t) if t <= limit => self.step_once(),
                _ => {
                    self.now = self.now.max(limit);
                    return pred(self);
                }
            }
        }
    }

    /// Runs until some node is leader and its configuration entry has committed.
    pub fn elect(&mut self, limit: u64) -> Id {
        let ok = self.run_until_pred(limit, |c| {
            c.leader()
                .is_some_and(|l| c.node(l).commit_index() >= c.node(l).log().last_index())
        });
        assert!(ok, "no leader by {limit}");
        self.leader().expect("leader")
    }

    // ------------------------------------------------------------ Ready handling

    fn drain(&mut self, i: Id) {
        while self.nodes[i].as_ref().is_some_and(|c| c.has_ready()) {
            let refused = self.handle_ready(i);
            let now = self.now;
            for to in refused {
                self.nodes[i]
                    .as_mut()
                    .expect("up")
                    .report_unreachable(now, to);
            }
        }
    }

    /// Handles one Ready of node `i`; returns the peers whose connection was refused.
    fn handle_ready(&mut self, i: Id) -> Vec<Id> {
        let node = self.nodes[i].as_mut().expect("up");
        let ready = node.take_ready();
        let node = self.nodes[i].as_ref().expect("up");
        // 1. persist
        self.disks[i].apply(&ready);
        assert_eq!(self.disks[i].hard_state, node.hard_state(), "node {i}");
        // Observations that need the node's state right after the step.
        for e in &ready.events {
            if let Event::BecameLeader { term } = e {
                // Election safety: at most one leader per term, over the whole run.
                if let Some(prev) = self.leaders.insert(*term, i) {
                    assert_eq!(prev, i, "two leaders in term {term}: {prev} and {i}");
                }
                // Leader completeness: a new leader holds every committed entry.
                for (idx, (t, p)) in &self.committed {
                    let e = node.log().get(*idx);
                    assert!(
                        e.is_some_and(|e| e.term == *t && e.payload == *p),
                        "leader {i} of term {term} lacks committed entry {idx}"
                    );
                }
            }
        }
        // 2. send
        let mut refused = Vec::new();
        for (to, msg) in ready.messages {
            if !self.send(i, to, msg) && !refused.contains(&to) {
                refused.push(to);
            }
        }
        // 3. apply: in order, each index once per life, the same entry everywhere.
        for a in ready.committed {
            assert_eq!(
                a.index,
                self.last_applied[i] + 1,
                "node {i} applied out of order"
            );
            self.last_applied[i] = a.index;
            match self.committed.get(&a.index) {
                Some((t, p)) => assert!(
                    *t == a.term && *p == a.payload,
                    "state machine safety: node {i} applied a different entry at {}",
                    a.index
                ),
                None => {
                    self.committed.insert(a.index, (a.term, a.payload.clone()));
                }
            }
            self.max_applied = self.max_applied.max(a.index);
            self.applied[i].push((self.now, a));
        }
        // 4. report
        for (id, st) in ready.failed_proposals {
            self.failed.push((self.now, i, id, st));
        }
        for (id, r) in ready.reads {
            if let Ok(idx) = r {
                // Linearizable read: it sees every entry applied anywhere before it began,
                // and the local state machine has applied its index.
                let floor = self.read_floor.get(&(i, id)).copied().unwrap_or(0);
                assert!(
                    idx >= floor,
                    "stale read {id} on {i}: index {idx} < {floor}"
                );
                assert!(self.last_applied[i] >= idx, "read {id} on {i} before apply");
            }
            self.read_results.push((self.now, i, id, r));
        }
        for e in ready.events {
            self.events.push((self.now, i, e));
        }
        refused
    }

    /// Sends or loses a message; false when the connection is refused.
    fn send(&mut self, from: Id, to: Id, msg: Msg<Cmd>) -> bool {
        self.sent.push((self.now, from, to, msg.clone()));
        if self.cut.contains(&(from, to)) || self.nodes[to].is_none() {
            return !self.refuse;
        }
        if let Some(f) = self.filter.as_mut() {
            if f(self.now, from, to, &msg) {
                return true;
            }
        }
        if self.drop_per_mille > 0 && self.rng.next_u64() % 1000 < self.drop_per_mille {
            return true;
        }
        let (lo, hi) = self.latency;
        let lat = lo + self.rng.next_u64() % (hi - lo + 1);
        self.qseq += 1;
        self.queue
            .insert((self.now + lat, self.qseq), (from, to, msg));
        true
    }

    /// Log matching over every disk (crashed nodes included): if two logs hold an entry with
    /// the same index and term, they are identical up to it.
    pub fn check_log_matching(&self) {
        for a in 0..self.n {
            for b in a + 1..self.n {
                let (la, lb) = (&self.disks[a].entries, &self.disks[b].entries);
                let common = la.len().min(lb.len());
                if let Some(k) = (0..common).rev().find(|&k| la[k].term == lb[k].term) {
                    assert_eq!(la[..=k], lb[..=k], "log matching between {a} and {b}");
                }
            }
        }
    }

    /// Messages sent from `from` to `to` that satisfy `f`, with their send times.
    pub fn sent_between(
        &self,
        from: Id,
        to: Id,
        f: impl Fn(&Msg<Cmd>) -> bool,
    ) -> Vec<(u64, Msg<Cmd>)> {
        self.sent
            .iter()
            .filter(|(_, a, b, m)| *a == from && *b == to && f(m))
            .map(|(t, _, _, m)| (*t, m.clone()))
            .collect()
    }
}
