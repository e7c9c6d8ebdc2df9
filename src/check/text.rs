//! The words of a check, made from its data: the generated name (what it expects) and the
//! detail (what decided it). Nothing reads these words back.

use super::{Check, Expected, Invariant, Observed, Seen, SeenView, Timing};
use crate::trace::Anomaly;
use std::collections::BTreeSet;

/// How precisely times are written: milliseconds (the outcome), or tenths of a second
/// (snapshots, so that a shift of a few milliseconds does not rewrite them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Ms,
    Tenth,
}

impl Precision {
    /// A moment of the run, `12.345s` or `12.3s`.
    pub fn secs(self, t_us: u64) -> String {
        match self {
            Precision::Ms => format!("{:.3}s", t_us as f64 / 1e6),
            Precision::Tenth => format!("{:.1}s", t_us as f64 / 1e6),
        }
    }
}

/// At most this many matched events are listed in a detail.
const MAX_LISTED: usize = 6;

fn set(s: &BTreeSet<String>) -> String {
    format!("[{}]", s.iter().cloned().collect::<Vec<_>>().join(", "))
}

/// A window bound or moment, in seconds like every time of the outcome and the timeline's
/// axis: `0s`, `16s`, `60.001s`, `600s`.
pub fn ms(t: u64) -> String {
    if t.is_multiple_of(1000) {
        format!("{}s", t / 1000)
    } else {
        let s = format!("{:.3}", t as f64 / 1000.0);
        format!("{}s", s.trim_end_matches('0'))
    }
}

fn view(v: &Option<SeenView>) -> String {
    match v {
        None => "node down".into(),
        Some(s) => format!(
            "instances {} healthy {}",
            set(&s.instances),
            set(&s.healthy)
        ),
    }
}

fn seen_list(seen: &[Seen], p: Precision) -> String {
    let mut parts: Vec<String> = seen
        .iter()
        .take(MAX_LISTED)
        .map(|s| {
            let mut w = format!("{} on {}", p.secs(s.t_us), s.node);
            if let Some(i) = &s.instance {
                w.push_str(&format!(" ({i})"));
            }
            w
        })
        .collect();
    if seen.len() > MAX_LISTED {
        parts.push(format!("and {} more", seen.len() - MAX_LISTED));
    }
    parts.join(", ")
}

impl Invariant {
    pub fn describe(&self) -> String {
        match self {
            Invariant::Convergence { quiet_ms } => format!(
                "servers converge once faults heal (always on; quiet {})",
                ms(*quiet_ms)
            ),
            Invariant::No(Anomaly::TwoLeaders) => {
                "no two leaders in one Raft term (always on)".into()
            }
            Invariant::No(Anomaly::DirtyWrite) => {
                "no failed publish stays visible (always on)".into()
            }
            Invariant::No(Anomaly::LostWrite) => {
                "no acknowledged publish is lost (always on)".into()
            }
            Invariant::No(Anomaly::Divergence) => "no divergence (always on)".into(),
        }
    }
}

impl Expected {
    /// What the check expects, in words (the name of a check the scenario did not name).
    pub fn describe(&self) -> String {
        match self {
            Expected::View {
                viewer,
                service,
                clusters,
                instances,
                healthy,
                when,
            } => {
                let who = match viewer {
                    super::Viewer::Client(c) => format!("client {c}"),
                    super::Viewer::Server(s) => format!("server {s}"),
                };
                let mut svc = service.clone();
                if !clusters.is_empty() {
                    svc = format!("{svc} (clusters {})", clusters.join(","));
                }
                let mut want = vec![];
                if let Some(i) = instances {
                    want.push(format!("instances {}", set(i)));
                }
                if let Some(h) = healthy {
                    want.push(format!("healthy {}", set(h)));
                }
                let when = match *when {
                    Timing::At { at_ms } => format!("at {}", ms(at_ms)),
                    Timing::Within { from_ms, to_ms } => {
                        format!("within [{}, {}]", ms(from_ms), ms(to_ms))
                    }
                    Timing::Always { from_ms, to_ms } => {
                        format!("always in [{}, {}]", ms(from_ms), ms(to_ms))
                    }
                };
                format!("{who} sees {svc} {} {when}", want.join(" "))
            }
            Expected::Event {
                event,
                never,
                node,
                service,
                instance,
                fields,
                window,
            } => {
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
                filt.extend(fields.iter().map(|(k, v)| format!("{k}={v}")));
                let filt = if filt.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", filt.join(", "))
                };
                let win = window
                    .map(|(a, b)| format!(" within [{}, {}]", ms(a), ms(b)))
                    .unwrap_or_default();
                format!("{}{event}{filt}{win}", if *never { "no " } else { "" })
            }
            Expected::Anomaly { anomaly } => format!("the checker reports {anomaly}"),
            Expected::Availability {
                client,
                service,
                min,
                window,
            } => {
                let win = window
                    .map(|(a, b)| format!(" within [{}, {}]", ms(a), ms(b)))
                    .unwrap_or_default();
                format!("{client}'s calls to {service} succeed at least {min}{win}")
            }
            Expected::StaleRouting {
                client,
                service,
                max_ms,
            } => format!(
                "{client} calls no dead instance of {service} more than {} after it died",
                ms(*max_ms)
            ),
            Expected::Invariant { invariant } => invariant.describe(),
            Expected::NoPanic => "the simulation runs without panicking".into(),
        }
    }
}

