//! Election, pre-vote, lease and step-down (spec §J5).

use super::super::{
    AppendKind, AppendReq, Code, Core, Entry, Event, HardState, Id, Msg, Payload, Persisted, Role,
    Status, Timing,
};
use super::cluster::{Cluster, Cmd};

pub(super) fn fresh(me: Id, n: usize, seed: u64) -> Core<Cmd> {
    let mut c = Core::new(me, n, Timing::default(), seed, 0);
    c.take_ready();
    c
}

/// A node restarted at time 0 with this term, vote and log (one entry per listed term).
pub(super) fn restarted(
    me: Id,
    n: usize,
    term: u64,
    voted_for: Option<Id>,
    terms: &[u64],
) -> Core<Cmd> {
    let mut c = Core::restart(me, n, Timing::default(), 7, 0, disk(term, voted_for, terms));
    c.take_ready();
    c
}

pub(super) fn disk(term: u64, voted_for: Option<Id>, terms: &[u64]) -> Persisted<Cmd> {
    Persisted {
        hard_state: HardState { term, voted_for },
        snapshot: None,
        entries: terms
            .iter()
            .enumerate()
            .map(|(i, &t)| Entry {
                index: i as u64 + 1,
                term: t,
                payload: Payload::Command(1000 * t + i as u64 + 1),
            })
            .collect(),
    }
}

/// The one vote or pre-vote answer in a Ready: (granted, responder's term).
fn vote_answer(c: &mut Core<Cmd>) -> (bool, u64) {
    let msgs = c.take_ready().messages;
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    match &msgs[0].1 {
        Msg::PreVoteResp { granted, term, .. } | Msg::VoteResp { granted, term, .. } => {
            (*granted, *term)
        }
        m => panic!("not a vote answer: {m:?}"),
    }
}

fn pre_vote(term: u64, last_log_index: u64, last_log_term: u64) -> Msg<Cmd> {
    Msg::PreVote {
        term,
        last_log_index,
        last_log_term,
    }
}

fn vote(term: u64, last_log_index: u64, last_log_term: u64) -> Msg<Cmd> {
    Msg::Vote {
        term,
        last_log_index,
        last_log_term,
    }
}

fn heartbeat(term: u64) -> Msg<Cmd> {
    Msg::Append(AppendReq {
        term,
        prev_log_index: 0,
        prev_log_term: 0,
        committed: 0,
        entries: vec![],
        kind: AppendKind::Heartbeat,
        seq: 1,
    })
}

fn is_pre_vote(m: &Msg<Cmd>) -> bool {
    matches!(m, Msg::PreVote { .. })
}

fn became_leader(c: &Cluster) -> Vec<(u64, Id, u64)> {
    c.events
        .iter()
        .filter_map(|(t, i, e)| match e {
            Event::BecameLeader { term } => Some((*t, *i, *term)),
            _ => None,
        })
        .collect()
}

fn step_downs(c: &Cluster, i: Id) -> Vec<(u64, Role, Status)> {
    c.events_of(i)
        .into_iter()
        .filter_map(|(t, e)| match e {
            Event::StepDown { from, reason, .. } => Some((t, from, reason)),
            _ => None,
        })
        .collect()
}

#[test]
fn the_election_timer_is_armed_in_5000_6000_at_boot_and_redrawn() {
    // spec §J5.1, §J4.3: [election_timeout, election_timeout + max_election_delay).
    let deadlines: Vec<u64> = (0..300).map(|s| fresh(0, 3, s).next_deadline()).collect();
    assert!(
        deadlines.iter().all(|d| (5000..6000).contains(d)),
        "{deadlines:?}"
    );
    assert!(*deadlines.iter().min().unwrap() < 5050);
    assert!(*deadlines.iter().max().unwrap() >= 5950);
    // A node alone (its peers down) pre-votes at each firing; each gap is a fresh draw.
    let mut c = fresh(0, 3, 11);
    let mut fired = Vec::new();
    for _ in 0..20 {
        let t = c.next_deadline();
        c.on_timer(t);
        let r = c.take_ready();
        assert!(r.messages.iter().all(|(_, m)| is_pre_vote(m)));
        fired.push(t);
    }
    let gaps: Vec<u64> = fired.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.iter().all(|g| (5000..6000).contains(g)), "{gaps:?}");
    assert!(
        gaps.windows(2).any(|w| w[0] != w[1]),
        "re-drawn each arming"
    );
    assert_eq!(
        c.term(),
        0,
        "spec §J5.1: a pre-vote does not change the term"
    );
}

