//! RaftPeer of Nacos 1.4.1's legacy Raft (spec §9) as it travels in votes and beats.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// The role words are the event vocabulary's (`raft.state role=LEADER`).
pub use crate::trace::Role;

/// A RaftPeer as Nacos serializes it in votes and beats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peer {
    pub ip: SocketAddr,
    pub vote_for: Option<SocketAddr>,
    pub term: u64,
    pub state: Role,
}

impl Peer {
    pub fn new(ip: SocketAddr) -> Self {
        Peer {
            ip,
            vote_for: None,
            term: 0,
            state: Role::Follower,
        }
    }
}
