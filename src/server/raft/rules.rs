//! The decision rules of Nacos 1.4.1's legacy RaftCore (spec §9), as plain functions over plain
//! data, flaws included: stale vote replies count, a rejecting voter answers with its own vote,
//! a leader never steps down by itself (only a higher-term vote or beat demotes it), votes are
//! not persisted, and a publish bumps the term by 100.

use std::collections::BTreeMap;
use std::net::SocketAddr;

pub use crate::model::raft::{Peer, Role};

/// spec §9: majority = size/2 + 1 over every configured member.
pub fn majority(members: usize) -> usize {
    members / 2 + 1
}

/// spec §9 receivedVote steps 2–3: what the voter answers and how it changes.
/// Returns the voter's new self and whether it voted for the candidate (and must reset its
/// leader due). A voter with `remote.term ≤ local.term` answers with itself, voting for itself
/// if it had no vote; otherwise it follows the candidate, even when it is the leader.
pub fn receive_vote(local: &Peer, remote: &Peer) -> (Peer, bool) {
    let mut me = local.clone();
    if remote.term <= local.term {
        if me.vote_for.is_none() {
            me.vote_for = Some(me.ip);
        }
        return (me, false);
    }
    me.state = Role::Follower;
    me.vote_for = Some(remote.ip);
    me.term = remote.term;
    (me, true)
}

/// spec §9 election step 3: count the non-empty `voteFor` values over all stored peers; the
/// most voted peer wins if it has at least a majority. No check of terms or of the counting
/// node still being a candidate: stale replies count, and a different peer can be crowned.
pub fn decide_leader(peers: &BTreeMap<SocketAddr, Peer>, majority: usize) -> Option<SocketAddr> {
    let mut votes: BTreeMap<SocketAddr, usize> = BTreeMap::new();
    for p in peers.values() {
        if let Some(v) = p.vote_for {
            *votes.entry(v).or_default() += 1;
        }
    }
    // Highest count; among equals the first in address order (deterministic).
    let (addr, count) = votes
        .into_iter()
        .fold(None::<(SocketAddr, usize)>, |best, (a, c)| match best {
            Some((_, bc)) if bc >= c => best,
            _ => Some((a, c)),
        })?;
    (count >= majority).then_some(addr)
}

/// spec §9 (onPublish and beat fetch): if `local + 100 > leader` the local term becomes the
/// leader's, otherwise it grows by 100.
pub fn term_after_apply(local: u64, leader: u64) -> u64 {
    if local + 100 > leader {
        leader
    } else {
        local + 100
    }
}

/// spec §9 onPublish on a follower, steps 2–3: accept only from the current leader and only
/// when the source's term is not behind.
pub fn accept_publish(
    current_leader: Option<SocketAddr>,
    local_term: u64,
    source: &Peer,
) -> Result<(), String> {
    if current_leader != Some(source.ip) {
        return Err(format!(
            "peer({}) tries to publish data but is not leader",
            source.ip
        ));
    }
    if source.term < local_term {
        return Err(format!(
            "out of date publish, pub-term: {}, cur-term: {}",
            source.term, local_term
        ));
    }
    Ok(())
}

/// spec §9 receivedBeat step 1: a beat from a non-leader or from a lower term is refused.
pub fn accept_beat(local_term: u64, remote: &Peer) -> Result<(), String> {
    if remote.state != Role::Leader {
        return Err(format!(
            "invalid state from master, state: {}",
            remote.state
        ));
    }
    if local_term > remote.term {
        return Err(format!(
            "out of date beat, beat-from-term: {}, beat-to-term: {}",
            remote.term, local_term
        ));
    }
    Ok(())
}

/// spec §9 receivedBeat step 4: keys of the beat that are missing locally or newer there.
pub fn keys_to_fetch(beat: &[(String, u64)], local: &BTreeMap<String, u64>) -> Vec<String> {
    beat.iter()
        .filter(|(k, ts)| local.get(k).is_none_or(|l| ts > l))
        .map(|(k, _)| k.clone())
        .collect()
}