#[test]
fn the_first_election_starts_in_5000_6000_from_boot_with_a_pre_vote_for_term_1() {
    // spec §J3: the first JRaft leader appears in [5.0 s, 6.1 s].
    for seed in 0..100 {
        let mut c = Cluster::new(3, seed);
        let l = c.elect(20_000);
        let (t0, from, _, m) = c
            .sent
            .iter()
            .find(|(_, _, _, m)| is_pre_vote(m))
            .cloned()
            .expect("a pre-vote");
        assert!(
            (5000..6000).contains(&t0),
            "seed {seed}: first pre-vote at {t0}"
        );
        assert!(matches!(m, Msg::PreVote { term: 1, .. }));
        let elected = became_leader(&c);
        assert_eq!(elected.len(), 1, "seed {seed}: {elected:?}");
        let (t, who, term) = elected[0];
        assert_eq!((who, term), (l, 1));
        // pre-vote round trip, then vote round trip (1 ms each way).
        assert_eq!((who, t), (from, t0 + 4), "seed {seed}");
    }
}

#[test]
fn a_follower_that_hears_its_leader_never_pre_votes() {
    // spec §J5.1: contact less than election_timeout ago → the timer does nothing.
    let mut c = Cluster::new(3, 5);
    let l = c.elect(20_000);
    let t = c.now;
    c.run_for(120_000);
    assert!(c
        .sent
        .iter()
        .all(|(at, _, _, m)| *at < t || !is_pre_vote(m)));
    assert_eq!(c.leader(), Some(l));
    assert!((0..3).all(|i| c.node(i).term() == 1));
}

#[test]
fn pre_vote_grant_rules() {
    // spec §J5.2. A fresh node (no leader) grants an equal log for term + 1.
    let mut c = fresh(1, 3, 1);
    c.step(10, 0, pre_vote(1, 0, 0));
    assert_eq!(vote_answer(&mut c), (true, 0));
    // A lower term is refused; the answer carries the higher term.
    let mut c = restarted(1, 3, 5, None, &[1, 2]);
    c.step(10, 0, pre_vote(3, 2, 2));
    assert_eq!(vote_answer(&mut c), (false, 5));
    // An older log is refused (terms compared first, then indexes)...
    c.step(10, 0, pre_vote(6, 1, 1));
    assert_eq!(vote_answer(&mut c), (false, 5));
    c.step(10, 0, pre_vote(6, 5, 1));
    assert_eq!(vote_answer(&mut c), (false, 5));
    // ...a shorter log with a higher last term is newer.
    c.step(10, 0, pre_vote(6, 1, 3));
    assert_eq!(vote_answer(&mut c), (true, 5));
    // A pre-vote never changes the term nor the vote, and persists nothing.
    assert_eq!(
        c.hard_state(),
        HardState {
            term: 5,
            voted_for: None
        }
    );

    // A follower that heard its leader less than election_timeout ago refuses.
    let mut c = fresh(1, 3, 1);
    c.step(1000, 0, heartbeat(1));
    assert_eq!(c.leader(), Some(0));
    c.take_ready();
    c.step(5999, 2, pre_vote(2, 0, 0));
    assert_eq!(vote_answer(&mut c), (false, 1));
    c.step(6000, 2, pre_vote(2, 0, 0));
    assert_eq!(
        vote_answer(&mut c),
        (true, 1),
        "5000 after the last contact"
    );
}

#[test]
fn a_leader_refuses_pre_votes_while_its_lease_is_valid() {
    // spec §J5.2, §J5.5: the step-down check renews the leader's lease.
    let mut c = Cluster::new(3, 3);
    let l = c.elect(20_000);
    c.run_for(3000); // past the first step-down check
    let f = (l + 1) % 3;
    let (li, lt) = (c.node(l).log().last_index(), c.node(l).log().last_term());
    let now = c.now;
    let node = c.nodes[l].as_mut().unwrap();
    node.step(now, f, pre_vote(2, li + 10, lt));
    assert_eq!(vote_answer(node), (false, 1));
    assert_eq!(node.role(), Role::Leader);
}