impl Check {
    /// What was observed, in words, phrased for what was expected.
    pub(super) fn describe_observed(&self, p: Precision) -> String {
        let passed = self.passed;
        match (&self.expected, &self.observed) {
            (_, Observed::NoSample) => "never observed (the run ended first)".into(),
            (
                Expected::View { when, .. },
                Observed::Sample {
                    t_us,
                    view: v,
                    samples,
                },
            ) => {
                let t = format!("{:.1}s", *t_us as f64 / 1e6);
                match (when, passed) {
                    (Timing::At { .. }, true) => "held".into(),
                    (Timing::At { .. }, false) => format!("saw {}", view(v)),
                    (Timing::Within { .. }, true) => format!("first held at {t}"),
                    (Timing::Within { .. }, false) => {
                        format!("never held; last saw {} at {t}", view(v))
                    }
                    (Timing::Always { .. }, true) => format!("held in all {samples} samples"),
                    (Timing::Always { .. }, false) => format!("broken at {t}: saw {}", view(v)),
                }
            }
            (Expected::Event { never, .. }, Observed::Events { matched, outside }) => {
                match (matched.is_empty(), outside.is_empty(), *never) {
                    (true, _, true) => "none seen".into(),
                    (false, _, _) => format!("seen at {}", seen_list(matched, p)),
                    (true, true, false) => "never seen".into(),
                    (true, false, false) => {
                        format!("seen only outside the window, at {}", seen_list(outside, p))
                    }
                }
            }
            (Expected::Anomaly { .. }, Observed::Findings { findings, t_us }) => {
                if findings.is_empty() {
                    "not reported".into()
                } else {
                    format!("reported at {}: {}", p.secs(*t_us), texts(findings))
                }
            }
            (Expected::Invariant { invariant }, Observed::Findings { findings, .. }) => {
                match (findings.is_empty(), invariant) {
                    (true, _) => "none found".into(),
                    (false, Invariant::Convergence { .. }) => {
                        format!("divergence: {}", texts(findings))
                    }
                    (false, _) => texts(findings),
                }
            }
            (_, Observed::Agreement { servers }) => {
                format!("{servers} servers agree on every service")
            }
            (_, Observed::Skipped { reason }) => format!("not judged: {reason}"),
            (_, Observed::Calls { calls: 0, .. }) => "no call in the window".into(),
            (_, Observed::Calls { calls, ok }) => format!(
                "{ok} of {calls} calls succeeded ({:.4})",
                *ok as f64 / *calls as f64
            ),
            (_, Observed::Stale { stale: None }) => "no call went to a dead instance".into(),
            (_, Observed::Stale { stale: Some(s) }) => format!(
                "{} calls to {}: dead at {}, last call at {}",
                ms(s.window_us() / 1000),
                s.instance,
                p.secs(s.dead_us),
                p.secs(s.last_call_us)
            ),
            (_, Observed::Panic { message }) => message.clone(),
            (_, other) => format!("{other:?}"),
        }
    }
}

fn texts(findings: &[super::Finding]) -> String {
    findings
        .iter()
        .map(|f| f.text.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}
