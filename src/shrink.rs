//! `nacos-sim shrink`: from a failing seed, search for a smaller scenario that fails the same
//! check with the same seed (issue 5). Greedy and deterministic: every candidate is one run of
//! the simulation, kept only if the target check still fails.
//!
//! Order of the passes, repeated until a round removes nothing: the chaos schedule is drawn into
//! plain steps first (so single faults can go); then expectations other than the target, steps
//! (in halves, then quarters, ... then one by one), clients, servers, and the duration (binary
//! search). A node goes with every step and expectation that names it.

use crate::report::Outcome;
use crate::scenario::{Action, Expect, Fault, Scenario, Step, ViewTarget};
use std::time::Duration;

/// What a shrink found.
pub struct Shrunk {
    pub scenario: Scenario,
    /// The check that fails in the original run and in the shrunk one.
    pub target: String,
    /// Simulations run.
    pub runs: usize,
    /// One line per accepted reduction.
    pub log: Vec<String>,
    /// The target check's detail in the original run (`term 1: s2 and s3`), to compare with the
    /// shrunk run's: the same check can fail for another instance or term.
    pub original_detail: String,
}

/// The detail of the failing check `name` in a run, if it failed.
pub fn failed_detail(o: &Outcome, name: &str) -> Option<String> {
    o.checks
        .iter()
        .find(|c| !c.passed && c.name == name)
        .map(|c| c.detail(crate::check::Precision::Ms))
}

/// Parses a written scenario back and runs it with its own seed: what `nacos-sim run FILE`
/// would do with the file. An error means the text does not load (a bug of the writer).
pub fn replay(text: &str, shown: &str) -> Result<Outcome, String> {
    let back = crate::scenario::parse(text, shown).map_err(|e| e.to_string())?;
    Ok(crate::sim::run(&back, back.seed).0)
}

/// The size of a scenario, as the summary reports it.
pub fn size(sc: &Scenario) -> String {
    format!(
        "{} servers, {} clients, {} steps, {} expectations, {}",
        sc.servers.len(),
        sc.clients.len(),
        sc.steps.len(),
        sc.expects.len(),
        crate::config::fmt_duration(sc.duration)
    )
}

struct Search<'a> {
    seed: u64,
    target: String,
    runs: usize,
    max_runs: usize,
    log: Vec<String>,
    progress: &'a mut dyn FnMut(usize, &str),
}

impl Search<'_> {
    /// Whether `sc` still fails the target check (false once the run budget is spent).
    fn fails(&mut self, sc: &Scenario) -> bool {
        if self.runs >= self.max_runs {
            return false;
        }
        self.runs += 1;
        let (o, _) = crate::sim::run(sc, self.seed);
        let hit = failing(&o).contains(&self.target);
        (self.progress)(self.runs, if hit { "still fails" } else { "passes" });
        hit
    }

    fn accept(&mut self, what: String) {
        self.log.push(what);
    }
}

fn failing(o: &Outcome) -> Vec<String> {
    o.checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.clone())
        .collect()
}

/// Shrinks `sc` run with `seed`. `target`: the check to keep failing (default: the first
/// failing one). `progress` is told of every run. Errors when the seed passes or the target
/// names no failing check.
pub fn shrink(
    sc: &Scenario,
    seed: u64,
    target: Option<&str>,
    max_runs: usize,
    progress: &mut dyn FnMut(usize, &str),
) -> Result<Shrunk, String> {
    let (first, _) = crate::sim::run(sc, seed);
    let failed = failing(&first);
    let target = match (target, failed.first()) {
        (_, None) => {
            return Err(format!(
                "seed {seed} passes every check: there is nothing to shrink"
            ))
        }
        (Some(t), _) => match failed.iter().find(|n| n.as_str() == t) {
            Some(n) => n.clone(),
            None => {
                let names: Vec<String> = failed.iter().map(|n| format!("`{n}`")).collect();
                return Err(format!(
                    "--check {t:?} is not a failing check of seed {seed}; the failing checks are {}",
                    names.join(", ")
                ));
            }
        },
        (None, Some(n)) => n.clone(),
    };
    let original_detail = failed_detail(&first, &target).unwrap_or_default();
    let mut s = Search {
        seed,
        target,
        runs: 1,
        max_runs,
        log: Vec::new(),
        progress,
    };
    let mut cur = crate::sim::materialize(sc, seed);
    if sc.chaos.is_some() {
        s.accept(format!(
            "drew the [chaos] schedule into {} plain steps",
            cur.steps.len() - sc.steps.len()
        ));
    }
    loop {
        let before = (cur.steps.len(), cur.expects.len(), cur.clients.len());
        let before = (before, cur.servers.len(), cur.duration);
        drop_expects(&mut s, &mut cur);
        drop_steps(&mut s, &mut cur);
        drop_nodes(&mut s, &mut cur);
        shorten(&mut s, &mut cur);
        let after = (cur.steps.len(), cur.expects.len(), cur.clients.len());
        if (after, cur.servers.len(), cur.duration) == before || s.runs >= s.max_runs {
            break;
        }
    }
    Ok(Shrunk {
        scenario: cur,
        target: s.target,
        runs: s.runs,
        log: s.log,
        original_detail,
    })
}