#[test]
fn an_isolated_follower_keeps_its_term_and_rejoins_without_an_election() {
    // spec §J5.2: a node cut off in a minority never raises its term; after the heal it
    // follows at the first AppendEntries, with no new election.
    for seed in 0..20 {
        let mut c = Cluster::new(3, seed);
        let l = c.elect(20_000);
        let f = (l + 1) % 3;
        c.isolate(f);
        c.run_for(60_000);
        assert_eq!(c.node(f).term(), 1, "seed {seed}");
        assert_eq!(c.node(f).leader(), None);
        assert!(c.sent.iter().any(|(_, a, _, m)| *a == f && is_pre_vote(m)));
        assert_eq!(c.leader(), Some(l));
        let healed = c.now;
        c.heal();
        c.run_for(1100);
        assert_eq!(c.node(f).leader(), Some(l), "seed {seed}");
        c.run_for(30_000);
        assert_eq!(c.leader(), Some(l));
        assert!((0..3).all(|i| c.node(i).term() == 1), "seed {seed}");
        assert!(became_leader(&c).iter().all(|(t, _, _)| *t < healed));
    }
}

#[test]
fn a_minority_partition_keeps_its_terms() {
    // spec §J5.2 with 5 servers: two cut-off followers grant each other's pre-votes, which is
    // still no quorum.
    let mut c = Cluster::new(5, 9);
    let l = c.elect(20_000);
    let minority = [(l + 1) % 5, (l + 2) % 5];
    let majority: Vec<Id> = (0..5).filter(|i| !minority.contains(i)).collect();
    c.partition(&[&minority, &majority]);
    c.run_for(60_000);
    assert!(minority.iter().all(|&i| c.node(i).term() == 1));
    assert_eq!(c.leader(), Some(l));
    c.heal();
    c.run_for(10_000);
    assert_eq!(c.leader(), Some(l));
    assert!((0..5).all(|i| c.node(i).term() == 1 && c.node(i).leader() == Some(l)));
}

#[test]
fn a_candidate_persists_term_and_vote_in_the_ready_that_asks_for_votes() {
    // spec §J5.3, §J5.6: term + 1 and the own vote are persisted before the requests go.
    let mut c = fresh(0, 3, 4);
    let t = c.next_deadline();
    c.on_timer(t);
    let r = c.take_ready();
    assert_eq!(r.hard_state, None);
    assert_eq!(r.messages.len(), 2);
    c.step(
        t + 1,
        1,
        Msg::PreVoteResp {
            req_term: 1,
            term: 0,
            granted: true,
        },
    );
    let r = c.take_ready();
    assert_eq!(
        r.hard_state,
        Some(HardState {
            term: 1,
            voted_for: Some(0)
        })
    );
    let votes: Vec<Id> = r
        .messages
        .iter()
        .filter(|(_, m)| matches!(m, Msg::Vote { term: 1, .. }))
        .map(|(to, _)| *to)
        .collect();
    assert_eq!(votes, vec![1, 2]);
    assert!(r.events.contains(&Event::Role {
        role: Role::Candidate,
        term: 1
    }));
    assert_eq!(c.role(), Role::Candidate);
    // spec §J5.3: the vote timer, [5000, 6000) from now.
    let d = c.next_deadline() - (t + 1);
    assert!((5000..6000).contains(&d), "{d}");
    // One more grant is a majority of 3.
    c.step(
        t + 2,
        2,
        Msg::VoteResp {
            req_term: 1,
            term: 1,
            granted: true,
        },
    );
    assert_eq!(c.role(), Role::Leader);
    let r = c.take_ready();
    assert!(r.events.contains(&Event::BecameLeader { term: 1 }));
}

