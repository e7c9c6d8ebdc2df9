//! Stages (a) and (b) of the Distro sync pipeline (spec §6 "Sync pipeline", "Threads and
//! timeouts of the pipeline"), as plain data: which tasks are due, in which order the delay
//! engine hands them out, and to which Distro execute worker each goes (§3 "Distro execute
//! workers"). A put queues one delayed task per (key, target); when it is due, a worker runs
//! `DistroHttpCombinedKeyExecuteTask`, which moves the key into that target's
//! `DistroHttpCombinedKeyDelayTask` ([`SyncTasks::join`]); when that batch is due (or full), a
//! worker runs its `DistroSyncChangeTask`. `sync.rs` runs the workers.

use super::engine::DelayEngine;
use crate::model::javahash::{
    distro_key_hash, hash_set_capacity, hash_set_order, objects_hash, spread,
};
use crate::model::keys::{java_string_hash, INSTANCE_LIST_PREFIX};
use crate::model::Millis;
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// The resource type of the combined batches' delay tasks (the engine key's type).
const COMBINED_TASK_TYPE: &str = "DistroHttpCombinedKeyDelayTask";

/// `ThreadUtils.getSuitableThreadCount(1)`: the smallest power of two ≥ the processors (at
/// least 1; at most 1024, more than any simulated cluster can keep busy).
pub fn worker_count(cores: u64) -> usize {
    let mut w = 1usize;
    while (w as u64) < cores && w < 1024 {
        w <<= 1;
    }
    w
}

/// `(tag.hashCode() & Integer.MAX_VALUE) % workers`.
pub fn worker_of(hash: i32, workers: usize) -> usize {
    (hash & i32::MAX) as usize % workers.max(1)
}

/// `DistroHttpCombinedKey-{seq}`.
fn seq_key(seq: u64) -> String {
    format!("DistroHttpCombinedKey-{seq}")
}

/// Work the delay engine hands to a Distro execute worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Stage (a) → (b): add `key` to `target`'s current combined batch.
    Join { key: String, target: SocketAddr },
    /// Stage (c): send the batch's keys to `target` (in the batch's `HashSet` order).
    Sync {
        target: SocketAddr,
        keys: Vec<String>,
    },
}

/// A combined batch: each key with when it last joined (newest first within a bucket).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    joined: BTreeMap<String, u64>,
}

impl Batch {
    /// The keys in the order of the Java `HashSet` holding them.
    fn ordered(&self) -> Vec<String> {
        let mut newest: Vec<(&String, u64)> = self.joined.iter().map(|(k, t)| (k, *t)).collect();
        newest.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
        let keys: Vec<&str> = newest.iter().map(|(k, _)| k.as_str()).collect();
        hash_set_order(&keys, hash_set_capacity(keys.len()))
            .into_iter()
            .map(str::to_owned)
            .collect()
    }
}

/// One server's pending sync work (its DistroDelayTaskExecuteEngine).
#[derive(Debug, Default)]
pub struct SyncTasks {
    /// Stage (a): (datum key, target) → pending CHANGE.
    single: DelayEngine<(String, SocketAddr), ()>,
    /// Stage (b): (target, batch seq) → keys of the combined batch.
    combined: DelayEngine<(SocketAddr, u64), Batch>,
    /// The global combined-key sequence (`DistroHttpCombinedKey-{seq}`), shared by every
    /// target; bumped when a batch fills up.
    seq: u64,
    /// Counts joins, to order a batch's keys newest first.
    joins: u64,
}

impl SyncTasks {
    /// Stage (a): a CHANGE of `key` for `target`, due `interval` after `now` (1000 after a put,
    /// 5000 for a retry). A task already pending for the key and target keeps its deadline.
    pub fn change(&mut self, key: &str, target: SocketAddr, interval: Millis, now: Millis) {
        self.single
            .add((key.to_string(), target), (), interval, now, |_, new| new);
    }

    /// `DistroHttpCombinedKeyExecuteTask.run`, on a worker: `key` joins `target`'s batch under
    /// the current sequence number (a union, due `delay` after the first key joined); a batch
    /// reaching `batch_keys` keys is due at once and later keys start the next sequence number.
    pub fn join(
        &mut self,
        key: &str,
        target: SocketAddr,
        delay: Millis,
        now: Millis,
        batch_keys: usize,
    ) {
        self.joins += 1;
        let joined = self.joins;
        let ck = (target, self.seq);
        let batch = Batch {
            joined: BTreeMap::from([(key.to_string(), joined)]),
        };
        self.combined.add(ck, batch, delay, now, |mut a, b| {
            a.joined.extend(b.joined);
            a
        });
        if self
            .combined
            .get(&ck)
            .is_some_and(|p| p.task.joined.len() >= batch_keys)
        {
            self.seq += 1;
            self.combined.make_due(&ck);
        }
    }

    /// One scan of the delay engine (every 100 ms): every due task of either stage, in the
    /// order the engine iterates its keys (a Java `HashSet` of the pending tasks' `DistroKey`s),
    /// with the worker it goes to: a due stage-(a) task becomes a [`Work::Join`] on worker
    /// `hash(key, "com.alibaba.nacos.naming.iplist.", target)`, a due batch a [`Work::Sync`] on
    /// worker `hash(DistroHttpCombinedKey-{seq}, "com.alibaba.nacos.naming.iplist.", target,
    /// [keys])` (spec §6). A key that joins a batch on a worker is not due before the next
    /// scan.
    pub fn scan(&mut self, now: Millis, workers: usize) -> Vec<(usize, Work)> {
        let pending = self.single.len() + self.combined.len();
        let singles = self.single.take_due(now);
        let batches = self.combined.take_due(now);
        if singles.is_empty() && batches.is_empty() {
            return Vec::new();
        }
        let cap = hash_set_capacity(pending);
        // The engine's map (`new ConcurrentHashMap(32)`: at least 64 bins) orders keys that
        // share a bucket of the set.
        let chm = hash_set_capacity(pending).max(64);
        let mut due: Vec<((usize, usize), usize, Work)> = Vec::new();
        for ((key, target), ()) in singles {
            let t = target.to_string();
            let h = distro_key_hash(&key, INSTANCE_LIST_PREFIX, &t);
            let work = Work::Join { key, target };
            due.push((order(h, cap, chm), worker_of(h, workers), work));
        }
        for ((target, seq), batch) in batches {
            let t = target.to_string();
            let engine_key = distro_key_hash(&seq_key(seq), COMBINED_TASK_TYPE, &t);
            let keys = batch.ordered();
            let list = objects_hash(keys.iter().map(|k| java_string_hash(k)));
            let tag = objects_hash([
                distro_key_hash(&seq_key(seq), INSTANCE_LIST_PREFIX, &t),
                list,
            ]);
            let work = Work::Sync { target, keys };
            due.push((order(engine_key, cap, chm), worker_of(tag, workers), work));
        }
        due.sort_by_key(|a| a.0);
        due.into_iter().map(|(_, w, work)| (w, work)).collect()
    }
}

/// Where a key with hash code `h` comes in the engine's iteration: its bucket in the set, then
/// in the map the set was copied from.
fn order(h: i32, cap: usize, chm: usize) -> (usize, usize) {
    let s = spread(h) as usize;
    (s & (cap - 1), s & (chm - 1))
}

#[cfg(test)]
mod tests;
