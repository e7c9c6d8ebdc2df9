//! Legacy RaftCore of Nacos 1.4.1 (spec §9): election and heartbeats here, publish/delete and
//! the store in `store.rs`, the decision rules in `rules.rs`. It keeps every flaw the spec
//! lists; `rules.rs` names them.

pub mod rules;
pub mod store;

use super::Server;
use crate::model::raft::{Peer, Role};
use crate::wire::{Api, Body, RaftDatum, Response};
use rules::{
    accept_beat, decide_leader, keys_to_delete, keys_to_fetch, majority, receive_vote,
    term_after_apply,
};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// One server's Raft state.
pub struct RaftState {
    pub local: SocketAddr,
    /// Every configured member's stored copy, the local peer included (RaftPeerSet).
    pub peers: BTreeMap<SocketAddr, Peer>,
    pub leader: Option<SocketAddr>,
    pub leader_due: i64,
    pub heartbeat_due: i64,
    pub datums: BTreeMap<String, RaftDatum>,
    /// A single-server cluster runs standalone: it is always the leader (RaftPeerSet.isLeader).
    pub standalone: bool,
    /// RaftCore was shut down by the switch to JRaft (jraft spec §J2.2): its timers end, its
    /// writes and `/raft/*` handlers fail with "old raft protocol already stop".
    pub stopped: bool,
    /// The I/O threads of the server's async HTTP client (`ioThreadCount` =
    /// `availableProcessors`): a beat-fetch callback runs on one and sleeps there (§9).
    pub io_threads: Vec<Arc<tokio::sync::Mutex<()>>>,
    /// Fetch requests sent so far: each takes the next I/O thread in turn.
    pub fetches: usize,
}

impl RaftState {
    pub fn me(&self) -> &Peer {
        &self.peers[&self.local]
    }

    pub fn me_mut(&mut self) -> &mut Peer {
        self.peers.get_mut(&self.local).expect("local peer")
    }

    pub fn is_leader(&self) -> bool {
        self.standalone || self.leader == Some(self.local)
    }

    /// Key → timestamp of the local datums.
    pub fn timestamps(&self) -> BTreeMap<String, u64> {
        self.datums
            .iter()
            .map(|(k, d)| (k.clone(), d.timestamp))
            .collect()
    }
}

fn rand_ms(upper: u64) -> i64 {
    (madsim::rand::random::<u64>() % upper.max(1)) as i64
}

impl Server {
    /// This server's Raft role, term and datums (timestamp, value fingerprint), for checkers.
    pub fn raft_view(&self) -> (Role, u64, BTreeMap<String, (u64, String)>, bool) {
        let r = self.raft.lock().unwrap();
        let datums = r
            .datums
            .iter()
            .map(|(k, d)| (k.clone(), (d.timestamp, store::fingerprint(&d.value))))
            .collect();
        (r.me().state, r.me().term, datums, r.standalone)
    }

    pub(crate) fn leader_due_reset(&self) -> i64 {
        let c = &self.ctx.cfg;
        // spec §9: resetLeaderDue = 15000 + rand[0, 5000)
        c.raft_leader_timeout.as_millis() as i64 + rand_ms(c.raft_random.as_millis() as u64)
    }

    fn emit_role(&self, st: &RaftState) {
        let me = st.me();
        let ev = crate::trace::Ev::RaftState {
            term: me.term,
            role: me.state,
        };
        crate::trace::emit(self.name(), ev);
    }

    /// Boots RaftCore: reload the term and the datums from disk, then start the election and
    /// heartbeat ticks (§9).
    pub(crate) fn start_raft(self: &Arc<Self>) {
        let loaded = store::load(&self.ctx.disk);
        {
            let mut r = self.raft.lock().unwrap();
            let mut me = Peer::new(r.local);
            me.term = loaded.term;
            if self.ctx.cfg.whatif_raft_persist_votes {
                me.vote_for = loaded.vote;
            }
            if r.standalone {
                // A standalone server is its own leader from boot.
                me.state = Role::Leader;
                r.leader = Some(r.local);
            }
            let local = r.local;
            r.peers.insert(local, me);
            r.datums = loaded
                .datums
                .iter()
                .map(|d| (d.key.clone(), d.clone()))
                .collect();
            // spec §9: leaderDueMs = rand[0, 15000), heartbeatDueMs = rand[0, 5000)
            r.leader_due = rand_ms(self.ctx.cfg.raft_leader_timeout.as_millis() as u64);
            r.heartbeat_due = rand_ms(self.ctx.cfg.raft_heartbeat.as_millis() as u64);
        }
        for d in loaded.datums {
            self.raft_apply(&d);
        }
        if self.raft.lock().unwrap().standalone {
            return;
        }
        let server = self.clone();
        tokio::spawn(async move {
            let tick = server.ctx.cfg.raft_tick;
            loop {
                if server.raft.lock().unwrap().stopped {
                    return; // §J2.2: the election timer is cancelled
                }
                server.election_tick();
                server.ctx.net.sleep(tick).await;
            }
        });
        let server = self.clone();
        tokio::spawn(async move {
            let tick = server.ctx.cfg.raft_tick;
            loop {
                server.ctx.net.sleep(tick).await;
                if server.raft.lock().unwrap().stopped {
                    return; // §J2.2: the heartbeat timer is cancelled
                }
                server.heartbeat_tick();
            }
        });
    }

