//! `compare` (issue 13): the same scenario as written and with some `[config]` keys set
//! otherwise (a what-if switch, a constant), on the same seeds, side by side: the checks and
//! anomalies that differ, the availability figures, and the first event where the two runs
//! part. Pure over two outcomes; the command line is in `cli/compare.rs`.

use crate::check::availability::Figures;
use crate::check::Precision;
use crate::config::{parse_duration, Config, Kind, Value};
use crate::report::Outcome;
use crate::scenario::Scenario;
use crate::trace::Event;
use serde::Serialize;
use std::collections::BTreeSet;

/// `key=value` as given to `--set`.
pub fn parse_set(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: write KEY=VALUE, e.g. client_push_empty_protection=true"))?;
    let (k, v) = (k.trim(), v.trim().trim_matches('"'));
    if k.is_empty() || v.is_empty() {
        return Err(format!(
            "`{s}`: write KEY=VALUE, e.g. heartbeat_timeout=20s"
        ));
    }
    Ok((k.to_owned(), v.to_owned()))
}

/// The value of `--set key=value`, read as the key's kind.
fn value_of(key: &str, kind: Kind, v: &str) -> Result<Value, String> {
    let bad = |_| format!("`{key}` expects {kind}, not `{v}`");
    Ok(match kind {
        Kind::Duration => Value::Duration(parse_duration(v).map_err(|e| format!("`{key}`: {e}"))?),
        Kind::Bool => Value::Bool(v.parse().map_err(|_| bad(()))?),
        Kind::Int => Value::Int(v.parse().map_err(|_| bad(()))?),
        Kind::Float => Value::Float(v.parse().map_err(|_| bad(()))?),
    })
}

/// Edit distance, for suggesting a key.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The scenario with the `--set`s applied (each checked against the key's range), and the
/// overrides recorded for the outcome's header.
pub fn apply_sets(sc: &Scenario, sets: &[(String, String)]) -> Result<Scenario, String> {
    let mut out = sc.clone();
    for (k, v) in sets {
        let Some((_, kind, _, _)) = Config::KEYS.iter().find(|e| e.0 == k) else {
            let mut near: Vec<&str> = Config::KEYS
                .iter()
                .map(|e| e.0)
                .filter(|c| distance(k, c) <= 3 || c.contains(k.as_str()))
                .collect();
            near.truncate(4);
            let hint = if near.is_empty() {
                "see `nacos-sim config` for the keys".to_owned()
            } else {
                format!("did you mean {}?", near.join(", "))
            };
            return Err(format!("--set: unknown config key `{k}`: {hint}"));
        };
        let value = value_of(k, *kind, v).map_err(|e| format!("--set: {e}"))?;
        out.config
            .set(k, value)
            .map_err(|e| format!("--set: {e}"))?;
        out.overrides.retain(|(ok, _)| ok != k);
        out.overrides.push((k.clone(), v.clone()));
    }
    Ok(out)
}

/// The index of the first event where two logs differ (time, node or line), if they do.
pub fn first_divergence(a: &[Event], b: &[Event]) -> Option<usize> {
    let same = |x: &Event, y: &Event| x.t_us == y.t_us && x.node == y.node && x.ev == y.ev;
    match a.iter().zip(b).position(|(x, y)| !same(x, y)) {
        Some(i) => Some(i),
        None if a.len() != b.len() => Some(a.len().min(b.len())),
        None => None,
    }
}

/// One check whose verdict or evidence differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckDiff {
    pub name: String,
    pub base: Option<(bool, String)>,
    pub variant: Option<(bool, String)>,
}

/// An event as the comparison shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shown {
    pub t_ms: u64,
    pub node: String,
    pub line: String,
}

fn shown(e: &Event) -> Shown {
    Shown {
        t_ms: e.t_us / 1000,
        node: e.node.clone(),
        line: e.line(),
    }
}

/// What differs between the run as written (`base`) and the variant, on one seed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub seed: u64,
    pub sets: Vec<(String, String)>,
    pub base_passed: bool,
    pub variant_passed: bool,
    pub checks: Vec<CheckDiff>,
    /// Anomaly findings (`kind: text`) found in only one of the runs.
    pub anomalies_base_only: Vec<String>,
    pub anomalies_variant_only: Vec<String>,
    pub availability: Vec<(Option<Figures>, Option<Figures>)>,
    /// The first event where the runs part: its index and each run's event there.
    pub diverge_at: Option<usize>,
    pub base_event: Option<Shown>,
    pub variant_event: Option<Shown>,
}

