//! ReadOnlySafe read-index (spec §J7.1): `NodeImpl.handleReadIndexRequest`, `readLeader`,
//! `readFollower`, `ReadIndexHeartbeatResponseClosure` and `ReadOnlyServiceImpl`'s wait for
//! the apply.

use super::types::{AppendKind, AppendResp, Code, Id, Msg, Role, Status};
use super::Core;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

/// Who asked for a read: the driver (its id), or a peer that forwarded one (its read number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    Local(u64),
    Remote(Id, u64),
}

/// A leader's heartbeat round for one read.
#[derive(Debug, Clone)]
pub(super) struct ReadRound {
    pub(super) origin: Origin,
    /// The read index: the commit index when the read arrived.
    pub(super) index: u64,
    pub(super) acks: BTreeSet<Id>,
    pub(super) fails: BTreeSet<Id>,
    pub(super) deadline: u64,
}

/// A read forwarded to the leader, waiting for its answer.
#[derive(Debug, Clone)]
pub(super) struct Forward {
    pub(super) origin: Origin,
    pub(super) to: Id,
    pub(super) deadline: u64,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Reads {
    pub(super) next: u64,
    pub(super) rounds: BTreeMap<u64, ReadRound>,
    pub(super) forwards: BTreeMap<u64, Forward>,
    /// Granted local reads waiting for the apply to reach their index: index → ids.
    pub(super) waiting: BTreeMap<u64, Vec<u64>>,
}

/// `ReadOnlyServiceImpl`: the status of a read whose heartbeat round failed.
pub(super) fn round_failed() -> Status {
    Status::new(
        Code::Unknown,
        "Fail to run ReadIndex task, maybe the leader stepped down.",
    )
}

impl<C: Clone + Debug + PartialEq> Core<C> {
    /// `handleReadIndexRequest`, by role (spec §J7.1).
    pub(super) fn start_read(&mut self, origin: Origin) -> Result<(), Status> {
        match self.role {
            Role::Leader => self.read_leader(origin),
            Role::Follower => match self.leader {
                // spec §J7.1: a follower with no leader fails at once.
                None => Err(Status::new(
                    Code::Eperm,
                    format!("No leader at term {}.", self.term),
                )),
                // spec §J7.1: a follower forwards the read to its leader.
                Some(leader) => {
                    self.reads.next += 1;
                    let read = self.reads.next;
                    self.reads.forwards.insert(
                        read,
                        Forward {
                            origin,
                            to: leader,
                            deadline: self.now + self.timing.rpc_timeout,
                        },
                    );
                    self.send(leader, Msg::ReadIndex { read });
                    Ok(())
                }
            },
            // spec §J7.1: a candidate fails at once.
            Role::Candidate => Err(Status::new(
                Code::Eperm,
                format!("Invalid state for readIndex: {}.", self.role.state_name()),
            )),
        }
    }

    /// `readLeader`: refuse (EAGAIN) until an entry of this term has committed; otherwise the
    /// read index is the commit index, granted once a quorum answers a heartbeat sent now.
    fn read_leader(&mut self, origin: Origin) -> Result<(), Status> {
        if self.quorum() <= 1 {
            self.read_done(origin, Ok(self.commit));
            return Ok(());
        }
        if self.log.term_at(self.commit) != Some(self.term) {
            return Err(Status::new(
                Code::Eagain,
                format!(
                    "ReadIndex request rejected because leader has not committed any log entry \
                     at its term, logIndex={}, currTerm={}.",
                    self.commit, self.term
                ),
            ));
        }
        self.reads.next += 1;
        let round = self.reads.next;
        self.reads.rounds.insert(
            round,
            ReadRound {
                origin,
                index: self.commit,
                acks: BTreeSet::new(),
                fails: BTreeSet::new(),
                deadline: self.now + self.timing.heartbeat_rpc_timeout(),
            },
        );
        let peers: Vec<Id> = self.replicators.keys().copied().collect();
        for p in peers {
            let r = &self.replicators[&p];
            let prev = r.next_index - 1;
            match self.log.term_at(prev) {
                Some(prev_log_term) => {
                    let req = super::types::AppendReq {
                        term: self.term,
                        prev_log_index: prev,
                        prev_log_term,
                        committed: self.commit,
                        entries: Vec::new(),
                        kind: AppendKind::ReadHeartbeat(round),
                        seq: 0,
                    };
                    self.send(p, Msg::Append(req));
                }
                None => {
                    if let Some(r) = self.reads.rounds.get_mut(&round) {
                        r.fails.insert(p);
                    }
                }
            }
        }
        self.check_round(round);
        Ok(())
    }