#[test]
fn a_voter_grants_once_per_term_to_an_up_to_date_log() {
    // spec §J5.3.
    let mut c = fresh(2, 3, 4);
    c.step(10, 0, vote(1, 0, 0));
    let r = c.take_ready();
    assert_eq!(
        r.hard_state,
        Some(HardState {
            term: 1,
            voted_for: Some(0)
        })
    );
    assert!(matches!(
        r.messages[0].1,
        Msg::VoteResp {
            granted: true,
            term: 1,
            ..
        }
    ));
    c.step(11, 1, vote(1, 0, 0));
    assert_eq!(vote_answer(&mut c), (false, 1), "already voted in term 1");
    c.step(12, 0, vote(1, 0, 0));
    assert_eq!(
        vote_answer(&mut c),
        (true, 1),
        "a repeated request gets the same vote"
    );
    // A stale log is refused, but its higher term is adopted and persisted with no vote.
    let mut c = restarted(2, 3, 1, None, &[1]);
    c.step(10, 0, vote(2, 0, 0));
    let r = c.take_ready();
    assert_eq!(
        r.hard_state,
        Some(HardState {
            term: 2,
            voted_for: None
        })
    );
    assert!(matches!(
        r.messages[0].1,
        Msg::VoteResp {
            granted: false,
            term: 2,
            ..
        }
    ));
    // A lower term is refused without change.
    c.step(11, 0, vote(1, 5, 5));
    assert_eq!(vote_answer(&mut c), (false, 2));
}

#[test]
fn a_restarted_voter_remembers_its_vote() {
    // spec §J5.6, §J10.2: the vote was persisted, so a restart cannot vote twice in a term.
    let mut c = fresh(2, 3, 4);
    c.step(10, 0, vote(1, 0, 0));
    let mut d = Persisted::default();
    d.apply(&c.take_ready());
    let mut c = Core::<Cmd>::restart(2, 3, Timing::default(), 99, 20, d);
    assert_eq!(
        (c.term(), c.voted_for(), c.role()),
        (1, Some(0), Role::Follower)
    );
    c.take_ready();
    c.step(30, 1, vote(1, 0, 0));
    assert_eq!(vote_answer(&mut c), (false, 1));
    c.step(31, 0, vote(1, 0, 0));
    assert_eq!(vote_answer(&mut c), (true, 1));
}

#[test]
fn a_candidate_steps_down_and_pre_votes_again_when_its_vote_timer_fires() {
    // spec §J5.3: with every vote request lost, the candidate times out in [5000, 6000),
    // steps down at its term and pre-votes at once for term + 1.
    let mut c = Cluster::new(3, 21);
    c.filter = Some(Box::new(|_, _, _, m| matches!(m, Msg::Vote { .. })));
    assert!(c.run_until_pred(20_000, |c| (0..3)
        .any(|i| c.node(i).role() == Role::Candidate)));
    let cand = (0..3)
        .find(|&i| c.node(i).role() == Role::Candidate)
        .unwrap();
    let t0 = c.now;
    c.run_until_pred(30_000, |c| !step_downs(c, cand).is_empty());
    let (t1, from, reason) = step_downs(&c, cand)[0].clone();
    assert_eq!(from, Role::Candidate);
    assert_eq!(
        reason,
        Status::new(
            Code::Etimedout,
            "Vote timeout: fail to get quorum vote-granted."
        )
    );
    assert!((5000..6000).contains(&(t1 - t0)), "{}", t1 - t0);
    assert_eq!(c.node(cand).term(), 1);
    c.step_once(); // nothing else happens at t1 before the pre-votes go
    let pre: Vec<_> = c.sent_between(cand, (cand + 1) % 3, is_pre_vote);
    assert_eq!(pre.last().unwrap(), &(t1, pre_vote(2, 0, 0)));
}

#[test]
fn the_new_leader_starts_when_its_configuration_entry_commits() {
    // spec §J5.4: LEADER at once; `onLeaderStart` only once the configuration entry of the
    // term commits (probe round trip, then entries round trip); followers `onStartFollowing`
    // at the first AppendEntries of the term.
    let mut c = Cluster::new(3, 8);
    c.latency = (10, 10);
    let l = c.elect(20_000);
    c.run_for(100);
    let (t, who, term) = became_leader(&c)[0];
    assert_eq!((who, term), (l, 1));
    assert_eq!(c.leader_starts(), vec![(t + 40, l, 1)]);
    for f in (0..3).filter(|&f| f != l) {
        let starts: Vec<_> = c
            .events_of(f)
            .into_iter()
            .filter(|(_, e)| matches!(e, Event::StartFollowing { .. }))
            .collect();
        assert_eq!(
            starts,
            vec![(t + 10, Event::StartFollowing { leader: l, term: 1 })]
        );
    }
    // With every AppendEntries answer lost, the entry never commits: no leader start, and
    // the leader steps down when its first lease check finds no acknowledgement past 4500.
    let mut c = Cluster::new(3, 8);
    c.filter = Some(Box::new(|_, _, _, m| matches!(m, Msg::AppendResp(_))));
    assert!(c.run_until_pred(20_000, |c| c.leader().is_some()));
    let l = c.leader().unwrap();
    let t = c.now;
    c.run_for(10_000);
    assert!(c.leader_starts().is_empty());
    let sd = step_downs(&c, l);
    assert_eq!(
        sd[0].0,
        t + 5000,
        "checks at +2500 (alive) and +5000 (dead)"
    );
    assert_eq!(
        sd[0].2,
        Status::new(Code::Eraftimedout, "Majority of the group dies: 2/3")
    );
}

