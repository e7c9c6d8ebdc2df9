//! The timestamp of a Distro datum, and the what-if `whatif_distro_versions` (issue 13) that
//! turns it into a per-key revision.
//!
//! Nacos 1.4.1 (spec §6): every put stores a new `Datum` whose `timestamp` is incremented once
//! from 0, so every datum on every server has timestamp 1; the timestamp travels with the
//! datum in `PUT /distro/datum`, `GET /distro/datum` and `GET /distro/datums`, and a receiver
//! stores whatever arrives. There is no order: the last arrival wins (§16.1, §16.6).
//!
//! The what-if: a local write of an ephemeral key stores the held timestamp + 1 (a per-key
//! counter that a replica carries on from whatever it last accepted), and a receiver ignores
//! data whose timestamp is below the one it holds. Both decisions are here, as plain
//! functions.

/// The timestamp a local write of a key stores (`onPut`, §6): 1 in 1.4.1; with versions on,
/// one more than the timestamp the server holds for the key (1 when it holds none).
pub fn next_timestamp(held: Option<u64>, versioned: bool) -> u64 {
    if versioned {
        held.unwrap_or(0) + 1
    } else {
        1
    }
}

/// Whether a receiver applies a datum that arrives with timestamp `incoming` (a sync, a verify
/// fetch or the startup load) while it holds `held` for the key. 1.4.1: always (last arrival
/// wins, §6). With versions on: when it holds no datum for the key, or `incoming >= held`.
///
/// Ties are accepted. Equal timestamps mean either the same write seen twice (a resend, a
/// verify fetch of what the receiver has: harmless) or two writes made apart from each other
/// from the same starting point, one on each side of a split (§16.1): a counter cannot order
/// those, so the receiver falls back to 1.4.1's last arrival. That keeps the owner's verify
/// working: a replica whose checksum differs fetches the owner's list (§6 step 6) and takes it.
/// Refusing ties would leave the two sides' lists in place for good after a heal, each fetch
/// of a verify round (every 5 s) refused, until the next write of the key.
pub fn accepts(held: Option<u64>, incoming: u64, versioned: bool) -> bool {
    match held {
        Some(h) if versioned => incoming >= h,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_1_4_1_every_put_is_timestamp_1_and_every_arrival_wins() {
        assert_eq!(next_timestamp(None, false), 1);
        assert_eq!(next_timestamp(Some(7), false), 1);
        assert!(accepts(Some(7), 1, false));
        assert!(accepts(None, 1, false));
        assert!(accepts(Some(1), 1, false));
    }

    #[test]
    fn with_versions_a_local_write_counts_on_from_what_the_server_holds() {
        assert_eq!(next_timestamp(None, true), 1);
        assert_eq!(next_timestamp(Some(1), true), 2);
        // A replica that accepted a peer's 5 writes on: its own write is the 6th.
        assert_eq!(next_timestamp(Some(5), true), 6);
    }

    #[test]
    fn with_versions_older_data_is_ignored_and_newer_or_equal_applied() {
        assert!(!accepts(Some(3), 2, true), "older: ignored");
        assert!(accepts(Some(3), 4, true), "newer: applied");
        assert!(
            accepts(Some(3), 3, true),
            "a tie: last arrival, as in 1.4.1"
        );
        assert!(accepts(None, 1, true), "a key not held: applied");
    }
}
