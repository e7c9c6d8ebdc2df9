//! Seeded chaos over 3- and 5-server clusters: message loss, delay and reordering,
//! partitions, crashes and restarts from disk, with proposals and reads throughout. The
//! cluster checks election safety, leader completeness, state machine safety, apply order
//! and read linearizability as it runs; log matching is checked periodically. After the chaos
//! the network heals and every server restarts: one leader must emerge and every state
//! machine must converge.

use super::cluster::{Cluster, Cmd};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CHAOS_MS: u64 = 60_000;
const SEEDS: u64 = 500;
const CALM_MS: u64 = 60_000;

fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    rng.next_u64() % n
}

/// One seeded run; returns (leaders elected, commands applied everywhere).
fn run(n: usize, seed: u64) -> (usize, usize) {
    let mut c = Cluster::new(n, seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(0x5eed) ^ n as u64);
    c.latency = (1, 20);
    // Half the runs refuse connections to down or cut-off peers at once (madsim refuses a
    // new connection to a clogged peer), half lose the messages silently.
    c.refuse = seed % 2 == 1;
    let mut next_cmd: Cmd = 1;
    let mut next_read = 1;
    let mut since_check = 0;
    while c.now < CHAOS_MS {
        let gap = 20 + below(&mut rng, 1500);
        c.run_for(gap);
        since_check += gap;
        if since_check > 5000 {
            c.check_log_matching();
            since_check = 0;
        }
        let up: Vec<usize> = (0..n).filter(|&i| c.is_up(i)).collect();
        let down: Vec<usize> = (0..n).filter(|&i| !c.is_up(i)).collect();
        match below(&mut rng, 100) {
            0..=34 if !up.is_empty() => {
                let target = match c.leader() {
                    Some(l) if below(&mut rng, 10) < 8 => l,
                    _ => up[below(&mut rng, up.len() as u64) as usize],
                };
                let _ = c.propose(target, next_cmd);
                next_cmd += 1;
            }
            35..=49 if !up.is_empty() => {
                // Aim at a deposed leader that has not stepped down yet, if there is one:
                // it must not grant a stale read.
                let leaders: Vec<usize> = up
                    .iter()
                    .copied()
                    .filter(|&i| c.node(i).role() == super::super::Role::Leader)
                    .collect();
                let target = match leaders.iter().min_by_key(|&&i| c.node(i).term()) {
                    Some(&old) if leaders.len() > 1 => old,
                    _ => up[below(&mut rng, up.len() as u64) as usize],
                };
                let _ = c.read(target, next_read);
                next_read += 1;
            }
            50..=59 => {
                let mut a = Vec::new();
                let mut b = Vec::new();
                for i in 0..n {
                    if below(&mut rng, 2) == 0 {
                        a.push(i);
                    } else {
                        b.push(i);
                    }
                }
                c.heal();
                c.partition(&[&a, &b]);
            }
            60..=69 => c.heal(),
            70..=77 if !up.is_empty() => c.crash(up[below(&mut rng, up.len() as u64) as usize]),
            78..=87 if !down.is_empty() => {
                c.restart(down[below(&mut rng, down.len() as u64) as usize])
            }
            88..=93 => c.drop_per_mille = below(&mut rng, 300),
            94..=99 => c.latency = (1, 1 + below(&mut rng, 300)),
            _ => {}
        }
    }
    // Calm: everything heals, everyone restarts.
    c.heal();
    c.drop_per_mille = 0;
    c.latency = (1, 10);
    for i in 0..n {
        if !c.is_up(i) {
            c.restart(i);
        }
    }
    let calm_end = c.now + CALM_MS;
    let l = c.elect(calm_end);
    c.propose(l, next_cmd).expect("the leader accepts");
    // A replicator whose request was lost waits out the RPC timeout (5000) and a block (500).
    c.run_for(6000);
    c.check_log_matching();
    let l = c.leader().expect("still a leader");
    let commit = c.node(l).commit_index();
    for i in 0..n {
        assert_eq!(
            c.node(i).applied_index(),
            commit,
            "seed {seed}: node {i} behind"
        );
        assert_eq!(c.node(i).leader(), Some(l), "seed {seed}: node {i}");
        assert_eq!(
            c.node(i).log().entries()[..commit as usize],
            c.node(l).log().entries()[..commit as usize]
        );
    }
    assert!(c.applied_cmds(l).contains(&next_cmd), "seed {seed}");
    let leaders = c
        .events
        .iter()
        .filter(|(_, _, e)| matches!(e, super::super::Event::BecameLeader { .. }))
        .count();
    (leaders, c.applied_cmds(l).len())
}

#[test]
fn three_servers_stay_safe_under_chaos() {
    let (mut leaders, mut applied) = (0, 0);
    for seed in 0..SEEDS {
        let (l, a) = run(3, seed);
        leaders += l;
        applied += a;
    }
    // The runs did exercise elections and commits.
    assert!(leaders > 2 * SEEDS as usize, "{leaders}");
    assert!(applied > 10 * SEEDS as usize, "{applied}");
}

#[test]
fn five_servers_stay_safe_under_chaos() {
    let (mut leaders, mut applied) = (0, 0);
    for seed in 0..SEEDS {
        let (l, a) = run(5, seed);
        leaders += l;
        applied += a;
    }
    assert!(leaders > 2 * SEEDS as usize, "{leaders}");
    assert!(applied > 7 * SEEDS as usize, "{applied}");
}