/// Expectations do not change the run, so all but the target's can go (one run to confirm).
fn drop_expects(s: &mut Search, cur: &mut Scenario) {
    if cur.expects.is_empty() {
        return;
    }
    // The expectation behind the target check, if the target is one (checks come in order).
    let (o, _) = crate::sim::run(cur, s.seed);
    s.runs += 1;
    let keep = o
        .checks
        .iter()
        .take(cur.expects.len())
        .position(|c| c.name == s.target && o.panic.is_none());
    let mut cand = cur.clone();
    cand.expects = keep
        .map(|k| vec![cur.expects[k].clone()])
        .unwrap_or_default();
    if cand.expects.len() < cur.expects.len() && s.fails(&cand) {
        let n = cur.expects.len() - cand.expects.len();
        s.accept(format!("dropped {n} other expectations"));
        *cur = cand;
    }
}

/// ddmin-style: try removing chunks of steps, halving the chunk size down to single steps.
fn drop_steps(s: &mut Search, cur: &mut Scenario) {
    let mut chunk = cur.steps.len().div_ceil(2).max(1);
    while chunk >= 1 && !cur.steps.is_empty() {
        let mut i = 0;
        while i < cur.steps.len() {
            let end = (i + chunk).min(cur.steps.len());
            let mut cand = cur.clone();
            let gone: Vec<Step> = cand.steps.drain(i..end).collect();
            if s.fails(&cand) {
                s.accept(format!(
                    "dropped {} step{} from {}",
                    gone.len(),
                    if gone.len() == 1 { "" } else { "s" },
                    describe(&gone[0])
                ));
                *cur = cand;
            } else {
                i = end;
            }
            if s.runs >= s.max_runs {
                return;
            }
        }
        if chunk == 1 {
            break;
        }
        chunk = chunk.div_ceil(2);
    }
}

fn describe(st: &Step) -> String {
    let what = match &st.action {
        Action::Client { client, op } => {
            format!("{client}: {}", crate::scenario::client_op_toml(op))
        }
        Action::Fault(f) => crate::scenario::fault_toml(f),
    };
    format!("{} ({what})", crate::config::fmt_duration(st.at))
}

/// Removes clients, then servers, one at a time, with everything that names them.
fn drop_nodes(s: &mut Search, cur: &mut Scenario) {
    // Clients that do nothing still draw from the seed's stream; first try all of them at once.
    let idle: Vec<String> = cur
        .clients
        .iter()
        .map(|c| c.name.clone())
        .filter(|n| without_node(cur, n).is_some_and(|c| c.steps.len() == cur.steps.len()))
        .collect();
    if idle.len() > 1 {
        let mut cand = Some(cur.clone());
        for n in &idle {
            cand = cand.and_then(|c| without_node(&c, n));
        }
        if let Some(cand) = cand {
            if s.fails(&cand) {
                s.accept(format!("removed the idle clients {}", idle.join(", ")));
                *cur = cand;
            }
        }
    }
    for name in cur
        .clients
        .iter()
        .map(|c| c.name.clone())
        .collect::<Vec<_>>()
    {
        if let Some(cand) = without_node(cur, &name) {
            if s.fails(&cand) {
                s.accept(format!("removed client {name}"));
                *cur = cand;
            }
        }
    }
    for name in cur.servers.clone().into_iter().rev() {
        if cur.servers.len() == 1 {
            break;
        }
        if let Some(cand) = without_node(cur, &name) {
            if s.fails(&cand) {
                s.accept(format!("removed server {name}"));
                *cur = cand;
            }
        }
    }
}