#[test]
fn heartbeats_go_500_after_the_previous_answer() {
    // spec §J5.4, §J4.3: AppendEntries at once, then heartbeats every 500 (the next one is
    // armed when the previous one is answered).
    for (lat, period) in [(0, 500), (5, 510)] {
        let mut c = Cluster::new(3, 2);
        c.latency = (lat, lat);
        let l = c.elect(20_000);
        let t = became_leader(&c)[0].0;
        c.run_for(5000);
        let f = (l + 1) % 3;
        let beats: Vec<u64> = c
            .sent_between(
                l,
                f,
                |m| matches!(m, Msg::Append(a) if a.kind == AppendKind::Heartbeat),
            )
            .into_iter()
            .map(|(at, _)| at)
            .collect();
        let first = c.sent_between(l, f, |m| matches!(m, Msg::Append(_)))[0].0;
        assert_eq!(first, t, "a probe at once");
        assert_eq!(beats[0], t + 500);
        assert!(beats.windows(2).all(|w| w[1] - w[0] == period), "{beats:?}");
    }
}

/// The send time of the leader's last acknowledged RPC before `cut`. With 5 ms each way, an
/// RPC sent at s is answered at s + 10, so it counts iff s + 10 ≤ cut (the cut comes after
/// the events of its instant).
fn last_acked_before(c: &Cluster, l: Id, cut: u64) -> u64 {
    (0..c.n)
        .filter(|&p| p != l)
        .filter_map(|p| {
            c.sent_between(
                l,
                p,
                |m| matches!(m, Msg::Append(a) if !matches!(a.kind, AppendKind::ReadHeartbeat(_))),
            )
            .into_iter()
            .map(|(t, _)| t)
            .filter(|&t| t + 10 <= cut)
            .max()
        })
        .max()
        .unwrap()
}

#[test]
fn a_leader_cut_off_steps_down_4500_to_7000_after_its_last_acknowledged_rpc() {
    // spec §J5.5: checks every 2500 from becoming leader; a peer counts while its latest
    // acknowledged RPC was sent ≤ 4500 ago. So the step-down comes at the first check more
    // than 4500 after the last acknowledged send: in (4500, 7000].
    let mut deltas = Vec::new();
    for k in 0..120u64 {
        let mut c = Cluster::new(3, k);
        // The heartbeat period (500 + a 10 ms round trip) drifts against the 2500 check grid.
        c.latency = (5, 5);
        let l = c.elect(20_000);
        let t_lead = became_leader(&c)[0].0;
        let cut = t_lead + 3000 + 233 * k;
        c.run_until(cut - 1);
        c.run_until(cut);
        c.isolate(l);
        c.run_for(10_000);
        let last = last_acked_before(&c, l, cut);
        let expected = (1..)
            .map(|j| t_lead + 2500 * j)
            .find(|&chk| chk > last + 4500)
            .unwrap();
        let sd = step_downs(&c, l);
        assert_eq!(sd.len(), 1, "seed {k}");
        let (t, from, reason) = sd[0].clone();
        assert_eq!((t, from), (expected, Role::Leader), "seed {k}");
        assert_eq!(reason.msg, "Majority of the group dies: 2/3");
        assert!(
            t - last > 4500 && t - last <= 7000,
            "seed {k}: {}",
            t - last
        );
        deltas.push(t - last);
        assert_eq!(c.node(l).role(), Role::Follower);
        assert_eq!(c.node(l).leader(), None);
    }
    assert!(*deltas.iter().min().unwrap() < 4700, "{deltas:?}");
    assert!(*deltas.iter().max().unwrap() > 6800, "{deltas:?}");
}

