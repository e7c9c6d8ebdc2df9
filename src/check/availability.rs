//! What a consumer's calls met (issue 13): counted as they happen ([`Tally`]), summed up at the
//! end of the run ([`Figures`]). Pure: the harness feeds each call's result in; nothing here
//! knows about madsim, nodes or faults.
//!
//! - **Outage**: from a failed call while the consumer was fine, until calls have succeeded
//!   for [`RECOVER_AFTER`] without a failure in between; it is *recovered at* the first of
//!   those successes. Only the start and the recovery of an outage are events.
//! - **Stale routing**: an instance in the consumer's cache is *dead* from the first call tick
//!   at which the harness finds its process unreachable until one at which it is reachable
//!   again; the window of that death is the time from its start to the last call routed to
//!   that instance during it (0 when no call went there).
//! - **Recovery after a repair**: a repair fault (heal, heal_all, restart, resume, port_up)
//!   during an outage is followed by that outage's recovery this long after it.

use serde::Serialize;
use std::collections::BTreeMap;

/// How long calls must succeed without a failure before an outage counts as over.
pub const RECOVER_AFTER_US: u64 = 1_000_000;
/// Calls are counted per bucket of this many µs (the windows of `availability` expectations
/// and the timeline's band are read at this resolution).
pub const BUCKET_US: u64 = 100_000;

/// How one call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallEnd {
    Ok,
    /// The instance's process is gone or its port closed: the connect is refused at once.
    Refused,
    /// The instance is paused or cut off from the consumer: the call times out.
    Timeout,
    /// The consumer's cache held no healthy instance to call.
    NoInstance,
}

impl CallEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            CallEnd::Ok => "ok",
            CallEnd::Refused => "refused",
            CallEnd::Timeout => "timeout",
            CallEnd::NoInstance => "no_instance",
        }
    }
}

/// A change of a consumer's state, for the event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The first failed call of an outage.
    Failing { cause: CallEnd },
    /// The outage is over: `since_us` it began, `failed` calls failed in it, calls have
    /// succeeded since `recovered_us`.
    Recovered {
        since_us: u64,
        recovered_us: u64,
        failed: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Outage {
    pub start_us: u64,
    pub last_failure_us: u64,
    pub failed: u64,
    /// The first success after the last failure; `None` while calls still fail.
    pub recovered_us: Option<u64>,
}

/// A run of consecutive failed calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Run {
    calls: u64,
    first_us: u64,
    last_us: u64,
}

/// One instance's death as seen from the consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Death {
    start_us: u64,
    last_routed_us: Option<u64>,
}

/// The longest stale-routing window so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stale {
    pub instance: String,
    #[serde(rename = "dead_ms", serialize_with = "super::as_ms")]
    pub dead_us: u64,
    #[serde(rename = "last_call_ms", serialize_with = "super::as_ms")]
    pub last_call_us: u64,
}

impl Stale {
    pub fn window_us(&self) -> u64 {
        self.last_call_us - self.dead_us
    }
}

/// Everything counted about one consumer's calls to one service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub calls: u64,
    /// Calls by how they ended.
    pub ends: BTreeMap<CallEnd, u64>,
    /// (calls, failed calls) per [`BUCKET_US`] from the start of the run.
    pub buckets: Vec<(u32, u32)>,
    run: Run,
    longest: Run,
    /// Outages that are over.
    pub outages: Vec<Outage>,
    /// The outage going on, if any.
    open: Option<Outage>,
    /// Dead instances (an open death per instance).
    dead: BTreeMap<String, Death>,
    pub stale: Option<Stale>,
}

impl Tally {
    /// Whether some instance is dead now.
    pub fn has_deaths(&self) -> bool {
        !self.dead.is_empty()
    }

    /// Whether the instance is dead now (a death is open).
    pub fn is_dead(&self, instance: &str) -> bool {
        self.dead.contains_key(instance)
    }

    /// The harness found `instance` (in the consumer's cache) reachable or not at `t_us`.
    pub fn observe(&mut self, t_us: u64, instance: &str, alive: bool) {
        match (alive, self.dead.contains_key(instance)) {
            (false, false) => {
                let d = Death {
                    start_us: t_us,
                    last_routed_us: None,
                };
                self.dead.insert(instance.to_owned(), d);
            }
            (true, true) => {
                self.dead.remove(instance);
            }
            _ => {}
        }
    }

