//! Seed sweeps: many seeds of one scenario in parallel, each on its own fresh simulation thread
//! (`sim::run`), with sharding across machines and a per-seed summary.

use crate::report::Outcome;
use crate::scenario::Scenario;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Parses `"0..1000"` (end exclusive), `"5..=9"` or a single seed `"42"`.
pub fn parse_seeds(s: &str) -> Result<Range<u64>, String> {
    let bad = || format!("`{s}` is not a seed range: write e.g. 0..1000, 5..=9 or 42");
    if let Some((a, b)) = s.split_once("..=") {
        let (a, b): (u64, u64) = (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        );
        return if a <= b { Ok(a..b + 1) } else { Err(bad()) };
    }
    if let Some((a, b)) = s.split_once("..") {
        let (a, b): (u64, u64) = (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        );
        return if a < b { Ok(a..b) } else { Err(bad()) };
    }
    let n: u64 = s.trim().parse().map_err(|_| bad())?;
    Ok(n..n + 1)
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

/// The seeds of one shard: every n-th seed of the range, starting at the i-th. Shards of the
/// same range are disjoint and together cover it.
pub fn shard_seeds(seeds: Range<u64>, shard: (u64, u64)) -> Vec<u64> {
    let (i, n) = shard;
    seeds
        .enumerate()
        .filter(|(pos, _)| *pos as u64 % n == i - 1)
        .map(|(_, s)| s)
        .collect()
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
        }
    }
}

/// Runs the seeds on `jobs` worker threads; `done` is called after each seed (in completion
/// order). Results come back sorted by seed.
pub fn run_seeds(
    sc: &Scenario,
    seeds: &[u64],
    jobs: usize,
    done: impl Fn(&SeedResult) + Sync,
) -> Vec<SeedResult> {
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::with_capacity(seeds.len()));
    let sc = Arc::new(sc.clone());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&seed) = seeds.get(k) else { break };
                let (outcome, _) = crate::sim::run(&sc, seed);
                let r = SeedResult::of(&outcome);
                done(&r);
                results.lock().unwrap().push(r);
            });
        }
    });
    let mut v = results.into_inner().unwrap();
    v.sort_by_key(|r| r.seed);
    v
}

/// What a sweep reached: per coverage item, the seeds that reached it and the times it
/// happened in all; items no seed reached are listed by [`never_reached`].
pub fn coverage_table(results: &[SeedResult]) -> Vec<(&'static str, &'static str, u64, u64)> {
    crate::check::coverage::ITEMS
        .iter()
        .map(|(name, about)| {
            let seeds = results
                .iter()
                .filter(|r| r.coverage.contains_key(name))
                .count() as u64;
            let times = results.iter().filter_map(|r| r.coverage.get(name)).sum();
            (*name, *about, seeds, times)
        })
        .collect()
}

/// Coverage items that no seed of the sweep reached.
pub fn never_reached(results: &[SeedResult]) -> Vec<&'static str> {
    coverage_table(results)
        .into_iter()
        .filter(|r| r.2 == 0)
        .map(|r| r.0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_ranges() {
        assert_eq!(parse_seeds("0..3").unwrap(), 0..3);
        assert_eq!(parse_seeds("5..=6").unwrap(), 5..7);
        assert_eq!(parse_seeds("42").unwrap(), 42..43);
        assert!(parse_seeds("3..3").is_err());
        assert!(parse_seeds("a..b").is_err());
    }

    #[test]
    fn shards_are_disjoint_and_cover_the_range() {
        assert_eq!(parse_shard("2/4").unwrap(), (2, 4));
        assert!(
            parse_shard("0/4").is_err() && parse_shard("5/4").is_err() && parse_shard("x").is_err()
        );
        let mut all: Vec<u64> = (1..=3).flat_map(|i| shard_seeds(10..20, (i, 3))).collect();
        all.sort();
        assert_eq!(all, (10..20).collect::<Vec<_>>());
        assert_eq!(shard_seeds(10..20, (1, 3)), vec![10, 13, 16, 19]);
    }
}