#[test]
fn stepping_down_fails_every_uncommitted_proposal_with_eperm() {
    // spec §J5.5: "Leader stepped down" for each pending task; nothing of it is applied
    // (spec §J8.3), and the next leader's log replaces it after the heal.
    let mut c = Cluster::new(3, 12);
    let l = c.elect(20_000);
    c.propose(l, 1).unwrap();
    c.run_for(1000);
    c.isolate(l);
    for cmd in [2, 3, 4] {
        c.propose(l, cmd).unwrap();
    }
    c.run_for(8000);
    let failed: Vec<(u64, Status)> = c
        .failed
        .iter()
        .filter(|(_, i, _, _)| *i == l)
        .map(|(_, _, id, st)| (*id, st.clone()))
        .collect();
    let eperm = Status::new(Code::Eperm, "Leader stepped down");
    assert_eq!(
        failed,
        vec![(2, eperm.clone()), (3, eperm.clone()), (4, eperm)]
    );
    let l2 = c.elect(30_000);
    assert_ne!(l2, l);
    c.propose(l2, 5).unwrap();
    c.heal();
    // The new leader's replicator to the old one lost its probe in the partition: it retries
    // after the 5000 RPC timeout and a 500 block.
    c.run_for(6000);
    for i in 0..3 {
        assert_eq!(c.applied_cmds(i), vec![1, 5], "node {i}");
    }
    c.check_log_matching();
    // A proposal to a non-leader is refused at once.
    assert_eq!(
        c.propose(l, 6),
        Err(Status::new(Code::Eperm, "Is not leader."))
    );
}

#[test]
fn a_leader_steps_down_on_a_higher_term() {
    // spec §J5.5 last bullet, §J5.3: a higher-term vote request deposes the leader, which
    // persists the term and fails its pending proposals.
    let mut c = Cluster::new(3, 13);
    let l = c.elect(20_000);
    c.isolate(l);
    c.propose(l, 7).unwrap();
    let now = c.now;
    let node = c.nodes[l].as_mut().unwrap();
    node.step(now, (l + 1) % 3, vote(9, 0, 0));
    let r = node.take_ready();
    assert_eq!(node.role(), Role::Follower);
    assert_eq!(
        r.hard_state,
        Some(HardState {
            term: 9,
            voted_for: None
        })
    );
    assert_eq!(
        r.failed_proposals,
        vec![(7, Status::new(Code::Eperm, "Leader stepped down"))]
    );
    assert!(r.events.contains(&Event::StepDown {
        from: Role::Leader,
        term: 1,
        reason: Status::new(
            Code::Ehightermresponse,
            "Raft node receives higher term RequestVoteRequest."
        ),
    }));
}

#[test]
fn a_single_server_group_elects_itself_at_once() {
    // spec §J13.1: a standalone server's group has one peer and elects itself at boot.
    let mut c = Core::<Cmd>::new(0, 1, Timing::default(), 1, 0);
    let r = c.take_ready();
    assert_eq!(c.role(), Role::Leader);
    assert!(r.events.contains(&Event::LeaderStart { term: 1 }));
    c.propose(1, 42, 42).unwrap();
    let r = c.take_ready();
    assert_eq!(r.committed.len(), 1);
    assert_eq!(r.committed[0].proposal, Some(42));
    c.on_timer(100_000);
    assert_eq!(c.role(), Role::Leader, "its own lease check never fails");
}

#[test]
fn a_proposal_failed_with_leader_stepped_down_can_still_commit() {
    // spec §J5.5 + §J13.5: EPERM "Leader stepped down" is not a definite rejection. Here the
    // entry reaches both followers, the cut comes before their acknowledgements return, the
    // leader steps down and fails it, and the next leader commits it with its own
    // configuration entry.
    let mut c = Cluster::new(3, 14);
    let l = c.elect(20_000);
    c.run_for(1000);
    c.propose(l, 50).unwrap();
    c.run_for(1); // the entries arrive (1 ms); the answers are on their way
    c.isolate(l);
    c.run_for(8000);
    assert!(c
        .failed
        .iter()
        .any(|(_, i, id, st)| (*i, *id) == (l, 50) && st.msg == "Leader stepped down"));
    let l2 = c.elect(c.now + 30_000);
    assert_ne!(l2, l);
    c.heal();
    c.run_for(6000);
    for i in 0..3 {
        assert_eq!(c.applied_cmds(i), vec![50], "node {i}");
    }
}
