//! Seed sweeps: many seeds of one scenario in parallel, each on its own fresh simulation thread
//! (`sim::run`), with sharding across machines and a summary that groups failures by check.
//!
//! Seeds are never listed up front: a [`SeedList`] computes its k-th seed, so `0..10^14` costs
//! nothing before the first run. Results come back in seed order whatever order the workers
//! finish in (a small reorder buffer), so the output of a sweep is the same on every run.

use crate::report::Outcome;
use crate::scenario::Scenario;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Condvar, Mutex};

/// Seeds from `first` to `last`, both included (so a range can end at `u64::MAX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedRange {
    pub first: u64,
    pub last: u64,
}

impl SeedRange {
    /// How many seeds (up to 2^64, hence u128).
    pub fn len(&self) -> u128 {
        u128::from(self.last - self.first) + 1
    }

    /// Never true: a range holds at least one seed. (For clippy's `len_without_is_empty`.)
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl std::fmt::Display for SeedRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}..={}", self.first, self.last)
        }
    }
}

/// Parses `"0..1000"` (end exclusive), `"5..=9"` (end included) or a single seed `"42"`. Every
/// seed is a u64, `18446744073709551615` included; an empty range is an error.
pub fn parse_seeds(s: &str) -> Result<SeedRange, String> {
    let bad = || {
        format!(
            "`{s}` is not a seed range: write e.g. 0..1000 (end excluded), 5..=9 or 42, \
             with seeds from 0 to {}",
            u64::MAX
        )
    };
    let num = |t: &str| t.trim().parse::<u64>().map_err(|_| bad());
    if let Some((a, b)) = s.split_once("..=") {
        let (first, last) = (num(a)?, num(b)?);
        if first > last {
            return Err(format!("`{s}` is empty: the start is after the end"));
        }
        return Ok(SeedRange { first, last });
    }
    if let Some((a, b)) = s.split_once("..") {
        let (first, end) = (num(a)?, num(b)?);
        if first >= end {
            return Err(format!(
                "`{s}` is empty: in a..b the end b is excluded, so b must be above a (write {first}..={first} for one seed)"
            ));
        }
        return Ok(SeedRange {
            first,
            last: end - 1,
        });
    }
    let n = num(s)?;
    Ok(SeedRange { first: n, last: n })
}

/// Parses `"i/n"` (1-based shard i of n).
pub fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let bad = || format!("`{s}` is not a shard: write i/n with 1 <= i <= n, e.g. 2/4");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (u64, u64) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

/// The seeds of one shard of a range: every n-th seed from the i-th. Shards of one range are
/// disjoint and together cover it. Computed, never listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedList {
    first: u64,
    step: u64,
    count: u128,
}

impl SeedList {
    /// Shard `(i, n)` of `range`; an error when the shard holds no seed (a vacuous sweep).
    pub fn new(range: SeedRange, shard: (u64, u64)) -> Result<SeedList, String> {
        let (i, n) = shard;
        let skip = u128::from(i - 1);
        let total = range.len();
        if total <= skip {
            return Err(format!(
                "shard {i}/{n} of seeds {range} holds no seed (the range has {total}): use fewer shards or a longer range"
            ));
        }
        Ok(SeedList {
            // first + skip <= last, so this fits in a u64.
            first: range.first + (i - 1),
            step: n,
            count: (total - skip).div_ceil(u128::from(n)),
        })
    }

    /// How many seeds.
    pub fn len(&self) -> u128 {
        self.count
    }

    /// Never true: an empty shard is refused by [`SeedList::new`].
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The k-th seed (0-based), if there are that many.
    pub fn get(&self, k: u128) -> Option<u64> {
        (k < self.count).then(|| {
            // first + k·step <= last for every k < count.
            (u128::from(self.first) + k * u128::from(self.step)) as u64
        })
    }

    /// The seeds in order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.count).map_while(|k| self.get(k))
    }
}

/// One seed's result.
#[derive(Debug, Clone)]
pub struct SeedResult {
    pub seed: u64,
    pub passed: bool,
    pub trace_hash: String,
    /// The first failing check: name and detail.
    pub first_failure: Option<(String, String)>,
    pub repro: String,
    /// Rare-event coverage of the run (`check::coverage`): item → times reached.
    pub coverage: BTreeMap<&'static str, u64>,
    /// Each consumer's availability figures (issue 13; empty without traffic).
    pub availability: Vec<crate::check::availability::Figures>,
}

impl SeedResult {
    pub fn of(o: &Outcome) -> Self {
        SeedResult {
            seed: o.seed,
            passed: o.passed,
            trace_hash: o.trace_hash.clone(),
            first_failure: o
                .checks
                .iter()
                .find(|c| !c.passed)
                .map(|c| (c.name.clone(), c.detail(crate::check::Precision::Ms))),
            repro: o.repro(),
            coverage: crate::check::coverage::count(&o.events),
            // A sweep keeps the figures, not the per-bucket counts behind the timeline.
            availability: o
                .availability
                .iter()
                .cloned()
                .map(|mut f| {
                    f.buckets = Vec::new();
                    f
                })
                .collect(),
        }
    }
}

