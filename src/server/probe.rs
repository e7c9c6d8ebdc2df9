//! Server-side health checks of persistent instances (HealthCheckReactor with the TCP
//! processor, spec §8 corrected): the owner probes each persistent instance's port with a
//! 500 ms connect. A refused connect makes the instance unhealthy at once (`checkFailNow`); a
//! timeout or another error counts towards `checkTimes` (3) failures (`checkFail`), and as many
//! successes make an unhealthy instance healthy (`checkOK`). The interval adapts: after each
//! probe `checkRtNormalized = clamp(0.75 · checkRtNormalized + 0.25 · rt, 1000, 5000)`.
//! Ephemeral instances are judged by their beats instead (§8).
//!
//! Nacos runs one HealthCheckTask per cluster; here one task per service probes all of its
//! clusters' persistent instances with one `checkRtNormalized` (the clusters of a service with
//! persistent instances in several clusters share the interval).

use super::Server;
use crate::config::Config;
use crate::io::ProbeResult;
use crate::trace::HealthReason;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The switch's `tcpHealthParams` and `checkTimes` (spec §3), in ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TcpParams {
    pub min: i64,
    pub max: i64,
    pub factor: f64,
    pub check_times: u64,
}

impl TcpParams {
    pub fn of(c: &Config) -> TcpParams {
        TcpParams {
            min: c.tcp_probe_interval_min.as_millis() as i64,
            max: c.tcp_probe_interval_max.as_millis() as i64,
            factor: c.tcp_probe_factor,
            check_times: c.health_check_times,
        }
    }
}

/// How one probe ended, as `TcpSuperSenseProcessor` tells `finishCheck`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Connected, `rt` ms after the task was rescheduled (its start time).
    Connected { rt: i64 },
    /// `ConnectException`: unhealthy at once.
    Refused,
    /// No connect within the 500 ms timeout.
    TimedOut,
    /// Any other error.
    Error,
}

/// `HealthCheckTask.initCheckRT`: the first delay, `2000 + rand(0, rand(0, max))`, from one
/// random draw (its two halves: commons-lang's `nextInt(0, 0)` is 0).
pub fn first_delay(draw: u64, base: i64, max: i64) -> i64 {
    let inner = ((draw >> 32) % max.max(1) as u64) as i64;
    let outer = if inner == 0 {
        0
    } else {
        ((draw & 0xffff_ffff) % inner as u64) as i64
    };
    base + outer
}

/// `reEvaluateCheckRT`: `(long) (factor · normalized + (1 − factor) · rt)`, clamped to
/// [min, max].
pub fn re_evaluate(normalized: i64, rt: i64, p: &TcpParams) -> i64 {
    let v = (p.factor * normalized as f64 + (1.0 - p.factor) * rt as f64) as i64;
    v.clamp(p.min, p.max)
}

/// `finishCheck` (spec §8): the instance's new (healthy, ok count, fail count) and the `rt` it
/// re-evaluates the interval with. `checkOK` resets the fail count and counts successes of an
/// unhealthy instance; `checkFail` resets the ok count and counts failures of a healthy one;
/// `checkFailNow` marks a healthy instance unhealthy at once.
pub fn after_probe(
    healthy: bool,
    ok: u64,
    fail: u64,
    outcome: Outcome,
    normalized: i64,
    p: &TcpParams,
) -> ((bool, u64, u64), i64) {
    match outcome {
        Outcome::Connected { rt } => {
            let state = if !healthy && ok + 1 >= p.check_times {
                (true, 0, 0)
            } else {
                (healthy, if healthy { 0 } else { ok + 1 }, 0)
            };
            (state, rt)
        }
        Outcome::Refused => ((false, 0, fail), p.max),
        Outcome::TimedOut | Outcome::Error => {
            let state = if healthy && fail + 1 >= p.check_times {
                (false, 0, 0)
            } else {
                (healthy, 0, if healthy { fail + 1 } else { 0 })
            };
            let rt = if outcome == Outcome::TimedOut {
                2 * normalized
            } else {
                p.max
            };
            (state, rt)
        }
    }
}

/// One service's HealthCheckTask state: `checkRtNormalized` and the instances whose probe is
/// still pending (`markChecking`).
#[derive(Debug)]
struct Task {
    normalized: i64,
    checking: BTreeSet<String>,
}