/// Compares two outcomes of the same scenario and seed.
pub fn diff(base: &Outcome, variant: &Outcome, sets: &[(String, String)]) -> Diff {
    let verdict = |o: &Outcome, name: &str| {
        o.checks
            .iter()
            .find(|c| c.name == name)
            .map(|c| (c.passed, c.detail(Precision::Ms)))
    };
    let mut names: Vec<String> = base.checks.iter().map(|c| c.name.clone()).collect();
    for c in &variant.checks {
        if !names.contains(&c.name) {
            names.push(c.name.clone());
        }
    }
    let checks = names
        .into_iter()
        .filter_map(|n| {
            let (a, b) = (verdict(base, &n), verdict(variant, &n));
            (a != b).then_some(CheckDiff {
                name: n,
                base: a,
                variant: b,
            })
        })
        .collect();
    let found = |o: &Outcome| -> BTreeSet<String> {
        o.findings
            .iter()
            .map(|f| format!("{}: {}", f.anomaly, f.text))
            .collect()
    };
    let (fa, fb) = (found(base), found(variant));
    let mut keys: Vec<(String, String)> = base
        .availability
        .iter()
        .chain(&variant.availability)
        .map(|f| (f.client.clone(), f.service.clone()))
        .collect();
    keys.sort();
    keys.dedup();
    let pick = |o: &Outcome, k: &(String, String)| {
        o.availability
            .iter()
            .find(|f| f.client == k.0 && f.service == k.1)
            .cloned()
    };
    let availability = keys
        .iter()
        .map(|k| (pick(base, k), pick(variant, k)))
        .collect();
    let at = first_divergence(&base.events, &variant.events);
    Diff {
        seed: base.seed,
        sets: sets.to_vec(),
        base_passed: base.passed,
        variant_passed: variant.passed,
        checks,
        anomalies_base_only: fa.difference(&fb).cloned().collect(),
        anomalies_variant_only: fb.difference(&fa).cloned().collect(),
        availability,
        diverge_at: at,
        base_event: at.and_then(|i| base.events.get(i)).map(shown),
        variant_event: at.and_then(|i| variant.events.get(i)).map(shown),
    }
}

impl Diff {
    /// The comparison in words.
    pub fn to_text(&self, scenario: &str) -> String {
        use std::fmt::Write as _;
        let sets: Vec<String> = self.sets.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let verdict = |p: bool| if p { "PASS" } else { "FAIL" };
        let mut s = String::new();
        let _ = writeln!(s, "compare {scenario}, seed {}", self.seed);
        let _ = writeln!(s, "  A: as written          {}", verdict(self.base_passed));
        let _ = writeln!(
            s,
            "  B: {:<20} {}",
            sets.join(" "),
            verdict(self.variant_passed)
        );
        let _ = writeln!(s, "\nchecks that differ:");
        if self.checks.is_empty() {
            let _ = writeln!(s, "  none");
        }
        let side = |v: &Option<(bool, String)>| match v {
            None => "(no such check)".to_owned(),
            Some((p, d)) => format!("{}  {d}", verdict(*p)),
        };
        for c in &self.checks {
            let _ = writeln!(s, "  {}", c.name);
            let _ = writeln!(s, "    A: {}", side(&c.base));
            let _ = writeln!(s, "    B: {}", side(&c.variant));
        }
        let _ = writeln!(s, "\nanomalies that differ:");
        if self.anomalies_base_only.is_empty() && self.anomalies_variant_only.is_empty() {
            let _ = writeln!(s, "  none");
        }
        for a in &self.anomalies_base_only {
            let _ = writeln!(s, "  only A: {a}");
        }
        for a in &self.anomalies_variant_only {
            let _ = writeln!(s, "  only B: {a}");
        }
        if !self.availability.is_empty() {
            let _ = writeln!(s, "\navailability:");
            for (a, b) in &self.availability {
                for (tag, f) in [("A", a), ("B", b)] {
                    match f {
                        Some(f) => {
                            let l = crate::report::availability_line(f, Precision::Ms);
                            let _ = writeln!(s, "  {tag}{}", &l[1..]);
                        }
                        None => {
                            let _ = writeln!(s, "  {tag}: no traffic");
                        }
                    }
                }
            }
        }
        let _ = writeln!(s, "\nfirst divergence:");
        match self.diverge_at {
            None => {
                let _ = writeln!(s, "  none: the two runs log the same events");
            }
            Some(i) => {
                let _ = writeln!(s, "  at event #{i}");
                for (tag, e) in [("A", &self.base_event), ("B", &self.variant_event)] {
                    let _ = match e {
                        Some(e) => writeln!(
                            s,
                            "    {tag}: {:>9.3}s  {:<10} {}",
                            e.t_ms as f64 / 1000.0,
                            e.node,
                            e.line
                        ),
                        None => writeln!(s, "    {tag}: (the log ends)"),
                    };
                }
            }
        }
        s
    }
}

