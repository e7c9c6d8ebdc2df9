//! The always-on checkers and their policy: when each applies, and what a scenario that
//! expects an anomaly changes. They read a plain end-of-run value ([`EndState`]) that the
//! harness builds, and the event log; they know nothing of the simulated world.

use super::convergence::{divergences, Registries};
use super::jraft;
use super::raft::{dirty_writes, lost_writes, two_leaders, StoreView};
use super::{Check, Expected, Finding, Invariant, Observed};
use crate::config::fmt_duration;
use crate::scenario::Expect;
use crate::trace::{Anomaly, Ev, Event};
use std::time::Duration;

/// What the always-on checkers need to know of the end of a run.
#[derive(Debug, Clone, Default)]
pub struct EndState {
    /// Servers in the scenario.
    pub servers: usize,
    /// Every up server's registry.
    pub registries: Registries,
    /// Every up server's legacy Raft store.
    pub stores: Vec<StoreView>,
    /// No link fault (cut, `no_connect`, delay, blocked port), pause or datagram loss is in
    /// force at the end.
    pub network_whole: bool,
    /// Time from the last fault step to the end (the whole run when there was none).
    pub since_last_fault: Duration,
    /// How long the network must have been whole for convergence to be judged.
    pub quiet: Duration,
    /// The end of the run, when the checkers run.
    pub end_us: u64,
}

impl EndState {
    /// The reason the end state is not quiet enough to judge liveness, if it is not.
    fn not_quiet(&self) -> Option<String> {
        if !self.network_whole {
            Some(
                "a link fault, pause, disk stall or datagram loss is still in force at the end"
                    .into(),
            )
        } else if self.since_last_fault < self.quiet {
            Some(format!(
                "the last fault was {} before the end, less than the quiet period {}",
                fmt_duration(self.since_last_fault),
                fmt_duration(self.quiet)
            ))
        } else {
            None
        }
    }
}

/// The checkers' verdicts (one check each, unless the scenario expects that anomaly and
/// judges it with its own expectation) and every finding, expected or not.
#[derive(Debug, Clone, Default)]
pub struct AlwaysOn {
    pub checks: Vec<Check>,
    pub findings: Vec<Finding>,
}

fn expects(expects: &[Expect], a: Anomaly) -> bool {
    expects
        .iter()
        .any(|e| matches!(e, Expect::Anomaly { kind, .. } if *kind == a))
}

/// Runs every always-on checker over the end of a run.
pub fn always_on(exp: &[Expect], end: &EndState, events: &[Event]) -> AlwaysOn {
    let mut out = AlwaysOn::default();
    let verdict =
        |out: &mut AlwaysOn, inv: Invariant, a: Anomaly, found: Result<Vec<Finding>, String>| {
            let found = match found {
                Ok(f) => f,
                Err(reason) => {
                    if !expects(exp, a) {
                        out.checks.push(skipped(inv, reason));
                    }
                    return;
                }
            };
            out.findings.extend(found.iter().cloned());
            if expects(exp, a) {
                return;
            }
            let passed = found.is_empty();
            let observed = match inv {
                Invariant::Convergence { .. } if passed => Observed::Agreement {
                    servers: end.registries.len(),
                },
                _ => Observed::Findings {
                    findings: found,
                    t_us: end.end_us,
                },
            };
            out.checks.push(Check::new(
                None,
                passed,
                Expected::Invariant { invariant: inv },
                observed,
            ));
        };

    // Convergence (a liveness property): judged once the network has been whole for the quiet
    // period, with at least two servers up.
    let conv = Invariant::Convergence {
        quiet_ms: end.quiet.as_millis() as u64,
    };
    let judged = if end.servers < 2 {
        Err("a single server has nothing to converge with".to_string())
    } else if end.registries.len() < 2 {
        Err("fewer than two servers are up at the end".to_string())
    } else if let Some(r) = end.not_quiet() {
        Err(r)
    } else {
        Ok(divergence_findings(&end.registries))
    };
    verdict(&mut out, conv, Anomaly::Divergence, judged);

    // Raft safety, in a cluster: legacy Raft (naming spec §16.4) and JRaft (jraft spec
    // §J13.5), each judged on its own events and stores.
    let one = || Err("a single server has no Raft group to judge".to_string());
    let published = events
        .iter()
        .any(|e| matches!(e.ev, Ev::RaftPublish { .. }))
        || jraft::any_write(events);
    let no_write = || Err("no Raft write in this run".to_string());
    let cluster = end.servers >= 2;
    let jstores: Vec<(String, jraft::JraftView)> = end
        .stores
        .iter()
        .filter_map(|s| s.jraft.clone().map(|j| (s.server.clone(), j)))
        .collect();
    let inv = |a| Invariant::No(a);
    let both = |mut a: Vec<Finding>, b: Vec<Finding>| {
        a.extend(b);
        a
    };
    verdict(
        &mut out,
        inv(Anomaly::TwoLeaders),
        Anomaly::TwoLeaders,
        if cluster {
            Ok(both(two_leaders(events), jraft::two_leaders(events)))
        } else {
            one()
        },
    );
    verdict(
        &mut out,
        inv(Anomaly::DirtyWrite),
        Anomaly::DirtyWrite,
        match (cluster, published) {
            (false, _) => one(),
            (true, false) => no_write(),
            (true, true) => Ok(both(
                dirty_writes(events, &end.stores),
                jraft::dirty_writes(events, &jstores),
            )),
        },
    );
    verdict(
        &mut out,
        inv(Anomaly::LostWrite),
        Anomaly::LostWrite,
        match (cluster, published, end.not_quiet()) {
            (false, _, _) => one(),
            (true, false, _) => no_write(),
            (true, true, Some(r)) => Err(r),
            (true, true, None) => Ok(both(
                lost_writes(events, &end.stores),
                jraft::lost_writes(events, &jstores),
            )),
        },
    );
    out
}

