//! Pre-vote, election, becoming leader and the leader's lease check (spec §J5).

use super::types::{Code, Event, Id, Msg, Payload, Role, Status};
use super::Core;
use std::fmt::Debug;

/// How sofa-jraft prints a possibly empty peer id in its status texts.
fn peer_name(p: Option<Id>) -> String {
    p.map_or_else(|| "<empty>".to_string(), |p| p.to_string())
}

impl<C: Clone + Debug + PartialEq> Core<C> {
    /// sofa-jraft `isCurrentLeaderValid`: contact with a leader (or the last step-down, or a
    /// leader's own lease start) less than an election timeout ago.
    pub(super) fn is_current_leader_valid(&self) -> bool {
        self.now.saturating_sub(self.last_leader_ts) < self.timing.election_timeout
    }

    /// spec §J5.1 (`handleElectionTimeout`): a FOLLOWER that heard from a valid leader less than
    /// election_timeout ago does nothing; otherwise it forgets its leader and pre-votes.
    pub(super) fn handle_election_timeout(&mut self) {
        if self.role != Role::Follower || self.is_current_leader_valid() {
            return;
        }
        let msg = format!("Lost connection from leader {}.", peer_name(self.leader));
        self.reset_leader(None, Status::new(Code::Eraftimedout, msg));
        self.pre_vote();
    }

    /// spec §J5.1: ask every peer for a pre-vote for term + 1 without changing the own term.
    pub(super) fn pre_vote(&mut self) {
        let (last_log_index, last_log_term) = (self.log.last_index(), self.log.last_term());
        self.prevote_granted.clear();
        let term = self.term + 1;
        self.ready.events.push(Event::PreVote { term });
        for p in self.peers().collect::<Vec<_>>() {
            self.send(
                p,
                Msg::PreVote {
                    term,
                    last_log_index,
                    last_log_term,
                },
            );
        }
        self.prevote_granted.insert(self.me);
        if self.prevote_granted.len() >= self.quorum() {
            self.elect_self();
        }
    }

    /// spec §J5.2 (`handlePreVoteRequest`): refuse while a leader was heard from less than an
    /// election timeout ago (a leader itself: while its lease, refreshed by the step-down
    /// check, is that recent), for a lower term, or for an older log. Never changes the term.
    pub(super) fn handle_pre_vote(
        &mut self,
        from: Id,
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
    ) {
        let leader_valid = self.leader.is_some() && self.is_current_leader_valid();
        let granted = !leader_valid
            && term >= self.term
            && self.log.is_up_to_date(last_log_index, last_log_term);
        let msg = Msg::PreVoteResp {
            req_term: term,
            term: self.term,
            granted,
        };
        self.send(from, msg);
    }

    /// spec §J5.1 (`handlePreVoteResponse`): a quorum of grants, its own included, starts the
    /// real election; a higher term in a reply is adopted (stepping down).
    pub(super) fn handle_pre_vote_resp(
        &mut self,
        from: Id,
        req_term: u64,
        term: u64,
        granted: bool,
    ) {
        if self.role != Role::Follower || req_term != self.term + 1 {
            return;
        }
        if term > self.term {
            let reason = Status::new(
                Code::Ehightermresponse,
                "Raft node receives higher term pre_vote_response.",
            );
            self.step_down(term, reason);
            return;
        }
        if granted {
            self.prevote_granted.insert(from);
            if self.prevote_granted.len() >= self.quorum() {
                self.elect_self();
            }
        }
    }

    /// spec §J5.3 (`electSelf`): CANDIDATE at term + 1 voting for itself; term and vote go in
    /// the Ready before the vote requests, so the driver persists them first (spec §J5.6).
    pub(super) fn elect_self(&mut self) {
        if self.role == Role::Follower {
            self.election_due = None;
        }
        self.reset_leader(
            None,
            Status::new(
                Code::Eraftimedout,
                "A follower's leader_id is reset to NULL as it begins to request_vote.",
            ),
        );
        self.term += 1;
        self.voted_for = Some(self.me);
        self.set_role(Role::Candidate);
        // spec §J5.3: the vote timer, [5000, 6000).
        if self.vote_due.is_none() {
            self.vote_due = Some(self.now + self.random_timeout());
        }
        self.vote_granted.clear();
        self.persist_hard_state();
        let (term, last_log_index, last_log_term) =
            (self.term, self.log.last_index(), self.log.last_term());
        for p in self.peers().collect::<Vec<_>>() {
            self.send(
                p,
                Msg::Vote {
                    term,
                    last_log_index,
                    last_log_term,
                },
            );
        }
        self.vote_granted.insert(self.me);
        if self.vote_granted.len() >= self.quorum() {
            self.become_leader();
        }
    }

