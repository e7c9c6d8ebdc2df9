//! Raft publish, commit and delete (spec §9), the on-disk store (term + one file per datum),
//! and applying datums to the naming registry (the listeners of persistent keys).

use super::rules::{accept_publish, majority, term_after_apply};
use crate::io::{Disk, Timeouts};
use crate::model::keys;
use crate::model::raft::Peer;
use crate::server::naming::Cause;
use crate::server::raft_reply;
use crate::server::Server;
use crate::trace::{BeatAbsent, Done, Ev, Via};
use crate::wire::{Api, RaftDatum, RaftValue, Response};
use std::sync::Arc;
use tokio::sync::mpsc;

const META_FILE: &str = "raft/meta.properties";
/// What RaftCore's writes throw once it is shut down (jraft spec §J2.2).
const STOPPED_WORK: &str = "old raft protocol already stop work";
/// What every `/raft/*` handler throws after the switch (jraft spec §J2.3), answered 500.
pub(crate) const STOPPED: &str = "old raft protocol already stop";
const DATA_DIR: &str = "raft/data/";
/// What-if `whatif_raft_persist_votes` (issue 13): the vote of the persisted term.
const VOTE_FILE: &str = "raft/vote";

/// What the disk holds at boot.
pub struct Loaded {
    pub term: u64,
    pub datums: Vec<RaftDatum>,
    /// The vote cast in `term`, written only under `whatif_raft_persist_votes`.
    pub vote: Option<std::net::SocketAddr>,
}

/// RaftStore.load: the term and every datum with its timestamp (§9 "Datums are stored one
/// file per key and reloaded at boot"). Votes are never stored.
pub fn load(disk: &Disk) -> Loaded {
    let term = disk
        .read(META_FILE)
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);
    let datums = disk
        .list(DATA_DIR)
        .into_iter()
        .filter_map(|f| disk.read(&f).and_then(|s| serde_json::from_str(&s).ok()))
        .collect();
    let vote = disk.read(VOTE_FILE).and_then(|v| v.trim().parse().ok());
    Loaded { term, datums, vote }
}

/// What-if `whatif_raft_persist_votes` (issue 13; §9, §16.4): the term and the vote cast in
/// it, written before the vote is answered, as Raft requires (1.4.1 writes the term only with
/// data and never the vote, so a restarted node can vote again, or stand again, in a term it
/// already voted in: two leaders per term).
pub fn write_vote(disk: &Disk, term: u64, vote: Option<std::net::SocketAddr>) {
    disk.write(META_FILE, term.to_string());
    disk.write(VOTE_FILE, vote.map(|v| v.to_string()).unwrap_or_default());
}

pub fn write_term(disk: &Disk, term: u64) {
    disk.write(META_FILE, term.to_string());
}

/// One file per key, `:` replaced by `#` as Nacos does.
fn file_of(key: &str) -> String {
    format!("{DATA_DIR}{}", key.replace(':', "#"))
}

pub fn write_datum(disk: &Disk, d: &RaftDatum) {
    disk.write(
        &file_of(&d.key),
        serde_json::to_string(d).expect("datum serializes"),
    );
}

fn remove_datum(disk: &Disk, key: &str) {
    disk.remove(&file_of(key));
}

/// A short fingerprint of a value, so checkers can tell versions apart.
pub fn fingerprint(v: &RaftValue) -> String {
    let json = serde_json::to_string(v).expect("value serializes");
    crate::model::checksum::md5_hex(&json)[..8].to_string()
}

impl Server {
    /// A publish or delete a non-leader hands to the leader: any non-2xx is a failure. The
    /// publish goes by `httpPostLarge` with no timeout at all, the delete by `httpDelete` with
    /// the internal 5 s / 10 s (spec §3, §9 signalPublish step 1 and signalDelete, corrected).
    async fn forward_to_leader(
        &self,
        leader: std::net::SocketAddr,
        api: Api,
        timeouts: Timeouts,
    ) -> Result<(), String> {
        let req = crate::wire::Request::server(api);
        match self.ctx.net.call_with(leader, req, timeouts).await {
            Ok(r) if r.is_success() => Ok(()),
            Ok(r) => Err(format!("leader answered {}", r.status)),
            Err(e) => Err(format!("leader unreachable: {e}")),
        }
    }

