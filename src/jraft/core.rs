//! The node: its state, its timers, the driver-facing API and the rules shared by every role
//! (step-down, leader tracking, apply). Elections are in `election.rs`, log replication in
//! `replication.rs`, read-index in `read.rs`.

use super::log::RaftLog;
use super::read::{Origin, Reads};
use super::timing::Timing;
use super::types::{
    Apply, Code, Event, HardState, Id, Msg, Payload, Persisted, ProposeError, ReadError, Ready,
    Role, Status,
};
use super::{Core, Timer, FIRING};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

impl<C: Clone + Debug + PartialEq> Core<C> {
    /// A node booting on an empty disk: FOLLOWER at term 0 (spec §J3, §J5.1). `me` indexes the
    /// configured members `0..n`; `seed` drives the election jitter.
    pub fn new(me: Id, n: usize, timing: Timing, seed: u64, now: u64) -> Core<C> {
        Core::restart(me, n, timing, seed, now, Persisted::default())
    }

    /// A node booting on what it persisted (spec §J10.2): term, vote and log come back; it is
    /// a FOLLOWER that knows no leader and no commit index beyond its snapshot, so it applies
    /// nothing until a leader tells it the commit index, then re-applies from the snapshot on.
    pub fn restart(
        me: Id,
        n: usize,
        timing: Timing,
        seed: u64,
        now: u64,
        persisted: Persisted<C>,
    ) -> Core<C> {
        assert!(
            me < n,
            "member {me} is not among the {n} configured members"
        );
        assert!(
            timing.election_timeout >= 2 && timing.heartbeat > 0 && timing.rpc_timeout > 0,
            "JRaft timeouts must be positive: {timing:?}"
        );
        let log = RaftLog::new(persisted.snapshot, persisted.entries);
        let snap = log.snapshot_index();
        let mut core = Core {
            me,
            n,
            timing,
            rng: ChaCha8Rng::seed_from_u64(seed),
            now,
            role: Role::Follower,
            term: persisted.hard_state.term,
            voted_for: persisted.hard_state.voted_for,
            leader: None,
            last_leader_ts: now,
            log,
            commit: snap,
            applied: snap,
            election_due: None,
            vote_due: None,
            step_down_due: None,
            prevote_granted: BTreeSet::new(),
            vote_granted: BTreeSet::new(),
            replicators: BTreeMap::new(),
            conf_index: None,
            pending: BTreeMap::new(),
            reads: Reads::default(),
            seq: 0,
            ready: Ready::default(),
        };
        // spec §J5.1: `NodeImpl.init` ends with `stepDown(currTerm)`, which arms the election
        // timer at [election_timeout, election_timeout + max_election_delay).
        core.step_down(core.term, Status::new(Code::Unknown, ""));
        if n == 1 {
            // A group of one elects itself at once (`NodeImpl.init`).
            core.elect_self();
        }
        core
    }

    // ---------------------------------------------------------------- driver API

    /// Fires every timer due at or before `now`.
    pub fn on_timer(&mut self, now: u64) {
        self.advance(now);
        while let Some((due, timer)) = self.earliest_timer() {
            if due > self.now {
                break;
            }
            self.fire(timer);
        }
    }

    /// When [`on_timer`](Self::on_timer) must next be called.
    pub fn next_deadline(&self) -> u64 {
        self.earliest_timer().map_or(u64::MAX, |(due, _)| due)
    }

    /// Handles a message from member `from`.
    pub fn step(&mut self, now: u64, from: Id, msg: Msg<C>) {
        self.advance(now);
        if from == self.me || from >= self.n {
            return;
        }
        match msg {
            Msg::PreVote {
                term,
                last_log_index,
                last_log_term,
            } => self.handle_pre_vote(from, term, last_log_index, last_log_term),
            Msg::PreVoteResp {
                req_term,
                term,
                granted,
            } => self.handle_pre_vote_resp(from, req_term, term, granted),
            Msg::Vote {
                term,
                last_log_index,
                last_log_term,
            } => self.handle_vote(from, term, last_log_index, last_log_term),
            Msg::VoteResp {
                req_term,
                term,
                granted,
            } => self.handle_vote_resp(from, req_term, term, granted),
            Msg::Append(req) => self.handle_append(from, req),
            Msg::AppendResp(resp) => self.handle_append_resp(from, resp),
            Msg::ReadIndex { read } => self.handle_read_index(from, read),
            Msg::ReadIndexResp { read, result } => self.handle_read_index_resp(from, read, result),
        }
    }