/// Spawns the service's persistent-instance health check: first after `checkRtNormalized`
/// (drawn by [`first_delay`]), then each run reschedules itself after the current
/// `checkRtNormalized`, which the probes of the run update when they end (spec §8).
pub(crate) fn start_health_probe(server: Arc<Server>, ns: String, grouped: String) {
    let cfg = server.ctx.cfg.clone();
    let first = first_delay(
        madsim::rand::random::<u64>(),
        cfg.tcp_probe_first_delay.as_millis() as i64,
        cfg.tcp_probe_interval_max.as_millis() as i64,
    );
    let task = Arc::new(Mutex::new(Task {
        normalized: first,
        checking: BTreeSet::new(),
    }));
    tokio::spawn(async move {
        server.ctx.net.sleep(ms(first)).await;
        loop {
            if !probe_round(&server, &ns, &grouped, &task) {
                return; // the service is gone
            }
            let next = task.lock().unwrap().normalized;
            server.ctx.net.sleep(ms(next)).await;
        }
    });
}

fn ms(n: i64) -> Duration {
    Duration::from_millis(n.max(0) as u64)
}

/// One run, on the owner only: starts a probe of every unmarked persistent instance (skipping,
/// with rt = 2 · checkRtNormalized, one whose previous probe is pending). Returns false once
/// the service no longer exists.
fn probe_round(server: &Arc<Server>, ns: &str, grouped: &str, task: &Arc<Mutex<Task>>) -> bool {
    let key = (ns.to_string(), grouped.to_string());
    let targets: Vec<(String, u16)> = {
        let st = server.state.lock().unwrap();
        let Some(svc) = st.services.get(&key) else {
            return false;
        };
        svc.instances(false)
            .into_iter()
            .filter(|i| !i.marked)
            .map(|i| (i.ip.clone(), i.port))
            .collect()
    };
    if targets.is_empty()
        || !server.mapper.responsible(grouped)
        || !server.ctx.cfg.health_check_enabled
    {
        return true;
    }
    let p = TcpParams::of(&server.ctx.cfg);
    // The task's start time: set when the run reschedules itself, right after this.
    let started = server.now();
    for (ip, port) in targets {
        let addr = format!("{ip}:{port}");
        {
            let mut t = task.lock().unwrap();
            if !t.checking.insert(addr.clone()) {
                t.normalized = re_evaluate(t.normalized, 2 * t.normalized, &p);
                continue;
            }
        }
        let (server, task) = (server.clone(), task.clone());
        let (ns, grouped) = (ns.to_string(), grouped.to_string());
        tokio::spawn(async move {
            let timeout = server.ctx.cfg.tcp_probe_connect_timeout;
            let outcome = match server.ctx.net.probe_tcp(&ip, port, timeout).await {
                ProbeResult::Connected => Outcome::Connected {
                    rt: server.now() - started,
                },
                ProbeResult::Refused => Outcome::Refused,
                ProbeResult::TimedOut => Outcome::TimedOut,
            };
            finish(&server, &ns, &grouped, &addr, outcome, &task, &p);
        });
    }
    true
}