    /// signalPublish (§9): a non-leader forwards to the leader outside the global lock and with
    /// no timeout (corrected: an unreachable leader holds the caller, and the service lock it
    /// runs under, for the OS connect limit); the leader serializes writes,
    /// bumps the timestamp, applies locally first (term += 100), sends commits and waits up to
    /// 5 s for a majority. A timeout is an error for the caller, but the local write stays.
    pub(crate) async fn raft_publish(
        self: &Arc<Self>,
        key: &str,
        value: RaftValue,
    ) -> Result<(), String> {
        let (is_leader, leader) = {
            let r = self.raft.lock().unwrap();
            if r.stopped {
                return Err(STOPPED_WORK.into());
            }
            (r.is_leader(), r.leader)
        };
        if !is_leader {
            let Some(leader) = leader else {
                return Err("no leader: publish refused".into());
            };
            let api = Api::RaftPublish {
                key: key.to_string(),
                value,
            };
            return self.forward_to_leader(leader, api, Timeouts::none()).await;
        }
        // The global lock: publishes and deletes are serialized.
        let _guard = self.raft_lock.lock().await;
        let (datum, source, others, standalone) = {
            let r = self.raft.lock().unwrap();
            let ts = r.datums.get(key).map(|d| d.timestamp + 1).unwrap_or(1);
            let others: Vec<_> = r.peers.keys().filter(|a| **a != r.local).copied().collect();
            (
                RaftDatum {
                    key: key.to_string(),
                    value,
                    timestamp: ts,
                },
                r.me().clone(),
                others,
                r.standalone,
            )
        };
        let fp = fingerprint(&datum.value);
        // onPublish locally first: disk, memory, term += 100, listeners.
        {
            let mut r = self.raft.lock().unwrap();
            r.datums.insert(key.to_string(), datum.clone());
            let me = r.me_mut();
            me.term += 100;
            let t = me.term;
            write_term(&self.ctx.disk, t);
        }
        write_datum(&self.ctx.disk, &datum);
        self.raft_apply(&datum);
        if standalone {
            let ev = Ev::RaftPublish {
                key: key.to_string(),
                ts: datum.timestamp,
                value: fp,
                result: Done::Ok,
                acks: 1,
            };
            crate::trace::emit(self.name(), ev);
            return Ok(());
        }
        let need = majority(others.len() + 1);
        let (tx, mut rx) = mpsc::unbounded_channel();
        for peer in others {
            let (s, tx) = (self.clone(), tx.clone());
            let api = Api::RaftCommit {
                datum: datum.clone(),
                source: source.clone(),
            };
            tokio::spawn(async move {
                if let Ok(r) = s.peer_call(peer, api).await {
                    if r.is_success() {
                        let _ = tx.send(());
                    }
                }
            });
        }
        drop(tx);
        // The latch counts the leader itself plus each 2xx reply.
        let mut acks = 1;
        let wait = async {
            while acks < need {
                if rx.recv().await.is_none() {
                    break;
                }
                acks += 1;
            }
        };
        let _ = tokio::time::timeout(self.ctx.cfg.raft_publish_timeout, wait).await;
        let ok = acks >= need;
        let result = if ok {
            Done::Ok
        } else {
            Done::Failed("no majority within the publish timeout".into())
        };
        let ev = Ev::RaftPublish {
            key: key.to_string(),
            ts: datum.timestamp,
            value: fp,
            result,
            acks,
        };
        crate::trace::emit(self.name(), ev);
        if ok {
            Ok(())
        } else {
            Err(format!(
                "publish of {key} timed out with {acks} of {need} acks"
            ))
        }
    }

    /// `POST /raft/datum` (a forwarded publish).
    pub(crate) async fn on_raft_publish(
        self: Arc<Self>,
        key: String,
        value: RaftValue,
    ) -> Response {
        raft_reply(self.raft_publish(&key, value).await)
    }

    /// `POST /raft/datum/commit` on a follower (§9 onPublish): leader and term checks, then
    /// overwrite without any timestamp check, and the +100 term rule.
    pub(crate) fn on_raft_commit(self: &Arc<Self>, datum: RaftDatum, source: Peer) -> Response {
        {
            let mut r = self.raft.lock().unwrap();
            if let Err(e) = accept_publish(r.leader, r.me().term, &source) {
                return Response::error(500, e);
            }
            r.leader_due = self.leader_due_reset();
            r.datums.insert(datum.key.clone(), datum.clone());
            let t = term_after_apply(r.me().term, source.term);
            r.me_mut().term = t;
            write_term(&self.ctx.disk, t);
        }
        write_datum(&self.ctx.disk, &datum);
        self.raft_apply(&datum);
        Response::ok()
    }

    /// signalDelete (§9): under the global lock, a non-leader forwards with the internal 5 s /
    /// 10 s timeouts (corrected: an unreachable leader stalls every publish and delete of this
    /// node meanwhile); the leader deletes locally, fires the deletes at every peer and returns
    /// at once (no quorum).
    pub(crate) async fn raft_delete(self: &Arc<Self>, key: &str) -> Result<(), String> {
        let _guard = self.raft_lock.lock().await;
        let (is_leader, leader, others, source) = {
            let r = self.raft.lock().unwrap();
            if r.stopped {
                return Err(STOPPED_WORK.into());
            }
            let others: Vec<_> = r.peers.keys().filter(|a| **a != r.local).copied().collect();
            (r.is_leader(), r.leader, others, r.me().clone())
        };
        if !is_leader {
            let Some(leader) = leader else {
                return Err("no leader: delete refused".into());
            };
            let api = Api::RaftDelete {
                key: key.to_string(),
            };
            let c = &self.ctx.cfg;
            let timeouts = Timeouts::new(c.server_connect_timeout, c.server_read_timeout);
            return self.forward_to_leader(leader, api, timeouts).await;
        }
        self.raft_remove_local(key, "delete");
        let ev = Ev::RaftDelete {
            key: key.to_string(),
            reason: None,
        };
        crate::trace::emit(self.name(), ev);
        for peer in others {
            let api = Api::RaftDeleteCommit {
                key: key.to_string(),
                source: source.clone(),
            };
            self.peer_send(peer, api);
        }
        Ok(())
    }

