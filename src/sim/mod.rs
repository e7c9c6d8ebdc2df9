//! The harness: runs one scenario with one seed in a fresh madsim runtime on a fresh OS thread
//! (std's HashMap seeding is per thread), records the event log, and builds the outcome.

pub mod chaos;
pub mod faults;
pub mod world;

use crate::check::{self, Samples};
use crate::report::{FinalHost, Outcome};
use crate::scenario::Scenario;
use crate::trace::{self, Log, Recorder};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use world::{Proc, World};

/// What a run measured about itself (outside virtual time).
#[derive(Debug, Clone, Copy)]
pub struct RunStats {
    pub wall_secs: f64,
    pub messages: u64,
}

type Finals = BTreeMap<String, Option<BTreeMap<String, Vec<FinalHost>>>>;
/// What the simulation thread hands back: final views, checks, messages delivered, events.
type Finished = (Finals, Vec<check::Check>, u64, Vec<trace::Event>);

/// Runs the scenario with the given seed. Never panics: a panic inside the simulation becomes a
/// failed outcome carrying the message, with the repro command.
pub fn run(sc: &Scenario, seed: u64) -> (Outcome, RunStats) {
    let (drawn, chaos_lines) = with_chaos(sc, seed);
    let sc: &Scenario = &drawn;
    let log = Log::default();
    let finals: Arc<Mutex<Option<Finished>>> = Arc::default();
    let (sc2, log2, finals2) = (sc.clone(), log.clone(), finals.clone());
    let started = Instant::now();
    let joined = std::thread::Builder::new()
        .name(format!("sim-seed-{seed}"))
        .spawn(move || {
            tracing::subscriber::with_default(Recorder::new(log2.clone()), || {
                let rt =
                    madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default());
                rt.block_on(async move {
                    let (world, samples) = world::play(&sc2).await;
                    let w = world.lock().unwrap();
                    let convergence = convergence_check(&sc2, &w);
                    let raft = raft_checks(&sc2, &w, &log2.snapshot());
                    let messages = w.env.delivered();
                    let events = log2.take();
                    let mut checks = check::evaluate(&sc2.expects, &samples, &events);
                    checks.extend(convergence);
                    checks.extend(raft);
                    *finals2.lock().unwrap() = Some((final_views(&w), checks, messages, events));
                });
            })
        })
        .expect("spawn the simulation thread")
        .join();
    let wall_secs = started.elapsed().as_secs_f64();
    let panic = joined.err().map(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".into())
    });
    let (final_views, mut checks, messages, events) =
        finals.lock().unwrap().take().unwrap_or_else(|| {
            // The simulation panicked: judge what the log holds up to the panic.
            let events = log.take();
            let checks = check::evaluate(&sc.expects, &Samples::default(), &events);
            (BTreeMap::new(), checks, 0, events)
        });
    if let Some(p) = &panic {
        checks.insert(
            0,
            check::Check {
                name: "the simulation runs without panicking".into(),
                passed: false,
                detail: p.clone(),
            },
        );
    }
    let outcome = Outcome {
        scenario: sc.name.clone(),
        about: sc.about.clone(),
        path: sc.path.clone(),
        seed,
        duration_ms: sc.duration.as_millis() as u64,
        overrides: sc.overrides.clone(),
        passed: checks.iter().all(|c| c.passed),
        trace_hash: trace::trace_hash(&events),
        checks,
        events,
        final_views,
        node_order: sc.node_names(),
        messages,
        panic,
        chaos: chaos_lines,
    };
    (
        outcome,
        RunStats {
            wall_secs,
            messages,
        },
    )
}

/// The scenario with its `[chaos]` schedule drawn for this seed and merged into its steps
/// (after the file's own steps at the same moment), and the schedule's description.
pub fn with_chaos(sc: &Scenario, seed: u64) -> (std::borrow::Cow<'_, Scenario>, Vec<String>) {
    let Some(spec) = &sc.chaos else {
        return (std::borrow::Cow::Borrowed(sc), Vec::new());
    };
    let clients: Vec<String> = sc.clients.iter().map(|c| c.name.clone()).collect();
    let drawn = chaos::plan(spec, seed, &sc.servers, &clients);
    let lines = chaos::describe(spec, &drawn);
    let mut out = sc.clone();
    out.steps
        .extend(drawn.into_iter().map(|(at, f)| crate::scenario::Step {
            at,
            action: crate::scenario::Action::Fault(f),
            line: 0,
        }));
    out.steps.sort_by_key(|s| s.at);
    (std::borrow::Cow::Owned(out), lines)
}

/// The scenario as it runs with `seed`: its chaos drawn into plain steps, and `seed` as its
/// seed, so written out (`scenario_toml`) it reproduces the run on its own.
pub fn materialize(sc: &Scenario, seed: u64) -> Scenario {
    let mut out = with_chaos(sc, seed).0.into_owned();
    out.chaos = None;
    out.seed = seed;
    out
}