/// The failures of one check (the first failing check of each seed): how many seeds, and the
/// first few of them in seed order.
#[derive(Debug, Clone)]
pub struct FailureGroup {
    pub check: String,
    pub seeds: u64,
    /// The first [`Summary::EXAMPLES`] failing seeds: (seed, detail, repro).
    pub first: Vec<(u64, String, String)>,
}

/// What a sweep found, accumulated seed by seed (nothing per seed is kept, so a sweep of any
/// length runs in constant memory).
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub run: u64,
    pub passed: u64,
    pub failed: u64,
    /// `--max-failures` was reached before the last seed: the rest were not run.
    pub stopped_early: bool,
    /// The last seed judged (in seed order).
    pub last_seed: Option<u64>,
    /// Grouped by the first failing check, in the order the checks first failed.
    pub groups: Vec<FailureGroup>,
    /// Coverage item → (seeds that reached it, times in all).
    pub coverage: BTreeMap<&'static str, (u64, u64)>,
    /// (client, service) → each seed's availability figures, in seed order (issue 13: the
    /// only part of a summary that grows with the seeds, by one small record per consumer).
    pub availability: BTreeMap<(String, String), Vec<crate::check::availability::Figures>>,
}

impl Summary {
    /// Failing seeds shown per check.
    pub const EXAMPLES: usize = 3;

    pub fn add(&mut self, r: &SeedResult) {
        self.run += 1;
        self.last_seed = Some(r.seed);
        for f in &r.availability {
            let key = (f.client.clone(), f.service.clone());
            self.availability.entry(key).or_default().push(f.clone());
        }
        for (item, times) in &r.coverage {
            let c = self.coverage.entry(item).or_default();
            c.0 += 1;
            c.1 += times;
        }
        if r.passed {
            self.passed += 1;
            return;
        }
        self.failed += 1;
        let (check, detail) = r.first_failure.clone().unwrap_or_default();
        let i = match self.groups.iter().position(|g| g.check == check) {
            Some(i) => i,
            None => {
                self.groups.push(FailureGroup {
                    check,
                    seeds: 0,
                    first: Vec::new(),
                });
                self.groups.len() - 1
            }
        };
        let g = &mut self.groups[i];
        g.seeds += 1;
        if g.first.len() < Self::EXAMPLES {
            g.first.push((r.seed, detail, r.repro.clone()));
        }
    }

    /// Per coverage item, in report order: (name, what it means, seeds that reached it, times).
    pub fn coverage_table(&self) -> Vec<(&'static str, &'static str, u64, u64)> {
        crate::check::coverage::ITEMS
            .iter()
            .map(|(name, about)| {
                let (seeds, times) = self.coverage.get(name).copied().unwrap_or_default();
                (*name, *about, seeds, times)
            })
            .collect()
    }

    /// Coverage items that no seed of the sweep reached.
    pub fn never_reached(&self) -> Vec<&'static str> {
        self.coverage_table()
            .into_iter()
            .filter(|r| r.2 == 0)
            .map(|r| r.0)
            .collect()
    }
}