    /// Appends a command on the leader (spec §J6.2). It is applied, with `id`, once committed;
    /// if the leader steps down first it fails with EPERM "Leader stepped down" (spec §J5.5).
    /// A non-leader refuses with EPERM "Is not leader." (`NodeImpl.executeApplyingTasks`).
    pub fn propose(&mut self, now: u64, cmd: C, id: u64) -> Result<(), ProposeError> {
        self.advance(now);
        if self.role != Role::Leader {
            return Err(Status::new(Code::Eperm, "Is not leader."));
        }
        let index = self.log.last_index() + 1;
        self.append_entry(Payload::Command(cmd));
        self.pending.insert(index, id);
        self.replicate_all();
        self.maybe_commit();
        Ok(())
    }

    /// Starts a ReadOnlySafe read-index request (spec §J7.1). Failures known at once are
    /// returned; otherwise the outcome comes in [`Ready::reads`] under `id`.
    pub fn read_index(&mut self, now: u64, id: u64) -> Result<(), ReadError> {
        self.advance(now);
        self.start_read(Origin::Local(id))
    }

    /// The transport could not reach `peer` (a refused connection: it is down or cut off).
    /// Every RPC in flight to it fails now, as sofa-jraft's RPCs fail at once on a connect
    /// error instead of waiting for their timeout: a data or probe RPC blocks its replicator
    /// for one heartbeat period, a heartbeat is re-armed 500 later, a read-index heartbeat
    /// counts as a failure, a read forwarded to it fails. Optional: without it, lost requests
    /// time out (heartbeat 2500, others 5000).
    pub fn report_unreachable(&mut self, now: u64, peer: Id) {
        self.advance(now);
        self.fail_rpcs_to(peer);
    }

    /// Takes what the last calls produced.
    pub fn take_ready(&mut self) -> Ready<C> {
        std::mem::take(&mut self.ready)
    }

    /// Whether [`take_ready`](Self::take_ready) has something.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    // ---------------------------------------------------------------- read-only view

    pub fn id(&self) -> Id {
        self.me
    }
    pub fn role(&self) -> Role {
        self.role
    }
    pub fn term(&self) -> u64 {
        self.term
    }
    pub fn voted_for(&self) -> Option<Id> {
        self.voted_for
    }
    /// The leader this node follows (itself when leader); what `GetLeader` answers (§J6.3).
    pub fn leader(&self) -> Option<Id> {
        self.leader
    }
    pub fn commit_index(&self) -> u64 {
        self.commit
    }
    pub fn applied_index(&self) -> u64 {
        self.applied
    }
    pub fn log(&self) -> &RaftLog<C> {
        &self.log
    }
    pub fn hard_state(&self) -> HardState {
        HardState {
            term: self.term,
            voted_for: self.voted_for,
        }
    }
    pub fn timing(&self) -> &Timing {
        &self.timing
    }

    // ---------------------------------------------------------------- shared rules

    fn advance(&mut self, now: u64) {
        self.now = self.now.max(now);
    }

    pub(super) fn quorum(&self) -> usize {
        self.n / 2 + 1
    }

    pub(super) fn peers(&self) -> impl Iterator<Item = Id> {
        let me = self.me;
        (0..self.n).filter(move |&p| p != me)
    }

    pub(super) fn send(&mut self, to: Id, msg: Msg<C>) {
        self.ready.messages.push((to, msg));
    }

    pub(super) fn persist_hard_state(&mut self) {
        self.ready.hard_state = Some(self.hard_state());
    }

    pub(super) fn set_role(&mut self, role: Role) {
        if self.role != role {
            self.role = role;
            self.ready.events.push(Event::Role {
                role,
                term: self.term,
            });
        }
    }

    /// spec §J5.1, §J5.3: a timeout uniform in [election_timeout, election_timeout +
    /// max_election_delay), drawn at each arming (`NodeImpl.randomTimeout`).
    pub(super) fn random_timeout(&mut self) -> u64 {
        let extra = match self.timing.max_election_delay {
            0 => 0,
            d => self.rng.next_u64() % d,
        };
        self.timing.election_timeout + extra
    }

    pub(super) fn restart_election_timer(&mut self) {
        self.election_due = Some(self.now + self.random_timeout());
    }

    /// sofa-jraft `resetLeaderId`: learning a leader is `onStartFollowing`, forgetting one is
    /// `onStopFollowing` (not for a leader forgetting itself).
    pub(super) fn reset_leader(&mut self, new: Option<Id>, reason: Status) {
        match new {
            None => {
                if let Some(old) = self.leader.take() {
                    if self.role != Role::Leader {
                        self.ready.events.push(Event::StopFollowing {
                            leader: old,
                            term: self.term,
                            reason,
                        });
                    }
                }
            }
            Some(l) => {
                if self.leader.is_none() {
                    // spec §J5.4, §J9.2: `onStartFollowing`, the event `hasLeader` latches on.
                    self.ready.events.push(Event::StartFollowing {
                        leader: l,
                        term: self.term,
                    });
                }
                self.leader = Some(l);
            }
        }
    }

