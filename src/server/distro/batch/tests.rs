//! The sync pipeline's stages as data (spec §6), with the workers run at once.

use super::*;

const DELAY: Millis = 1000;

fn addr(n: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, n], 8848))
}

fn key(name: &str) -> String {
    format!("com.alibaba.nacos.naming.iplist.ephemeral.public##DEFAULT_GROUP@@{name}")
}

/// Scans every 100 ms over (from, to], running each join on its worker at once (after the
/// scan, as a worker thread would), and returns the syncs handed out, with their time and
/// worker.
fn run(
    t: &mut SyncTasks,
    from: Millis,
    to: Millis,
    batch: usize,
) -> Vec<(Millis, usize, SocketAddr, Vec<String>)> {
    let mut out = vec![];
    let mut now = from + 100;
    while now <= to {
        for (w, work) in t.scan(now, 2) {
            match work {
                Work::Join { key, target } => t.join(&key, target, DELAY, now, batch),
                Work::Sync { target, keys } => out.push((now, w, target, keys)),
            }
        }
        now += 100;
    }
    out
}

fn sent(out: &[(Millis, usize, SocketAddr, Vec<String>)]) -> Vec<(Millis, SocketAddr, usize)> {
    out.iter().map(|(t, _, a, k)| (*t, *a, k.len())).collect()
}

#[test]
fn a_change_is_sent_about_two_seconds_after_the_put() {
    // spec §6: 1 s in stage (a), then 1 s in the combined batch: about 2.0-2.2 s.
    let mut t = SyncTasks::default();
    t.change(&key("orders"), addr(2), DELAY, 0);
    assert_eq!(sent(&run(&mut t, 0, 3000, 1000)), vec![(2000, addr(2), 1)]);
}

#[test]
fn a_repeated_change_keeps_the_first_deadline() {
    // spec §6 delay engine: no debounce; the deadline stays anchored to the first enqueue.
    let mut t = SyncTasks::default();
    t.change(&key("orders"), addr(2), DELAY, 0);
    t.change(&key("orders"), addr(2), DELAY, 900);
    assert_eq!(sent(&run(&mut t, 0, 3000, 1000)), vec![(2000, addr(2), 1)]);
}

#[test]
fn keys_due_close_together_share_their_target_batch() {
    // users joins s2's batch half a second after orders opened it, and leaves with it; s3 gets
    // its own batch.
    let mut t = SyncTasks::default();
    t.change(&key("orders"), addr(2), DELAY, 0);
    t.change(&key("orders"), addr(3), DELAY, 0);
    t.change(&key("users"), addr(2), DELAY, 500);
    let mut out = sent(&run(&mut t, 0, 3000, 1000));
    out.sort();
    assert_eq!(out, vec![(2000, addr(2), 2), (2000, addr(3), 1)]);
}

#[test]
fn a_full_batch_goes_at_the_next_scan_and_the_next_keys_start_a_new_one() {
    // spec §6 (b): at the batch size the sequence number moves on and the task is due at
    // once; the key joined on a worker, so the engine sees it at its next scan.
    let mut t = SyncTasks::default();
    for k in ["a", "b", "c"] {
        t.change(&key(k), addr(2), DELAY, 0);
    }
    assert_eq!(
        sent(&run(&mut t, 0, 3000, 2)),
        vec![(1100, addr(2), 2), (2000, addr(2), 1)]
    );
}

#[test]
fn a_retry_waits_five_seconds_before_it_is_batched() {
    // spec §6: a failed send re-enters (a) with interval 5000, so a peer that refuses at
    // once is retried about every 6 s.
    let mut t = SyncTasks::default();
    t.change(&key("orders"), addr(2), 5000, 0);
    assert_eq!(sent(&run(&mut t, 0, 7000, 1000)), vec![(6000, addr(2), 1)]);
}

#[test]
fn workers_follow_java_hash_codes() {
    // spec §3: W = the smallest power of two >= the processors; a task goes to worker
    // (tag.hashCode() & Integer.MAX_VALUE) % W.
    assert_eq!(
        (1..=9).map(worker_count).collect::<Vec<_>>(),
        vec![1, 2, 4, 4, 8, 8, 8, 8, 16]
    );
    assert_eq!(worker_count(0), 1);
    // JDK 17: Objects.hash(orders key, "com.alibaba.nacos.naming.iplist.", "10.0.0.2:8848")
    // = -505004534; & MAX_VALUE = 1642479114.
    let h = distro_key_hash(&key("orders"), INSTANCE_LIST_PREFIX, "10.0.0.2:8848");
    assert_eq!(h, -505004534);
    assert_eq!(worker_of(h, 2), 0);
    assert_eq!(worker_of(h, 4), 2);
    let mut t = SyncTasks::default();
    t.change(&key("orders"), addr(2), DELAY, 0);
    assert_eq!(
        t.scan(1000, 4),
        vec![(
            2,
            Work::Join {
                key: key("orders"),
                target: addr(2)
            }
        )]
    );
    // The batch {orders, users} for 10.0.0.2 under seq 0: JDK 17 gives -875618557 for its
    // DistroHttpCombinedKey, so worker 1 of 2 (and 3 of 4).
    t.join(&key("orders"), addr(2), DELAY, 1000, 1000);
    t.join(&key("users"), addr(2), DELAY, 1000, 1000);
    let due = t.scan(2000, 4);
    assert_eq!(worker_of(-875618557, 4), 3);
    assert_eq!(
        due,
        vec![(
            3,
            Work::Sync {
                target: addr(2),
                keys: vec![key("orders"), key("users")]
            }
        )]
    );
}

#[test]
fn the_same_key_set_for_the_same_target_lands_on_the_same_worker() {
    // spec §6: a later batch with the same key set for the same target (same seq) goes to
    // the same worker, so it waits behind a blocked one.
    let mut t = SyncTasks::default();
    let mut workers = vec![];
    for start in [0, 10_000] {
        t.change(&key("orders"), addr(3), DELAY, start);
        let out = run(&mut t, start, start + 3000, 1000);
        workers.push(out[0].1);
    }
    assert_eq!(workers[0], workers[1]);
}