    /// One election tick (§9 steps 1–2): when the leader due runs out, become a candidate of
    /// term+1 and ask every other member for its vote.
    fn election_tick(self: &Arc<Self>) {
        let tick = self.ctx.cfg.raft_tick.as_millis() as i64;
        let vote = {
            let mut r = self.raft.lock().unwrap();
            r.leader_due -= tick;
            if r.leader_due > 0 {
                return;
            }
            r.leader_due = self.leader_due_reset();
            r.heartbeat_due = self.ctx.cfg.raft_heartbeat.as_millis() as i64;
            r.leader = None;
            for p in r.peers.values_mut() {
                p.vote_for = None;
            }
            let local = r.local;
            let me = r.me_mut();
            me.term += 1;
            me.vote_for = Some(local);
            me.state = Role::Candidate;
            if self.ctx.cfg.whatif_raft_persist_votes {
                store::write_vote(&self.ctx.disk, me.term, me.vote_for);
            }
            self.emit_role(&r);
            r.me().clone()
        };
        let others: Vec<SocketAddr> = self
            .raft
            .lock()
            .unwrap()
            .peers
            .keys()
            .filter(|a| **a != vote.ip)
            .copied()
            .collect();
        for peer in others {
            let s = self.clone();
            let api = Api::RaftVote(vote.clone());
            tokio::spawn(async move {
                if let Ok(Response {
                    status: 200,
                    body: Body::Peer(reply),
                }) = s.peer_call(peer, api).await
                {
                    s.on_vote_reply(reply);
                }
            });
        }
    }

    /// A 2xx vote reply: store the peer and count the votes (§9 step 3). No term check.
    fn on_vote_reply(&self, reply: Peer) {
        let mut r = self.raft.lock().unwrap();
        r.peers.insert(reply.ip, reply);
        let n = r.peers.len();
        let Some(winner) = decide_leader(&r.peers, majority(n)) else {
            return;
        };
        if let Some(p) = r.peers.get_mut(&winner) {
            p.state = Role::Leader;
        }
        if r.leader != Some(winner) {
            r.leader = Some(winner);
            if winner == r.local {
                let term = r.me().term;
                let ev = crate::trace::Ev::RaftLeader {
                    leader: winner,
                    term,
                };
                crate::trace::emit(self.name(), ev);
                self.emit_role(&r);
            }
        }
    }

    /// `POST /raft/vote` received (§9 receivedVote).
    pub(crate) fn on_raft_vote(&self, remote: Peer) -> Response {
        let mut r = self.raft.lock().unwrap();
        if !r.peers.contains_key(&remote.ip) {
            return Response::error(
                500,
                format!("can not find remote peer in peer list: {}", remote.ip),
            );
        }
        let before = r.me().state;
        let (me, voted) = receive_vote(r.me(), &remote);
        let changed = (me.term, me.vote_for) != (r.me().term, r.me().vote_for);
        if changed && self.ctx.cfg.whatif_raft_persist_votes {
            store::write_vote(&self.ctx.disk, me.term, me.vote_for);
        }
        *r.me_mut() = me.clone();
        if voted {
            r.leader_due = self.leader_due_reset();
        }
        if me.state != before {
            self.emit_role(&r);
        }
        Response::with(Body::Peer(me))
    }

    /// One heartbeat tick (§9): every 5 s the leader resets its own leader due (it never steps
    /// down) and sends its datum keys and timestamps to every other member.
    fn heartbeat_tick(self: &Arc<Self>) {
        let tick = self.ctx.cfg.raft_tick.as_millis() as i64;
        let beat = {
            let mut r = self.raft.lock().unwrap();
            r.heartbeat_due -= tick;
            if r.heartbeat_due > 0 {
                return;
            }
            r.heartbeat_due = self.ctx.cfg.raft_heartbeat.as_millis() as i64;
            if r.me().state != Role::Leader {
                return;
            }
            r.leader_due = self.leader_due_reset();
            let datums: Vec<(String, u64)> = r
                .datums
                .values()
                .map(|d| (d.key.clone(), d.timestamp))
                .collect();
            let others: Vec<SocketAddr> =
                r.peers.keys().filter(|a| **a != r.local).copied().collect();
            (r.me().clone(), datums, others)
        };
        let (me, datums, others) = beat;
        for peer in others {
            let s = self.clone();
            let api = Api::RaftBeat {
                peer: me.clone(),
                datums: datums.clone(),
            };
            tokio::spawn(async move {
                if let Ok(Response {
                    status: 200,
                    body: Body::Peer(reply),
                }) = s.peer_call(peer, api).await
                {
                    s.raft.lock().unwrap().peers.insert(reply.ip, reply);
                }
            });
        }
    }

