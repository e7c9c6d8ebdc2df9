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

pub use self::core::Core;
pub use self::log::RaftLog;
pub use self::timing::Timing;
pub use self::types::{
    AppendKind, AppendReq, AppendResp, Apply, Code, Entry, Event, HardState, Id, LogOp, Msg,
    Payload, Persisted, ProposeError, ReadError, Ready, Role, Status,
};

#[cfg(test)]
mod tests;
