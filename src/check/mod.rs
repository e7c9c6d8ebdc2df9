//! Expectations: view checks from samples taken during the run, event checks over the log,
//! and the always-on checkers.

pub mod convergence;
pub mod coverage;
pub mod raft;

use crate::config::fmt_duration;
use crate::model::HostView;
use crate::scenario::{Expect, ServiceRef, ViewTarget, When};
use crate::trace::Event;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Anomalies the always-on checkers can report (`anomaly.<kind>` events).
pub const ANOMALIES: &[&str] = &["divergence", "two_leaders", "dirty_write", "lost_write"];

/// One observed view: the `ip:port` set and the healthy subset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub instances: BTreeSet<String>,
    pub healthy: BTreeSet<String>,
}

impl Sample {
    pub fn of(hosts: &[HostView]) -> Sample {
        Sample {
            instances: hosts.iter().map(|h| h.ip_port()).collect(),
            healthy: hosts
                .iter()
                .filter(|h| h.healthy)
                .map(|h| h.ip_port())
                .collect(),
        }
    }
}

/// Observations of one expectation: (virtual time, the view or None when the node was down).
pub type Observations = Vec<(Duration, Option<Sample>)>;

/// Samples per expectation index.
#[derive(Clone, Default)]
pub struct Samples(Arc<Mutex<BTreeMap<usize, Observations>>>);

impl Samples {
    pub fn push(&self, k: usize, t: Duration, s: Option<Sample>) {
        self.0.lock().unwrap().entry(k).or_default().push((t, s));
    }
    pub fn is_empty(&self, k: usize) -> bool {
        self.0.lock().unwrap().get(&k).is_none_or(|v| v.is_empty())
    }

