//! Log replication (spec §J5.4, §J8): the leader's replicators (sofa-jraft `Replicator`), the
//! follower's AppendEntries handling and the commit rule.

use super::types::{AppendKind, AppendReq, AppendResp, Code, Entry, Id, Msg, Payload, Status};
use super::Core;
use std::fmt::Debug;

/// sofa-jraft `RaftOptions.maxEntriesSize`: at most this many entries per AppendEntries.
pub(super) const MAX_ENTRIES_PER_REQUEST: usize = 1024;

/// A data or probe AppendEntries waiting for its response. The replicator keeps one in flight
/// (sofa-jraft pipelines up to 256; one at a time with batching is the same protocol, slower).
#[derive(Debug, Clone)]
pub(super) struct Inflight {
    pub(super) seq: u64,
    /// The first index sent (prev_log_index + 1).
    pub(super) start: u64,
    pub(super) count: u64,
    pub(super) sent_at: u64,
    pub(super) deadline: u64,
}

/// The heartbeat cycle: the next heartbeat goes 500 after the previous one's response or
/// failure (`Replicator.onHeartbeatReturned` → `startHeartbeatTimer(now)`).
#[derive(Debug, Clone)]
pub(super) enum Heartbeat {
    Due(u64),
    InFlight {
        seq: u64,
        sent_at: u64,
        deadline: u64,
    },
}

/// sofa-jraft `Replicator.State` (the snapshot state is not modelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReplState {
    Probe,
    Replicate,
}

/// The leader's view of one follower.
#[derive(Debug, Clone)]
pub(super) struct Replicator {
    /// The next index to send; only moves forward on an acknowledgement.
    pub(super) next_index: u64,
    /// The highest index known replicated on the follower by an acknowledged entries request
    /// of this term (what `BallotBox.commitAt` counts).
    pub(super) match_index: u64,
    pub(super) state: ReplState,
    /// sofa-jraft `lastRpcSendTimestamp`: the send time of the latest acknowledged RPC
    /// (spec §J5.5). Starts at the replicator's creation.
    pub(super) last_rpc_send: u64,
    pub(super) heartbeat: Heartbeat,
    pub(super) inflight: Option<Inflight>,
    /// After a failed RPC the replicator waits one heartbeat period, then probes
    /// (`Replicator.block`).
    pub(super) block_until: Option<u64>,
}

impl Replicator {
    /// (next heartbeat due, heartbeat RPC deadline).
    pub(super) fn heartbeat_timers(&self) -> (Option<u64>, Option<u64>) {
        match self.heartbeat {
            Heartbeat::Due(t) => (Some(t), None),
            Heartbeat::InFlight { deadline, .. } => (None, Some(deadline)),
        }
    }
}

/// spec §J8.1 commit rule: the highest index stored on a quorum (`matches` holds every
/// member's, the leader's own last index included), if its entry is of the current term
/// (Raft's Figure 8: an older-term entry commits only under a current-term one). Never less
/// than `commit`.
pub(super) fn commit_index(
    matches: &[u64],
    quorum: usize,
    current_term: u64,
    term_at: impl Fn(u64) -> Option<u64>,
    commit: u64,
) -> u64 {
    let mut m = matches.to_vec();
    m.sort_unstable_by(|a, b| b.cmp(a));
    let Some(&candidate) = m.get(quorum - 1) else {
        return commit;
    };
    if candidate > commit && term_at(candidate) == Some(current_term) {
        candidate
    } else {
        commit
    }
}

impl<C: Clone + Debug + PartialEq> Core<C> {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// The leader appends one entry of its term.
    pub(super) fn append_entry(&mut self, payload: Payload<C>) {
        let entry = Entry {
            index: self.log.last_index() + 1,
            term: self.term,
            payload,
        };
        self.log.append(entry, &mut self.ready.log_ops);
    }

    /// spec §J5.4 (`Replicator.start`): the lease clock starts now, the first heartbeat is due
    /// in 500, and a probe goes at once.
    pub(super) fn start_replicator(&mut self, peer: Id) {
        let r = Replicator {
            next_index: self.log.last_index() + 1,
            match_index: 0,
            state: ReplState::Probe,
            last_rpc_send: self.now,
            heartbeat: Heartbeat::Due(self.now + self.timing.heartbeat),
            inflight: None,
            block_until: None,
        };
        self.replicators.insert(peer, r);
        self.send_probe(peer);
    }

    fn append_req(&self, prev_log_index: u64, kind: AppendKind, seq: u64) -> Option<AppendReq<C>> {
        // A prev entry compacted into a snapshot would need InstallSnapshot: not modelled.
        let prev_log_term = self.log.term_at(prev_log_index)?;
        Some(AppendReq {
            term: self.term,
            prev_log_index,
            prev_log_term,
            committed: self.commit,
            entries: Vec::new(),
            kind,
            seq,
        })
    }

