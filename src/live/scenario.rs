//! `serve --scenario FILE`: a scenario's cluster (server names, versions are not modelled here,
//! `[config]`) and its fault steps, played on the wall clock against the live servers
//! (issue 12 part 3). Client steps and expectations need the simulation's clients and are
//! skipped: in live mode the clients are real applications.

use super::Cluster;
use crate::scenario::{Action, Fault, Scenario};
use crate::trace::{emit, Ev, Groups, Names};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Plays the fault steps from now on, on their own thread; prints what it does and skips.
pub fn play(c: Arc<Cluster>, sc: &Scenario) {
    let mut steps = sc.steps.clone();
    steps.sort_by_key(|s| s.at);
    let start = Instant::now();
    std::thread::Builder::new()
        .name("scenario".into())
        .spawn(move || {
            for step in steps {
                let wait = (start + step.at).saturating_duration_since(Instant::now());
                std::thread::sleep(wait);
                let at = format_at(step.at);
                match &step.action {
                    Action::Fault(f) => match apply(&c, f) {
                        Ok(()) => println!("scenario: {at} line {}: {f:?}", step.line),
                        Err(why) => println!("scenario: {at} line {}: skipped: {why}", step.line),
                    },
                    Action::Client { client, .. } => println!(
                        "scenario: {at} line {}: skipped: client step of {client} (use a real client)",
                        step.line
                    ),
                }
            }
            println!("scenario: every step played");
        })
        .expect("spawn the scenario thread");
}

fn format_at(d: Duration) -> String {
    format!("t={:.1}s", d.as_secs_f64())
}

fn one(c: &Cluster, name: &str) -> Result<usize, String> {
    c.index(name)
        .ok_or_else(|| format!("{name} is not a server (roles and clients are not supported live)"))
}

fn group(c: &Cluster, g: &[String]) -> Result<Vec<usize>, String> {
    g.iter().map(|n| one(c, n)).collect()
}

fn apply(c: &Arc<Cluster>, f: &Fault) -> Result<(), String> {
    match f {
        Fault::Crash(n) => {
            c.crash(one(c, n)?);
        }
        Fault::Restart(n) => {
            c.restart(one(c, n)?).map_err(|e| e.to_string())?;
        }
        Fault::Pause(n) => {
            c.pause(one(c, n)?, true);
        }
        Fault::Resume(n, crate::io::ResumeOrder::Seeded) => {
            c.pause(one(c, n)?, false);
        }
        // A real process decides for itself what runs first after a pause.
        Fault::Resume(_, order) => {
            return Err(format!(
                "resume with order {order:?} is not supported in live mode (only a plain resume)"
            ))
        }
        Fault::Isolate(n) => c.isolate(one(c, n)?),
        Fault::Heal => c.heal(None),
        Fault::Partition(groups) => {
            let idx: Vec<Vec<usize>> = groups
                .iter()
                .map(|g| group(c, g))
                .collect::<Result<_, _>>()?;
            let mut links = vec![];
            for (i, a) in idx.iter().enumerate() {
                for b in idx.iter().skip(i + 1) {
                    for &x in a {
                        for &y in b {
                            links.extend([(x, y), (y, x)]);
                        }
                    }
                }
            }
            c.cut(&links);
            let groups = Groups(groups.iter().map(|g| Names(g.clone())).collect());
            emit("-", Ev::FaultPartition { groups });
        }
        Fault::OneWay { from, to } => {
            c.cut(&[(one(c, from)?, one(c, to)?)]);
            let (from, to) = (Names(vec![from.clone()]), Names(vec![to.clone()]));
            emit("-", Ev::FaultOneWay { from, to });
        }
        other => return Err(format!("{other:?} is not supported in live mode")),
    }
    Ok(())
}
