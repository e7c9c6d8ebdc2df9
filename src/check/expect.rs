//! The scenario's `[[expect]]`s judged: views from the samples the harness took, events from
//! the log, anomalies from the always-on checkers' findings.

use super::availability::{self, CallEnd};
use super::samples::{Sample, Samples};
use super::{Check, Expected, Finding, Observed, Seen, SeenView, Timing, Viewer};
use crate::scenario::{Expect, ServiceRef, ViewTarget, When};
use crate::trace::Event;
use std::time::Duration;

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

fn timing(w: &When) -> Timing {
    match *w {
        When::At(t) => Timing::At { at_ms: ms(t) },
        When::Within(a, b) => Timing::Within {
            from_ms: ms(a),
            to_ms: ms(b),
        },
        When::Always(a, b) => Timing::Always {
            from_ms: ms(a),
            to_ms: ms(b),
        },
    }
}

/// The service as a scenario writes it: `orders`, or `group@@orders` outside the default group.
fn service_name(r: &ServiceRef) -> String {
    if r.group == crate::model::keys::DEFAULT_GROUP {
        r.service.clone()
    } else {
        format!("{}@@{}", r.group, r.service)
    }
}

/// Judges every expectation of the scenario. `findings` are the always-on checkers' findings,
/// reported at `checked_at_us`.
pub fn evaluate(
    expects: &[Expect],
    samples: &Samples,
    events: &[Event],
    findings: &[Finding],
    checked_at_us: u64,
) -> Vec<Check> {
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
                let viewer = match target {
                    ViewTarget::Client(c) => Viewer::Client(c.clone()),
                    ViewTarget::Server(s) => Viewer::Server(s.clone()),
                };
                let expected = Expected::View {
                    viewer,
                    service: service_name(service),
                    clusters: service.clusters.clone(),
                    instances: instances.clone(),
                    healthy: healthy.clone(),
                    when: timing(when),
                };
                let matches = |s: &Option<Sample>| match s {
                    None => false,
                    Some(s) => {
                        instances.as_ref().is_none_or(|i| *i == s.instances)
                            && healthy.as_ref().is_none_or(|h| *h == s.healthy)
                    }
                };
                let (passed, observed) = view_verdict(when, &samples.get(k), matches);
                Check::new(label.as_ref(), passed, expected, observed)
            }
            Expect::Anomaly { label, kind, .. } => {
                let found: Vec<Finding> = findings
                    .iter()
                    .filter(|f| f.anomaly == *kind)
                    .cloned()
                    .collect();
                let observed = Observed::Findings {
                    t_us: checked_at_us,
                    findings: found,
                };
                let passed = matches!(&observed, Observed::Findings { findings, .. } if !findings.is_empty());
                Check::new(
                    label.as_ref(),
                    passed,
                    Expected::Anomaly { anomaly: *kind },
                    observed,
                )
            }
            Expect::Event {
                label,
                kind,
                instance,
                service,
                node,
                fields,
                window,
                never,
                ..
            } => {
                let hits = events
                    .iter()
                    .filter(|e| e.kind() == kind)
                    .filter(|e| node.as_ref().is_none_or(|n| e.node == *n))
                    .filter(|e| {
                        instance
                            .as_ref()
                            .is_none_or(|i| e.field("instance").as_ref() == Some(i))
                    })
                    .filter(|e| {
                        // `orders` matches `DEFAULT_GROUP@@orders` (and any group's `orders`).
                        service.as_ref().is_none_or(|s| {
                            e.field("service")
                                .is_some_and(|v| v == *s || v.ends_with(&format!("@@{s}")))
                        })
                    })
                    .filter(|e| {
                        fields
                            .iter()
                            .all(|(k, v)| e.field(k).as_ref() == Some(v))
                    });
                let (mut matched, mut outside) = (vec![], vec![]);
                for e in hits {
                    let seen = Seen {
                        t_us: e.t_us,
                        node: e.node.clone(),
                        instance: e.field("instance"),
                    };
                    let t = Duration::from_micros(e.t_us);
                    if window.is_none_or(|(a, b)| t >= a && t <= b) {
                        matched.push(seen);
                    } else {
                        outside.push(seen);
                    }
                }
                let passed = matched.is_empty() == *never;
                let expected = Expected::Event {
                    event: kind.clone(),
                    never: *never,
                    node: node.clone(),
                    service: service.clone(),
                    instance: instance.clone(),
                    fields: fields.clone(),
                    window: window.map(|(a, b)| (ms(a), ms(b))),
                };
                Check::new(
                    label.as_ref(),
                    passed,
                    expected,
                    Observed::Events { matched, outside },
                )
            }
            Expect::Availability {
                label,
                client,
                service,
                min,
                window,
                ..
            } => {
                let key = (client.clone(), service.cache_key());
                let (calls, ok) = samples.traffic(|t| match t.get(&key) {
                    None => (0, 0),
                    Some(t) => match window {
                        Some((a, b)) => availability::calls_in(
                            t,
                            a.as_micros() as u64,
                            b.as_micros() as u64,
                        ),
                        None => (t.calls, t.ends.get(&CallEnd::Ok).copied().unwrap_or(0)),
                    },
                });
                let passed = calls > 0 && ok as f64 >= *min * calls as f64;
                let expected = Expected::Availability {
                    client: client.clone(),
                    service: service_name(service),
                    min: *min,
                    window: window.map(|(a, b)| (ms(a), ms(b))),
                };
                Check::new(label.as_ref(), passed, expected, Observed::Calls { calls, ok })
            }
            Expect::StaleRouting {
                label,
                client,
                service,
                max,
                ..
            } => {
                let key = (client.clone(), service.cache_key());
                let stale = samples.traffic(|t| t.get(&key).and_then(|t| t.stale.clone()));
                let passed = stale
                    .as_ref()
                    .is_none_or(|s| s.window_us() <= max.as_micros() as u64);
                let expected = Expected::StaleRouting {
                    client: client.clone(),
                    service: service_name(service),
                    max_ms: ms(*max),
                };
                Check::new(label.as_ref(), passed, expected, Observed::Stale { stale })
            }
        })
        .collect()
}