/// The always-on convergence check (a liveness property). Evaluated only when the network has
/// been whole for the scenario's quiet period and at least two servers are up; a divergence is
/// recorded as an `anomaly.divergence` event. A scenario that expects the anomaly judges it
/// with its own expectation instead of this check.
fn convergence_check(sc: &Scenario, w: &World) -> Option<check::Check> {
    let since = sc.duration.saturating_sub(w.last_fault.unwrap_or_default());
    let reg = w.registries();
    if reg.len() < 2 || !w.network_whole() || since < sc.quiet {
        return None;
    }
    let div = check::convergence::divergences(&reg);
    if !div.is_empty() {
        crate::emit!("anomaly.divergence", "-", detail = div.join("; "));
    }
    let expected = sc.expects.iter().any(
        |e| matches!(e, crate::scenario::Expect::Anomaly { kind, .. } if kind == "divergence"),
    );
    if expected {
        return None;
    }
    Some(check::Check {
        name: format!(
            "servers converge once faults heal (always on; quiet {})",
            crate::config::fmt_duration(sc.quiet)
        ),
        passed: div.is_empty(),
        detail: if div.is_empty() {
            format!("{} servers agree on every service", reg.len())
        } else {
            format!("divergence: {}", div.join("; "))
        },
    })
}

fn expects_anomaly(sc: &Scenario, kind: &str) -> bool {
    sc.expects
        .iter()
        .any(|e| matches!(e, crate::scenario::Expect::Anomaly { kind: k, .. } if k == kind))
}

/// The always-on legacy Raft checkers (two leaders in a term, dirty and lost writes) of a
/// multi-server cluster. Each finding is an `anomaly.*` event; a scenario that expects the
/// anomaly judges it with its own expectation, otherwise it is a failed check.
fn raft_checks(sc: &Scenario, w: &World, events: &[crate::trace::Event]) -> Vec<check::Check> {
    use check::raft::{dirty_writes, lost_writes, two_leaders, StoreView};
    if sc.servers.len() < 2 {
        return vec![];
    }
    let stores: Vec<StoreView> = w
        .nodes
        .iter()
        .filter(|n| n.up)
        .filter_map(|n| match &n.slot {
            Proc::Server(s) => s.get().map(|server| {
                let (role, term, datums, _) = server.raft_view();
                StoreView {
                    server: n.name.clone(),
                    role,
                    term,
                    datums,
                }
            }),
            Proc::Client(_) => None,
        })
        .collect();
    let quiet = sc.duration.saturating_sub(w.last_fault.unwrap_or_default()) >= sc.quiet
        && w.network_whole();
    let mut findings = vec![
        (
            "two_leaders",
            "no two leaders in one Raft term (always on)",
            two_leaders(events),
        ),
        (
            "dirty_write",
            "no failed publish stays visible (always on)",
            dirty_writes(events, &stores),
        ),
    ];
    if quiet {
        findings.push((
            "lost_write",
            "no acknowledged publish is lost (always on)",
            lost_writes(events, &stores),
        ));
    }
    let published = events.iter().any(|e| e.kind == "raft.publish");
    let mut checks = vec![];
    for (kind, name, found) in findings {
        if !found.is_empty() {
            let detail = found.join("; ");
            match kind {
                "two_leaders" => crate::emit!("anomaly.two_leaders", "-", detail = detail),
                "dirty_write" => crate::emit!("anomaly.dirty_write", "-", detail = detail),
                _ => crate::emit!("anomaly.lost_write", "-", detail = detail),
            }
        }
        if expects_anomaly(sc, kind) || (kind != "two_leaders" && !published) {
            continue;
        }
        checks.push(check::Check {
            name: name.to_string(),
            passed: found.is_empty(),
            detail: if found.is_empty() {
                "none found".into()
            } else {
                found.join("; ")
            },
        });
    }
    checks
}

/// Every up node's view at the end: servers' `/instance/list` views, clients' caches.
fn final_views(w: &World) -> Finals {
    let mut out = BTreeMap::new();
    for n in &w.nodes {
        let view = match &n.slot {
            Proc::Server(s) => s.get().map(|server| {
                server
                    .services()
                    .keys()
                    .map(|(ns, g)| {
                        let v = server.view(ns, g, &[]);
                        (g.clone(), hosts(&v.hosts))
                    })
                    .collect()
            }),
            Proc::Client(c) => c.get().map(|client| {
                client
                    .cache_snapshot()
                    .into_iter()
                    .map(|(k, info)| (k, hosts(&info.hosts)))
                    .collect()
            }),
        };
        out.insert(n.name.clone(), if n.up { view } else { None });
    }
    out
}

fn hosts(h: &[crate::model::HostView]) -> Vec<FinalHost> {
    h.iter()
        .map(|h| FinalHost {
            instance: h.ip_port(),
            healthy: h.healthy,
        })
        .collect()
}
