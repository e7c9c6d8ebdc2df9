//! Distro replication of ephemeral instance lists (spec §6): the two-stage delay pipeline run
//! by the Distro execute workers, the batch send with its retry, and the receiving side.

use super::batch::{worker_count, SyncTasks, Work};
use crate::io::Timeouts;
use crate::model::keys;
use crate::model::revision::accepts;
use crate::server::naming::Cause;
use crate::server::Server;
use crate::trace::{Done, Ev, Via};
use crate::wire::{Api, Datum, Request, Response};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::mpsc;

/// The Distro task engine of one server.
#[derive(Default)]
pub struct DistroState {
    /// Stages (a) and (b) of the sync pipeline: keys waiting for their target's batch, and the
    /// batches waiting to be sent.
    pub tasks: SyncTasks,
    /// The Distro execute workers' queues (spec §3): each worker runs its tasks one at a time,
    /// in order.
    workers: Vec<mpsc::UnboundedSender<Work>>,
    /// Sources whose checksums are being processed (the in-progress guard of §6).
    pub verifying: BTreeSet<SocketAddr>,
}

impl Server {
    /// `sync(key, CHANGE, 1000)`: one delayed task per other member (DOWN ones included).
    pub(crate) fn distro_sync(&self, key: &str) {
        let targets = self.members.lock().unwrap().others();
        let now = self.now();
        let delay = self.ctx.cfg.distro_sync_delay.as_millis() as i64;
        let mut d = self.distro.lock().unwrap();
        for t in targets {
            d.tasks.change(key, t, delay, now);
        }
    }

    /// The Distro execute workers (W = the smallest power of two ≥ `server_cores`, spec §3),
    /// each a FIFO run by one task, and the delay engine's 100 ms scan, which hands every due
    /// task to its worker (§6 "Threads and timeouts of the pipeline").
    pub(crate) fn start_distro_engine(self: &Arc<Self>) {
        let n = worker_count(self.ctx.cfg.server_cores);
        let queues: Vec<_> = (0..n)
            .map(|_| {
                let (tx, rx) = mpsc::unbounded_channel();
                tokio::spawn(run_worker(self.clone(), rx));
                tx
            })
            .collect();
        self.distro.lock().unwrap().workers = queues;
        let server = self.clone();
        tokio::spawn(async move {
            let cfg = server.ctx.cfg.clone();
            loop {
                server.ctx.net.sleep(cfg.delay_engine_scan).await;
                let now = server.now();
                let d = &mut *server.distro.lock().unwrap();
                for (w, work) in d.tasks.scan(now, d.workers.len()) {
                    let _ = d.workers[w].send(work);
                }
            }
        });
    }

    /// `PUT /distro/datum` received (§6): no ownership and no version check; last arrival wins.
    pub(crate) fn on_distro_datum(self: &Arc<Self>, data: BTreeMap<String, Datum>) -> Response {
        if data.is_empty() {
            return Response::error(400, "receive empty data");
        }
        for (key, datum) in data {
            if keys::is_ephemeral_key(&key) && !self.ignores_as_owner(&key) {
                self.apply_remote(&key, datum, Via::Distro);
            }
        }
        Response::ok()
    }

    /// What-if `whatif_distro_owner_check` (issue 13): a server ignores synced data for a key
    /// it owns, so a stale list from a split or late peer cannot overwrite the owner's (§6:
    /// 1.4.1 has no such check, §16.1).
    fn ignores_as_owner(&self, key: &str) -> bool {
        self.ctx.cfg.whatif_distro_owner_check
            && keys::service_of_key(key).is_some_and(|(_, g)| self.mapper.responsible(&g))
    }

    /// Stores a datum received from a peer and applies it (`onPut` + `Service.onChange`),
    /// creating the service if it is missing. Nothing is synced onward. The datum keeps the
    /// timestamp it arrived with (1.4.1's `processData` stores the received `Datum` as it is).
    /// What-if `whatif_distro_versions`: a datum older than the one held is ignored
    /// (`model::revision::accepts`) and logged as `distro.stale`.
    pub(crate) fn apply_remote(self: &Arc<Self>, key: &str, datum: Datum, via: Via) {
        let Some((ns, grouped)) = keys::service_of_key(key) else {
            return;
        };
        let versioned = self.ctx.cfg.whatif_distro_versions && keys::is_ephemeral_key(key);
        let held = self.state.lock().unwrap().datums.get(key).copied();
        if !accepts(held, datum.timestamp, versioned) {
            let ev = Ev::DistroStale {
                service: grouped,
                via,
                held: held.unwrap_or_default(),
                got: datum.timestamp,
            };
            crate::trace::emit(self.name(), ev);
            return;
        }
        self.ensure_service(&ns, &grouped);
        let diff = {
            let mut st = self.state.lock().unwrap();
            self.put_locked(
                &mut st,
                &ns,
                &grouped,
                key,
                datum.value,
                keys::is_ephemeral_key(key),
                datum.timestamp,
            )
        };
        self.after_change(&ns, &grouped, &diff, Cause::Replica(via));
    }

    /// The current datums for `keys`, each with its timestamp (missing keys are skipped).
    pub(crate) fn datums_of(&self, keys: &[String]) -> BTreeMap<String, Datum> {
        let st = self.state.lock().unwrap();
        keys.iter()
            .filter_map(|k| {
                let value = st.datum(k)?;
                let timestamp = st.datums.get(k).copied()?;
                Some((k.clone(), Datum { value, timestamp }))
            })
            .collect()
    }
}

/// One Distro execute worker: runs its tasks one after the other. A sync blocks it until the
/// call ends, so every task queued behind it waits (spec §6, §16 item 6).
async fn run_worker(server: Arc<Server>, mut queue: mpsc::UnboundedReceiver<Work>) {
    while let Some(work) = queue.recv().await {
        match work {
            Work::Join { key, target } => {
                let cfg = &server.ctx.cfg;
                let delay = cfg.distro_sync_delay.as_millis() as i64;
                let batch = cfg.distro_batch_keys as usize;
                let now = server.now();
                let mut d = server.distro.lock().unwrap();
                d.tasks.join(&key, target, delay, now, batch);
            }
            Work::Sync { target, keys } => send_batch(&server, target, keys).await,
        }
    }
}

/// Stage (c), `DistroSyncChangeTask`: read the batch's keys as they are now (the payload is
/// fixed before the call starts), then `PUT /distro/datum` with no connect or read timeout
/// (`httpPutLarge`, spec §3, §6 corrected); on failure every key re-enters stage (a) with the
/// 5 s retry delay, forever.
async fn send_batch(server: &Arc<Server>, target: SocketAddr, list: Vec<String>) {
    let cfg = server.ctx.cfg.clone();
    // A key removed while pending is skipped, so a batch can go out as `{}` and earn a 400.
    let data = server.datums_of(&list);
    let req = Request::server(Api::DistroDatum(data));
    let res = server
        .ctx
        .net
        .call_with(target, req, Timeouts::none())
        .await;
    let ok = matches!(&res, Ok(r) if r.is_success());
    let result = match &res {
        Ok(r) if r.is_success() => Done::Ok,
        Ok(r) => Done::Failed(r.status.to_string()),
        Err(e) => Done::Failed(e.to_string()),
    };
    let ev = Ev::DistroSync {
        to: target,
        keys: list.len(),
        result,
    };
    crate::trace::emit(server.name(), ev);
    if !ok {
        let now = server.now();
        let retry = cfg.distro_retry_delay.as_millis() as i64;
        let mut d = server.distro.lock().unwrap();
        for k in list {
            d.tasks.change(&k, target, retry, now);
        }
    }
}
