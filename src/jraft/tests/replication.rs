//! Log replication, commit, apply and restart (spec §J5.4, §J8, §J10).

use super::super::replication::{commit_index, MAX_ENTRIES_PER_REQUEST};
use super::super::{
    AppendKind, AppendReq, Core, Entry, HardState, LogOp, Msg, Payload, Persisted, Role, Timing,
};
use super::cluster::{Cluster, Cmd};
use super::election::{disk, restarted};

fn entry(index: u64, term: u64) -> Entry<Cmd> {
    Entry {
        index,
        term,
        payload: Payload::Command(1000 * term + index),
    }
}

fn append(term: u64, prev: (u64, u64), entries: Vec<Entry<Cmd>>, committed: u64) -> Msg<Cmd> {
    Msg::Append(AppendReq {
        term,
        prev_log_index: prev.0,
        prev_log_term: prev.1,
        committed,
        entries,
        kind: AppendKind::Entries,
        seq: 1,
    })
}

fn terms(c: &Cluster, i: usize) -> Vec<u64> {
    c.disks[i].entries.iter().map(|e| e.term).collect()
}

#[test]
fn a_follower_truncates_a_conflicting_suffix_and_rejects_a_mismatched_prev() {
    // spec §J8.3 (Log Matching): entries after a matching prev replace a conflicting suffix.
    let mut f = restarted(1, 3, 2, None, &[1, 1, 2, 2]);
    f.step(10, 0, append(3, (2, 1), vec![entry(3, 3)], 0));
    let r = f.take_ready();
    assert_eq!(
        r.log_ops,
        vec![
            LogOp::Truncate { from: 3 },
            LogOp::Append(vec![entry(3, 3)])
        ]
    );
    match &r.messages[..] {
        [(0, Msg::AppendResp(a))] => assert!(a.success && a.term == 3 && a.last_log_index == 3),
        m => panic!("{m:?}"),
    }
    assert_eq!(f.log().last_index(), 3);
    // A prev the follower lacks is refused with its last index, and nothing changes.
    f.step(11, 0, append(3, (5, 3), vec![entry(6, 3)], 0));
    let r = f.take_ready();
    assert!(r.log_ops.is_empty());
    match &r.messages[..] {
        [(0, Msg::AppendResp(a))] => assert!(!a.success && a.last_log_index == 3),
        m => panic!("{m:?}"),
    }
    // The follower commits no further than what it received (`FollowerStableClosure`).
    f.step(12, 0, append(3, (3, 3), vec![], 99));
    assert_eq!(f.commit_index(), 3);
    assert_eq!(f.take_ready().committed.len(), 3);
}