/// Runs the seeds on `jobs` worker threads and calls `each` on the calling thread for every
/// seed **in seed order**, as soon as that seed and all before it are done. With
/// `max_failures`, stops after that many failing seeds (in seed order): seeds after the last
/// one counted are neither reported nor summarized, so the output does not depend on `jobs`.
pub fn run_seeds(
    sc: &Scenario,
    seeds: &SeedList,
    jobs: usize,
    max_failures: Option<u64>,
    mut each: impl FnMut(&SeedResult),
) -> Summary {
    let workers = u128::try_from(jobs.max(1))
        .unwrap_or(1)
        .min(seeds.len().max(1)) as usize;
    // Workers run at most this many seeds ahead of the oldest one not yet reported.
    let window = (workers as u128 * 8).max(64);
    // (next seed index to hand out, seeds reported so far)
    let state = Mutex::new((0u128, 0u128));
    let moved = Condvar::new();
    let stop = AtomicBool::new(false);
    let mut summary = Summary::default();
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<(u128, SeedResult)>();
        for _ in 0..workers {
            let tx = tx.clone();
            let (state, moved, stop) = (&state, &moved, &stop);
            scope.spawn(move || loop {
                let k = {
                    let mut g = state.lock().unwrap();
                    while g.0 >= g.1 + window && !stop.load(Ordering::Relaxed) {
                        g = moved.wait(g).unwrap();
                    }
                    if stop.load(Ordering::Relaxed) || g.0 >= seeds.len() {
                        break;
                    }
                    g.0 += 1;
                    g.0 - 1
                };
                let Some(seed) = seeds.get(k) else { break };
                let (outcome, _) = crate::sim::run(sc, seed);
                if tx.send((k, SeedResult::of(&outcome))).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut pending: BTreeMap<u128, SeedResult> = BTreeMap::new();
        let mut next = 0u128;
        for (k, r) in rx {
            pending.insert(k, r);
            while let Some(r) = pending.remove(&next) {
                next += 1;
                if summary.stopped_early {
                    continue;
                }
                each(&r);
                summary.add(&r);
                if max_failures.is_some_and(|m| summary.failed >= m) && next < seeds.len() {
                    summary.stopped_early = true;
                    stop.store(true, Ordering::Relaxed);
                }
            }
            state.lock().unwrap().1 = next;
            moved.notify_all();
        }
    });
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(first: u64, last: u64) -> SeedRange {
        SeedRange { first, last }
    }

    #[test]
    fn seed_ranges() {
        assert_eq!(parse_seeds("0..3").unwrap(), range(0, 2));
        assert_eq!(parse_seeds("5..=6").unwrap(), range(5, 6));
        assert_eq!(parse_seeds("42").unwrap(), range(42, 42));
        assert!(parse_seeds("3..3").is_err());
        assert!(parse_seeds("4..=3").unwrap_err().contains("empty"));
        assert!(parse_seeds("a..b").is_err());
        assert!(parse_seeds("-1").is_err() && parse_seeds("").is_err());
        assert!(parse_seeds("18446744073709551616").is_err());
    }

    #[test]
    fn ranges_may_end_at_the_largest_seed() {
        let max = u64::MAX;
        let one = parse_seeds("18446744073709551615").unwrap();
        assert_eq!(one, range(max, max));
        let list = SeedList::new(one, (1, 1)).unwrap();
        assert_eq!(list.iter().collect::<Vec<_>>(), vec![max]);
        let two = parse_seeds("18446744073709551614..=18446744073709551615").unwrap();
        let list = SeedList::new(two, (1, 1)).unwrap();
        assert_eq!(list.iter().collect::<Vec<_>>(), vec![max - 1, max]);
        let all = SeedList::new(parse_seeds("0..=18446744073709551615").unwrap(), (2, 3)).unwrap();
        assert_eq!(all.len(), (1u128 << 64) / 3);
        assert_eq!(all.get(all.len() - 1), Some(max - 2));
        assert_eq!(all.get(all.len()), None);
    }

    #[test]
    fn shards_are_disjoint_and_cover_the_range() {
        assert_eq!(parse_shard("2/4").unwrap(), (2, 4));
        assert!(
            parse_shard("0/4").is_err() && parse_shard("5/4").is_err() && parse_shard("x").is_err()
        );
        let r = range(10, 19);
        let mut all: Vec<u64> = (1..=3)
            .flat_map(|i| SeedList::new(r, (i, 3)).unwrap().iter().collect::<Vec<_>>())
            .collect();
        all.sort();
        assert_eq!(all, (10..20).collect::<Vec<_>>());
        let first: Vec<u64> = SeedList::new(r, (1, 3)).unwrap().iter().collect();
        assert_eq!(first, vec![10, 13, 16, 19]);
        let err = SeedList::new(range(0, 0), (2, 2)).unwrap_err();
        assert!(err.contains("holds no seed"), "{err}");
    }

    #[test]
    fn a_huge_range_costs_nothing_up_front() {
        let list = SeedList::new(parse_seeds("0..100000000000000").unwrap(), (1, 1)).unwrap();
        assert_eq!(list.len(), 100_000_000_000_000);
        assert_eq!(list.iter().take(3).collect::<Vec<_>>(), vec![0, 1, 2]);
        assert_eq!(std::mem::size_of_val(&list), 32);
    }

    #[test]
    fn the_summary_groups_failures_by_check_and_keeps_three_examples() {
        let r = |seed: u64, fail: Option<&str>| SeedResult {
            seed,
            passed: fail.is_none(),
            trace_hash: String::new(),
            first_failure: fail.map(|c| (c.to_string(), format!("detail {seed}"))),
            repro: format!("nacos-sim run x.toml --seed {seed}"),
            coverage: [("member.down", 2)].into_iter().collect(),
            availability: vec![],
        };
        let mut s = Summary::default();
        for (seed, fail) in [
            (0, Some("b")),
            (1, None),
            (2, Some("a")),
            (3, Some("b")),
            (4, Some("b")),
            (5, Some("b")),
        ] {
            s.add(&r(seed, fail));
        }
        assert_eq!((s.run, s.passed, s.failed), (6, 1, 5));
        let g: Vec<(&str, u64, Vec<u64>)> = s
            .groups
            .iter()
            .map(|g| {
                (
                    g.check.as_str(),
                    g.seeds,
                    g.first.iter().map(|f| f.0).collect(),
                )
            })
            .collect();
        assert_eq!(g, vec![("b", 4, vec![0, 3, 4]), ("a", 1, vec![2])]);
        assert_eq!(s.coverage["member.down"], (6, 12));
        assert!(!s.never_reached().contains(&"member.down"));
    }
}