    /// `sendEmptyEntries(false)`: an empty request at next_index - 1 that finds the match.
    pub(super) fn send_probe(&mut self, peer: Id) {
        let seq = self.next_seq();
        let Some(r) = self.replicators.get(&peer) else {
            return;
        };
        let Some(req) = self.append_req(r.next_index - 1, AppendKind::Probe, seq) else {
            return;
        };
        let (now, timeout) = (self.now, self.timing.rpc_timeout);
        let r = self.replicators.get_mut(&peer).expect("checked above");
        r.state = ReplState::Probe;
        r.inflight = Some(Inflight {
            seq,
            start: req.prev_log_index + 1,
            count: 0,
            sent_at: now,
            deadline: now + timeout,
        });
        self.send(peer, Msg::Append(req));
    }

    fn send_entries(&mut self, peer: Id) {
        let seq = self.next_seq();
        let Some(r) = self.replicators.get(&peer) else {
            return;
        };
        let entries = self.log.slice(r.next_index, MAX_ENTRIES_PER_REQUEST);
        if entries.is_empty() {
            return;
        }
        let Some(mut req) = self.append_req(r.next_index - 1, AppendKind::Entries, seq) else {
            return;
        };
        req.entries = entries;
        let (now, timeout) = (self.now, self.timing.rpc_timeout);
        let r = self.replicators.get_mut(&peer).expect("checked above");
        r.inflight = Some(Inflight {
            seq,
            start: req.prev_log_index + 1,
            count: req.entries.len() as u64,
            sent_at: now,
            deadline: now + timeout,
        });
        self.send(peer, Msg::Append(req));
    }

    /// Sends what the replicator can send now: a probe, or the entries it lacks.
    pub(super) fn replicate(&mut self, peer: Id) {
        let Some(r) = self.replicators.get(&peer) else {
            return;
        };
        if r.inflight.is_some() || r.block_until.is_some() {
            return;
        }
        match r.state {
            ReplState::Probe => self.send_probe(peer),
            ReplState::Replicate => self.send_entries(peer),
        }
    }

    pub(super) fn replicate_all(&mut self) {
        for p in self.replicators.keys().copied().collect::<Vec<_>>() {
            self.replicate(p);
        }
    }

    /// spec §J5.4: a heartbeat (`sendEmptyEntries(true)`) carries the commit index.
    pub(super) fn send_heartbeat(&mut self, peer: Id) {
        let seq = self.next_seq();
        let (now, heartbeat, timeout) = (
            self.now,
            self.timing.heartbeat,
            self.timing.heartbeat_rpc_timeout(),
        );
        let Some(r) = self.replicators.get(&peer) else {
            return;
        };
        let req = self.append_req(r.next_index - 1, AppendKind::Heartbeat, seq);
        let r = self.replicators.get_mut(&peer).expect("checked above");
        match req {
            Some(req) => {
                r.heartbeat = Heartbeat::InFlight {
                    seq,
                    sent_at: now,
                    deadline: now + timeout,
                };
                self.send(peer, Msg::Append(req));
            }
            None => r.heartbeat = Heartbeat::Due(now + heartbeat),
        }
    }

    pub(super) fn on_heartbeat_rpc_timeout(&mut self, peer: Id) {
        let due = self.now + self.timing.heartbeat;
        if let Some(r) = self.replicators.get_mut(&peer) {
            r.heartbeat = Heartbeat::Due(due);
        }
    }

    /// A data or probe RPC got no answer within the RPC timeout: back to probing after one
    /// heartbeat period (`onAppendEntriesReturned` with an error → `block`).
    pub(super) fn on_rpc_timeout(&mut self, peer: Id) {
        let until = self.now + self.timing.heartbeat;
        if let Some(r) = self.replicators.get_mut(&peer) {
            r.inflight = None;
            r.state = ReplState::Probe;
            r.block_until = Some(until);
        }
    }

    /// `report_unreachable`: the in-flight RPCs to `peer` fail (`onHeartbeatReturned` and
    /// `onAppendEntriesReturned` with an error status), and so do its read-index heartbeats.
    pub(super) fn fail_rpcs_to(&mut self, peer: Id) {
        let (now, heartbeat) = (self.now, self.timing.heartbeat);
        if let Some(r) = self.replicators.get_mut(&peer) {
            if r.inflight.take().is_some() {
                r.state = ReplState::Probe;
                r.block_until.get_or_insert(now + heartbeat);
            }
            if matches!(r.heartbeat, Heartbeat::InFlight { .. }) {
                r.heartbeat = Heartbeat::Due(now + heartbeat);
            }
        }
        self.fail_reads_to(peer);
    }

    pub(super) fn on_block_timeout(&mut self, peer: Id) {
        if let Some(r) = self.replicators.get_mut(&peer) {
            r.block_until = None;
        }
        self.replicate(peer);
    }