    /// sofa-jraft `stepDown(term, false, status)`: any role becomes FOLLOWER at `term` (or its
    /// own if higher). A leader fails every pending proposal with EPERM "Leader stepped down"
    /// and its read rounds (spec §J5.5); a higher term is persisted with an empty vote
    /// (spec §J5.3, §J5.6); the election timer restarts and the leader contact time is now.
    pub(super) fn step_down(&mut self, term: u64, reason: Status) {
        let from = self.role;
        match from {
            Role::Candidate => self.vote_due = None,
            Role::Leader => {
                self.step_down_due = None;
                // spec §J5.5: `BallotBox.clearPendingTasks` fails every task not yet applied.
                for (_, id) in std::mem::take(&mut self.pending) {
                    self.ready
                        .failed_proposals
                        .push((id, Status::new(Code::Eperm, "Leader stepped down")));
                }
                self.conf_index = None;
                self.fail_read_rounds();
            }
            Role::Follower => {}
        }
        if from != Role::Follower {
            self.ready.events.push(Event::StepDown {
                from,
                term: self.term,
                reason: reason.clone(),
            });
        }
        self.reset_leader(None, reason);
        self.last_leader_ts = self.now;
        if term > self.term {
            self.term = term;
            self.voted_for = None;
            self.persist_hard_state();
        }
        self.set_role(Role::Follower);
        self.replicators.clear();
        self.restart_election_timer();
    }

    /// Commits up to `index` (never past the local log) and applies.
    pub(super) fn commit_to(&mut self, index: u64) {
        let index = index.min(self.log.last_index());
        if index > self.commit {
            self.commit = index;
            self.apply_committed();
        }
    }

    /// spec §J8.1: committed entries are applied in log order, each once. The leader's
    /// configuration entry of its term is `onLeaderStart` (spec §J5.4).
    pub(super) fn apply_committed(&mut self) {
        while self.applied < self.commit {
            let index = self.applied + 1;
            let e = self
                .log
                .get(index)
                .expect("committed entries are in the log")
                .clone();
            if self.conf_index == Some(index) {
                self.conf_index = None;
                self.ready
                    .events
                    .push(Event::LeaderStart { term: self.term });
            }
            self.ready.committed.push(Apply {
                index,
                term: e.term,
                payload: e.payload,
                proposal: self.pending.remove(&index),
            });
            self.applied = index;
        }
        self.complete_waiting_reads();
    }

    // ---------------------------------------------------------------- timers

    fn earliest_timer(&self) -> Option<(u64, Timer)> {
        let mut best: Option<(u64, Timer)> = None;
        let mut consider = |due: Option<u64>, t: Timer| {
            if let Some(d) = due {
                if best.is_none_or(|b| (d, t) < b) {
                    best = Some((d, t));
                }
            }
        };
        consider(self.election_due, Timer::Election);
        consider(self.vote_due, Timer::Vote);
        consider(self.step_down_due, Timer::StepDown);
        for (&p, r) in &self.replicators {
            consider(r.inflight.as_ref().map(|i| i.deadline), Timer::Rpc(p));
            let (hb_due, hb_rpc) = r.heartbeat_timers();
            consider(hb_rpc, Timer::HeartbeatRpc(p));
            consider(hb_due, Timer::Heartbeat(p));
            consider(r.block_until, Timer::Block(p));
        }
        for (&id, round) in &self.reads.rounds {
            consider(Some(round.deadline), Timer::ReadRound(id));
        }
        for (&id, f) in &self.reads.forwards {
            consider(Some(f.deadline), Timer::Forward(id));
        }
        best
    }

    fn fire(&mut self, timer: Timer) {
        match timer {
            Timer::Election => {
                self.election_due = Some(FIRING);
                self.handle_election_timeout();
                if self.election_due == Some(FIRING) {
                    self.restart_election_timer();
                }
            }
            Timer::Vote => {
                self.vote_due = Some(FIRING);
                self.handle_vote_timeout();
                if self.vote_due == Some(FIRING) {
                    self.vote_due = Some(self.now + self.random_timeout());
                }
            }
            Timer::StepDown => {
                self.step_down_due = Some(FIRING);
                self.handle_step_down_timeout();
                if self.step_down_due == Some(FIRING) {
                    self.step_down_due = Some(self.now + self.timing.step_down_period());
                }
            }
            Timer::Rpc(p) => self.on_rpc_timeout(p),
            Timer::HeartbeatRpc(p) => self.on_heartbeat_rpc_timeout(p),
            Timer::Heartbeat(p) => self.send_heartbeat(p),
            Timer::Block(p) => self.on_block_timeout(p),
            Timer::ReadRound(id) => self.on_read_round_timeout(id),
            Timer::Forward(id) => self.on_forward_timeout(id),
        }
    }
}