    /// One call at `t_us` to `target` (`None`: no instance) that ended as `end`. Returns the
    /// consumer's change of state, if any.
    pub fn record(&mut self, t_us: u64, target: Option<&str>, end: CallEnd) -> Option<Change> {
        self.calls += 1;
        *self.ends.entry(end).or_default() += 1;
        let failed = end != CallEnd::Ok;
        let b = (t_us / BUCKET_US) as usize;
        if self.buckets.len() <= b {
            self.buckets.resize(b + 1, (0, 0));
        }
        self.buckets[b].0 += 1;
        self.buckets[b].1 += failed as u32;
        if let Some(d) = target.and_then(|i| self.dead.get_mut(i)) {
            d.last_routed_us = Some(t_us);
            let window = t_us - d.start_us;
            if self.stale.as_ref().is_none_or(|s| window > s.window_us()) {
                self.stale = Some(Stale {
                    instance: target.unwrap_or_default().to_owned(),
                    dead_us: d.start_us,
                    last_call_us: t_us,
                });
            }
        }
        if failed {
            if self.run.calls == 0 {
                self.run.first_us = t_us;
            }
            self.run.calls += 1;
            self.run.last_us = t_us;
            if self.run.calls > self.longest.calls {
                self.longest = self.run;
            }
        } else {
            self.run = Run::default();
        }
        match (&mut self.open, failed) {
            (None, true) => {
                self.open = Some(Outage {
                    start_us: t_us,
                    last_failure_us: t_us,
                    failed: 1,
                    recovered_us: None,
                });
                Some(Change::Failing { cause: end })
            }
            (None, false) => None,
            (Some(o), true) => {
                o.failed += 1;
                o.last_failure_us = t_us;
                o.recovered_us = None;
                None
            }
            (Some(o), false) => {
                let r = *o.recovered_us.get_or_insert(t_us);
                if t_us < r + RECOVER_AFTER_US {
                    return None;
                }
                let o = self.open.take()?;
                self.outages.push(o);
                Some(Change::Recovered {
                    since_us: o.start_us,
                    recovered_us: r,
                    failed: o.failed,
                })
            }
        }
    }

    /// Every outage: the closed ones, then the one still open at the end, if any.
    pub fn all_outages(&self) -> impl Iterator<Item = &Outage> {
        self.outages.iter().chain(self.open.as_ref())
    }
}

/// The availability figures of one consumer and service at the end of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub client: String,
    /// The grouped service name (`DEFAULT_GROUP@@orders`), with `@@clusters` when the traffic
    /// names clusters.
    pub service: String,
    pub calls: u64,
    pub ok: u64,
    pub refused: u64,
    pub timeout: u64,
    pub no_instance: u64,
    /// ok / calls (1 when there was no call).
    pub availability: f64,
    /// The longest run of consecutive failed calls, and the time from its first to its last.
    pub longest_failed_run: u64,
    pub longest_failed_run_ms: u64,
    pub outages: usize,
    /// The longest stale-routing window, if any call went to a dead instance.
    pub stale: Option<Stale>,
    pub stale_routing_ms: Option<u64>,
    /// The longest time from a repair fault during an outage to that outage's recovery.
    pub recovery_ms: Option<u64>,
    /// An outage was still going on at the end of the run.
    pub failing_at_end: bool,
    /// (calls, failed calls) per [`BUCKET_US`], for the timeline's band (not in the JSON).
    #[serde(skip)]
    pub buckets: Vec<(u32, u32)>,
}

impl Figures {
    /// Sums up a tally; `repairs_us` are the moments of the run's repair faults.
    pub fn of(client: &str, service: &str, t: &Tally, repairs_us: &[u64]) -> Figures {
        let get = |e: CallEnd| t.ends.get(&e).copied().unwrap_or(0);
        let ok = get(CallEnd::Ok);
        let recovery_ms = t
            .all_outages()
            .filter_map(|o| {
                let r = o.recovered_us?;
                repairs_us
                    .iter()
                    .filter(|&&h| h >= o.start_us && h <= r)
                    .map(|&h| (r - h) / 1000)
                    .max()
            })
            .max();
        Figures {
            client: client.to_owned(),
            service: service.to_owned(),
            calls: t.calls,
            ok,
            refused: get(CallEnd::Refused),
            timeout: get(CallEnd::Timeout),
            no_instance: get(CallEnd::NoInstance),
            availability: if t.calls == 0 {
                1.0
            } else {
                ok as f64 / t.calls as f64
            },
            longest_failed_run: t.longest.calls,
            longest_failed_run_ms: (t.longest.last_us - t.longest.first_us) / 1000,
            outages: t.all_outages().count(),
            stale_routing_ms: t.stale.as_ref().map(|s| s.window_us() / 1000),
            stale: t.stale.clone(),
            recovery_ms,
            failing_at_end: t.open.is_some_and(|o| o.recovered_us.is_none()),
            buckets: t.buckets.clone(),
        }
    }
}

