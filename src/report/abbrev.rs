//! What a snapshot leaves out of a very long story or final view, so that a scenario with a
//! thousand services (`distro-full-batch`) still gives a snapshot a person can read. The
//! limits are far above what any other scenario reaches, so only such stories are shortened.

/// A run of more consecutive story events of one kind on one node than this is shortened.
pub const RUN_LIMIT: usize = 50;
/// How many events a shortened run keeps at each end.
pub const RUN_KEEP: usize = 3;
/// A node with more services than this lists only the first [`VIEW_KEEP`] in a snapshot.
pub const VIEW_LIMIT: usize = 50;
/// How many services a shortened final view keeps.
pub const VIEW_KEEP: usize = 10;

/// One line of a shortened list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// The item at this index.
    Item(usize),
    /// `count` items left out, in place, the first of them at index `first`.
    Elided { first: usize, count: usize },
}

/// The lines that show `keys` (one key per item: here node and event kind): every maximal run of
/// equal consecutive keys longer than `limit` keeps its first and last `keep` items, with the
/// count of the others between them.
pub fn shorten_runs<K: PartialEq>(keys: &[K], limit: usize, keep: usize) -> Vec<Show> {
    let mut out = Vec::with_capacity(keys.len().min(4 * limit));
    let mut start = 0;
    while start < keys.len() {
        let end = (start..keys.len())
            .find(|&i| keys[i] != keys[start])
            .unwrap_or(keys.len());
        let len = end - start;
        if len > limit && len > 2 * keep {
            out.extend((start..start + keep).map(Show::Item));
            out.push(Show::Elided {
                first: start + keep,
                count: len - 2 * keep,
            });
            out.extend((end - keep..end).map(Show::Item));
        } else {
            out.extend((start..end).map(Show::Item));
        }
        start = end;
    }
    out
}

/// How many of `n` services a snapshot's final view of one node lists.
pub fn view_shown(n: usize) -> usize {
    if n > VIEW_LIMIT {
        VIEW_KEEP
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Show::Item;

    fn elided(first: usize, count: usize) -> Show {
        Show::Elided { first, count }
    }

    #[test]
    fn short_runs_are_kept_whole() {
        let keys = ["a", "a", "b", "a"];
        assert_eq!(
            shorten_runs(&keys, 2, 1),
            vec![Item(0), Item(1), Item(2), Item(3)]
        );
        assert!(shorten_runs::<&str>(&[], 2, 1).is_empty());
    }

    #[test]
    fn a_long_run_keeps_its_ends_and_counts_the_rest() {
        let keys = ["x", "a", "a", "a", "a", "a", "a", "y"];
        assert_eq!(
            shorten_runs(&keys, 5, 2),
            vec![
                Item(0),
                Item(1),
                Item(2),
                elided(3, 2),
                Item(5),
                Item(6),
                Item(7)
            ]
        );
        // At the limit itself nothing is left out.
        assert_eq!(shorten_runs(&keys[1..6], 5, 2).len(), 5);
        // Two long runs, one after the other, are each shortened.
        let keys = [1, 1, 1, 1, 2, 2, 2, 2];
        assert_eq!(
            shorten_runs(&keys, 3, 1),
            vec![
                Item(0),
                elided(1, 2),
                Item(3),
                Item(4),
                elided(5, 2),
                Item(7)
            ]
        );
    }

    #[test]
    fn only_a_very_long_final_view_is_cut() {
        assert_eq!(view_shown(3), 3);
        assert_eq!(view_shown(VIEW_LIMIT), VIEW_LIMIT);
        assert_eq!(view_shown(VIEW_LIMIT + 1), VIEW_KEEP);
    }
}
