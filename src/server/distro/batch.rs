//! Stages (a) and (b) of the Distro sync pipeline (spec §6 "Sync pipeline"), as plain data:
//! which keys are due, and how they are batched per target. A put queues one delayed task per
//! (key, target); when it is due, `DistroHttpDelayTaskProcessor` moves the key into that
//! target's `DistroHttpCombinedKeyDelayTask`, which is sent when it is due in turn (or at once
//! when full). `sync.rs` sends what [`SyncTasks::scan`] returns.

use super::engine::DelayEngine;
use crate::model::Millis;
use std::collections::BTreeSet;
use std::net::SocketAddr;

/// One server's pending sync work.
#[derive(Debug, Default)]
pub struct SyncTasks {
    /// Stage (a): (datum key, target) → pending CHANGE.
    single: DelayEngine<(String, SocketAddr), ()>,
    /// Stage (b): (target, batch seq) → keys of the combined batch.
    combined: DelayEngine<(SocketAddr, u64), BTreeSet<String>>,
    /// The global combined-key sequence (`DistroHttpCombinedKey-{seq}`), shared by every
    /// target; bumped when a batch fills up.
    seq: u64,
}

impl SyncTasks {
    /// Stage (a): a CHANGE of `key` for `target`, due `interval` after `now` (1000 after a put,
    /// 5000 for a retry). A task already pending for the key and target keeps its deadline.
    pub fn change(&mut self, key: &str, target: SocketAddr, interval: Millis, now: Millis) {
        self.single
            .add((key.to_string(), target), (), interval, now, |_, new| new);
    }

    /// One scan of the delay engine (every 100 ms): due stage-(a) tasks join their target's
    /// current batch (a union, due `delay` after the first key joined); a batch reaching
    /// `batch_keys` keys is due at once and later keys start the next sequence number. Returns
    /// the batches due now, as (target, keys), in (target, seq) order.
    pub fn scan(
        &mut self,
        now: Millis,
        delay: Millis,
        batch_keys: usize,
    ) -> Vec<(SocketAddr, BTreeSet<String>)> {
        for ((key, target), ()) in self.single.take_due(now) {
            let ck = (target, self.seq);
            self.combined
                .add(ck, BTreeSet::from([key]), delay, now, |mut a, b| {
                    a.extend(b);
                    a
                });
            if self
                .combined
                .get(&ck)
                .is_some_and(|p| p.task.len() >= batch_keys)
            {
                self.seq += 1;
                self.combined.make_due(&ck);
            }
        }
        self.combined
            .take_due(now)
            .into_iter()
            .map(|((target, _), keys)| (target, keys))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DELAY: Millis = 1000;

    fn addr(n: u8) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, n], 8848))
    }

    fn keys(ks: &[&str]) -> BTreeSet<String> {
        ks.iter().map(|k| k.to_string()).collect()
    }

    /// Scans every 100 ms over (from, to] and returns what was sent, with its time.
    fn run(
        t: &mut SyncTasks,
        from: Millis,
        to: Millis,
        batch: usize,
    ) -> Vec<(Millis, SocketAddr, BTreeSet<String>)> {
        let mut out = vec![];
        let mut now = from + 100;
        while now <= to {
            out.extend(
                t.scan(now, DELAY, batch)
                    .into_iter()
                    .map(|(a, k)| (now, a, k)),
            );
            now += 100;
        }
        out
    }

    #[test]
    fn a_change_is_sent_about_two_seconds_after_the_put() {
        // spec §6: 1 s in stage (a), then 1 s in the combined batch: about 2.0-2.2 s.
        let mut t = SyncTasks::default();
        t.change("k", addr(2), DELAY, 0);
        assert_eq!(
            run(&mut t, 0, 3000, 1000),
            vec![(2000, addr(2), keys(&["k"]))]
        );
    }

    #[test]
    fn a_repeated_change_keeps_the_first_deadline() {
        // spec §6 delay engine: no debounce; the deadline stays anchored to the first enqueue.
        let mut t = SyncTasks::default();
        t.change("k", addr(2), DELAY, 0);
        t.change("k", addr(2), DELAY, 900);
        assert_eq!(
            run(&mut t, 0, 3000, 1000),
            vec![(2000, addr(2), keys(&["k"]))]
        );
    }

    #[test]
    fn keys_due_close_together_share_their_target_batch() {
        // k2 joins A's batch half a second after k1 opened it, and leaves with it; B gets
        // its own batch.
        let mut t = SyncTasks::default();
        t.change("k1", addr(2), DELAY, 0);
        t.change("k1", addr(3), DELAY, 0);
        t.change("k2", addr(2), DELAY, 500);
        let sent = run(&mut t, 0, 3000, 1000);
        assert_eq!(
            sent,
            vec![
                (2000, addr(2), keys(&["k1", "k2"])),
                (2000, addr(3), keys(&["k1"])),
            ]
        );
    }

    #[test]
    fn a_full_batch_goes_at_once_and_the_next_keys_start_a_new_one() {
        // spec §6 (b): at the batch size the sequence number moves on and the task is due now.
        let mut t = SyncTasks::default();
        for k in ["k1", "k2", "k3"] {
            t.change(k, addr(2), DELAY, 0);
        }
        let sent = run(&mut t, 0, 3000, 2);
        assert_eq!(
            sent,
            vec![
                (1000, addr(2), keys(&["k1", "k2"])),
                (2000, addr(2), keys(&["k3"])),
            ]
        );
    }

    #[test]
    fn a_retry_waits_five_seconds_before_it_is_batched() {
        // spec §6: a failed send re-enters (a) with interval 5000, so a peer that refuses at
        // once is retried about every 6 s.
        let mut t = SyncTasks::default();
        t.change("k", addr(2), 5000, 0);
        assert_eq!(
            run(&mut t, 0, 7000, 1000),
            vec![(6000, addr(2), keys(&["k"]))]
        );
    }
}
