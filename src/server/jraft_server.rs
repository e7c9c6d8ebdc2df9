//! JRaftServer of Nacos 1.4.1 (jraft spec §J4–§J6): the naming group
//! `naming_persistent_service`, run by the pure sofa-jraft core (`crate::jraft`) on this node.
//! This file only drives it: it persists what the core asks, sends its messages over the JRaft
//! port, applies what commits (`persistent_processor.rs`), keeps its timers, and refreshes the
//! route table. Every rule is the core's or cited here.

use super::Server;
use crate::io::NetError;
use crate::jraft::{Core, Event, HardState, Id, LogOp, Msg, Payload, Persisted, Ready, Status};
use crate::trace::{emit, Ev};
use crate::wire::{Api, Body, JraftOp, Request, Response};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// The naming group's name, as sofa-jraft's messages print it (§J4.1).
pub(crate) const GROUP: &str = "naming_persistent_service";

/// The JRaft port of a server: its HTTP port − 1000 (`MemberUtil`, §J4.2).
pub fn jraft_addr(http: SocketAddr) -> SocketAddr {
    SocketAddr::new(http.ip(), http.port().saturating_sub(1000))
}

const META_FILE: &str = "jraft/meta";
const LOG_DIR: &str = "jraft/log/";

/// A completed proposal (its log index) or read, or why it failed.
type Done = Result<u64, Status>;

/// This server's JRaft node and what the driver keeps around it.
pub struct JraftNode {
    pub core: Core<JraftOp>,
    /// This node's index among the configured members.
    pub me: Id,
    /// The JRaft address of every configured member, in cluster order (the index is the Id).
    pub peers: Vec<SocketAddr>,
    /// When this process booted: the core's clock counts milliseconds from it (sofa-jraft
    /// times with a monotonic clock, so a skewed wall clock does not touch it).
    boot: Instant,
    /// RouteTable's cached leader of the group (§J6.3): changed only by a refresh.
    pub route_leader: Option<Id>,
    /// `hasLeader` of PersistentServiceProcessor: set by the first leader event since boot,
    /// never cleared (§J9.2).
    pub has_leader: bool,
    /// `hasError`: the state machine failed (§J9.3); a restart clears it.
    pub has_error: bool,
    next_id: u64,
    proposals: BTreeMap<u64, oneshot::Sender<Done>>,
    reads: BTreeMap<u64, oneshot::Sender<Done>>,
    /// Reads forwarded by a peer (its id, its read number) whose answer goes back on the reply
    /// of that peer's own ReadIndex RPC, as sofa-jraft answers on the request's connection.
    remote_reads: BTreeMap<(Id, u64), oneshot::Sender<Msg<JraftOp>>>,
    /// Times for which a timer task is already sleeping.
    armed: BTreeSet<u64>,
    /// Key → the write (`JraftOp` id) its applied value came from, for the checkers.
    pub applied: BTreeMap<String, u64>,
}

impl JraftNode {
    fn now(&self) -> u64 {
        self.boot.elapsed().as_millis() as u64
    }

    fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// What the disk holds of the log: one file per entry, so an append or a truncation costs what
/// it touches (§J10.1: log and `raft_meta` are persisted, fsync on).
#[derive(Serialize, Deserialize)]
struct Meta {
    term: u64,
    voted_for: Option<Id>,
}

fn log_file(index: u64) -> String {
    format!("{LOG_DIR}{index:020}")
}

fn load(disk: &crate::io::Disk) -> Persisted<JraftOp> {
    let hard_state = disk
        .read(META_FILE)
        .and_then(|m| serde_json::from_str::<Meta>(&m).ok())
        .map(|m| HardState {
            term: m.term,
            voted_for: m.voted_for,
        })
        .unwrap_or_default();
    let entries = disk
        .list(LOG_DIR)
        .into_iter()
        .filter_map(|f| disk.read(&f).and_then(|e| serde_json::from_str(&e).ok()))
        .collect();
    Persisted {
        hard_state,
        snapshot: None,
        entries,
    }
}

/// The core's role in the event vocabulary.
fn jraft_role(r: crate::jraft::Role) -> crate::trace::Role {
    match r {
        crate::jraft::Role::Follower => crate::trace::Role::Follower,
        crate::jraft::Role::Candidate => crate::trace::Role::Candidate,
        crate::jraft::Role::Leader => crate::trace::Role::Leader,
    }
}

fn is_answer(m: &Msg<JraftOp>) -> bool {
    matches!(
        m,
        Msg::PreVoteResp { .. }
            | Msg::VoteResp { .. }
            | Msg::AppendResp(_)
            | Msg::ReadIndexResp { .. }
    )
}

impl Server {
    /// JRaftServer.createMultiRaftGroup at boot (§J4.1): the node restarts from its disk
    /// (§J10.2), listens on the JRaft port, and the route-table refresh starts. JRaft runs from
    /// boot whatever the version judgement says; the judgement only decides whether naming
    /// uses it.
    pub(crate) fn start_jraft(self: &Arc<Self>, members: &[SocketAddr]) {
        let me = members
            .iter()
            .position(|m| *m == self.ctx.addr)
            .expect("a server is one of its members");
        let timing = crate::jraft::Timing::from_config(&self.ctx.cfg);
        let seed = madsim::rand::random::<u64>();
        let core = Core::restart(me, members.len(), timing, seed, 0, load(&self.ctx.disk));
        *self.jraft.lock().unwrap() = Some(JraftNode {
            core,
            me,
            peers: members.iter().map(|m| jraft_addr(*m)).collect(),
            boot: Instant::now(),
            route_leader: None,
            has_leader: false,
            has_error: false,
            next_id: 0,
            proposals: BTreeMap::new(),
            reads: BTreeMap::new(),
            remote_reads: BTreeMap::new(),
            armed: BTreeSet::new(),
            applied: BTreeMap::new(),
        });
        self.ctx
            .net
            .serve_port(jraft_addr(self.ctx.addr).port(), self.clone());
        // The core may have work at once (a group of one elects itself).
        self.jraft_drive(|_, _| ());
        self.start_route_refresh();
    }

