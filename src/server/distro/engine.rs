//! NacosDelayTaskExecuteEngine (spec §6 "Delay-engine semantics"), as plain data: the async side
//! only calls [`DelayEngine::add`] and, every 100 ms, [`DelayEngine::take_due`].

use crate::model::Millis;
use std::collections::BTreeMap;

/// A pending task: due once `now − last_process ≥ interval`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending<T> {
    pub task: T,
    pub interval: Millis,
    pub last_process: Millis,
}

/// Pending tasks by key, scanned in key order.
#[derive(Debug)]
pub struct DelayEngine<K: Ord + Clone, T> {
    tasks: BTreeMap<K, Pending<T>>,
}

impl<K: Ord + Clone, T> Default for DelayEngine<K, T> {
    fn default() -> Self {
        DelayEngine {
            tasks: BTreeMap::new(),
        }
    }
}

impl<K: Ord + Clone, T> DelayEngine<K, T> {
    /// Adds a task created at `now`. A task already pending under the key is merged: the new one
    /// inherits the old `last_process` (the deadline stays anchored to the first enqueue, no
    /// debounce) and `merge(old, new)` decides the payload (for Distro: the newer action wins,
    /// combined batches take the union).
    pub fn add(
        &mut self,
        key: K,
        task: T,
        interval: Millis,
        now: Millis,
        merge: impl FnOnce(T, T) -> T,
    ) {
        match self.tasks.remove(&key) {
            Some(old) => {
                let task = merge(old.task, task);
                self.tasks.insert(
                    key,
                    Pending {
                        task,
                        interval,
                        last_process: old.last_process,
                    },
                );
            }
            None => {
                self.tasks.insert(
                    key,
                    Pending {
                        task,
                        interval,
                        last_process: now,
                    },
                );
            }
        }
    }

    /// Makes a pending task due at once (a full combined batch).
    pub fn make_due(&mut self, key: &K) {
        if let Some(p) = self.tasks.get_mut(key) {
            p.last_process = Millis::MIN / 2;
        }
    }

    pub fn get(&self, key: &K) -> Option<&Pending<T>> {
        self.tasks.get(key)
    }

    /// Removes and returns every due task, in key order.
    pub fn take_due(&mut self, now: Millis) -> Vec<(K, T)> {
        let due: Vec<K> = self
            .tasks
            .iter()
            .filter(|(_, p)| now - p.last_process >= p.interval)
            .map(|(k, _)| k.clone())
            .collect();
        due.into_iter()
            .map(|k| {
                let p = self.tasks.remove(&k).expect("present");
                (k, p.task)
            })
            .collect()
    }

    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn newer(_: &'static str, new: &'static str) -> &'static str {
        new
    }

    #[test]
    fn the_deadline_stays_anchored_to_the_first_enqueue_and_the_newer_task_wins() {
        let mut e: DelayEngine<&str, &str> = DelayEngine::default();
        e.add("k", "CHANGE", 1000, 0, newer);
        e.add("k", "DELETE", 1000, 900, newer); // merged: still due at 1000, not 1900
        assert!(e.take_due(999).is_empty());
        assert_eq!(e.take_due(1000), vec![("k", "DELETE")]);
        assert!(e.is_empty());
    }

    #[test]
    fn a_retry_merged_into_a_pending_task_keeps_the_old_anchor_but_takes_the_new_interval() {
        let mut e: DelayEngine<&str, &str> = DelayEngine::default();
        e.add("k", "a", 1000, 0, newer);
        e.add("k", "b", 5000, 500, newer);
        assert!(e.take_due(4999).is_empty());
        assert_eq!(e.take_due(5000).len(), 1);
    }

    #[test]
    fn make_due_and_union_merge() {
        let mut e: DelayEngine<u32, Vec<u32>> = DelayEngine::default();
        e.add(1, vec![1], 1000, 0, |mut a, b| {
            a.extend(b);
            a
        });
        e.add(1, vec![2], 1000, 10, |mut a, b| {
            a.extend(b);
            a
        });
        assert_eq!(e.get(&1).unwrap().task, vec![1, 2]);
        e.make_due(&1);
        assert_eq!(e.take_due(1), vec![(1, vec![1, 2])]);
    }
}
