//! The harness: runs one scenario with one seed in a fresh madsim runtime on a fresh OS thread
//! (std's HashMap seeding is per thread), records the event log, and builds the outcome.

pub mod chaos;
pub mod faults;
pub mod observe;
pub mod play;
pub mod traffic;
pub mod world;

use crate::check::availability::Figures;
use crate::check::{self, Check, Finding, Samples};
use crate::report::Outcome;
use crate::scenario::Scenario;
use crate::trace::{self, Log, Recorder};
use observe::{end_state, final_views, Finals};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What a run measured about itself (outside virtual time).
#[derive(Debug, Clone, Copy)]
pub struct RunStats {
    pub wall_secs: f64,
    pub messages: u64,
}

/// What the simulation thread hands back.
struct Finished {
    finals: Finals,
    checks: Vec<Check>,
    findings: Vec<Finding>,
    messages: u64,
    events: Vec<trace::Event>,
    availability: Vec<Figures>,
}

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
                    let (world, samples) = play::play(&sc2).await;
                    let w = world.lock().unwrap();
                    let end = end_state(&sc2, &w);
                    let always = check::always_on(&sc2.expects, &end, &log2.snapshot());
                    // The findings are in the log too, as `anomaly.*` events.
                    for ev in check::always::anomaly_events(&always.findings) {
                        trace::emit("-", ev);
                    }
                    let messages = w.env.delivered();
                    let events = log2.take();
                    let mut checks = check::evaluate(
                        &sc2.expects,
                        &samples,
                        &events,
                        &always.findings,
                        end.end_us,
                    );
                    checks.extend(always.checks);
                    let availability = availability_figures(&samples, &events);
                    *finals2.lock().unwrap() = Some(Finished {
                        finals: final_views(&w),
                        checks,
                        findings: always.findings,
                        messages,
                        events,
                        availability,
                    });
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
    let mut done = finals.lock().unwrap().take().unwrap_or_else(|| {
        // The simulation panicked: judge what the log holds up to the panic.
        let events = log.take();
        let checks = check::evaluate(&sc.expects, &Samples::default(), &events, &[], 0);
        Finished {
            finals: BTreeMap::new(),
            checks,
            findings: vec![],
            messages: 0,
            events,
            availability: vec![],
        }
    });
    if let Some(p) = &panic {
        let observed = check::Observed::Panic { message: p.clone() };
        let c = Check::new(None, false, check::Expected::NoPanic, observed);
        done.checks.insert(0, c);
    }
    let outcome = Outcome {
        scenario: sc.name.clone(),
        about: sc.about.clone(),
        path: sc.path.clone(),
        seed,
        duration_ms: sc.duration.as_millis() as u64,
        overrides: sc.overrides.clone(),
        passed: done.checks.iter().all(|c| c.passed),
        trace_hash: trace::trace_hash(&done.events),
        checks: done.checks,
        findings: done.findings,
        events: done.events,
        final_views: done.finals,
        node_order: sc.node_names(),
        messages: done.messages,
        panic,
        chaos: chaos_lines,
        availability: done.availability,
    };
    (
        outcome,
        RunStats {
            wall_secs,
            messages: done.messages,
        },
    )
}

/// Each consumer's availability figures (issue 13), in (client, service) order; a repair is
/// any fault event that undoes a fault (heal, heal_all, restart, resume, port_up).
fn availability_figures(samples: &Samples, events: &[trace::Event]) -> Vec<Figures> {
    let repairs: Vec<u64> = events
        .iter()
        .filter(|e| {
            matches!(
                e.ev,
                trace::Ev::FaultHeal { .. }
                    | trace::Ev::FaultHealAll { .. }
                    | trace::Ev::FaultRestart { .. }
                    | trace::Ev::FaultResume { .. }
                    | trace::Ev::FaultPortUp { .. }
            )
        })
        .map(|e| e.t_us)
        .collect();
    samples.traffic(|m| {
        m.iter()
            .map(|((c, s), t)| Figures::of(c, s, t, &repairs))
            .collect()
    })
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