    fn get(&self, k: usize) -> Observations {
        self.0.lock().unwrap().get(&k).cloned().unwrap_or_default()
    }
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

fn set(s: &BTreeSet<String>) -> String {
    format!("[{}]", s.iter().cloned().collect::<Vec<_>>().join(", "))
}

fn svc_name(r: &ServiceRef) -> String {
    let mut s = if r.group == crate::model::keys::DEFAULT_GROUP {
        r.service.clone()
    } else {
        format!("{}@@{}", r.group, r.service)
    };
    if !r.clusters.is_empty() {
        s = format!("{s} (clusters {})", r.clusters.join(","));
    }
    s
}

fn when_text(w: &When) -> String {
    match w {
        When::At(t) => format!("at {}", fmt_duration(*t)),
        When::Within(a, b) => format!("within [{}, {}]", fmt_duration(*a), fmt_duration(*b)),
        When::Always(a, b) => format!("always in [{}, {}]", fmt_duration(*a), fmt_duration(*b)),
    }
}

fn describe(s: &Option<Sample>) -> String {
    match s {
        None => "node down".into(),
        Some(s) => format!(
            "instances {} healthy {}",
            set(&s.instances),
            set(&s.healthy)
        ),
    }
}

/// Evaluates every expectation of the scenario.
pub fn evaluate(expects: &[Expect], samples: &Samples, events: &[Event]) -> Vec<Check> {
    expects
        .iter()
        .enumerate()
        .map(|(k, e)| match e {
            Expect::View {
                label,
                target,
                service,
                instances,
                healthy,
                when,
                ..
            } => {
                let who = match target {
                    ViewTarget::Client(c) => format!("client {c}"),
                    ViewTarget::Server(s) => format!("server {s}"),
                };
                let mut want = vec![];
                if let Some(i) = instances {
                    want.push(format!("instances {}", set(i)));
                }
                if let Some(h) = healthy {
                    want.push(format!("healthy {}", set(h)));
                }
                let name = label.clone().unwrap_or_else(|| {
                    format!(
                        "{who} sees {} {} {}",
                        svc_name(service),
                        want.join(" "),
                        when_text(when)
                    )
                });
                let matches = |s: &Option<Sample>| match s {
                    None => false,
                    Some(s) => {
                        instances.as_ref().is_none_or(|i| *i == s.instances)
                            && healthy.as_ref().is_none_or(|h| *h == s.healthy)
                    }
                };
                let obs = samples.get(k);
                let (passed, detail) = view_verdict(when, &obs, matches);
                Check {
                    name,
                    passed,
                    detail,
                }
            }
            Expect::Anomaly { label, kind, .. } => {
                let event = format!("anomaly.{kind}");
                let name = label
                    .clone()
                    .unwrap_or_else(|| format!("the checker reports {kind}"));
                match events.iter().find(|e| e.kind == event) {
                    Some(e) => Check {
                        name,
                        passed: true,
                        detail: format!(
                            "reported at {:.3}s: {}",
                            e.t_us as f64 / 1e6,
                            e.get("detail").unwrap_or("")
                        ),
                    },
                    None => Check {
                        name,
                        passed: false,
                        detail: "not reported".into(),
                    },
                }
            }
            Expect::Event {
                label,
                kind,
                instance,
                service,
                node,
                window,
                never,
                ..
            } => {
                let hits: Vec<&Event> = events
                    .iter()
                    .filter(|e| e.kind == *kind)
                    .filter(|e| {
                        instance
                            .as_ref()
                            .is_none_or(|i| e.get("instance") == Some(i))
                    })
                    .filter(|e| {
                        service.as_ref().is_none_or(|s| {
                            e.get("service")
                                .is_some_and(|v| v == s || v.ends_with(&format!("@@{s}")))
                        })
                    })
                    .filter(|e| node.as_ref().is_none_or(|n| e.node == *n))
                    .collect();
                let in_window: Vec<&&Event> = hits
                    .iter()
                    .filter(|e| {
                        window.is_none_or(|(a, b)| {
                            let t = Duration::from_micros(e.t_us);
                            t >= a && t <= b
                        })
                    })
                    .collect();
                let mut filt = vec![];
                if let Some(i) = instance {
                    filt.push(format!("instance {i}"));
                }
                if let Some(s) = service {
                    filt.push(format!("service {s}"));
                }
                if let Some(n) = node {
                    filt.push(format!("on {n}"));
                }
                let win = window
                    .map(|(a, b)| format!(" within [{}, {}]", fmt_duration(a), fmt_duration(b)))
                    .unwrap_or_default();
                let name = label.clone().unwrap_or_else(|| {
                    format!(
                        "{}{kind}{}{win}",
                        if *never { "no " } else { "" },
                        if filt.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", filt.join(", "))
                        }
                    )
                });
                let times = |v: &[&&Event]| {
                    v.iter()
                        .map(|e| format!("{:.3}s", e.t_us as f64 / 1e6))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let all_times = hits
                    .iter()
                    .map(|e| format!("{:.3}s", e.t_us as f64 / 1e6))
                    .collect::<Vec<_>>()
                    .join(", ");
                let (passed, detail) = if *never {
                    if in_window.is_empty() {
                        (true, "none seen".to_string())
                    } else {
                        (false, format!("seen at {}", times(&in_window)))
                    }
                } else if !in_window.is_empty() {
                    (true, format!("seen at {}", times(&in_window)))
                } else if hits.is_empty() {
                    (false, "never seen".to_string())
                } else {
                    (
                        false,
                        format!("seen only outside the window, at {all_times}"),
                    )
                };
                Check {
                    name,
                    passed,
                    detail,
                }
            }
        })
        .collect()
}

fn secs(t: Duration) -> String {
    format!("{:.1}s", t.as_secs_f64())
}

fn view_verdict(
    when: &When,
    obs: &[(Duration, Option<Sample>)],
    matches: impl Fn(&Option<Sample>) -> bool,
) -> (bool, String) {
    if obs.is_empty() {
        return (false, "never observed (the run ended first)".into());
    }
    match when {
        When::At(_) => {
            let s = &obs[0].1;
            if matches(s) {
                (true, "held".into())
            } else {
                (false, format!("saw {}", describe(s)))
            }
        }
        When::Within(..) => match obs.iter().find(|(_, s)| matches(s)) {
            Some((t, _)) => (true, format!("first held at {}", secs(*t))),
            None => (
                false,
                format!("never held; last saw {}", describe(&obs[obs.len() - 1].1)),
            ),
        },
        When::Always(..) => match obs.iter().find(|(_, s)| !matches(s)) {
            None => (true, format!("held in all {} samples", obs.len())),
            Some((t, s)) => (
                false,
                format!("broken at {}: saw {}", secs(*t), describe(s)),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(i: &[&str], h: &[&str]) -> Option<Sample> {
        Some(Sample {
            instances: i.iter().map(|s| s.to_string()).collect(),
            healthy: h.iter().map(|s| s.to_string()).collect(),
        })
    }

    #[test]
    fn within_needs_one_matching_sample_always_needs_all() {
        let obs = vec![
            (Duration::from_secs(1), sample(&["a"], &["a"])),
            (Duration::from_secs(2), sample(&["a"], &[])),
        ];
        let unhealthy = |s: &Option<Sample>| s.as_ref().is_some_and(|s| s.healthy.is_empty());
        assert!(
            view_verdict(
                &When::Within(Duration::ZERO, Duration::ZERO),
                &obs,
                unhealthy
            )
            .0
        );
        let (ok, detail) = view_verdict(
            &When::Always(Duration::ZERO, Duration::ZERO),
            &obs,
            unhealthy,
        );
        assert!(!ok);
        assert!(detail.contains("broken at 1.0s"), "{detail}");
        assert!(!view_verdict(&When::At(Duration::ZERO), &[], |_| true).0);
    }

    #[test]
    fn event_expectations_respect_window_filters_and_never() {
        let ev = |t: u64, kind: &str, inst: &str| Event {
            t_us: t * 1_000_000,
            kind: kind.into(),
            node: "s1".into(),
            fields: vec![("instance".into(), inst.into())],
        };
        let events = vec![
            ev(10, "instance.unhealthy", "a"),
            ev(40, "instance.deleted", "a"),
        ];
        let e = |kind: &str, w: Option<(u64, u64)>, never: bool| Expect::Event {
            label: None,
            kind: kind.into(),
            instance: Some("a".into()),
            service: None,
            node: None,
            window: w.map(|(a, b)| (Duration::from_secs(a), Duration::from_secs(b))),
            never,
            line: 1,
        };
        let checks = evaluate(
            &[
                e("instance.unhealthy", Some((5, 15)), false),
                e("instance.unhealthy", Some((20, 30)), false),
                e("instance.deleted", None, true),
                e("push.failed", None, true),
            ],
            &Samples::default(),
            &events,
        );
        let passed: Vec<bool> = checks.iter().map(|c| c.passed).collect();
        assert_eq!(passed, vec![true, false, false, true]);
        assert!(checks[1].detail.contains("outside the window"));
    }
}
