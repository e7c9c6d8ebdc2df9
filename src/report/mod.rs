//! The outcome of a run: text for people and snapshots, JSON for machines.

mod abbrev;
pub mod timeline;

use crate::check::availability::Figures;
use crate::check::{Check, Expected, Finding, Precision};
use crate::config::fmt_duration;
use crate::trace::{Ev, Event};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The version of the JSON outcome's layout (README, "JSON outcome"). 2: checks carry their
/// expectation and observation as data, findings of the always-on checkers, `schema` itself.
/// 3: `availability`, each consumer's figures (issue 13).
pub const JSON_SCHEMA: u32 = 3;

/// One host in a final view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalHost {
    pub instance: String,
    pub healthy: bool,
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub scenario: String,
    pub about: String,
    /// The scenario file as given (for the repro command).
    pub path: String,
    pub seed: u64,
    pub duration_ms: u64,
    pub overrides: Vec<(String, String)>,
    pub passed: bool,
    pub trace_hash: String,
    pub checks: Vec<Check>,
    /// Every finding of the always-on checkers, expected or not.
    pub findings: Vec<Finding>,
    pub events: Vec<Event>,
    /// node → service → hosts; `None` for a node that is down at the end.
    pub final_views: BTreeMap<String, Option<BTreeMap<String, Vec<FinalHost>>>>,
    /// Node names in scenario order (servers first), for stable rendering.
    pub node_order: Vec<String>,
    /// Messages madsim delivered during the run.
    pub messages: u64,
    /// Set when a simulated node panicked: the panic message.
    pub panic: Option<String>,
    /// The fault schedule `[chaos]` drew from the seed: a header line, then one line per step.
    pub chaos: Vec<String>,
    /// Each consumer's availability figures (issue 13; empty without traffic).
    pub availability: Vec<Figures>,
}

impl Outcome {
    pub fn repro(&self) -> String {
        format!(
            "nacos-sim run {} --seed {}",
            shell_word(&self.path),
            self.seed
        )
    }

    /// The human-readable outcome. `with_hash` = false leaves out the trace hash.
    pub fn to_text(&self, with_hash: bool) -> String {
        let mut s = self.head();
        self.checks_text(&mut s, Precision::Ms);
        self.availability_text(&mut s, Precision::Ms);
        let _ = writeln!(s, "\ntimeline ({} events):", self.events.len());
        for e in &self.events {
            let _ = writeln!(
                s,
                "  {:>9.3}s  {:<10} {}",
                e.t_us as f64 / 1e6,
                e.node,
                e.line()
            );
        }
        self.finals_text(&mut s, false);
        self.result_text(&mut s, with_hash);
        s
    }

    /// What a reviewed snapshot holds (README, "What a snapshot holds"): the header, every
    /// check with its expectation and what decided it, the story's events, and the final
    /// views; times in tenths of a second, no trace hash. The story is every fault, anomaly,
    /// leader election and client call, and every event of a kind that an expectation names.
    pub fn to_snapshot(&self) -> String {
        let mut s = self.head();
        self.checks_text(&mut s, Precision::Tenth);
        self.availability_text(&mut s, Precision::Tenth);
        let story: Vec<&Event> = self.events.iter().filter(|e| self.in_story(e)).collect();
        let _ = writeln!(
            s,
            "\nstory ({} of {} events):",
            story.len(),
            self.events.len()
        );
        // A very long run of one kind of event on one node keeps its ends (abbrev.rs).
        let keys: Vec<(&str, &str)> = story.iter().map(|e| (e.node.as_str(), e.kind())).collect();
        for show in abbrev::shorten_runs(&keys, abbrev::RUN_LIMIT, abbrev::RUN_KEEP) {
            match show {
                abbrev::Show::Item(i) => {
                    let e = story[i];
                    let _ = writeln!(
                        s,
                        "  {:>7.1}s  {:<10} {}",
                        e.t_us as f64 / 1e6,
                        e.node,
                        e.line()
                    );
                }
                abbrev::Show::Elided { first, count } => {
                    let (node, kind) = keys[first];
                    let _ = writeln!(s, "  {:>8}  {node:<10} ({count} more {kind} events)", "...");
                }
            }
        }
        self.finals_text(&mut s, true);
        self.result_text(&mut s, false);
        s
    }

