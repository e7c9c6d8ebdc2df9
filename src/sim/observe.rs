//! Looking at the world without touching it: the view sampler behind the view expectations,
//! and at the end of the run the servers' registries and Raft stores (for the always-on
//! checkers) and every node's final view (for the outcome).

use super::world::{Proc, World};
use crate::check::convergence::Registries;
use crate::check::jraft::JraftView;
use crate::check::raft::StoreView;
use crate::check::{EndState, Sample, Samples};
use crate::model::keys;
use crate::report::FinalHost;
use crate::scenario::{Expect, Scenario, ServiceRef, ViewTarget, When};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Window expectations are sampled at this period.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// Every up node's view at the end: servers' `/instance/list` views, clients' caches (`None`
/// for a node that is down).
pub type Finals = BTreeMap<String, Option<BTreeMap<String, Vec<FinalHost>>>>;

/// One observation of a view: `None` when the node is down.
pub fn observe(world: &World, target: &ViewTarget, svc: &ServiceRef) -> Option<Sample> {
    let g = svc.grouped();
    let clusters = svc.clusters.join(",");
    let hosts = match target {
        ViewTarget::Client(c) => world
            .client(c)?
            .cached(&g, &clusters)
            .map(|i| i.hosts)
            .unwrap_or_default(),
        ViewTarget::Server(s) => {
            let server = world.server(s)?;
            server
                .view(keys::DEFAULT_NAMESPACE, &g, &svc.clusters)
                .hosts
        }
    };
    Some(Sample::of(&hosts))
}

/// Spawns the sampler of the scenario's view expectations, from `start` to the end of the run,
/// recording into `samples`.
pub fn start_sampler(
    sc: &Scenario,
    world: Arc<Mutex<World>>,
    samples: Samples,
    start: tokio::time::Instant,
) -> tokio::task::JoinHandle<()> {
    // One sampler for every view expectation, waking every 100 ms of the whole run whatever the
    // expectations are: adding or removing a check must not change the interleaving of the
    // system under test (madsim picks among ready tasks with the seeded RNG).
    let views: Vec<(usize, ViewTarget, ServiceRef, Duration, Duration)> = sc
        .expects
        .iter()
        .enumerate()
        .filter_map(|(k, e)| match e {
            Expect::View {
                target,
                service,
                when,
                ..
            } => {
                let (from, to) = match *when {
                    // `at` uses the first sample at or after it.
                    When::At(t) => (t, t),
                    When::Within(a, b) | When::Always(a, b) => (a, b),
                };
                Some((k, target.clone(), service.clone(), from, to))
            }
            _ => None,
        })
        .collect();
    let end = sc.duration;
    tokio::spawn(async move {
        let mut t = Duration::ZERO;
        while t <= end {
            tokio::time::sleep_until(start + t).await;
            let w = world.lock().unwrap();
            for (k, target, service, from, to) in &views {
                let due = if from == to {
                    t >= *from && samples.is_empty(*k)
                } else {
                    t >= *from && t <= *to
                };
                if due {
                    samples.push(*k, t, observe(&w, target, service));
                }
            }
            t += SAMPLE_EVERY;
        }
    })
}

/// Every up server's registry as `ip:port(healthy|unhealthy)` per service.
pub fn registries(w: &World) -> Registries {
    let mut out = Registries::new();
    for n in &w.nodes {
        if let (Proc::Server(s), true) = (&n.slot, n.up) {
            let Some(server) = s.get() else { continue };
            let m = server
                .services()
                .into_iter()
                .map(|((_, g), svc)| {
                    let hosts = svc
                        .all_instances()
                        .iter()
                        .map(|i| {
                            format!(
                                "{}({})",
                                i.ip_port(),
                                if i.healthy { "healthy" } else { "unhealthy" }
                            )
                        })
                        .collect();
                    (g, hosts)
                })
                .collect();
            out.insert(n.name.clone(), m);
        }
    }
    out
}

/// No link fault (cut, `no_connect`, link delay, blocked port), pause, disk stall or datagram
/// loss is in force.
pub fn network_whole(w: &World) -> bool {
    let env = w.env.state();
    !env.has_link_faults()
        && !w.nodes.iter().any(|n| n.paused || n.disk.stalled())
        && env.datagram_loss == 0.0
}

/// The end of the run as the always-on checkers see it.
pub fn end_state(sc: &Scenario, w: &World) -> EndState {
    let stores = w
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
                    jraft: server.jraft_view().map(|(role, term, writes)| JraftView {
                        role,
                        term,
                        writes,
                    }),
                }
            }),
            Proc::Client(_) => None,
        })
        .collect();
    EndState {
        servers: sc.servers.len(),
        registries: registries(w),
        stores,
        network_whole: network_whole(w),
        since_last_fault: sc.duration.saturating_sub(w.last_fault.unwrap_or_default()),
        quiet: sc.quiet,
        end_us: sc.duration.as_micros() as u64,
    }
}

/// Every up node's view at the end: servers' `/instance/list` views, clients' caches.
pub fn final_views(w: &World) -> Finals {
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
