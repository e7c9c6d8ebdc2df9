//! PersistentConsistencyServiceDelegateImpl (jraft spec §J2.1): persistent keys go to legacy
//! Raft until this server's version judgement fires, to JRaft after (a server below 1.4.0
//! never switches). Errors carry the status Nacos answers with: 500 for legacy Raft (naming
//! spec §9), 40301 for a failed JRaft write and 40302 for a failed JRaft read (§J6.5, §J7.1).

use super::Server;
use crate::trace::{emit, Ev, OrDash, WriteOp, WriteResult};
use crate::wire::{JraftOp, RaftValue, Response};
use std::sync::Arc;

/// Why a persistent write or read failed, as the HTTP reply says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PersistError {
    /// Legacy Raft: 500 with the reason (naming spec §9).
    Legacy(String),
    /// JRaft `ProtoSubmitError`: status 40301 (§J6.1, §J6.5).
    Write(String),
    /// JRaft `ProtoReadError`: status 40302 (§J7.1).
    Read(String),
}

impl PersistError {
    pub(crate) fn response(&self) -> Response {
        match self {
            PersistError::Legacy(e) => Response::error(500, e.clone()),
            PersistError::Write(e) => Response::error(40301, e.clone()),
            PersistError::Read(e) => Response::error(
                40302,
                format!("The conformance protocol is temporarily unavailable for reading, {e}"),
            ),
        }
    }
}

/// A write's reply: `ok`, or the error's.
pub(crate) fn reply(r: Result<(), PersistError>) -> Response {
    match r {
        Ok(()) => Response::ok(),
        Err(e) => e.response(),
    }
}

impl Server {
    /// Whether this server's persistent keys go through JRaft (its judgement fired, §J1.5).
    pub(crate) fn jraft_active(&self) -> bool {
        self.judgement.lock().unwrap().switched
    }

    /// `put(key, value)`.
    pub(crate) async fn persistent_put(
        self: &Arc<Self>,
        key: &str,
        value: RaftValue,
    ) -> Result<(), PersistError> {
        if !self.jraft_active() {
            return self
                .raft_publish(key, value)
                .await
                .map_err(PersistError::Legacy);
        }
        let fp = super::raft::store::fingerprint(&value);
        let op = JraftOp::Write {
            key: key.to_string(),
            value,
            id: madsim::rand::random::<u32>() as u64,
        };
        self.logged_jraft_write(op, WriteOp::Write, OrDash(Some(fp)))
            .await
    }

    /// `remove(key)`.
    pub(crate) async fn persistent_remove(self: &Arc<Self>, key: &str) -> Result<(), PersistError> {
        if !self.jraft_active() {
            return self.raft_delete(key).await.map_err(PersistError::Legacy);
        }
        let op = JraftOp::Delete {
            key: key.to_string(),
            id: madsim::rand::random::<u32>() as u64,
        };
        self.logged_jraft_write(op, WriteOp::Delete, OrDash(None))
            .await
    }

    /// The read that `get(key)` does before naming reads its local copy (§J7.1, §J7.2):
    /// nothing under legacy Raft, a read index under JRaft.
    pub(crate) async fn persistent_read(self: &Arc<Self>) -> Result<(), PersistError> {
        if !self.jraft_active() {
            return Ok(());
        }
        self.jraft_read().await.map_err(PersistError::Read)
    }

    /// A JRaft write, logged with its JRaft outcome (`jraft.write`, §J13.2): the caller is told
    /// `ok` for a committed write and for 1.4.1's "ok without commit" (§J6.6), 40301 otherwise.
    async fn logged_jraft_write(
        self: &Arc<Self>,
        op: JraftOp,
        kind: WriteOp,
        value: OrDash<String>,
    ) -> Result<(), PersistError> {
        let (key, id) = (op.key().to_string(), op.id());
        let (result, index) = self.jraft_write(op).await;
        let out = match &result {
            WriteResult::Committed | WriteResult::OkNotApplied => Ok(()),
            WriteResult::Rejected(e) | WriteResult::Indeterminate(e) => {
                Err(PersistError::Write(e.clone()))
            }
        };
        let ev = Ev::JraftWrite {
            key,
            op: kind,
            value,
            result,
            index,
            id,
        };
        emit(self.name(), ev);
        out
    }
}