/// The scenario without node `name`: its steps and the expectations about it go; it leaves
/// partitions, bridges and rings. `None` when that cannot be done (a client would be left with
/// no server, or the target expectation names the node).
fn without_node(sc: &Scenario, name: &str) -> Option<Scenario> {
    // Servers take their addresses by position, which `aliases` and `conf` name: removing one
    // would move every later server's address.
    if sc.is_server(name) && !(sc.aliases.is_empty() && sc.conf.is_empty()) {
        return None;
    }
    let mut out = sc.clone();
    out.servers.retain(|n| n != name);
    out.clients.retain(|c| c.name != name);
    for c in &mut out.clients {
        c.servers.retain(|n| n != name);
        if c.servers.is_empty() {
            return None;
        }
    }
    let drop_node = |v: &mut Vec<String>| v.retain(|n| n != name);
    out.steps = sc
        .steps
        .iter()
        .filter_map(|st| {
            let mut st = st.clone();
            let keep = match &mut st.action {
                Action::Client { client, .. } => client != name,
                Action::Fault(f) => match f {
                    Fault::Crash(n)
                    | Fault::Restart(n)
                    | Fault::Pause(n)
                    | Fault::Resume(n, _)
                    | Fault::Isolate(n)
                    | Fault::Panic(n)
                    | Fault::JraftError(n) => n != name,
                    Fault::BlockPort { node, .. } | Fault::DiskStall { node, .. } => node != name,
                    Fault::NoConnect { from, to, .. } | Fault::Delay { from, to, .. } => {
                        from != name && to != name
                    }
                    Fault::ClockSkew { node, .. } => node != name,
                    Fault::OneWay { from, to } => from != name && to != name,
                    Fault::Partition(groups) => {
                        groups.iter_mut().for_each(drop_node);
                        groups.retain(|g| !g.is_empty());
                        groups.len() >= 2
                    }
                    Fault::Bridge { via, sides } => {
                        sides.iter_mut().for_each(drop_node);
                        via != name && sides.iter().all(|g| !g.is_empty())
                    }
                    Fault::Ring(order) => {
                        drop_node(order);
                        order.len() >= 4
                    }
                    _ => true,
                },
            };
            keep.then_some(st)
        })
        .collect();
    out.expects.retain(|e| match e {
        Expect::View { target, .. } => match target {
            ViewTarget::Client(n) | ViewTarget::Server(n) => n != name,
        },
        Expect::Event { node, .. } => node.as_deref() != Some(name),
        Expect::Availability { client, .. } | Expect::StaleRouting { client, .. } => client != name,
        Expect::Anomaly { .. } => true,
    });
    Some(out)
}

/// The last moment the scenario refers to: its last step and the end of its last window.
fn last_reference(sc: &Scenario) -> Duration {
    let steps = sc.steps.iter().map(|s| s.at);
    let expects = sc.expects.iter().map(|e| match e {
        Expect::View { when, .. } => match *when {
            crate::scenario::When::At(t) => t,
            crate::scenario::When::Within(_, b) | crate::scenario::When::Always(_, b) => b,
        },
        Expect::Event { window, .. } | Expect::Availability { window, .. } => {
            window.map_or(Duration::ZERO, |w| w.1)
        }
        Expect::StaleRouting { .. } => Duration::ZERO,
        Expect::Anomaly { .. } => Duration::ZERO,
    });
    steps.chain(expects).max().unwrap_or_default()
}

/// Binary search, to the second, for the shortest run that still fails.
fn shorten(s: &mut Search, cur: &mut Scenario) {
    let floor = last_reference(cur).as_secs() + 1;
    let (mut lo, mut hi) = (floor, cur.duration.as_secs());
    if lo >= hi {
        return;
    }
    let start = cur.duration;
    while lo < hi && s.runs < s.max_runs {
        let mid = lo + (hi - lo) / 2;
        let mut cand = cur.clone();
        cand.duration = Duration::from_secs(mid);
        if s.fails(&cand) {
            hi = mid;
            *cur = cand;
        } else {
            lo = mid + 1;
        }
    }
    if cur.duration < start {
        s.accept(format!(
            "shortened the run from {} to {}",
            crate::config::fmt_duration(start),
            crate::config::fmt_duration(cur.duration)
        ));
    }
}