    fn in_story(&self, e: &Event) -> bool {
        let always = matches!(
            e.ev,
            Ev::RaftLeader { .. }
                | Ev::JraftLeader { .. }
                | Ev::ProtocolSwitched { .. }
                | Ev::ServerStatus { .. }
                | Ev::ClientCall { .. }
                | Ev::ClientReregister { .. }
                | Ev::TrafficFailing { .. }
                | Ev::TrafficRecovered { .. }
        ) || e.kind().starts_with("fault.")
            || e.kind().starts_with("anomaly.");
        always
            || self
                .checks
                .iter()
                .any(|c| matches!(&c.expected, Expected::Event { event, .. } if event == e.kind()))
    }

    fn head(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "scenario: {}", self.scenario);
        let _ = writeln!(s, "about:    {}", self.about);
        let _ = writeln!(
            s,
            "seed:     {}   duration: {}",
            self.seed,
            fmt_duration(std::time::Duration::from_millis(self.duration_ms))
        );
        if !self.overrides.is_empty() {
            let o: Vec<String> = self
                .overrides
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let _ = writeln!(s, "config:   {}", o.join(" "));
        }
        if let Some((head, steps)) = self.chaos.split_first() {
            let _ = writeln!(s, "chaos:    {head}");
            for l in steps {
                let _ = writeln!(s, "  {l}");
            }
        }
        if let Some(p) = &self.panic {
            let _ = writeln!(s, "\nPANIC in the simulation: {p}");
        }
        s
    }

    /// Each check: its verdict and name; for a check the scenario named, what it expects; and
    /// what decided it.
    fn checks_text(&self, s: &mut String, p: Precision) {
        let _ = writeln!(s, "\nchecks:");
        for c in &self.checks {
            let verdict = match (c.passed, c.skipped()) {
                (_, true) => "SKIP",
                (true, false) => "PASS",
                (false, false) => "FAIL",
            };
            let _ = writeln!(s, "  {verdict}  {}", c.name);
            if c.named {
                let _ = writeln!(s, "        expected: {}", c.expected.describe());
            }
            let _ = writeln!(s, "        {}", c.detail(p));
        }
    }

    /// Each consumer's figures (nothing without traffic).
    fn availability_text(&self, s: &mut String, p: Precision) {
        if self.availability.is_empty() {
            return;
        }
        let _ = writeln!(s, "\navailability:");
        for f in &self.availability {
            let _ = writeln!(s, "{}", availability_line(f, p));
        }
    }

    /// The final views; `short` (a snapshot) lists only the first services of a node that has
    /// a great many (abbrev.rs).
    fn finals_text(&self, s: &mut String, short: bool) {
        let _ = writeln!(s, "\nfinal views:");
        for node in &self.node_order {
            match self.final_views.get(node) {
                Some(None) => {
                    let _ = writeln!(s, "  {node}: down");
                }
                Some(Some(services)) if services.is_empty() => {
                    let _ = writeln!(s, "  {node}: (no services)");
                }
                Some(Some(services)) => {
                    let shown = if short {
                        abbrev::view_shown(services.len())
                    } else {
                        services.len()
                    };
                    for (svc, hosts) in services.iter().take(shown) {
                        let h: Vec<String> = hosts
                            .iter()
                            .map(|h| {
                                format!(
                                    "{}{}",
                                    h.instance,
                                    if h.healthy { "" } else { " (unhealthy)" }
                                )
                            })
                            .collect();
                        let _ = writeln!(s, "  {node}: {svc} = [{}]", h.join(", "));
                    }
                    if shown < services.len() {
                        let more = services.len() - shown;
                        let _ = writeln!(s, "  {node}: ... and {more} more services");
                    }
                }
                None => {}
            }
        }
    }

    fn result_text(&self, s: &mut String, with_hash: bool) {
        let failed = self.checks.iter().filter(|c| !c.passed).count();
        let skipped = self.checks.iter().filter(|c| c.skipped()).count();
        let _ = write!(
            s,
            "\nresult: {} ({} of {} checks passed",
            if self.passed { "PASS" } else { "FAIL" },
            self.checks.len() - failed - skipped,
            self.checks.len() - skipped
        );
        if skipped > 0 {
            let _ = write!(s, ", {skipped} not judged");
        }
        let _ = writeln!(s, ")");
        if with_hash {
            let _ = writeln!(
                s,
                "trace:  {} ({} events, {} messages)",
                self.trace_hash,
                self.events.len(),
                self.messages
            );
        }
        if !self.passed {
            let _ = writeln!(s, "repro:  {}", self.repro());
        }
    }

    /// The machine-readable outcome.
    pub fn to_json(&self) -> Value {
        let events: Vec<Value> = self
            .events
            .iter()
            .map(|e| {
                let mut m = Map::new();
                m.insert("t_ms".into(), json!(e.t_ms()));
                m.insert("kind".into(), json!(e.kind()));
                m.insert("node".into(), json!(e.node));
                for (k, v) in e.fields() {
                    m.insert(k.into(), json!(v));
                }
                Value::Object(m)
            })
            .collect();
        let mut fin = Map::new();
        for node in &self.node_order {
            let v = match self.final_views.get(node) {
                Some(Some(services)) => {
                    let mut m = Map::new();
                    for (svc, hosts) in services {
                        let hs: Vec<Value> = hosts
                            .iter()
                            .map(|h| json!({"instance": h.instance, "healthy": h.healthy}))
                            .collect();
                        m.insert(svc.clone(), Value::Array(hs));
                    }
                    Value::Object(m)
                }
                _ => Value::Null,
            };
            fin.insert(node.clone(), v);
        }
        json!({
            "schema": JSON_SCHEMA,
            "scenario": self.scenario,
            "about": self.about,
            "seed": self.seed,
            "passed": self.passed,
            "trace_hash": self.trace_hash,
            "duration_ms": self.duration_ms,
            "messages": self.messages,
            "panic": self.panic,
            "chaos": self.chaos,
            "repro": self.repro(),
            "checks": self.checks,
            "findings": self.findings,
            "availability": self.availability,
            "events": events,
            "final": fin,
        })
    }
}