#[test]
fn the_leader_backs_off_next_index_until_the_logs_match() {
    // spec §J8.1 (`onAppendEntriesReturned`): on a mismatch next_index drops to the
    // follower's last index + 1 if that is lower, else by one, and a probe follows.
    let logs = [
        disk(3, None, &[1, 3, 3]),
        disk(2, None, &[1, 2, 2, 2]), // longer, stale: backs off one by one
        disk(3, None, &[1, 3, 3]),
    ];
    for seed in 0..10 {
        let mut c = Cluster::with_disks(logs.to_vec(), seed);
        let l = c.elect(30_000);
        assert_ne!(l, 1, "node 1's log is behind");
        c.run_for(1000);
        let probes: Vec<u64> = c
            .sent_between(
                l,
                1,
                |m| matches!(m, Msg::Append(a) if a.kind == AppendKind::Probe),
            )
            .into_iter()
            .map(|(_, m)| match m {
                Msg::Append(a) => a.prev_log_index,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(probes, vec![3, 2, 1], "seed {seed}");
        assert_eq!(terms(&c, 1), vec![1, 3, 3, 4]);
        c.check_log_matching();
    }
    // A shorter follower: the jump to its last index + 1.
    let logs = [
        disk(3, None, &[1, 3, 3]),
        disk(3, None, &[1, 3, 3]),
        disk(1, None, &[1]),
    ];
    let mut c = Cluster::with_disks(logs.to_vec(), 1);
    let l = c.elect(30_000);
    c.run_for(1000);
    let probes: Vec<u64> = c
        .sent_between(
            l,
            2,
            |m| matches!(m, Msg::Append(a) if a.kind == AppendKind::Probe),
        )
        .into_iter()
        .map(|(_, m)| match m {
            Msg::Append(a) => a.prev_log_index,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(probes, vec![3, 1]);
    assert_eq!(terms(&c, 2), vec![1, 3, 3, 4]);
}

#[test]
fn the_commit_rule_counts_a_quorum_and_only_current_term_entries() {
    // spec §J8.1: Raft's commit rule, Figure 8 of the Raft paper. Terms by index: 1→1, 2→2,
    // 3→4. The leader of term 4 holds 3 entries.
    let term_at = |i: u64| [0, 1, 2, 4].get(i as usize).copied();
    // Index 2 (term 2) is on 3 of 5 but is not of term 4: not committed.
    assert_eq!(commit_index(&[3, 2, 2, 1, 1], 3, 4, term_at, 1), 1);
    // Index 3 (term 4) on 3 of 5 commits, and 2 with it.
    assert_eq!(commit_index(&[3, 3, 3, 1, 1], 3, 4, term_at, 1), 3);
    // On 2 of 5 it does not.
    assert_eq!(commit_index(&[3, 3, 1, 1, 1], 3, 4, term_at, 1), 1);
    // Never backwards.
    assert_eq!(commit_index(&[3, 1, 1, 1, 1], 3, 4, term_at, 2), 2);
}

#[test]
fn figure_8_old_term_entries_on_a_majority_do_not_commit() {
    // spec §J8.1, §J8.3, in a full 5-server run. s0 holds 1100 entries, index 2 on of term 2;
    // s3 and s4 hold index 2 of term 3; s1 and s2 hold only index 1. s0 wins term 4 (s3, s4
    // down) and replicates: the first 1024-entry batch (all of term 2) reaches s1 and s2, so
    // entries of term 2 are on a majority, but the batch with its term-4 configuration entry
    // is lost. It must not commit them: s3 then wins term 5 and replaces them everywhere.
    let batch = MAX_ENTRIES_PER_REQUEST as u64;
    for seed in 0..5 {
        let mut old = vec![1];
        old.extend(vec![2; 1099]);
        let logs = vec![
            disk(3, None, &old),
            disk(3, None, &[1]),
            disk(3, None, &[1]),
            disk(3, None, &[1, 3]),
            disk(3, None, &[1, 3]),
        ];
        let mut c = Cluster::with_disks(logs, seed);
        c.crash(3);
        c.crash(4);
        c.filter = Some(Box::new(|_, _, _, m| {
            matches!(m, Msg::Append(a)
                if a.entries.iter().any(|e| e.payload == Payload::Configuration))
        }));
        let l = {
            assert!(c.run_until_pred(30_000, |c| c.leader().is_some()));
            c.leader().unwrap()
        };
        assert_eq!((l, c.node(l).term()), (0, 4));
        c.run_for(400);
        for f in [1, 2] {
            assert_eq!(c.node(f).log().last_index(), 1 + batch, "seed {seed}");
        }
        assert_eq!(
            c.node(l).commit_index(),
            0,
            "seed {seed}: term-2 entries on 3 of 5"
        );
        assert!(c.applied.iter().all(|a| a.is_empty()));
        c.crash(l);
        c.filter = None;
        c.restart(3);
        c.restart(4);
        let l2 = c.elect(60_000);
        assert!(l2 == 3 || l2 == 4, "seed {seed}");
        c.restart(l);
        c.run_for(6000);
        for i in 0..5 {
            assert_eq!(terms(&c, i), vec![1, 3, 5], "seed {seed} node {i}");
            assert_eq!(c.node(i).applied_index(), 3);
        }
        c.check_log_matching();
    }
}

#[test]
fn an_entry_commits_only_on_a_majority() {
    // spec §J6.2, §J8.1: with 5 servers, 2 copies are not enough, 3 are.
    let mut c = Cluster::new(5, 4);
    let l = c.elect(20_000);
    let others: Vec<usize> = (0..5).filter(|&i| i != l).collect();
    let commit0 = c.node(l).commit_index();
    c.partition(&[&[l, others[0]], &others[1..]]);
    c.propose(l, 77).unwrap();
    c.run_for(2000);
    assert_eq!(c.node(l).commit_index(), commit0);
    assert!(c.applied_cmds(l).is_empty());
    c.heal();
    c.partition(&[&[l, others[0], others[1]], &others[2..]]);
    // The entries lost in the partition are resent after the RPC timeout (5000) and a
    // heartbeat-long block.
    c.run_for(5600);
    assert_eq!(c.node(l).commit_index(), commit0 + 1);
    let (_, a) = c.applied[l].last().unwrap();
    assert_eq!(
        (a.payload.clone(), a.proposal),
        (Payload::Command(77), Some(77))
    );
}

#[test]
fn committed_entries_apply_in_log_order_exactly_once_everywhere() {
    // spec §J8.1 (the cluster also checks each apply is the next index and the same entry
    // on every node).
    let mut c = Cluster::new(3, 6);
    c.latency = (1, 40);
    c.drop_per_mille = 50;
    let mut l = c.elect(30_000);
    let mut acked = Vec::new();
    for cmd in 1..=60 {
        if c.propose(l, cmd).is_err() {
            l = c.elect(c.now + 30_000);
            continue;
        }
        acked.push(cmd);
        c.run_for(37);
    }
    c.drop_per_mille = 0;
    c.run_for(10_000);
    let l = c.leader().unwrap();
    for i in 0..3 {
        let cmds = c.applied_cmds(i);
        assert_eq!(cmds, c.applied_cmds(l), "node {i}");
        let mut sorted = cmds.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), cmds.len(), "each command once");
    }
    // Every proposal the leader reported applied is in every state machine.
    for (_, a) in &c.applied[l] {
        if let Some(id) = a.proposal {
            assert!(c.applied_cmds(0).contains(&id));
        }
    }
    assert!(
        acked
            .iter()
            .filter(|x| c.applied_cmds(0).contains(x))
            .count()
            >= 50
    );
}

#[test]
fn a_restarted_node_recovers_term_vote_and_log_then_reapplies_once_it_learns_the_commit() {
    // spec §J10.2.
    let mut c = Cluster::new(3, 17);
    let l = c.elect(20_000);
    for cmd in 1..=5 {
        c.propose(l, cmd).unwrap();
    }
    c.run_for(2000);
    let f = (l + 1) % 3;
    let before = (c.node(f).hard_state(), c.node(f).log().clone());
    assert_eq!(c.applied_cmds(f), vec![1, 2, 3, 4, 5]);
    c.crash(f);
    c.run_for(3000);
    let t = c.now;
    c.restart(f);
    assert_eq!((c.node(f).hard_state(), c.node(f).log().clone()), before);
    assert_eq!(
        (c.node(f).role(), c.node(f).leader()),
        (Role::Follower, None)
    );
    assert_eq!(
        (c.node(f).commit_index(), c.node(f).applied_index()),
        (0, 0)
    );
    assert_eq!(c.applied[f].len(), 6, "nothing re-applied at boot");
    c.run_for(1000);
    let reapplied: Vec<_> = c.applied[f][6..].to_vec();
    assert_eq!(
        reapplied.iter().map(|(_, a)| a.index).collect::<Vec<_>>(),
        (1..=6).collect::<Vec<_>>()
    );
    let first_append = c
        .sent_between(l, f, |m| matches!(m, Msg::Append(_)))
        .into_iter()
        .find(|(at, _)| *at >= t)
        .unwrap()
        .0;
    assert!(reapplied.iter().all(|(at, _)| *at > first_append));

    // A full-cluster restart: terms kept, a new term elected, everything re-applied.
    for i in 0..3 {
        c.crash(i);
    }
    c.run_for(1000);
    for i in 0..3 {
        c.restart(i);
        assert_eq!(c.node(i).term(), 1);
    }
    let l = c.elect(c.now + 30_000);
    assert_eq!(c.node(l).term(), 2);
    c.propose(l, 6).unwrap();
    c.run_for(2000);
    for i in 0..3 {
        let life: Vec<u64> = c.applied[i]
            .iter()
            .rev()
            .take(8)
            .rev()
            .map(|(_, a)| a.index)
            .collect();
        assert_eq!(life, (1..=8).collect::<Vec<_>>(), "node {i}");
    }
}

#[test]
fn a_deposed_leaders_uncommitted_entries_are_truncated_never_applied() {
    // spec §J8.3: no dirty writes.
    let mut c = Cluster::new(3, 30);
    let l = c.elect(20_000);
    c.isolate(l);
    c.propose(l, 100).unwrap();
    c.propose(l, 101).unwrap();
    let l2 = c.elect(c.now + 30_000);
    c.propose(l2, 200).unwrap();
    c.run_for(1000);
    c.heal();
    c.run_for(6000);
    for i in 0..3 {
        assert_eq!(c.applied_cmds(i), vec![200], "node {i}");
        assert!(c.disks[i]
            .entries
            .iter()
            .all(|e| e.payload != Payload::Command(100) && e.payload != Payload::Command(101)));
    }
    c.check_log_matching();
}

#[test]
fn a_restart_from_a_snapshot_reapplies_only_what_follows_it() {
    // spec §J10.2: JRaft loads its snapshot, then re-applies the entries after it once a
    // leader tells it the commit index.
    let d = disk(2, None, &[2; 12]);
    let p = Persisted {
        hard_state: HardState {
            term: 2,
            voted_for: None,
        },
        snapshot: Some((10, 2)),
        entries: d.entries[10..].to_vec(),
    };
    let mut f = Core::restart(1, 3, Timing::default(), 1, 0, p);
    f.take_ready();
    assert_eq!(
        (f.commit_index(), f.applied_index(), f.log().last_index()),
        (10, 10, 12)
    );
    let hb = Msg::Append(AppendReq {
        term: 2,
        prev_log_index: 12,
        prev_log_term: 2,
        committed: 12,
        entries: vec![],
        kind: AppendKind::Heartbeat,
        seq: 1,
    });
    f.step(5, 0, hb);
    let applied: Vec<u64> = f.take_ready().committed.iter().map(|a| a.index).collect();
    assert_eq!(applied, vec![11, 12]);
}

#[test]
fn a_refused_connection_fails_the_rpc_at_once() {
    // `report_unreachable`: a crashed follower's replicator probes every heartbeat period
    // (`Replicator.block`) instead of waiting out the 5000 RPC timeout, so it catches up
    // within about 500 of its restart.
    for refuse in [false, true] {
        let mut c = Cluster::new(3, 40);
        c.refuse = refuse;
        let l = c.elect(20_000);
        let f = (l + 1) % 3;
        c.crash(f);
        c.propose(l, 1).unwrap();
        c.run_for(3000);
        c.restart(f);
        let t = c.now;
        c.run_until_pred(t + 10_000, |c| c.applied_cmds(f) == vec![1]);
        let waited = c.now - t;
        if refuse {
            assert!(waited <= 510, "{waited}");
        } else {
            assert!(waited > 2000, "{waited}");
        }
    }
}