fn skipped(inv: Invariant, reason: String) -> Check {
    Check::new(
        None,
        true,
        Expected::Invariant { invariant: inv },
        Observed::Skipped { reason },
    )
}

fn divergence_findings(reg: &Registries) -> Vec<Finding> {
    divergences(reg)
        .into_iter()
        .map(|text| Finding {
            anomaly: Anomaly::Divergence,
            text,
            points: vec![],
        })
        .collect()
}

/// The `anomaly.*` events that report the findings: one per anomaly found, its detail the
/// findings' words, in the order divergence, two leaders, dirty write, lost write.
pub fn anomaly_events(findings: &[Finding]) -> Vec<Ev> {
    Anomaly::ALL
        .iter()
        .filter_map(|a| {
            let texts: Vec<&str> = findings
                .iter()
                .filter(|f| f.anomaly == *a)
                .map(|f| f.text.as_str())
                .collect();
            (!texts.is_empty()).then(|| a.event(texts.join("; ")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn reg(views: &[(&str, &[&str])]) -> Registries {
        views
            .iter()
            .map(|(server, hosts)| {
                let set: BTreeSet<String> = hosts.iter().map(|h| h.to_string()).collect();
                (server.to_string(), BTreeMap::from([("a".to_string(), set)]))
            })
            .collect()
    }

    fn end(registries: Registries, since: u64) -> EndState {
        EndState {
            servers: registries.len(),
            registries,
            network_whole: true,
            since_last_fault: Duration::from_secs(since),
            quiet: Duration::from_secs(30),
            end_us: 90_000_000,
            ..EndState::default()
        }
    }

    #[test]
    fn convergence_is_skipped_with_its_reason_until_the_network_is_quiet() {
        let split = reg(&[("s1", &["1"]), ("s2", &[])]);
        let r = always_on(&[], &end(split.clone(), 10), &[]);
        let c = &r.checks[0];
        assert!(c.passed && c.skipped(), "{c:?}");
        assert!(c
            .detail(crate::check::Precision::Ms)
            .contains("less than the quiet period 30s"));
        let r = always_on(&[], &end(split, 31), &[]);
        assert!(!r.checks[0].passed);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(
            anomaly_events(&r.findings),
            vec![Ev::AnomalyDivergence {
                detail: "a: s1=[1] s2=[]".into()
            }]
        );
    }

    #[test]
    fn an_expected_anomaly_has_no_always_on_check_but_keeps_its_findings() {
        let split = reg(&[("s1", &["1"]), ("s2", &[])]);
        let want = Expect::Anomaly {
            label: None,
            kind: Anomaly::Divergence,
            line: 1,
        };
        let r = always_on(&[want], &end(split, 40), &[]);
        assert!(r.checks.iter().all(|c| !matches!(
            c.expected,
            Expected::Invariant {
                invariant: Invariant::Convergence { .. }
            }
        )));
        assert_eq!(r.findings.len(), 1);
    }

    #[test]
    fn raft_checkers_do_not_apply_to_one_server_or_to_a_run_without_writes() {
        let r = always_on(&[], &end(reg(&[("s1", &[])]), 40), &[]);
        assert!(r.checks.iter().all(|c| c.skipped()), "{:?}", r.checks);
        let agree = reg(&[("s1", &["1"]), ("s2", &["1"])]);
        let r = always_on(&[], &end(agree, 40), &[]);
        assert!(matches!(
            r.checks[0].observed,
            Observed::Agreement { servers: 2 }
        ));
        assert!(
            !r.checks[1].skipped(),
            "two leaders is judged without writes"
        );
        assert!(r.checks[2].skipped() && r.checks[3].skipped());
    }
}