    /// Runs `f` on the node at the current time, then acts on what its core produced.
    /// `None` when this server runs no JRaft (a version below 1.4.0).
    pub(crate) fn jraft_drive<T>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut JraftNode, u64) -> T,
    ) -> Option<T> {
        self.jraft_drive_answering(None, f).map(|(t, _)| t)
    }

    /// [`Self::jraft_drive`], keeping back the answers addressed to `peer` (the sender of the
    /// RPC being handled) to return on its connection.
    fn jraft_drive_answering<T>(
        self: &Arc<Self>,
        peer: Option<Id>,
        f: impl FnOnce(&mut JraftNode, u64) -> T,
    ) -> Option<(T, Vec<Msg<JraftOp>>)> {
        let (out, ready) = {
            let mut g = self.jraft.lock().unwrap();
            let node = g.as_mut()?;
            let now = node.now();
            let out = f(node, now);
            (out, node.core.take_ready())
        };
        let answers = self.jraft_act(ready, peer);
        self.jraft_arm();
        Some((out, answers))
    }

    /// Acts on a Ready in the order its contract gives: persist, send, apply, report.
    fn jraft_act(self: &Arc<Self>, ready: Ready<JraftOp>, peer: Option<Id>) -> Vec<Msg<JraftOp>> {
        let disk = &self.ctx.disk;
        if let Some(hs) = ready.hard_state {
            let meta = Meta {
                term: hs.term,
                voted_for: hs.voted_for,
            };
            disk.write(META_FILE, serde_json::to_string(&meta).expect("meta"));
        }
        for op in &ready.log_ops {
            match op {
                LogOp::Truncate { from } => {
                    for f in disk.list(LOG_DIR) {
                        if f.as_str() >= log_file(*from).as_str() {
                            disk.remove(&f);
                        }
                    }
                }
                LogOp::Append(es) => {
                    for e in es {
                        disk.write(&log_file(e.index), serde_json::to_string(e).expect("entry"));
                    }
                }
            }
        }
        let mut answers = vec![];
        for (to, msg) in ready.messages {
            if Some(to) == peer && is_answer(&msg) {
                answers.push(msg);
            } else if let Msg::ReadIndexResp { read, .. } = msg {
                // §J7.1: the leader answers a forwarded read on the follower's own RPC (bolt
                // replies on the request's connection), never on a connection of its own. With
                // no handler waiting (this process restarted since), the answer is lost.
                let waiter = self
                    .jraft
                    .lock()
                    .unwrap()
                    .as_mut()
                    .and_then(|n| n.remote_reads.remove(&(to, read)));
                if let Some(w) = waiter {
                    let _ = w.send(msg);
                }
            } else {
                self.jraft_send(to, msg);
            }
        }
        let mut done: Vec<(u64, Done, bool)> = vec![];
        for a in ready.committed {
            if let Payload::Command(op) = a.payload {
                self.jraft_apply(op, a.index);
            }
            if let Some(p) = a.proposal {
                done.push((p, Ok(a.index), true));
            }
        }
        done.extend(
            ready
                .failed_proposals
                .into_iter()
                .map(|(p, s)| (p, Err(s), true)),
        );
        done.extend(ready.reads.into_iter().map(|(r, res)| (r, res, false)));
        let step_down: Option<String> = ready.events.iter().find_map(|e| match e {
            Event::StepDown { reason, .. } => Some(reason.msg.clone()),
            _ => None,
        });
        {
            let mut g = self.jraft.lock().unwrap();
            let node = g.as_mut().expect("the JRaft node");
            for (id, res, proposal) in done {
                let waiter = if proposal {
                    node.proposals.remove(&id)
                } else {
                    node.reads.remove(&id)
                };
                if let Some(w) = waiter {
                    let _ = w.send(res);
                }
            }
            for e in &ready.events {
                // §J9.2: hasLeader latches on onLeaderStart and onStartFollowing.
                if matches!(e, Event::LeaderStart { .. } | Event::StartFollowing { .. }) {
                    node.has_leader = true;
                }
            }
        }
        for e in ready.events {
            match e {
                Event::Role { role, term } => {
                    let role = jraft_role(role);
                    let reason = (role == crate::trace::Role::Follower)
                        .then(|| step_down.clone())
                        .flatten()
                        .filter(|r| !r.is_empty());
                    emit(self.name(), Ev::JraftState { term, role, reason });
                }
                Event::BecameLeader { term } => {
                    let leader = jraft_addr(self.ctx.addr);
                    emit(self.name(), Ev::JraftLeader { leader, term });
                }
                Event::PreVote { term } => emit(self.name(), Ev::JraftPreVote { term }),
                _ => {}
            }
        }
        answers
    }

    /// Makes sure a timer task wakes the core at its next deadline.
    fn jraft_arm(self: &Arc<Self>) {
        let (deadline, boot) = {
            let mut g = self.jraft.lock().unwrap();
            let Some(node) = g.as_mut() else { return };
            let d = node.core.next_deadline();
            if d == u64::MAX || node.armed.iter().any(|a| *a <= d) {
                return;
            }
            node.armed.insert(d);
            (d, node.boot)
        };
        let server = self.clone();
        tokio::spawn(async move {
            server
                .ctx
                .net
                .sleep_until(boot + Duration::from_millis(deadline))
                .await;
            if let Some(node) = server.jraft.lock().unwrap().as_mut() {
                node.armed.remove(&deadline);
            }
            server.jraft_drive(|n, now| n.core.on_timer(now));
        });
    }

    /// One message to a peer, as an RPC on its JRaft port; its answers come back on the reply.
    fn jraft_send(self: &Arc<Self>, to: Id, msg: Msg<JraftOp>) {
        let (dst, me) = {
            let g = self.jraft.lock().unwrap();
            let Some(node) = g.as_ref() else { return };
            (node.peers[to], node.me)
        };
        let server = self.clone();
        tokio::spawn(async move {
            let c = &server.ctx.cfg;
            let req = Request::server(Api::JraftRpc { from: me, msg });
            let res = server
                .ctx
                .net
                .call(dst, req, c.jraft_connect_timeout, c.jraft_rpc_timeout)
                .await;
            match res {
                Ok(Response {
                    body: Body::Jraft(answers),
                    ..
                }) => {
                    for m in answers {
                        server.jraft_drive(|n, now| n.core.step(now, to, m));
                    }
                }
                // A refused or reset connection fails the RPCs in flight at once.
                Err(NetError::Refused | NetError::Reset) => {
                    server.jraft_drive(|n, now| n.core.report_unreachable(now, to));
                }
                _ => {}
            }
        });
    }

    /// A JRaft RPC from peer `from`: the core handles it; its answers go back on the reply. A
    /// forwarded ReadIndex request is answered when its heartbeat round ends (§J7.1), so its
    /// handler waits for that answer.
    pub(crate) async fn on_jraft_rpc(self: Arc<Self>, from: usize, msg: Msg<JraftOp>) -> Response {
        // §J8.1: a follower answers AppendEntries carrying entries once they are in its log on
        // disk (sofa-jraft's FollowerStableClosure); heartbeats and probes carry none and are
        // answered at once. A stalled disk holds the append, and its answer, until it resumes.
        if matches!(&msg, Msg::Append(req) if !req.entries.is_empty()) {
            self.ctx.disk.writable().await;
        }
        let waiting = match msg {
            Msg::ReadIndex { read } => self.jraft.lock().unwrap().as_mut().map(|n| {
                let (tx, rx) = oneshot::channel();
                n.remote_reads.insert((from, read), tx);
                (read, rx)
            }),
            _ => None,
        };
        let Some(((), answers)) =
            self.jraft_drive_answering(Some(from), |n, now| n.core.step(now, from, msg))
        else {
            return Response::error(500, "no JRaft group on this server");
        };
        match waiting {
            Some((_, rx)) if answers.is_empty() => {
                Response::with(Body::Jraft(rx.await.map(|m| vec![m]).unwrap_or_default()))
            }
            Some((read, _)) => {
                if let Some(n) = self.jraft.lock().unwrap().as_mut() {
                    n.remote_reads.remove(&(from, read));
                }
                Response::with(Body::Jraft(answers))
            }
            None => Response::with(Body::Jraft(answers)),
        }
    }

    /// The role and term of the persistence protocol this server uses: JRaft's once switched,
    /// legacy Raft's before (jraft spec §J13.4).
    pub fn leadership(&self) -> (crate::trace::Role, u64) {
        if self.jraft_active() {
            if let Some(n) = self.jraft.lock().unwrap().as_ref() {
                return (jraft_role(n.core.role()), n.core.term());
            }
        }
        let (role, term, _, _) = self.raft_view();
        (role, term)
    }

    /// This server's JRaft role and term, and for each key the id of the write whose value it
    /// applied (for the checkers; None below 1.4.0).
    pub fn jraft_view(&self) -> Option<(crate::trace::Role, u64, BTreeMap<String, u64>)> {
        let g = self.jraft.lock().unwrap();
        let n = g.as_ref()?;
        Some((jraft_role(n.core.role()), n.core.term(), n.applied.clone()))
    }

    /// `GetLeaderRequest` (§J6.3): this node's idea of the leader.
    pub(crate) fn on_jraft_get_leader(&self) -> Response {
        let leader = self
            .jraft
            .lock()
            .unwrap()
            .as_ref()
            .and_then(|n| n.core.leader());
        Response::with(Body::JraftLeader(leader))
    }

    /// `refreshRouteTable` on the schedule of §J4.3: first 5 s after the group starts, then at
    /// a fixed rate of 5 s + a draw in [0, 5 s) made once per boot.
    fn start_route_refresh(self: &Arc<Self>) {
        let server = self.clone();
        tokio::spawn(async move {
            let c = server.ctx.cfg.clone();
            let jitter = c.jraft_route_refresh_jitter.as_millis() as u64;
            let extra = madsim::rand::random::<u64>() % jitter.max(1);
            let period = c.jraft_route_refresh_initial + Duration::from_millis(extra);
            let mut next = Instant::now() + c.jraft_route_refresh_initial;
            loop {
                server.ctx.net.sleep_until(next).await;
                server.refresh_route_table().await;
                // scheduleAtFixedRate: a late run is followed at once by the next.
                next = (next + period).max(Instant::now());
            }
        });
    }

    /// §J6.3: ask each configured member in turn (this node included, from its own core) for
    /// its leader; the first that names one sets the cache. Unreachable members and members
    /// with no leader are skipped; if none names a leader the cache keeps its old value.
    pub(crate) async fn refresh_route_table(self: &Arc<Self>) {
        let (peers, me) = {
            let g = self.jraft.lock().unwrap();
            let Some(node) = g.as_ref() else { return };
            (node.peers.clone(), node.me)
        };
        for (i, &addr) in peers.iter().enumerate() {
            let leader = if i == me {
                self.jraft
                    .lock()
                    .unwrap()
                    .as_ref()
                    .and_then(|n| n.core.leader())
            } else {
                let c = &self.ctx.cfg;
                let req = Request::server(Api::JraftGetLeader);
                match self
                    .ctx
                    .net
                    .call(addr, req, c.jraft_connect_timeout, c.jraft_rpc_timeout)
                    .await
                {
                    Ok(Response {
                        body: Body::JraftLeader(l),
                        ..
                    }) => l,
                    _ => None,
                }
            };
            if let Some(l) = leader {
                let changed = match self.jraft.lock().unwrap().as_mut() {
                    Some(node) => node.route_leader.replace(l) != Some(l),
                    None => false,
                };
                if changed {
                    emit(self.name(), Ev::JraftRoute { leader: peers[l] });
                }
                return;
            }
        }
    }

    /// Proposes `op` on this node if it leads; the result arrives when the entry applies here
    /// (its index) or the proposal fails (EPERM "Leader stepped down", §J5.5). `None`: this
    /// node is not the leader (or runs no JRaft).
    pub(crate) fn jraft_propose(
        self: &Arc<Self>,
        op: JraftOp,
    ) -> Option<Result<oneshot::Receiver<Done>, Status>> {
        let (tx, rx) = oneshot::channel();
        self.jraft_drive(move |node, now| {
            if node.core.role() != crate::jraft::Role::Leader {
                return None;
            }
            // The waiter is in place before the Ready is acted on: a group of one commits in
            // the same call.
            let id = node.fresh_id();
            node.proposals.insert(id, tx);
            Some(match node.core.propose(now, op, id) {
                Ok(()) => Ok(rx),
                Err(s) => {
                    node.proposals.remove(&id);
                    Err(s)
                }
            })
        })
        .flatten()
    }

    /// Starts a ReadOnlySafe read index (§J7.1): an error known at once, or the waiter.
    pub(crate) fn jraft_read_index(
        self: &Arc<Self>,
    ) -> Option<Result<oneshot::Receiver<Done>, Status>> {
        let (tx, rx) = oneshot::channel();
        self.jraft_drive(move |node, now| {
            let id = node.fresh_id();
            node.reads.insert(id, tx);
            match node.core.read_index(now, id) {
                Ok(()) => Ok(rx),
                Err(s) => {
                    node.reads.remove(&id);
                    Err(s)
                }
            }
        })
    }
}
