//! The values the JRaft core exchanges with its driver: messages, log entries, statuses,
//! events and the [`Ready`] batch.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A member of the group: its index in the configured member list, in cluster order.
pub type Id = usize;

/// A node's role (sofa-jraft `State`; the transferring, error and shutdown states are not
/// modelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    Follower,
    Candidate,
    Leader,
}

impl Role {
    /// The name Nacos logs for the role (`jraft.state role=...`, spec §J13.2).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Follower => "FOLLOWER",
            Role::Candidate => "CANDIDATE",
            Role::Leader => "LEADER",
        }
    }

    /// sofa-jraft's enum constant, as its status messages print it ("STATE_CANDIDATE").
    pub fn state_name(self) -> &'static str {
        match self {
            Role::Follower => "STATE_FOLLOWER",
            Role::Candidate => "STATE_CANDIDATE",
            Role::Leader => "STATE_LEADER",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The sofa-jraft `RaftError` codes this core produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Code {
    /// `-1`: a status built from a bare code, as `ReadOnlyServiceImpl` does for a failed
    /// read-index round.
    Unknown,
    Eperm,
    Eagain,
    Etimedout,
    Eraftimedout,
    Ehightermresponse,
    Enewleader,
    Eleaderconflict,
    Evoteforcandidate,
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Code::Unknown => "UNKNOWN",
            Code::Eperm => "EPERM",
            Code::Eagain => "EAGAIN",
            Code::Etimedout => "ETIMEDOUT",
            Code::Eraftimedout => "ERAFTTIMEDOUT",
            Code::Ehightermresponse => "EHIGHERTERMRESPONSE",
            Code::Enewleader => "ENEWLEADER",
            Code::Eleaderconflict => "ELEADERCONFLICT",
            Code::Evoteforcandidate => "EVOTEFORCANDIDATE",
        })
    }
}

/// A sofa-jraft `Status`: a code and the exact message text. `Display` prints the message
/// alone, which is what Nacos puts in its own error texts (spec §J7.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub code: Code,
    pub msg: String,
}

impl Status {
    pub fn new(code: Code, msg: impl Into<String>) -> Status {
        Status {
            code,
            msg: msg.into(),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

/// Why [`Core::propose`](super::Core::propose) refused a command, or why a pending proposal
/// failed later (spec §J5.5: EPERM "Leader stepped down").
pub type ProposeError = Status;
/// Why a read-index request failed (spec §J7.1).
pub type ReadError = Status;

/// What a log entry carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Payload<C> {
    /// The configuration entry a new leader appends in its term (spec §J5.4). The voter set is
    /// fixed, so it carries nothing.
    Configuration,
    /// A command of the state machine (Nacos: a Write or Delete of a key).
    Command(C),
}

/// One log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry<C> {
    pub index: u64,
    pub term: u64,
    pub payload: Payload<C>,
}

/// Which replicator path sent an AppendEntries; the follower echoes it so the leader can route
/// the response (sofa-jraft keeps this in the RPC closure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppendKind {
    /// A periodic heartbeat (`sendEmptyEntries(true)`), no entries.
    Heartbeat,
    /// A probe (`sendEmptyEntries(false)`): no entries, finds the follower's next index.
    Probe,
    /// Log entries.
    Entries,
    /// A heartbeat sent for one read-index round (ReadOnlySafe, spec §J7.1).
    ReadHeartbeat(u64),
}

/// An AppendEntries request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppendReq<C> {
    pub term: u64,
    pub prev_log_index: u64,
    pub prev_log_term: u64,
    pub committed: u64,
    pub entries: Vec<Entry<C>>,
    pub kind: AppendKind,
    /// The leader's request number, echoed in the response.
    pub seq: u64,
}

/// An AppendEntries response. `req_term`, `kind` and `seq` echo the request so the leader can
/// route it (sofa-jraft keeps them in the RPC closure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendResp {
    pub req_term: u64,
    pub term: u64,
    pub success: bool,
    /// The follower's last log index (set on a mismatch and on empty requests).
    pub last_log_index: u64,
    pub kind: AppendKind,
    pub seq: u64,
}

/// A message between two members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Msg<C> {
    /// `RequestVoteRequest` with `preVote = true`; `term` is the sender's term + 1.
    PreVote {
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
    },
    /// `req_term` echoes the request's term (sofa-jraft keeps it in the closure).
    PreVoteResp {
        req_term: u64,
        term: u64,
        granted: bool,
    },
    /// `RequestVoteRequest` with `preVote = false`.
    Vote {
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
    },
    VoteResp {
        req_term: u64,
        term: u64,
        granted: bool,
    },
    Append(AppendReq<C>),
    AppendResp(AppendResp),
    /// A read-index request forwarded by a follower to its leader (spec §J7.1); `read` is the
    /// sender's number for it.
    ReadIndex {
        read: u64,
    },
    /// The answer: the read index, or why it failed.
    ReadIndexResp {
        read: u64,
        result: Result<u64, Status>,
    },
}

/// The persistent part of a node's state (sofa-jraft `raft_meta`, spec §J10.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HardState {
    pub term: u64,
    pub voted_for: Option<Id>,
}