fn seen(s: &Option<Sample>) -> Option<SeenView> {
    s.as_ref().map(|s| SeenView {
        instances: s.instances.clone(),
        healthy: s.healthy.clone(),
    })
}

/// The verdict of a view expectation and the sample that decided it.
fn view_verdict(
    when: &When,
    obs: &[(Duration, Option<Sample>)],
    matches: impl Fn(&Option<Sample>) -> bool,
) -> (bool, Observed) {
    let Some(last) = obs.last() else {
        return (false, Observed::NoSample);
    };
    let sample = |(t, s): &(Duration, Option<Sample>)| Observed::Sample {
        t_us: t.as_micros() as u64,
        view: seen(s),
        samples: obs.len(),
    };
    match when {
        When::At(_) => (matches(&obs[0].1), sample(&obs[0])),
        When::Within(..) => match obs.iter().find(|(_, s)| matches(s)) {
            Some(hit) => (true, sample(hit)),
            None => (false, sample(last)),
        },
        When::Always(..) => match obs.iter().find(|(_, s)| !matches(s)) {
            None => (true, sample(last)),
            Some(broken) => (false, sample(broken)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Precision;
    use crate::trace::{Ev, HealthReason};
    use std::collections::BTreeMap;

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
        let z = Duration::ZERO;
        let (ok, o) = view_verdict(&When::Within(z, z), &obs, unhealthy);
        assert!(ok);
        assert!(
            matches!(
                o,
                Observed::Sample {
                    t_us: 2_000_000,
                    ..
                }
            ),
            "{o:?}"
        );
        let (ok, o) = view_verdict(&When::Always(z, z), &obs, unhealthy);
        assert!(!ok);
        assert!(
            matches!(
                o,
                Observed::Sample {
                    t_us: 1_000_000,
                    ..
                }
            ),
            "{o:?}"
        );
        assert_eq!(
            view_verdict(&When::At(z), &[], |_| true),
            (false, Observed::NoSample)
        );
    }

    fn unhealthy(t: u64, node: &str, inst: &str) -> Event {
        Event {
            t_us: t * 1_000_000,
            node: node.into(),
            ev: Ev::InstanceUnhealthy {
                service: "DEFAULT_GROUP@@orders".into(),
                instance: inst.into(),
                since_beat_ms: Some(15001),
                reason: None,
            },
        }
    }

    fn event_expect(kind: &str, w: Option<(u64, u64)>, never: bool) -> Expect {
        Expect::Event {
            label: None,
            kind: kind.into(),
            instance: Some("a".into()),
            service: Some("orders".into()),
            node: None,
            fields: BTreeMap::new(),
            window: w.map(|(a, b)| (Duration::from_secs(a), Duration::from_secs(b))),
            never,
            line: 1,
        }
    }

    #[test]
    fn event_expectations_respect_window_filters_and_never_and_name_what_they_matched() {
        let deleted = Event {
            t_us: 40_000_000,
            node: "s1".into(),
            ev: Ev::InstanceDeleted {
                service: "DEFAULT_GROUP@@orders".into(),
                instance: "a".into(),
                reason: HealthReason::Expired,
            },
        };
        let events = vec![unhealthy(10, "s1", "a"), unhealthy(11, "s2", "b"), deleted];
        let checks = evaluate(
            &[
                event_expect("instance.unhealthy", Some((5, 15)), false),
                event_expect("instance.unhealthy", Some((20, 30)), false),
                event_expect("instance.deleted", None, true),
                event_expect("push.failed", None, true),
            ],
            &Samples::default(),
            &events,
            &[],
            0,
        );
        let passed: Vec<bool> = checks.iter().map(|c| c.passed).collect();
        assert_eq!(passed, vec![true, false, false, true]);
        assert_eq!(checks[0].detail(Precision::Ms), "seen at 10.000s on s1 (a)");
        assert_eq!(
            checks[1].detail(Precision::Tenth),
            "seen only outside the window, at 10.0s on s1 (a)"
        );
        assert_eq!(
            checks[0].name,
            "instance.unhealthy (instance a, service orders) within [5s, 15s]"
        );
    }

    #[test]
    fn field_filters_match_rendered_values_exactly() {
        let events = vec![unhealthy(10, "s1", "a")];
        let mut e = event_expect("instance.unhealthy", None, false);
        if let Expect::Event { fields, .. } = &mut e {
            fields.insert("since_beat_ms".into(), "15001".into());
        }
        let ok = evaluate(&[e.clone()], &Samples::default(), &events, &[], 0);
        assert!(ok[0].passed);
        if let Expect::Event { fields, .. } = &mut e {
            fields.insert("since_beat_ms".into(), "15000".into());
        }
        let no = evaluate(&[e], &Samples::default(), &events, &[], 0);
        assert!(!no[0].passed);
    }

    #[test]
    fn a_named_check_keeps_its_expectation_as_data() {
        let e = Expect::View {
            label: Some("server keeps nothing".into()),
            target: ViewTarget::Server("s1".into()),
            service: ServiceRef {
                service: "orders".into(),
                group: "DEFAULT_GROUP".into(),
                clusters: vec![],
            },
            instances: Some(["10.0.0.10:8080".to_string()].into()),
            healthy: None,
            when: When::Within(Duration::from_secs(35), Duration::from_secs(45)),
            line: 1,
        };
        let c = &evaluate(&[e], &Samples::default(), &[], &[], 0)[0];
        assert_eq!(c.name, "server keeps nothing");
        assert!(c.named && !c.passed);
        assert_eq!(
            c.expected.describe(),
            "server s1 sees orders instances [10.0.0.10:8080] within [35s, 45s]"
        );
        assert!(matches!(
            c.expected,
            Expected::View {
                when: Timing::Within {
                    from_ms: 35000,
                    to_ms: 45000
                },
                ..
            }
        ));
    }
}
