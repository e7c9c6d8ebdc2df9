//! PersistentServiceProcessor of Nacos 1.4.1 over JRaft (jraft spec §J6–§J8): `put` and
//! `remove` as JRaft writes (JRaftProtocol.write, with the forward of a non-leader and its
//! 1.4.1 flaw), `get` as a ReadOnlySafe read index (JRaftProtocol.getData), and `onApply`: a
//! committed write lands in the key-value store (the files legacy Raft used, §J2.5) and
//! reaches the naming listeners.

use super::jraft_server::GROUP;
use super::raft::store::write_datum;
use super::Server;
use crate::io::NetError;
use crate::model::keys;
use crate::trace::WriteResult;
use crate::wire::{Api, Body, JraftOp, RaftDatum, Request, Response};
use std::sync::Arc;

/// §J6.5: `NoLeaderException`'s text.
fn no_leader() -> String {
    format!("The Raft Group [{GROUP}] did not find the Leader node")
}

impl Server {
    /// `JRaftProtocol.write` → `JRaftServer.commit` (§J6.1–§J6.4), judged by JRaft: on the
    /// leader a proposal; elsewhere a forward to the route table's cached leader; both waited
    /// for at most 10 s. Returns the outcome and, when known, the entry's log index.
    pub(crate) async fn jraft_write(self: &Arc<Self>, op: JraftOp) -> (WriteResult, Option<u64>) {
        let wait = self.ctx.cfg.jraft_write_wait;
        match tokio::time::timeout(wait, self.jraft_commit(op)).await {
            Ok(r) => r,
            // §J6.5: `TimeoutException` after the write wait; the entry may still commit.
            Err(_) => (
                WriteResult::Indeterminate(format!(
                    "no result within the write wait ({})",
                    crate::config::fmt_duration(wait)
                )),
                None,
            ),
        }
    }

    async fn jraft_commit(self: &Arc<Self>, op: JraftOp) -> (WriteResult, Option<u64>) {
        match self.jraft_propose(op.clone()) {
            Some(Ok(rx)) => match rx.await {
                Ok(Ok(index)) => (WriteResult::Committed, Some(index)),
                // "Leader stepped down": the entry may already sit on a majority and commit
                // under the next leader (sofa-jraft ClosureQueueImpl), so not a definite no.
                Ok(Err(s)) => (WriteResult::Indeterminate(s.msg), None),
                Err(_) => (WriteResult::Indeterminate("the node stopped".into()), None),
            },
            Some(Err(s)) => (WriteResult::Rejected(s.msg), None),
            None => self.invoke_to_leader(op).await,
        }
    }

    /// `invokeToLeader` (§J6.3, §J6.4, §J6.6): the WriteRequest goes to the route table's
    /// cached leader (not this node's own idea of the leader). 1.4.1 takes any reply for
    /// success, so a node that is not (or no longer) the leader answers `success=false` and the
    /// caller is told `ok` for a write applied nowhere (fixed in 1.4.4).
    async fn invoke_to_leader(self: &Arc<Self>, op: JraftOp) -> (WriteResult, Option<u64>) {
        let target = self
            .jraft
            .lock()
            .unwrap()
            .as_ref()
            .and_then(|n| n.route_leader.map(|l| n.peers[l]));
        let Some(target) = target else {
            return (WriteResult::Rejected(no_leader()), None);
        };
        let c = &self.ctx.cfg;
        let req = Request::server(Api::JraftWrite { op });
        match self
            .ctx
            .net
            .call(target, req, c.jraft_connect_timeout, c.jraft_rpc_timeout)
            .await
        {
            Ok(Response {
                body: Body::JraftWrite { success: true, .. },
                ..
            }) => (WriteResult::Committed, None),
            Ok(Response {
                body: Body::JraftWrite { success: false, .. },
                ..
            }) => (WriteResult::OkNotApplied, None),
            Ok(r) => (
                WriteResult::Rejected(format!("the leader answered {}", r.status)),
                None,
            ),
            // Never connected: the request did not leave.
            Err(e @ (NetError::ConnectTimeout | NetError::Refused)) => (
                WriteResult::Rejected(format!("cannot reach the leader {target}: {e}")),
                None,
            ),
            Err(e) => (
                WriteResult::Indeterminate(format!("leader {target}: {e}")),
                None,
            ),
        }
    }

    /// A forwarded WriteRequest (`AbstractProcessor`, §J6.4): applied if this node leads now,
    /// answered when it commits or fails; otherwise `success=false, "Could not find leader"`.
    pub(crate) async fn on_jraft_write(self: Arc<Self>, op: JraftOp) -> Response {
        let reply =
            |success: bool, err_msg: String| Response::with(Body::JraftWrite { success, err_msg });
        match self.jraft_propose(op) {
            None => reply(false, format!("Could not find leader : {GROUP}")),
            Some(Err(s)) => reply(false, s.msg),
            Some(Ok(rx)) => match rx.await {
                Ok(Ok(_)) => reply(true, String::new()),
                Ok(Err(s)) => reply(false, s.msg),
                Err(_) => reply(false, "the node stopped".into()),
            },
        }
    }

    /// `JRaftProtocol.getData` (§J7.1): a read index, waited for at most 5 s; the value is then
    /// read from the local store by the caller. The error is sofa-jraft's reason.
    pub(crate) async fn jraft_read(self: &Arc<Self>) -> Result<(), String> {
        let rx = match self.jraft_read_index() {
            None => return Err("no JRaft group on this server".into()),
            Some(Err(s)) => return Err(s.msg),
            Some(Ok(rx)) => rx,
        };
        match tokio::time::timeout(self.ctx.cfg.jraft_read_wait, rx).await {
            Ok(Ok(Ok(_))) => Ok(()),
            Ok(Ok(Err(s))) => Err(s.msg),
            Ok(Err(_)) => Err("the node stopped".into()),
            Err(_) => Err("read index timed out".into()),
        }
    }

    /// `onApply` (§J8.1): a committed write goes into the key-value store (memory and the file
    /// legacy Raft used) and to the naming listeners; a delete removes the key, and a deleted
    /// service meta destroys the service here, after which this server issues its own delete
    /// of the service's persistent list key (§J8.2).
    pub(crate) fn jraft_apply(self: &Arc<Self>, op: JraftOp, _index: u64) {
        let id = op.id();
        match op {
            JraftOp::Write { key, value, .. } => {
                // §J6.1: the datum's timestamp is never set (0).
                let datum = RaftDatum {
                    key: key.clone(),
                    value,
                    timestamp: 0,
                };
                self.raft
                    .lock()
                    .unwrap()
                    .datums
                    .insert(key.clone(), datum.clone());
                write_datum(&self.ctx.disk, &datum);
                if let Some(n) = self.jraft.lock().unwrap().as_mut() {
                    n.applied.insert(key, id);
                }
                self.raft_apply(&datum);
            }
            JraftOp::Delete { key, .. } => {
                if let Some(n) = self.jraft.lock().unwrap().as_mut() {
                    n.applied.remove(&key);
                }
                self.raft_remove_local(&key, "delete");
                if keys::is_meta_key(&key) {
                    if let Some((ns, grouped)) = keys::service_of_key(&key) {
                        let server = self.clone();
                        tokio::spawn(async move {
                            let list = keys::persistent_key(&ns, &grouped);
                            let _ = server.persistent_remove(&list).await;
                        });
                    }
                }
            }
        }
    }
}