    /// spec §J5.3 (`handleRequestVoteRequest`): a higher term steps down (persisted); grant at
    /// most once per term, only to an up-to-date log; the vote is persisted before the reply.
    pub(super) fn handle_vote(
        &mut self,
        from: Id,
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
    ) {
        if term >= self.term {
            if term > self.term {
                let reason = Status::new(
                    Code::Ehightermresponse,
                    "Raft node receives higher term RequestVoteRequest.",
                );
                self.step_down(term, reason);
            }
            let log_ok = self.log.is_up_to_date(last_log_index, last_log_term);
            if log_ok && self.voted_for.is_none() {
                let reason = Status::new(
                    Code::Evoteforcandidate,
                    "Raft node votes for some candidate, step down to restart election_timer.",
                );
                self.step_down(term, reason);
                self.voted_for = Some(from);
                self.persist_hard_state();
            }
        }
        let granted = term == self.term && self.voted_for == Some(from);
        let msg = Msg::VoteResp {
            req_term: term,
            term: self.term,
            granted,
        };
        self.send(from, msg);
    }

    /// spec §J5.3 (`handleRequestVoteResponse`): a majority of the configured members wins.
    pub(super) fn handle_vote_resp(&mut self, from: Id, req_term: u64, term: u64, granted: bool) {
        if self.role != Role::Candidate || req_term != self.term {
            return;
        }
        if term > self.term {
            let reason = Status::new(
                Code::Ehightermresponse,
                "Raft node receives higher term request_vote_response.",
            );
            self.step_down(term, reason);
            return;
        }
        if granted {
            self.vote_granted.insert(from);
            if self.vote_granted.len() >= self.quorum() {
                self.become_leader();
            }
        }
    }

    /// spec §J5.3 (`handleVoteTimeout`, `stepDownWhenVoteTimedout = true`): the candidate
    /// steps down at its term and pre-votes again at once.
    pub(super) fn handle_vote_timeout(&mut self) {
        if self.role != Role::Candidate {
            return;
        }
        let reason = Status::new(
            Code::Etimedout,
            "Vote timeout: fail to get quorum vote-granted.",
        );
        self.step_down(self.term, reason);
        self.pre_vote();
    }

    /// spec §J5.4 (`becomeLeader`): a replicator per peer (a probe at once, heartbeats every
    /// 500), the configuration entry of the new term, and the step-down timer.
    pub(super) fn become_leader(&mut self) {
        self.vote_due = None;
        self.set_role(Role::Leader);
        self.leader = Some(self.me);
        self.ready
            .events
            .push(Event::BecameLeader { term: self.term });
        for p in self.peers().collect::<Vec<_>>() {
            self.start_replicator(p);
        }
        // spec §J5.4: `onLeaderStart` waits for this entry to commit (`apply_committed`).
        self.conf_index = Some(self.log.last_index() + 1);
        self.append_entry(Payload::Configuration);
        self.step_down_due = Some(self.now + self.timing.step_down_period());
        self.replicate_all();
        self.maybe_commit();
    }

    /// spec §J5.5 (`handleStepDownTimeout` → `checkDeadNodes`): count the peers that
    /// acknowledged an RPC sent within the lease (4500), itself included. A majority renews the
    /// lease from the oldest of those sends; fewer steps down, "Majority of the group dies".
    pub(super) fn handle_step_down_timeout(&mut self) {
        if self.role != Role::Leader {
            return;
        }
        let lease = self.timing.leader_lease();
        let mut alive = 1;
        let mut dead = 0;
        let mut start_lease = u64::MAX;
        for r in self.replicators.values() {
            if self.now.saturating_sub(r.last_rpc_send) <= lease {
                alive += 1;
                start_lease = start_lease.min(r.last_rpc_send);
            } else {
                dead += 1;
            }
        }
        if alive >= self.quorum() {
            self.last_leader_ts = start_lease;
        } else {
            let msg = format!("Majority of the group dies: {dead}/{}", self.n);
            self.step_down(self.term, Status::new(Code::Eraftimedout, msg));
        }
    }

    /// sofa-jraft `increaseTermTo`: a leader that sees a higher term in a reply steps down.
    pub(super) fn increase_term_to(&mut self, term: u64, from: Id) {
        if term < self.term {
            return;
        }
        let msg = format!("Leader receives higher term heartbeat_response from peer:{from}");
        self.step_down(term, Status::new(Code::Ehightermresponse, msg));
    }

    /// sofa-jraft `checkStepDown`: an AppendEntries of a term ≥ ours makes us a follower of
    /// its sender; the first one from a leader is `onStartFollowing` (spec §J5.4).
    pub(super) fn check_step_down(&mut self, term: u64, from: Id) {
        if term > self.term {
            let reason = Status::new(
                Code::Enewleader,
                "Raft node receives message from new leader with higher term.",
            );
            self.step_down(term, reason);
        } else if self.role != Role::Follower {
            let reason = Status::new(
                Code::Enewleader,
                "Candidate receives message from new leader with the same term.",
            );
            self.step_down(term, reason);
        } else if self.leader.is_none() {
            let reason = Status::new(
                Code::Enewleader,
                "Follower receives message from new leader with the same term.",
            );
            self.step_down(term, reason);
        }
        if self.leader.is_none() {
            self.reset_leader(Some(from), Status::new(Code::Enewleader, ""));
        }
    }
}
