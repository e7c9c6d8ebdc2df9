//! The in-memory image of a node's log (sofa-jraft `LogManagerImpl`), with the follower's
//! conflict resolution. Every change is also recorded as a [`LogOp`] for the driver to persist.

use super::types::{Entry, LogOp};

/// The log: entries after an optional snapshot point. Indexes start at 1; index 0 has term 0.
#[derive(Debug, Clone, PartialEq)]
pub struct RaftLog<C> {
    snap_index: u64,
    snap_term: u64,
    entries: Vec<Entry<C>>,
}

impl<C: Clone> RaftLog<C> {
    /// A log that starts after `snapshot` (index, term) and holds `entries`, which must be
    /// contiguous from the snapshot index + 1.
    pub fn new(snapshot: Option<(u64, u64)>, entries: Vec<Entry<C>>) -> RaftLog<C> {
        let (snap_index, snap_term) = snapshot.unwrap_or((0, 0));
        for (i, e) in entries.iter().enumerate() {
            assert_eq!(
                e.index,
                snap_index + 1 + i as u64,
                "persisted log entries must be contiguous after the snapshot"
            );
        }
        RaftLog {
            snap_index,
            snap_term,
            entries,
        }
    }

    /// The snapshot point (0 when there is none).
    pub fn snapshot_index(&self) -> u64 {
        self.snap_index
    }

    pub fn last_index(&self) -> u64 {
        self.snap_index + self.entries.len() as u64
    }

    pub fn last_term(&self) -> u64 {
        self.entries.last().map_or(self.snap_term, |e| e.term)
    }

    /// The term of the entry at `index`: 0 for index 0, the snapshot's term at the snapshot
    /// point, `None` when the index is beyond the log or compacted away (sofa-jraft
    /// `getTerm` answers 0 there, which never matches a real entry's term).
    pub fn term_at(&self, index: u64) -> Option<u64> {
        if index == 0 {
            return Some(0);
        }
        if index == self.snap_index {
            return Some(self.snap_term);
        }
        self.get(index).map(|e| e.term)
    }

    pub fn get(&self, index: u64) -> Option<&Entry<C>> {
        if index <= self.snap_index {
            return None;
        }
        self.entries.get((index - self.snap_index - 1) as usize)
    }

    /// Up to `max` entries from `from` on.
    pub fn slice(&self, from: u64, max: usize) -> Vec<Entry<C>> {
        if from <= self.snap_index || from > self.last_index() {
            return Vec::new();
        }
        let start = (from - self.snap_index - 1) as usize;
        let end = (start + max).min(self.entries.len());
        self.entries[start..end].to_vec()
    }

    /// Every entry held (after the snapshot point).
    pub fn entries(&self) -> &[Entry<C>] {
        &self.entries
    }

    /// The leader's append of one new entry at the end.
    pub(super) fn append(&mut self, entry: Entry<C>, ops: &mut Vec<LogOp<C>>) {
        assert_eq!(entry.index, self.last_index() + 1);
        push_append(ops, entry.clone());
        self.entries.push(entry);
    }

    /// A follower's append of entries from the leader that follow a matching prev entry
    /// (`checkAndResolveConflict`): entries already present with the same term are skipped; at
    /// the first conflicting term the local suffix is truncated and the rest appended.
    /// `committed` is the follower's commit index: truncating it would break spec §J8.3.
    pub(super) fn append_from_leader(
        &mut self,
        entries: Vec<Entry<C>>,
        committed: u64,
        ops: &mut Vec<LogOp<C>>,
    ) {
        let Some(first) = entries.first() else { return };
        assert!(
            first.index <= self.last_index() + 1,
            "a gap between the leader's entries and the local log"
        );
        let mut skip = 0;
        for e in &entries {
            if self.term_at(e.index) == Some(e.term) {
                skip += 1;
            } else {
                break;
            }
        }
        let rest = &entries[skip..];
        let Some(conflict) = rest.first() else {
            return; // a duplicate: everything is present already
        };
        if conflict.index <= self.last_index() {
            assert!(
                conflict.index > committed,
                "truncating committed entry {} (commit {committed})",
                conflict.index
            );
            self.entries
                .truncate((conflict.index - self.snap_index - 1) as usize);
            ops.push(LogOp::Truncate {
                from: conflict.index,
            });
        }
        for e in rest {
            push_append(ops, e.clone());
            self.entries.push(e.clone());
        }
    }