/// One change to the persisted log, to be applied in order.
#[derive(Debug, Clone, PartialEq)]
pub enum LogOp<C> {
    /// Delete every entry with an index ≥ `from`.
    Truncate { from: u64 },
    /// Append these entries (contiguous, right after the current last entry).
    Append(Vec<Entry<C>>),
}

/// A committed entry to apply. `proposal` is the id given to [`Core::propose`](super::Core)
/// when this node is the leader that accepted it (the caller's write completes then).
#[derive(Debug, Clone, PartialEq)]
pub struct Apply<C> {
    pub index: u64,
    pub term: u64,
    pub payload: Payload<C>,
    pub proposal: Option<u64>,
}

/// An observable transition, for the server's events (spec §J13.2) and for `hasLeader`
/// (spec §J9.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Every role change, with the term it happens in (`jraft.state`).
    Role { role: Role, term: u64 },
    /// The node became LEADER (`jraft.leader term=T`, spec §J5.4).
    BecameLeader { term: u64 },
    /// The configuration entry of this leader's term committed and applied:
    /// `StateMachine.onLeaderStart(term)` (spec §J5.4; Nacos's `hasLeader` latches on it).
    LeaderStart { term: u64 },
    /// The node learned its leader: `onStartFollowing` (spec §J5.4, §J9.2).
    StartFollowing { leader: Id, term: u64 },
    /// The node started a pre-vote for `term` (its own term + 1): its election timer found no
    /// valid leader, or its vote timer ran out as a candidate (spec §J5.1, §J5.3; sofa-jraft
    /// logs "Node <id> term <t> start preVote.").
    PreVote { term: u64 },
    /// The node forgot its leader: `onStopFollowing`.
    StopFollowing {
        leader: Id,
        term: u64,
        reason: Status,
    },
    /// A LEADER or CANDIDATE stepped down to FOLLOWER; for a leader this is `onLeaderStop`.
    /// `term` is the term it held; the reason carries sofa-jraft's text, e.g. "Majority of
    /// the group dies: 2/3" (spec §J5.5).
    StepDown {
        from: Role,
        term: u64,
        reason: Status,
    },
}

/// Everything a call produced. The driver must, in this order:
/// 1. persist `hard_state` and `log_ops` durably (spec §J4.3 "log fsync on", §J5.6: term and
///    vote are on disk before a vote is requested or granted);
/// 2. send `messages`;
/// 3. apply `committed` to the state machine, in order;
/// 4. report `failed_proposals`, `reads` and `events`.
#[derive(Debug, Clone, PartialEq)]
pub struct Ready<C> {
    /// The new term and vote, if they changed.
    pub hard_state: Option<HardState>,
    pub log_ops: Vec<LogOp<C>>,
    pub messages: Vec<(Id, Msg<C>)>,
    pub committed: Vec<Apply<C>>,
    /// Proposals that will not complete: (id, status).
    pub failed_proposals: Vec<(u64, ProposeError)>,
    /// Finished read-index requests: (id, read index or error). A success means the local
    /// state machine has applied at least up to that index: the read may go to local data.
    pub reads: Vec<(u64, Result<u64, ReadError>)>,
    pub events: Vec<Event>,
}

impl<C> Default for Ready<C> {
    fn default() -> Self {
        Ready {
            hard_state: None,
            log_ops: Vec::new(),
            messages: Vec::new(),
            committed: Vec::new(),
            failed_proposals: Vec::new(),
            reads: Vec::new(),
            events: Vec::new(),
        }
    }
}

impl<C> Ready<C> {
    /// True when there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.hard_state.is_none()
            && self.log_ops.is_empty()
            && self.messages.is_empty()
            && self.committed.is_empty()
            && self.failed_proposals.is_empty()
            && self.reads.is_empty()
            && self.events.is_empty()
    }
}

/// What a node keeps on disk (spec §J10.1): term and vote, the log, and the snapshot the log
/// starts after (none in this simulator unless the driver compacts). The driver may keep one
/// of these per node and feed every Ready to [`Persisted::apply`]; after a crash,
/// [`Core::restart`](super::Core::restart) takes it back.
#[derive(Debug, Clone, PartialEq)]
pub struct Persisted<C> {
    pub hard_state: HardState,
    /// (last included index, its term).
    pub snapshot: Option<(u64, u64)>,
    /// Contiguous, starting right after the snapshot (or at index 1).
    pub entries: Vec<Entry<C>>,
}

impl<C> Default for Persisted<C> {
    fn default() -> Self {
        Persisted {
            hard_state: HardState::default(),
            snapshot: None,
            entries: Vec::new(),
        }
    }
}

impl<C: Clone> Persisted<C> {
    /// Applies the persistence part of a Ready (step 1 of its contract).
    pub fn apply(&mut self, ready: &Ready<C>) {
        if let Some(hs) = ready.hard_state {
            self.hard_state = hs;
        }
        let base = self.snapshot.map_or(0, |s| s.0);
        for op in &ready.log_ops {
            match op {
                LogOp::Truncate { from } => {
                    let keep = from.saturating_sub(base + 1) as usize;
                    self.entries.truncate(keep);
                }
                LogOp::Append(es) => {
                    if let (Some(last), Some(first)) = (self.entries.last(), es.first()) {
                        assert_eq!(first.index, last.index + 1, "appends must be contiguous");
                    }
                    self.entries.extend(es.iter().cloned());
                }
            }
        }
    }
}