/// `finishCheck`: the instance's counters and health (changed only while this node owns the
/// service), then the task's interval.
fn finish(
    server: &Arc<Server>,
    ns: &str,
    grouped: &str,
    addr: &str,
    outcome: Outcome,
    task: &Mutex<Task>,
    p: &TcpParams,
) {
    let healthy = {
        let st = server.state.lock().unwrap();
        st.services
            .get(&(ns.to_string(), grouped.to_string()))
            .and_then(|svc| {
                svc.instances(false)
                    .into_iter()
                    .find(|i| i.ip_port() == addr)
            })
            .map(|i| i.healthy)
    };
    let normalized = task.lock().unwrap().normalized;
    let mut change = None;
    let rt = {
        let mut probes = server.probes.lock().unwrap();
        let counts = probes
            .entry((grouped.to_string(), addr.to_string()))
            .or_insert((0, 0));
        let was = healthy.unwrap_or(true);
        let ((now_healthy, ok, fail), rt) =
            after_probe(was, counts.0, counts.1, outcome, normalized, p);
        *counts = (ok, fail);
        if healthy.is_some() && now_healthy != was && server.mapper.responsible(grouped) {
            change = Some((addr.to_string(), now_healthy));
        }
        rt
    };
    {
        let mut t = task.lock().unwrap();
        t.checking.remove(addr);
        t.normalized = re_evaluate(t.normalized, rt, p);
    }
    if let Some(c) = change {
        server.set_health(ns, grouped, &[c], true, HealthReason::TcpProbe);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: TcpParams = TcpParams {
        min: 1000,
        max: 5000,
        factor: 0.75,
        check_times: 3,
    };

    fn step(s: (bool, u64, u64), o: Outcome) -> (bool, u64, u64) {
        after_probe(s.0, s.1, s.2, o, 1000, &P).0
    }

    #[test]
    fn timeouts_need_three_failures_and_recovery_three_successes() {
        // spec §8 (corrected): a timeout or another error is a counted failure (checkTimes 3).
        let ok = Outcome::Connected { rt: 3 };
        let mut s = (true, 0, 0);
        for (o, expect) in [
            (Outcome::TimedOut, true),
            (Outcome::Error, true),
            (Outcome::TimedOut, false),
        ] {
            s = step(s, o);
            assert_eq!(s.0, expect);
        }
        for expect in [false, false, true] {
            s = step(s, ok);
            assert_eq!(s.0, expect);
        }
    }

    #[test]
    fn a_refused_connect_makes_a_healthy_instance_unhealthy_at_once() {
        // spec §8 (corrected): ConnectException → checkFailNow.
        assert_eq!(step((true, 0, 0), Outcome::Refused), (false, 0, 0));
        assert!(!step((true, 0, 2), Outcome::Refused).0);
        // A refusal while unhealthy restarts the recovery count.
        let s = step((false, 0, 0), Outcome::Connected { rt: 3 });
        assert_eq!(s, (false, 1, 0));
        assert_eq!(step(s, Outcome::Refused), (false, 0, 0));
    }

    #[test]
    fn an_interrupted_streak_starts_over() {
        let s = step((true, 0, 0), Outcome::TimedOut);
        let s = step(s, Outcome::TimedOut);
        let s = step(s, Outcome::Connected { rt: 3 }); // a success resets the fail count
        assert_eq!(s, (true, 0, 0));
        assert_eq!(step(s, Outcome::TimedOut), (true, 0, 1));
    }

    #[test]
    fn the_interval_converges_to_1s_while_probes_connect_and_grows_on_failures() {
        // spec §8: rt = a few ms on success; the max (5000) when refused or failed; twice the
        // interval on a timeout.
        let rt = |o| after_probe(true, 0, 0, o, 2000, &P).1;
        assert_eq!(rt(Outcome::Refused), 5000);
        assert_eq!(rt(Outcome::Error), 5000);
        assert_eq!(rt(Outcome::TimedOut), 4000);
        assert_eq!(rt(Outcome::Connected { rt: 7 }), 7);
        let mut c = 7000.min(P.max);
        for _ in 0..10 {
            c = re_evaluate(c, 3, &P);
        }
        assert_eq!(c, 1000, "clamped at the min");
        // A timeout raises it by a quarter: 0.75 c + 0.25 · 2c = 1.25 c.
        assert_eq!(re_evaluate(1000, 2000, &P), 1250);
        assert_eq!(re_evaluate(4800, 9600, &P), 5000, "clamped at the max");
        // Refusals pull it towards 5 s: 1000 → 2000 → 2750 → 3312 (Java's long truncation).
        let seq: Vec<i64> = (0..3)
            .scan(1000, |c, _| {
                *c = re_evaluate(*c, 5000, &P);
                Some(*c)
            })
            .collect();
        assert_eq!(seq, vec![2000, 2750, 3312]);
    }

    #[test]
    fn the_first_delay_is_2s_plus_a_random_part_below_a_random_bound_below_5s() {
        // spec §3: 2000 + rand(0, rand(0, 5000)).
        assert_eq!(first_delay(0, 2000, 5000), 2000);
        assert_eq!(first_delay((4999 << 32) | 4998, 2000, 5000), 2000 + 4998);
        assert_eq!(first_delay((100 << 32) | 250, 2000, 5000), 2000 + 50);
        for d in (0..1000u64).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15)) {
            assert!((2000..7000).contains(&first_delay(d, 2000, 5000)));
        }
    }
}