    /// `DELETE /raft/datum` (a forwarded delete).
    pub(crate) async fn on_raft_delete(self: Arc<Self>, key: String) -> Response {
        raft_reply(self.raft_delete(&key).await)
    }

    /// `DELETE /raft/datum/commit` on a follower: leader and term checks; the term is adjusted
    /// only for service-meta keys.
    pub(crate) fn on_raft_delete_commit(self: &Arc<Self>, key: String, source: Peer) -> Response {
        {
            let mut r = self.raft.lock().unwrap();
            if let Err(e) = accept_publish(r.leader, r.me().term, &source) {
                return Response::error(500, e);
            }
            if keys::is_meta_key(&key) {
                let t = term_after_apply(r.me().term, source.term);
                r.me_mut().term = t;
                write_term(&self.ctx.disk, t);
            }
        }
        self.raft_remove_local(&key, "delete");
        Response::ok()
    }

    /// Removes a datum from memory and disk and tells the listeners.
    pub(crate) fn raft_remove_local(&self, key: &str, why: &str) {
        let existed = self.raft.lock().unwrap().datums.remove(key).is_some();
        remove_datum(&self.ctx.disk, key);
        if existed && why == "beat" {
            let ev = Ev::RaftDelete {
                key: key.to_string(),
                reason: Some(BeatAbsent::AbsentFromBeat),
            };
            crate::trace::emit(self.name(), ev);
        }
        // ServiceManager.onDelete: a service-meta delete destroys the service on this node;
        // an instance-list delete is a no-op in 1.4.1.
        if keys::is_meta_key(key) {
            if let Some((ns, grouped)) = keys::service_of_key(key) {
                let mut st = self.state.lock().unwrap();
                st.services.remove(&(ns.clone(), grouped.clone()));
                st.datums.remove(&keys::ephemeral_key(&ns, &grouped));
                st.datums.remove(&keys::persistent_key(&ns, &grouped));
                drop(st);
                let ev = Ev::ServiceDeleted {
                    service: grouped.to_string(),
                };
                crate::trace::emit(self.name(), ev);
            }
        }
    }

    /// The listeners of persistent keys: an instance list replaces the service's persistent
    /// instances; a service meta sets its protect threshold and metadata.
    pub(crate) fn raft_apply(self: &Arc<Self>, d: &RaftDatum) {
        let Some((ns, grouped)) = keys::service_of_key(&d.key) else {
            return;
        };
        match &d.value {
            RaftValue::Instances(list) => {
                self.ensure_service(&ns, &grouped);
                let diff = {
                    let mut st = self.state.lock().unwrap();
                    // The naming DataStore's copy of a persistent key: timestamp 1, as every
                    // local put (Distro's revisions are for ephemeral keys only).
                    let (key, list) = (&d.key, list.clone());
                    self.put_locked(&mut st, &ns, &grouped, key, list, false, 1)
                };
                self.after_change(&ns, &grouped, &diff, Cause::Replica(Via::Raft));
            }
            RaftValue::ServiceMeta {
                protect_threshold,
                metadata,
            } => {
                self.ensure_service(&ns, &grouped);
                let mut st = self.state.lock().unwrap();
                if let Some(svc) = st.services.get_mut(&(ns.clone(), grouped.clone())) {
                    svc.protect_threshold = *protect_threshold;
                    svc.metadata = metadata.clone();
                }
                st.instances_changed(&ns, &grouped);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_datum_and_the_term_survive_a_disk_write_and_reload() {
        // spec §15 RaftStoreTest: a datum with timestamp 1 survives a disk write and reload.
        let disk = Disk::default();
        let d = RaftDatum {
            key: "com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@db".into(),
            value: RaftValue::Instances(vec![crate::model::Instance::new(
                "1.1.1.1",
                80,
                "DEFAULT",
                "DEFAULT_GROUP@@db",
                7,
            )]),
            timestamp: 1,
        };
        write_datum(&disk, &d);
        write_term(&disk, 301);
        let loaded = load(&disk);
        assert_eq!(loaded.term, 301);
        assert_eq!(loaded.datums, vec![d.clone()]);
        // One file per key, with `:` replaced by `#`; nothing else (votes are not persisted).
        assert_eq!(
            disk.list("raft/"),
            vec![file_of(&d.key), META_FILE.to_string()]
        );
        remove_datum(&disk, &d.key);
        assert!(load(&disk).datums.is_empty());
    }

    #[test]
    fn fingerprints_tell_values_apart() {
        let a = RaftValue::ServiceMeta {
            protect_threshold: 0.0,
            metadata: Default::default(),
        };
        let b = RaftValue::ServiceMeta {
            protect_threshold: 0.5,
            metadata: Default::default(),
        };
        assert_eq!(fingerprint(&a), fingerprint(&a.clone()));
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }
}