    /// `POST /raft/beat` received (§9 receivedBeat).
    pub(crate) fn on_raft_beat(
        self: &Arc<Self>,
        remote: Peer,
        beat: Vec<(String, u64)>,
    ) -> Response {
        let (me, fetch, delete) = {
            let mut r = self.raft.lock().unwrap();
            if let Err(e) = accept_beat(r.me().term, &remote) {
                return Response::error(500, e);
            }
            if r.me().state != Role::Follower {
                let me = r.me_mut();
                me.state = Role::Follower;
                me.vote_for = Some(remote.ip);
                self.emit_role(&r);
            }
            r.leader_due = self.leader_due_reset();
            r.heartbeat_due = self.ctx.cfg.raft_heartbeat.as_millis() as i64;
            // makeLeader: other peers still marked LEADER are refreshed (their state reset here).
            let local = r.local;
            for p in r.peers.values_mut() {
                if p.ip != remote.ip && p.ip != local && p.state == Role::Leader {
                    p.state = Role::Follower;
                }
            }
            r.peers.insert(remote.ip, remote.clone());
            r.leader = Some(remote.ip);
            let local = r.timestamps();
            (
                r.me().clone(),
                keys_to_fetch(&beat, &local),
                keys_to_delete(&beat, &local),
            )
        };
        // The batches go out first, then every local key the beat lacks is deleted, whatever
        // its timestamp.
        for batch in fetch.chunks(self.ctx.cfg.raft_fetch_batch.max(1) as usize) {
            self.fetch_batch(remote.clone(), batch.to_vec());
        }
        for k in &delete {
            self.raft_remove_local(k, "beat");
        }
        Response::with(Body::Peer(me))
    }

    /// One beat-fetch batch (§9 receivedBeat step 4, §3): the beat's handler sends every batch
    /// of up to `raft_fetch_batch` (50) keys at once (`asyncHttpGet`) and goes on; each reply's
    /// callback runs on one of the async client's I/O threads, applies the datums still newer
    /// than the local copy, and then sleeps `raft_fetch_pause` (200 ms) on that thread, so a
    /// later reply dealt to the same thread waits for it. Requests take the threads in turn
    /// (the client deals new connections to its I/O threads round-robin; which thread a pooled
    /// connection is bound to is not modelled).
    fn fetch_batch(self: &Arc<Self>, leader: Peer, keys: Vec<String>) {
        let thread = {
            let mut r = self.raft.lock().unwrap();
            r.fetches += 1;
            let n = r.io_threads.len();
            r.io_threads[(r.fetches - 1) % n].clone()
        };
        let ev = crate::trace::Ev::RaftFetch {
            leader: leader.ip,
            keys: keys.len(),
        };
        crate::trace::emit(self.name(), ev);
        let s = self.clone();
        tokio::spawn(async move {
            let api = Api::RaftGetDatums { keys };
            let Ok(Response {
                status: 200,
                body: Body::RaftDatums(datums),
            }) = s.peer_call(leader.ip, api).await
            else {
                return;
            };
            let _on_thread = thread.lock().await;
            for d in datums {
                let newer = {
                    let mut r = s.raft.lock().unwrap();
                    let newer = r
                        .datums
                        .get(&d.key)
                        .is_none_or(|l| d.timestamp > l.timestamp);
                    if newer {
                        r.datums.insert(d.key.clone(), d.clone());
                        r.leader_due = s.leader_due_reset();
                        let t = term_after_apply(r.me().term, leader.term);
                        r.me_mut().term = t;
                        store::write_term(&s.ctx.disk, t);
                    }
                    newer
                };
                if newer {
                    store::write_datum(&s.ctx.disk, &d);
                    s.raft_apply(&d);
                }
            }
            s.ctx.net.sleep(s.ctx.cfg.raft_fetch_pause).await;
        });
    }

    /// `GET /raft/datum?keys=`.
    pub(crate) fn on_raft_get(&self, keys: Vec<String>) -> Response {
        let r = self.raft.lock().unwrap();
        Response::with(Body::RaftDatums(
            keys.iter()
                .filter_map(|k| r.datums.get(k).cloned())
                .collect(),
        ))
    }

    /// `GET /raft/peer`.
    pub(crate) fn on_raft_peer(&self) -> Response {
        Response::with(Body::Peer(self.raft.lock().unwrap().me().clone()))
    }
}