    /// `ReadIndexHeartbeatResponseClosure.run`: a successful answer is an ack; anything else
    /// (a mismatch, a higher term) a failure. It does not touch the lease.
    pub(super) fn on_read_heartbeat_resp(&mut self, from: Id, round: u64, resp: &AppendResp) {
        if let Some(r) = self.reads.rounds.get_mut(&round) {
            if resp.success && resp.term == self.term {
                r.acks.insert(from);
            } else {
                r.fails.insert(from);
            }
            self.check_round(round);
        }
    }

    /// Granted with a quorum of acks (the leader counts itself); failed once the failures
    /// make a quorum impossible (`failPeersThreshold`).
    fn check_round(&mut self, round: u64) {
        let quorum = self.quorum();
        let fail_threshold = if self.n.is_multiple_of(2) {
            quorum - 1
        } else {
            quorum
        };
        let Some(r) = self.reads.rounds.get(&round) else {
            return;
        };
        let outcome = if r.acks.len() + 1 >= quorum {
            Ok(r.index)
        } else if r.fails.len() >= fail_threshold {
            Err(round_failed())
        } else {
            return;
        };
        let r = self.reads.rounds.remove(&round).expect("present");
        self.read_done(r.origin, outcome);
    }

    /// The heartbeats of a round time out after election_timeout / 2 (the heartbeat RPC
    /// timeout): every peer that has not answered has failed.
    pub(super) fn on_read_round_timeout(&mut self, round: u64) {
        if let Some(r) = self.reads.rounds.remove(&round) {
            self.read_done(r.origin, Err(round_failed()));
        }
    }

    /// A leader that steps down fails its open rounds (its replicators and their in-flight
    /// heartbeats are destroyed).
    pub(super) fn fail_read_rounds(&mut self) {
        for (_, r) in std::mem::take(&mut self.reads.rounds) {
            self.read_done(r.origin, Err(round_failed()));
        }
    }

    /// `report_unreachable`: a read heartbeat to `peer` not yet answered fails, and a read
    /// forwarded to it fails.
    pub(super) fn fail_reads_to(&mut self, peer: Id) {
        let rounds: Vec<u64> = self.reads.rounds.keys().copied().collect();
        for round in rounds {
            if let Some(r) = self.reads.rounds.get_mut(&round) {
                if !r.acks.contains(&peer) {
                    r.fails.insert(peer);
                }
            }
            self.check_round(round);
        }
        let forwards: Vec<u64> = self
            .reads
            .forwards
            .iter()
            .filter(|(_, f)| f.to == peer)
            .map(|(&id, _)| id)
            .collect();
        for id in forwards {
            let f = self.reads.forwards.remove(&id).expect("present");
            let e = Status::new(
                Code::Unknown,
                format!("Fail to run ReadIndex task: the leader {peer} is unreachable."),
            );
            self.read_done(f.origin, Err(e));
        }
    }

    pub(super) fn handle_read_index(&mut self, from: Id, read: u64) {
        if let Err(e) = self.start_read(Origin::Remote(from, read)) {
            self.send(
                from,
                Msg::ReadIndexResp {
                    read,
                    result: Err(e),
                },
            );
        }
    }

    pub(super) fn handle_read_index_resp(
        &mut self,
        from: Id,
        read: u64,
        result: Result<u64, Status>,
    ) {
        if self.reads.forwards.get(&read).is_some_and(|f| f.to == from) {
            let f = self.reads.forwards.remove(&read).expect("present");
            self.read_done(f.origin, result);
        }
    }

    pub(super) fn on_forward_timeout(&mut self, read: u64) {
        if let Some(f) = self.reads.forwards.remove(&read) {
            let e = Status::new(
                Code::Etimedout,
                "Fail to run ReadIndex task: the RPC to the leader timed out.",
            );
            self.read_done(f.origin, Err(e));
        }
    }

    /// Delivers a read's outcome. A granted local read completes once the local state
    /// machine has applied up to the read index (`ReadOnlyServiceImpl` pending notify).
    pub(super) fn read_done(&mut self, origin: Origin, result: Result<u64, Status>) {
        match origin {
            Origin::Remote(to, read) => self.send(to, Msg::ReadIndexResp { read, result }),
            Origin::Local(id) => match result {
                Ok(index) if index > self.applied => {
                    self.reads.waiting.entry(index).or_default().push(id)
                }
                r => self.ready.reads.push((id, r)),
            },
        }
    }

    pub(super) fn complete_waiting_reads(&mut self) {
        while let Some(entry) = self.reads.waiting.first_entry() {
            if *entry.key() > self.applied {
                break;
            }
            let (index, ids) = entry.remove_entry();
            for id in ids {
                self.ready.reads.push((id, Ok(index)));
            }
        }
    }
}