    /// sofa-jraft `LogId.compareTo`: is the log ending at (`index`, `term`) at least as
    /// up to date as this one? Terms first, then indexes (spec §J5.2, §J5.3).
    pub fn is_up_to_date(&self, index: u64, term: u64) -> bool {
        (term, index) >= (self.last_term(), self.last_index())
    }
}

/// Adds an entry to the ops, merging with a preceding append.
fn push_append<C>(ops: &mut Vec<LogOp<C>>, entry: Entry<C>) {
    if let Some(LogOp::Append(es)) = ops.last_mut() {
        if es.last().is_some_and(|l| l.index + 1 == entry.index) {
            es.push(entry);
            return;
        }
    }
    ops.push(LogOp::Append(vec![entry]));
}

#[cfg(test)]
mod tests {
    use super::super::types::Payload;
    use super::*;

    fn e(index: u64, term: u64) -> Entry<u32> {
        Entry {
            index,
            term,
            payload: Payload::Command(index as u32 * 100 + term as u32),
        }
    }

    fn log(terms: &[u64]) -> RaftLog<u32> {
        RaftLog::new(
            None,
            terms
                .iter()
                .enumerate()
                .map(|(i, t)| e(i as u64 + 1, *t))
                .collect(),
        )
    }

    #[test]
    fn terms_of_index_zero_the_snapshot_point_and_beyond_the_end() {
        let l = log(&[1, 1, 2]);
        assert_eq!(l.term_at(0), Some(0));
        assert_eq!(l.term_at(3), Some(2));
        assert_eq!(l.term_at(4), None);
        let s = RaftLog::new(Some((10, 3)), vec![e(11, 4)]);
        assert_eq!(s.term_at(10), Some(3));
        assert_eq!(s.term_at(9), None, "compacted");
        assert_eq!(s.term_at(11), Some(4));
        assert_eq!((s.last_index(), s.last_term()), (11, 4));
        assert_eq!(s.slice(11, 5), vec![e(11, 4)]);
        assert!(s.slice(10, 5).is_empty());
    }

    #[test]
    fn conflicting_suffix_is_truncated_then_the_rest_appended() {
        // spec §J8.3: an uncommitted suffix from an old leader is replaced by the new one's.
        let mut l = log(&[1, 1, 2, 2]);
        let mut ops = Vec::new();
        l.append_from_leader(vec![e(2, 1), e(3, 3), e(4, 3), e(5, 3)], 2, &mut ops);
        assert_eq!(
            ops,
            vec![
                LogOp::Truncate { from: 3 },
                LogOp::Append(vec![e(3, 3), e(4, 3), e(5, 3)])
            ]
        );
        assert_eq!(
            l.entries().iter().map(|x| x.term).collect::<Vec<_>>(),
            vec![1, 1, 3, 3, 3]
        );
    }

    #[test]
    fn duplicate_and_stale_appends_change_nothing() {
        // A delayed, reordered AppendEntries that carries entries already present (or a
        // prefix of them) must not truncate the newer entries after it.
        let mut l = log(&[1, 1, 2, 2]);
        let mut ops = Vec::new();
        l.append_from_leader(vec![e(2, 1), e(3, 2)], 0, &mut ops);
        assert!(ops.is_empty());
        assert_eq!(l.last_index(), 4);
    }

    #[test]
    #[should_panic(expected = "truncating committed entry")]
    fn truncating_a_committed_entry_is_a_bug() {
        let mut l = log(&[1, 1, 2]);
        l.append_from_leader(vec![e(3, 3)], 3, &mut Vec::new());
    }

    #[test]
    fn up_to_date_compares_terms_before_indexes() {
        let l = log(&[1, 2, 2]);
        assert!(l.is_up_to_date(3, 2));
        assert!(
            l.is_up_to_date(1, 3),
            "a higher last term wins over a longer log"
        );
        assert!(!l.is_up_to_date(5, 1));
        assert!(!l.is_up_to_date(2, 2));
    }
}
