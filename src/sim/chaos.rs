//! Swarm chaos: a fault schedule drawn from the seed (issue 5). Pure: the same spec, seed and
//! cast always give the same schedule, drawn before the simulation starts from a ChaCha stream
//! of its own (so the schedule does not depend on how the run interleaves).

use crate::scenario::{ChaosSpec, Fault, NoConnect, ResumeOrder, SERVER_PORTS};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::time::Duration;

/// Keeps the chaos stream apart from madsim's, which is seeded with the same number.
const STREAM: u64 = 0x6368_616f_735f_7631; // "chaos_v1"

struct Draw(ChaCha8Rng);

impl Draw {
    fn below(&mut self, n: usize) -> usize {
        (self.0.next_u64() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// A whole number of ms in `[lo, hi]`.
    fn dur(&mut self, (lo, hi): (Duration, Duration)) -> Duration {
        let (lo, hi) = (lo.as_millis() as u64, hi.as_millis() as u64);
        Duration::from_millis(lo + self.0.next_u64() % (hi - lo + 1))
    }
    fn coin(&mut self) -> bool {
        self.0.next_u64() & 1 == 1
    }
    fn shuffled(&mut self, v: &[String]) -> Vec<String> {
        let mut v = v.to_vec();
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
        v
    }
}

/// `x` rounded to `1 / per` (a division, so the value prints and parses back exactly).
fn round(x: f64, per: f64) -> f64 {
    // `+ 0.0` turns a -0.0 (a tiny negative draw) into 0.0, which the written-back scenario
    // (`drift = 0`) and the trace agree on.
    (x * per).round() / per + 0.0
}

/// The drawn schedule: `(at, fault)` in time order, ending with `heal_all` at `spec.end`.
pub fn plan(
    spec: &ChaosSpec,
    seed: u64,
    servers: &[String],
    clients: &[String],
) -> Vec<(Duration, Fault)> {
    let mut rng = Draw(ChaCha8Rng::seed_from_u64(seed ^ STREAM));
    let mut out: Vec<(Duration, Fault)> = Vec::new();
    let nodes: Vec<String> = if spec.clients_too {
        servers.iter().chain(clients).cloned().collect()
    } else {
        servers.to_vec()
    };
    // Until when each resource is taken by a drawn fault.
    let (mut net, mut loss, mut latency) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut down: BTreeMap<String, Duration> = BTreeMap::new();
    let mut skewed: BTreeMap<String, Duration> = BTreeMap::new();
    let mut t = spec.start;
    while t < spec.end {
        let kind = spec.kinds[rng.below(spec.kinds.len())].as_str();
        let until = (t + rng.dur(spec.hold)).min(spec.end);
        let mut add = |f: Fault, undo: Fault| {
            out.push((t, f));
            if until < spec.end {
                out.push((until, undo));
            }
        };
        match kind {
            "isolate" | "partition" | "one_way" | "bridge" | "ring" | "no_connect" | "delay"
            | "block_port"
                if net <= t =>
            {
                net = until;
                let s = rng.shuffled(servers);
                let f = match kind {
                    "isolate" => Fault::Isolate(nodes[rng.below(nodes.len())].clone()),
                    "partition" => {
                        let k = 1 + rng.below(s.len() - 1);
                        let mut g = vec![s[..k].to_vec(), s[k..].to_vec()];
                        for c in clients {
                            if rng.coin() {
                                let side = rng.below(2);
                                g[side].push(c.clone());
                            }
                        }
                        Fault::Partition(g)
                    }
                    "one_way" => Fault::OneWay {
                        from: s[0].clone(),
                        to: s[1].clone(),
                    },
                    "no_connect" => Fault::NoConnect {
                        from: s[0].clone(),
                        to: s[1].clone(),
                        mode: if rng.coin() {
                            NoConnect::Refused
                        } else {
                            NoConnect::Timeout
                        },
                    },
                    "delay" => Fault::Delay {
                        from: s[0].clone(),
                        to: s[1].clone(),
                        extra: rng.dur(spec.delay),
                    },
                    "block_port" => Fault::BlockPort {
                        node: s[0].clone(),
                        port: SERVER_PORTS[rng.below(SERVER_PORTS.len())].0,
                        blocked: true,
                    },
                    "bridge" => {
                        let k = 1 + rng.below(s.len() - 2);
                        Fault::Bridge {
                            via: s[0].clone(),
                            sides: vec![s[1..=k].to_vec(), s[k + 1..].to_vec()],
                        }
                    }
                    _ => Fault::Ring(s),
                };
                add(f, Fault::Heal);
            }
            "crash" | "pause" => {
                let busy_servers = down
                    .iter()
                    .filter(|(n, u)| **u > t && servers.contains(n))
                    .count();
                let free: Vec<&String> = nodes
                    .iter()
                    .filter(|n| down.get(*n).is_none_or(|u| *u <= t))
                    .filter(|n| busy_servers < spec.max_down || !servers.contains(n))
                    .collect();
                if !free.is_empty() {
                    let n = free[rng.below(free.len())].clone();
                    down.insert(n.clone(), until);
                    if kind == "crash" {
                        add(Fault::Crash(n.clone()), Fault::Restart(n));
                    } else {
                        // After the pause, overdue timers and queued requests race (seeded),
                        // or one side goes first.
                        let order = [
                            ResumeOrder::Seeded,
                            ResumeOrder::TimersFirst,
                            ResumeOrder::RequestsFirst,
                        ][rng.below(3)];
                        add(Fault::Pause(n.clone()), Fault::Resume(n, order));
                    }
                }
            }
            "loss" if loss <= t => {
                loss = until;
                let p = spec.loss.0 + rng.unit() * (spec.loss.1 - spec.loss.0);
                add(Fault::Loss(round(p, 100.0)), Fault::Loss(0.0));
            }
            "latency" if latency <= t => {
                latency = until;
                let hi = rng.dur(spec.latency);
                let d = super::faults::DEFAULT_LATENCY;
                add(
                    Fault::Latency(Duration::from_millis(1), hi),
                    Fault::Latency(d.start, d.end),
                );
            }
            "clock_skew" => {
                let free: Vec<&String> = nodes
                    .iter()
                    .filter(|n| skewed.get(*n).is_none_or(|u| *u <= t))
                    .collect();
                if !free.is_empty() {
                    let node = free[rng.below(free.len())].clone();
                    skewed.insert(node.clone(), until);
                    let max = spec.skew.as_millis() as i64;
                    let offset_ms = rng.below(2 * max as usize + 1) as i64 - max;
                    let drift = if rng.coin() {
                        0.0
                    } else {
                        round((rng.unit() * 2.0 - 1.0) * spec.drift, 10_000.0)
                    };
                    let undo = Fault::ClockSkew {
                        node: node.clone(),
                        offset_ms: 0,
                        drift: 0.0,
                    };
                    add(
                        Fault::ClockSkew {
                            node,
                            offset_ms,
                            drift,
                        },
                        undo,
                    );
                }
            }
            // The resource this kind needs is taken: nothing this round.
            _ => {}
        }
        t += rng.dur(spec.every);
    }
    out.push((spec.end, Fault::HealAll));
    // Undo steps were pushed out of order; stable, so equal times keep their draw order.
    out.sort_by_key(|(at, _)| *at);
    out
}

/// The schedule as the outcome prints it: a header line, then one line per step in the form a
/// scenario's `[[step]]` takes.
pub fn describe(spec: &ChaosSpec, plan: &[(Duration, Fault)]) -> Vec<String> {
    let show = |d: Duration| crate::config::fmt_duration(d);
    let mut lines = vec![format!(
        "{} steps drawn from the seed: {}; a fault every {}-{}, held {}-{}, heal_all at {}",
        plan.len(),
        spec.kinds.join(", "),
        show(spec.every.0),
        show(spec.every.1),
        show(spec.hold.0),
        show(spec.hold.1),
        show(spec.end)
    )];
    for (at, f) in plan {
        lines.push(format!(
            "{:>10.3}s  {}",
            at.as_secs_f64(),
            crate::scenario::fault_toml(f)
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tiny_negative_draw_rounds_to_plus_zero() {
        // -0.0 would print as a negative zero in the trace but be written back as 0.
        assert_eq!(round(-0.00001, 10_000.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(round(-0.00016, 10_000.0), -0.0002);
    }
    use crate::scenario::CHAOS_KINDS;
    use std::collections::BTreeSet;

    fn spec(kinds: &[&str]) -> ChaosSpec {
        ChaosSpec {
            kinds: kinds.iter().map(|k| k.to_string()).collect(),
            start: Duration::from_secs(10),
            end: Duration::from_secs(540),
            every: (Duration::from_secs(5), Duration::from_secs(30)),
            hold: (Duration::from_secs(5), Duration::from_secs(60)),
            clients_too: false,
            max_down: 2,
            loss: (0.05, 0.5),
            latency: (Duration::from_millis(10), Duration::from_millis(500)),
            delay: (Duration::from_millis(500), Duration::from_secs(5)),
            skew: Duration::from_secs(30),
            drift: 0.01,
        }
    }

    fn names(p: &str, n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("{p}{i}")).collect()
    }

    fn kind(f: &Fault) -> &'static str {
        match f {
            Fault::Isolate(_) => "isolate",
            Fault::Partition(_) => "partition",
            Fault::OneWay { .. } => "one_way",
            Fault::Bridge { .. } => "bridge",
            Fault::Ring(_) => "ring",
            Fault::NoConnect { .. } => "no_connect",
            Fault::Delay { .. } => "delay",
            Fault::BlockPort { .. } => "block_port",
            Fault::Crash(_) => "crash",
            Fault::Pause(_) => "pause",
            Fault::Loss(p) if *p > 0.0 => "loss",
            Fault::Latency(lo, _) if *lo == Duration::from_millis(1) => "latency",
            Fault::ClockSkew {
                offset_ms, drift, ..
            } if *offset_ms != 0 || *drift != 0.0 => "clock_skew",
            _ => "undo",
        }
    }

    #[test]
    fn the_same_seed_draws_the_same_schedule_and_seeds_differ() {
        let (s, c) = (names("s", 5), names("c", 10));
        let sp = spec(CHAOS_KINDS);
        assert_eq!(plan(&sp, 7, &s, &c), plan(&sp, 7, &s, &c));
        assert_ne!(plan(&sp, 7, &s, &c), plan(&sp, 8, &s, &c));
    }

    #[test]
    fn schedules_stay_in_bounds_and_undo_what_they_break() {
        let (s, c) = (names("s", 5), names("c", 4));
        let sp = spec(CHAOS_KINDS);
        let mut seen = BTreeSet::new();
        for seed in 0..200 {
            let p = plan(&sp, seed, &s, &c);
            let (last_t, last) = p.last().unwrap();
            assert_eq!((*last_t, last), (sp.end, &Fault::HealAll), "seed {seed}");
            let mut net_on = false;
            let mut down: BTreeSet<String> = BTreeSet::new();
            for (t, f) in &p {
                assert!(*t >= sp.start && *t <= sp.end, "seed {seed}: {t:?}");
                let k = kind(f);
                seen.insert(k);
                match f {
                    Fault::Isolate(_)
                    | Fault::Partition(_)
                    | Fault::OneWay { .. }
                    | Fault::Bridge { .. }
                    | Fault::Ring(_)
                    | Fault::NoConnect { .. }
                    | Fault::Delay { .. }
                    | Fault::BlockPort { .. } => {
                        assert!(!net_on, "seed {seed}: two network faults at once at {t:?}");
                        net_on = true;
                    }
                    Fault::Heal => net_on = false,
                    Fault::Crash(n) | Fault::Pause(n) => {
                        assert!(down.insert(n.clone()), "seed {seed}: {n} hit twice");
                        assert!(down.len() <= sp.max_down, "seed {seed}: {down:?} down");
                        assert!(s.contains(n), "seed {seed}: clients are spared by default");
                    }
                    Fault::Restart(n) | Fault::Resume(n, _) => assert!(down.remove(n)),
                    Fault::Loss(p) => assert!(*p == 0.0 || (0.05..=0.5).contains(p)),
                    Fault::ClockSkew {
                        offset_ms, drift, ..
                    } => {
                        assert!(offset_ms.abs() <= 30_000 && drift.abs() <= 0.01)
                    }
                    _ => {}
                }
            }
        }
        for k in CHAOS_KINDS {
            assert!(seen.contains(k), "{k} never drawn in 200 seeds");
        }
    }

    #[test]
    fn only_enabled_kinds_are_drawn() {
        let (s, c) = (names("s", 3), names("c", 2));
        let sp = spec(&["pause", "loss"]);
        for seed in 0..50 {
            for (_, f) in plan(&sp, seed, &s, &c) {
                assert!(
                    ["pause", "loss", "undo"].contains(&kind(&f)),
                    "seed {seed}: {f:?}"
                );
            }
        }
    }
}
