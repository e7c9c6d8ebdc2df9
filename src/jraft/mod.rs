//! The JRaft core: sofa-jraft 1.3.5's `NodeImpl` as Nacos 1.4.1 configures it (spec §J4–§J8,
//! §J10), as a pure state machine in the style of raft-rs.
//!
//! No I/O, no async, no clock. The driver:
//! - passes virtual time in milliseconds to every call;
//! - calls [`Core::on_timer`] when [`Core::next_deadline`] is reached;
//! - feeds peer messages to [`Core::step`], client writes to [`Core::propose`] and reads to
//!   [`Core::read_index`];
//! - after each call takes a [`Ready`] and acts on it in the order its doc gives (persist,
//!   send, apply, report);
//! - may tell [`Core::report_unreachable`] when a connection to a peer is refused, so
//!   in-flight RPCs fail at once as sofa-jraft's do (otherwise they time out);
//! - after a crash, rebuilds the node with [`Core::restart`] from what it persisted
//!   ([`Persisted::apply`] keeps that image from the Readys).
//!
//! Randomness (the election and vote timer jitter) comes from a ChaCha8 stream seeded by the
//! constructor, so one seed gives one run.
//!
//! Members are the configured servers in cluster order, identified by their index ([`Id`]);
//! the voter set is all of them and never changes (spec §J4.2: Nacos only ever removes peers,
//! which the simulator does not model).
//!
//! Not modelled:
//! - snapshots: the 1800 s snapshot timer of §J4.3 never matters in a simulated run. A restart
//!   may start from a snapshot index/term, but a leader never sends InstallSnapshot, so a
//!   follower behind a leader's snapshot would stay behind;
//! - pipelining: one data RPC in flight per follower, batches of up to 1024 entries
//!   (sofa-jraft keeps up to 256 requests in flight); no byte limit on a batch;
//! - the FSM caller's own thread: entries apply in the call that commits them, so "committed
//!   but not yet applied" does not exist;
//! - read-index batching (each read runs its own heartbeat round);
//! - leadership transfer, learners, priority election (disabled in Nacos), TimeoutNow.

mod core;
mod election;
mod log;
mod read;
mod replication;
mod timing;
mod types;

pub use self::log::RaftLog;
pub use self::timing::Timing;
pub use self::types::{
    AppendKind, AppendReq, AppendResp, Apply, Code, Entry, Event, HardState, Id, LogOp, Msg,
    Payload, Persisted, ProposeError, ReadError, Ready, Role, Status,
};

#[cfg(test)]
mod tests;

use self::read::Reads;
use self::replication::Replicator;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

// The node's state is defined here, in the module's root: `core.rs` (the driver API and the
// rules every role shares), `election.rs`, `replication.rs` and `read.rs` each give it the
// methods of one job, and none of them refers to another's file for the type.

/// A repeating timer that is firing right now: its handler may stop it (None) or re-arm it
/// (a real time); otherwise it is re-armed after the handler (sofa-jraft `RepeatedTimer.run`).
const FIRING: u64 = u64::MAX;

/// Every timer a node can have armed, in the order timers due at the same time fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    Election,
    Vote,
    StepDown,
    /// A replicator's data or probe RPC timed out.
    Rpc(Id),
    /// A replicator's heartbeat RPC timed out.
    HeartbeatRpc(Id),
    /// A replicator's next heartbeat is due.
    Heartbeat(Id),
    /// A replicator blocked after a failed RPC may probe again.
    Block(Id),
    /// A read-index heartbeat round times out.
    ReadRound(u64),
    /// A read-index request forwarded to the leader times out.
    Forward(u64),
}

/// One member of a JRaft group (sofa-jraft `NodeImpl`), over commands of type `C`.
pub struct Core<C> {
    me: Id,
    n: usize,
    timing: Timing,
    rng: ChaCha8Rng,
    /// The latest time the driver gave.
    now: u64,

    role: Role,
    term: u64,
    voted_for: Option<Id>,
    leader: Option<Id>,
    /// sofa-jraft `lastLeaderTimestamp`: a follower's last contact with a valid leader (and the
    /// time of its last step-down); a leader's start of its lease (spec §J5.1, §J5.2, §J5.5).
    last_leader_ts: u64,

    log: RaftLog<C>,
    commit: u64,
    applied: u64,

    election_due: Option<u64>,
    vote_due: Option<u64>,
    step_down_due: Option<u64>,
    prevote_granted: BTreeSet<Id>,
    vote_granted: BTreeSet<Id>,

    /// Leader only: one replicator per peer.
    replicators: BTreeMap<Id, Replicator>,
    /// Leader only: the index of this term's configuration entry until it applies.
    conf_index: Option<u64>,
    /// Leader only: proposal id by log index, until applied or failed.
    pending: BTreeMap<u64, u64>,
    reads: Reads,
    /// Number of the last request sent (AppendEntries), to route responses.
    seq: u64,

    ready: Ready<C>,
}