/// spec §9 receivedBeat step 5: every local key absent from the beat is deleted.
pub fn keys_to_delete(beat: &[(String, u64)], local: &BTreeMap<String, u64>) -> Vec<String> {
    local
        .keys()
        .filter(|k| !beat.iter().any(|(b, _)| b == *k))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(n: u8) -> SocketAddr {
        format!("10.0.0.{n}:8848").parse().unwrap()
    }

    fn peer(n: u8, term: u64, vote: Option<u8>) -> Peer {
        Peer {
            ip: a(n),
            vote_for: vote.map(a),
            term,
            state: Role::Follower,
        }
    }

    #[test]
    fn majority_counts_every_configured_member() {
        assert_eq!(majority(1), 1);
        assert_eq!(majority(2), 2);
        assert_eq!(majority(3), 2);
        assert_eq!(majority(4), 3);
        assert_eq!(majority(5), 3);
    }

    #[test]
    fn a_voter_with_an_equal_or_higher_term_answers_with_itself_and_votes_for_itself() {
        let (me, voted) = receive_vote(&peer(2, 5, None), &peer(1, 5, Some(1)));
        assert!(!voted);
        assert_eq!(
            me.vote_for,
            Some(a(2)),
            "an empty vote becomes a vote for itself"
        );
        let (me, voted) = receive_vote(&peer(2, 7, Some(3)), &peer(1, 6, Some(1)));
        assert!(!voted);
        assert_eq!(
            me.vote_for,
            Some(a(3)),
            "a rejecting voter returns its own voteFor"
        );
        assert_eq!(me.term, 7);
    }

    #[test]
    fn a_higher_term_wins_the_vote_even_from_a_leader() {
        let mut leader = peer(2, 5, Some(2));
        leader.state = Role::Leader;
        let (me, voted) = receive_vote(&leader, &peer(1, 6, Some(1)));
        assert!(voted);
        assert_eq!(me.state, Role::Follower);
        assert_eq!(me.vote_for, Some(a(1)));
        assert_eq!(me.term, 6);
    }

    #[test]
    fn votes_are_counted_over_all_stored_peers_and_can_crown_another_peer() {
        let mut peers = BTreeMap::new();
        peers.insert(a(1), peer(1, 3, Some(1)));
        peers.insert(a(2), peer(2, 9, Some(3))); // a stale or rejecting reply still counts
        peers.insert(a(3), peer(3, 9, Some(3)));
        assert_eq!(decide_leader(&peers, 2), Some(a(3)));
        peers.insert(a(3), peer(3, 9, Some(2)));
        assert_eq!(
            decide_leader(&peers, 2),
            None,
            "1-1-1: nobody has a majority"
        );
        assert_eq!(decide_leader(&BTreeMap::new(), 1), None);
    }

    #[test]
    fn the_plus_100_term_rule() {
        assert_eq!(
            term_after_apply(5, 50),
            50,
            "5 + 100 > 50: take the leader's term"
        );
        assert_eq!(term_after_apply(5, 104), 104);
        assert_eq!(
            term_after_apply(5, 105),
            105,
            "105 > 105 is false: grow by 100, to the same value"
        );
        assert_eq!(term_after_apply(5, 300), 105, "far behind: grow by 100");
    }

    #[test]
    fn publish_and_beat_acceptance() {
        let leader = Peer {
            state: Role::Leader,
            ..peer(1, 10, Some(1))
        };
        assert!(accept_publish(Some(a(1)), 10, &leader).is_ok());
        assert!(
            accept_publish(None, 0, &leader).is_err(),
            "no leader known yet"
        );
        assert!(accept_publish(Some(a(2)), 0, &leader).is_err());
        assert!(accept_publish(Some(a(1)), 11, &leader).is_err());
        assert!(accept_beat(10, &leader).is_ok());
        assert!(accept_beat(11, &leader).is_err());
        assert!(
            accept_beat(0, &peer(1, 10, None)).is_err(),
            "only a LEADER beats"
        );
    }

    #[test]
    fn beats_fetch_missing_or_newer_keys_and_delete_absent_ones() {
        let beat = vec![
            ("a".to_string(), 2),
            ("b".to_string(), 1),
            ("c".to_string(), 1),
        ];
        let local: BTreeMap<String, u64> = [
            ("a".to_string(), 1),
            ("b".to_string(), 5),
            ("z".to_string(), 9),
        ]
        .into();
        assert_eq!(keys_to_fetch(&beat, &local), vec!["a", "c"]);
        assert_eq!(keys_to_delete(&beat, &local), vec!["z"]);
    }
}
