//! ReadOnlySafe read-index (spec §J7.1). The cluster checks every granted read for
//! linearizability (its index covers everything applied anywhere before it began) and that
//! it completes only once the local state machine has applied its index.

use super::super::{Code, Msg, Role, Status};
use super::cluster::Cluster;
use super::election::fresh;

fn round_failed() -> Status {
    Status::new(
        Code::Unknown,
        "Fail to run ReadIndex task, maybe the leader stepped down.",
    )
}

#[test]
fn a_follower_without_a_leader_fails_at_once() {
    // spec §J7.1: EPERM "No leader at term N." (#6331: "No leader at term 2").
    let mut c = fresh(0, 3, 1);
    assert_eq!(
        c.read_index(10, 1),
        Err(Status::new(Code::Eperm, "No leader at term 0."))
    );
    // A survivor of two crashes forgets its leader at its first election timeout.
    let mut c = Cluster::new(3, 2);
    let l = c.elect(20_000);
    let f = (l + 1) % 3;
    c.crash(l);
    c.crash((l + 2) % 3);
    c.run_for(7000);
    assert_eq!(c.node(f).leader(), None);
    assert_eq!(
        c.read(f, 1),
        Err(Status::new(Code::Eperm, "No leader at term 1."))
    );
}

#[test]
fn a_candidate_fails_at_once() {
    // spec §J7.1: "Invalid state for readIndex".
    let mut c = Cluster::new(3, 21);
    c.filter = Some(Box::new(|_, _, _, m| matches!(m, Msg::Vote { .. })));
    assert!(c.run_until_pred(20_000, |c| (0..3)
        .any(|i| c.node(i).role() == Role::Candidate)));
    let cand = (0..3)
        .find(|&i| c.node(i).role() == Role::Candidate)
        .unwrap();
    assert_eq!(
        c.read(cand, 1),
        Err(Status::new(
            Code::Eperm,
            "Invalid state for readIndex: STATE_CANDIDATE."
        ))
    );
}

#[test]
fn a_new_leader_refuses_reads_until_an_entry_of_its_term_commits() {
    // spec §J7.1: EAGAIN before the first commit in the term; afterwards a heartbeat round
    // to a quorum grants the commit index.
    let mut c = Cluster::new(3, 3);
    c.latency = (5, 5);
    assert!(c.run_until_pred(20_000, |c| c.leader().is_some()));
    let l = c.leader().unwrap();
    assert_eq!(
        c.read(l, 1),
        Err(Status::new(
            Code::Eagain,
            "ReadIndex request rejected because leader has not committed any log entry at its \
             term, logIndex=0, currTerm=1."
        ))
    );
    c.run_for(100);
    let t = c.now;
    c.read(l, 2).unwrap();
    assert_eq!(c.read_result(l, 2), None, "waits for the heartbeat round");
    c.run_for(100);
    let (at, _, _, r) = c.read_results.last().unwrap().clone();
    assert_eq!((at, r), (t + 10, Ok(1)));
}

#[test]
fn a_leader_read_needs_a_quorum_to_answer_its_heartbeats() {
    // spec §J7.1: ReadOnlySafe. Cut off, the round fails when its heartbeats time out
    // (election_timeout / 2), before the lease check deposes the leader.
    let mut c = Cluster::new(3, 4);
    let l = c.elect(20_000);
    c.run_for(2600); // just after a lease check
    c.isolate(l);
    let t = c.now;
    c.read(l, 1).unwrap();
    c.run_for(2499);
    assert_eq!(c.read_result(l, 1), None);
    c.run_for(1);
    assert_eq!(c.read_result(l, 1), Some(Err(round_failed())));
    assert_eq!(c.node(l).role(), Role::Leader);
    assert_eq!(c.now, t + 2500);
    // One follower back: a quorum of two answers.
    c.heal();
    c.isolate((l + 1) % 3);
    c.read(l, 2).unwrap();
    c.run_for(2);
    assert_eq!(c.read_result(l, 2), Some(Ok(c.node(l).commit_index())));
}

#[test]
fn a_follower_read_is_forwarded_and_completes_after_the_local_apply() {
    // spec §J7.1: the follower asks its leader; the read index is the leader's commit index,
    // and the read completes when the follower has applied up to it.
    let mut c = Cluster::new(3, 5);
    c.latency = (3, 3);
    let l = c.elect(20_000);
    let f = (l + 1) % 3;
    c.run_for(1000);
    c.propose(l, 9).unwrap();
    c.run_for(7); // committed on the leader, the follower does not know yet
    let idx = c.node(l).commit_index();
    assert!(c.node(f).applied_index() < idx);
    c.read(f, 1).unwrap();
    c.run_for(1000);
    let (at, _, _, r) = c
        .read_results
        .iter()
        .find(|(_, i, id, _)| *i == f && *id == 1)
        .cloned()
        .unwrap();
    assert_eq!(r, Ok(idx));
    let applied_at = c.applied[f].iter().find(|(_, a)| a.index == idx).unwrap().0;
    assert!(at >= applied_at);
}

#[test]
fn a_deposed_leader_that_still_thinks_it_leads_cannot_grant_a_read() {
    // spec §J7.1 + §J5.6: a cut-off leader not yet stepped down, next to its successor: its
    // read round gets refusals at the higher term and fails.
    let mut found = false;
    for seed in 0..60 {
        let mut c = Cluster::new(3, seed);
        let l = c.elect(20_000);
        c.run_for(200 + 97 * seed);
        c.isolate(l);
        let both = c.run_until_pred(c.now + 20_000, |c| {
            (0..3).filter(|&i| c.node(i).role() == Role::Leader).count() == 2
        });
        if !both {
            continue;
        }
        found = true;
        let l2 = c.leader().unwrap();
        assert_ne!(l2, l);
        c.propose(l2, 5).unwrap();
        c.run_for(5);
        // Healed: the old leader's read heartbeats reach the followers, which answer at the
        // higher term. A stale grant would fail the cluster's linearizability check.
        c.heal();
        c.read(l, 1).unwrap();
        c.run_for(100);
        assert_eq!(
            c.read_result(l, 1),
            Some(Err(round_failed())),
            "seed {seed}"
        );
        break;
    }
    assert!(found);
}

#[test]
fn a_refused_read_heartbeat_fails_the_round_at_once() {
    // `report_unreachable` on a read-index heartbeat: a failure now, not after 2500.
    let mut c = Cluster::new(3, 4);
    c.refuse = true;
    let l = c.elect(20_000);
    c.isolate(l);
    c.read(l, 1).unwrap();
    assert_eq!(c.read_result(l, 1), Some(Err(round_failed())));
}