/// (calls, ok) of the tally in the window `[from_us, to_us]`, read at bucket resolution: a
/// bucket counts when it starts inside the window.
pub fn calls_in(t: &Tally, from_us: u64, to_us: u64) -> (u64, u64) {
    let (mut calls, mut failed) = (0u64, 0u64);
    for (i, (c, f)) in t.buckets.iter().enumerate() {
        let start = i as u64 * BUCKET_US;
        if start >= from_us && start <= to_us {
            calls += *c as u64;
            failed += *f as u64;
        }
    }
    (calls, calls - failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000;

    /// Ten calls a second to two instances, `b` dead from 2 s to 5 s and still called until
    /// 4 s; a heal at 4.5 s.
    fn story() -> (Tally, Vec<Change>) {
        let mut t = Tally::default();
        let mut changes = vec![];
        for k in 0..80u64 {
            let at = k * S / 10;
            let b_alive = !(2 * S..5 * S).contains(&at);
            t.observe(at, "a", true);
            t.observe(at, "b", b_alive);
            let target = if k % 2 == 0 { "a" } else { "b" };
            // Until 4 s the cache still holds b; after, every call goes to a.
            let target = if at >= 4 * S { "a" } else { target };
            let end = if target == "b" && !b_alive {
                CallEnd::Refused
            } else {
                CallEnd::Ok
            };
            changes.extend(t.record(at, Some(target), end));
        }
        (t, changes)
    }

    #[test]
    fn counts_by_hand() {
        let (t, changes) = story();
        let f = Figures::of("c", "DEFAULT_GROUP@@orders", &t, &[4_500_000]);
        assert_eq!(f.calls, 80);
        // Calls to b while dead: the odd k in [20, 40): 10 calls.
        assert_eq!(f.refused, 10);
        assert_eq!(f.ok, 70);
        assert_eq!(f.availability, 70.0 / 80.0);
        assert_eq!(f.longest_failed_run, 1, "failures alternate with successes");
        // Dead at 2.0 s; last call routed to b at 3.9 s.
        assert_eq!(f.stale_routing_ms, Some(1900));
        assert_eq!(f.stale.as_ref().unwrap().instance, "b");
        // One outage: 2.1 s .. last failure 3.9 s, recovered at 4.0 s (confirmed at 5.0 s).
        assert_eq!(f.outages, 1);
        assert_eq!(
            changes,
            vec![
                Change::Failing {
                    cause: CallEnd::Refused
                },
                Change::Recovered {
                    since_us: 2_100_000,
                    recovered_us: 4_000_000,
                    failed: 10
                }
            ]
        );
        // The heal at 4.5 s came after the recovery at 4.0 s: no recovery figure.
        assert_eq!(f.recovery_ms, None);
        let f = Figures::of("c", "s", &t, &[3_000_000]);
        assert_eq!(f.recovery_ms, Some(1000));
        assert!(!f.failing_at_end);
    }

    #[test]
    fn windows_read_buckets() {
        let (t, _) = story();
        assert_eq!(calls_in(&t, 0, 7_900_000), (80, 70));
        assert_eq!(calls_in(&t, 0, 1_900_000), (20, 20));
        assert_eq!(calls_in(&t, 2 * S, 3_950_000), (20, 10));
        assert_eq!(calls_in(&t, 4 * S, 8 * S), (40, 40));
    }

    #[test]
    fn an_outage_open_at_the_end_and_the_longest_run() {
        let mut t = Tally::default();
        t.record(0, Some("a"), CallEnd::Ok);
        t.record(100_000, None, CallEnd::NoInstance);
        t.record(200_000, Some("a"), CallEnd::Timeout);
        t.record(300_000, Some("a"), CallEnd::Ok);
        t.record(400_000, None, CallEnd::NoInstance);
        let f = Figures::of("c", "s", &t, &[]);
        assert_eq!((f.longest_failed_run, f.longest_failed_run_ms), (2, 100));
        assert_eq!((f.no_instance, f.timeout), (2, 1));
        assert!(f.failing_at_end);
        assert_eq!(f.outages, 1);
        assert_eq!(f.stale_routing_ms, None);
        let empty = Figures::of("c", "s", &Tally::default(), &[]);
        assert_eq!(empty.availability, 1.0);
    }
}