/// min, p50, p99 and max of some values (nearest rank), `None` when there are none.
pub fn quantiles(values: &[f64]) -> Option<[f64; 4]> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let rank = |q: f64| {
        let r = (q * v.len() as f64).ceil() as usize;
        v[r.clamp(1, v.len()) - 1]
    };
    Some([v[0], rank(0.5), rank(0.99), v[v.len() - 1]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_parse_and_apply_with_ranges_and_suggestions() {
        assert_eq!(
            parse_set("client_push_empty_protection=true"),
            Ok(("client_push_empty_protection".into(), "true".into()))
        );
        assert!(parse_set("x").is_err());
        assert!(parse_set("=1").is_err());
        let sc = crate::scenario::parse(
            "name = \"x\"\nabout = \"x\"\nduration = \"10s\"\n[cluster]\nservers = 1\n",
            "x.toml",
        )
        .unwrap();
        let v = apply_sets(
            &sc,
            &[
                ("heartbeat_timeout".into(), "20s".into()),
                ("client_push_empty_protection".into(), "true".into()),
            ],
        )
        .unwrap();
        assert_eq!(v.config.heartbeat_timeout.as_secs(), 20);
        assert!(v.config.client_push_empty_protection);
        assert_eq!(v.overrides.len(), 2);
        let e = apply_sets(&sc, &[("heartbeat_timout".into(), "20s".into())]).unwrap_err();
        assert!(e.contains("did you mean heartbeat_timeout"), "{e}");
        let e = apply_sets(&sc, &[("heartbeat_timeout".into(), "0s".into())]).unwrap_err();
        assert!(e.contains("out of range"), "{e}");
        let e = apply_sets(&sc, &[("push_enabled".into(), "yes".into())]).unwrap_err();
        assert!(e.contains("expects true or false"), "{e}");
    }

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantiles(&v), Some([1.0, 50.0, 99.0, 100.0]));
        assert_eq!(quantiles(&[3.0]), Some([3.0; 4]));
        assert_eq!(quantiles(&[]), None);
    }
}

/// One availability figure over many seeds: its name, the seeds that had it, and its
/// min / p50 / p99 / max.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FigureDist {
    pub figure: &'static str,
    pub seeds: usize,
    pub dist: Option<[f64; 4]>,
}

/// The distribution of each figure of one consumer and service over the seeds' figures.
/// A stale-routing window or a recovery time counts only on the seeds that had one.
pub fn distribution(figs: &[Figures]) -> Vec<FigureDist> {
    let one = |figure: &'static str, v: Vec<f64>| FigureDist {
        figure,
        seeds: v.len(),
        dist: quantiles(&v),
    };
    let all = |f: fn(&Figures) -> f64| figs.iter().map(f).collect::<Vec<f64>>();
    let some = |f: fn(&Figures) -> Option<u64>| {
        figs.iter()
            .filter_map(f)
            .map(|x| x as f64)
            .collect::<Vec<f64>>()
    };
    vec![
        one("availability", all(|f| f.availability)),
        one("failed_calls", all(|f| (f.calls - f.ok) as f64)),
        one(
            "longest_failed_run_ms",
            all(|f| f.longest_failed_run_ms as f64),
        ),
        one("stale_routing_ms", some(|f| f.stale_routing_ms)),
        one("recovery_ms", some(|f| f.recovery_ms)),
    ]
}

/// The distribution table in words, one line per figure.
pub fn distribution_text(rows: &[FigureDist]) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "    {:<22} {:>6} {:>10} {:>10} {:>10} {:>10}",
        "figure", "seeds", "min", "p50", "p99", "max"
    );
    for r in rows {
        let cell = |x: f64| {
            if r.figure == "availability" {
                format!("{x:.4}")
            } else {
                format!("{x:.0}")
            }
        };
        match r.dist {
            Some([a, b, c, d]) => {
                let _ = writeln!(
                    s,
                    "    {:<22} {:>6} {:>10} {:>10} {:>10} {:>10}",
                    r.figure,
                    r.seeds,
                    cell(a),
                    cell(b),
                    cell(c),
                    cell(d)
                );
            }
            None => {
                let _ = writeln!(s, "    {:<22} {:>6}   (none)", r.figure, 0);
            }
        }
    }
    s
}