    /// spec §J8.1: commit what a quorum stores, if of the current term, and apply it.
    pub(super) fn maybe_commit(&mut self) {
        if self.role != super::types::Role::Leader {
            return;
        }
        let mut matches: Vec<u64> = self.replicators.values().map(|r| r.match_index).collect();
        matches.push(self.log.last_index());
        let log = &self.log;
        let c = commit_index(
            &matches,
            self.quorum(),
            self.term,
            |i| log.term_at(i),
            self.commit,
        );
        self.commit_to(c);
    }

    // ------------------------------------------------------------ follower side

    /// sofa-jraft `handleAppendEntriesRequest`.
    pub(super) fn handle_append(&mut self, from: Id, req: AppendReq<C>) {
        let reply = |core: &Core<C>, term: u64, success: bool| AppendResp {
            req_term: req.term,
            term,
            success,
            last_log_index: core.log.last_index(),
            kind: req.kind,
            seq: req.seq,
        };
        if req.term < self.term {
            let resp = reply(self, self.term, false);
            self.send(from, Msg::AppendResp(resp));
            return;
        }
        self.check_step_down(req.term, from);
        if self.leader != Some(from) {
            // Another leader of the same term: both step down at term + 1. Cannot happen
            // while votes are persisted (spec §J5.6); kept as sofa-jraft has it.
            let reason = Status::new(
                Code::Eleaderconflict,
                "More than one leader in the same term.",
            );
            self.step_down(req.term + 1, reason);
            let resp = reply(self, req.term + 1, false);
            self.send(from, Msg::AppendResp(resp));
            return;
        }
        // spec §J5.1: every AppendEntries from the leader refreshes the contact time.
        self.last_leader_ts = self.now;
        if self.log.term_at(req.prev_log_index) != Some(req.prev_log_term) {
            let resp = reply(self, self.term, false);
            self.send(from, Msg::AppendResp(resp));
            return;
        }
        let prev = req.prev_log_index;
        let count = req.entries.len() as u64;
        if count > 0 {
            self.log
                .append_from_leader(req.entries.clone(), self.commit, &mut self.ready.log_ops);
        }
        let resp = reply(self, self.term, true);
        self.send(from, Msg::AppendResp(resp));
        // Entries after the ones received are not known to match the leader's: commit no
        // further than them (`FollowerStableClosure`).
        self.commit_to(req.committed.min(prev + count));
    }

    // ------------------------------------------------------------ leader side

    pub(super) fn handle_append_resp(&mut self, from: Id, resp: AppendResp) {
        if self.role != super::types::Role::Leader || resp.req_term != self.term {
            return;
        }
        match resp.kind {
            AppendKind::ReadHeartbeat(round) => self.on_read_heartbeat_resp(from, round, &resp),
            AppendKind::Heartbeat => self.on_heartbeat_resp(from, &resp),
            AppendKind::Probe | AppendKind::Entries => self.on_append_resp(from, &resp),
        }
    }

    /// `Replicator.onHeartbeatReturned`.
    fn on_heartbeat_resp(&mut self, from: Id, resp: &AppendResp) {
        let due = self.now + self.timing.heartbeat;
        let Some(r) = self.replicators.get_mut(&from) else {
            return;
        };
        let Heartbeat::InFlight { seq, sent_at, .. } = r.heartbeat else {
            return;
        };
        if seq != resp.seq {
            return;
        }
        if resp.term > self.term {
            self.increase_term_to(resp.term, from);
            return;
        }
        r.heartbeat = Heartbeat::Due(due);
        if !resp.success {
            // The follower's log does not match at next_index - 1: probe (not an ack).
            if r.inflight.is_none() && r.block_until.is_none() {
                self.send_probe(from);
            }
            return;
        }
        // spec §J5.5: an acknowledged heartbeat extends the lease from its send time.
        r.last_rpc_send = r.last_rpc_send.max(sent_at);
    }

    /// `Replicator.onAppendEntriesReturned`.
    fn on_append_resp(&mut self, from: Id, resp: &AppendResp) {
        let Some(r) = self.replicators.get_mut(&from) else {
            return;
        };
        let Some(inf) = r.inflight.clone() else {
            return;
        };
        if inf.seq != resp.seq {
            return;
        }
        r.inflight = None;
        if !resp.success {
            if resp.term > self.term {
                self.increase_term_to(resp.term, from);
                return;
            }
            r.last_rpc_send = r.last_rpc_send.max(inf.sent_at);
            // The follower lacks or conflicts at prev: back off next_index.
            if resp.last_log_index + 1 < r.next_index {
                r.next_index = resp.last_log_index + 1;
            } else if r.next_index > 1 {
                r.next_index -= 1;
            }
            self.send_probe(from);
            return;
        }
        if resp.term != self.term {
            r.state = ReplState::Probe;
            return;
        }
        r.last_rpc_send = r.last_rpc_send.max(inf.sent_at);
        r.next_index = inf.start + inf.count;
        r.state = ReplState::Replicate;
        if inf.count > 0 {
            r.match_index = r.match_index.max(inf.start + inf.count - 1);
            self.maybe_commit();
        }
        self.replicate(from);
    }
}