/// One consumer's figures in words: calls and failures by cause, then the windows.
pub fn availability_line(f: &Figures, p: Precision) -> String {
    let ms = |m: u64| match p {
        Precision::Ms => fmt_duration(std::time::Duration::from_millis(m)),
        Precision::Tenth => format!("{:.1}s", m as f64 / 1000.0),
    };
    let mut l = format!(
        "  {} -> {}: {} calls, {} ok ({:.4}); failed: {} refused, {} timeout, {} no instance",
        f.client, f.service, f.calls, f.ok, f.availability, f.refused, f.timeout, f.no_instance
    );
    let _ = write!(
        l,
        "\n        longest failed run {} calls ({}), {} outage(s)",
        f.longest_failed_run,
        ms(f.longest_failed_run_ms),
        f.outages
    );
    match &f.stale {
        Some(st) => {
            let _ = write!(
                l,
                "; stale routing {} ({} dead at {}, last call {})",
                ms(st.window_us() / 1000),
                st.instance,
                p.secs(st.dead_us),
                p.secs(st.last_call_us)
            );
        }
        None => l.push_str("; no call to a dead instance"),
    }
    if let Some(r) = f.recovery_ms {
        let _ = write!(l, "; recovered {} after a repair", ms(r));
    }
    if f.failing_at_end {
        l.push_str("; still failing at the end");
    }
    l
}

/// `s` as one word of a shell command line: as is when plain, else single-quoted, so a repro
/// line pasted into sh, bash or zsh runs the same file.
pub fn shell_word(s: &str) -> String {
    if s.starts_with('-') {
        // Read as an option otherwise: `./-x.toml`.
        return shell_word(&format!("./{s}"));
    }
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
